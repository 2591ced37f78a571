"""The app list's table: a ``LineTable`` whose status columns reserve their widest word."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from textual.binding import Binding, BindingType

from gitops_tui.ui.app_cells import app_column_floors
from gitops_tui.ui.widgets.line_table import LineTable


class AppTable(LineTable):
    """``#apps`` in ``AppListScreen``: enter opens the app; SYNC, HEALTH and LAST SYNC
    are as wide as their widest word from the start (``app_column_floors``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", id="list.open"),
    ]

    def column_floors(self, columns: Sequence[tuple[str, str]]) -> Mapping[str, int]:
        return app_column_floors(tuple(columns))
