"""A DataTable updated by row key (live updates never rebuild it) that moves like k9s (j/k, g/G)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable
from textual.widgets.data_table import (
    CellDoesNotExist,
    ColumnKey,
    RowDoesNotExist,
    RowKey,
)

from gitops_tui.ui.safe import display_cell

Cells = tuple[Any, ...]


def _width(value: Any) -> int:
    """Terminal cells a table cell value needs (one line), as shown."""
    value = display_cell(value)
    return cell_len(value.plain if isinstance(value, Text) else str(value))


REBUILD_THRESHOLD = 200
"""Changing more rows than this (and more than half of them) rebuilds instead, when
allowed: ``remove_row`` is O(rows), and so is every cell that gets narrower than
its column (DataTable measures the whole column again), so changing thousands of
rows one by one would stall the UI."""


class KeyedTable(DataTable[Any]):
    """Rows are identified by a string key; ``sync_rows`` makes the table match a mapping.

    Only cells whose value changed are updated, new rows are added and gone rows
    removed, all inside one ``batch_update``; the cursor stays on the same key.
    Rows are shown in the order of ``order(key)``, or in the mapping's own order
    with ``ordered=True`` (first cells may then be anything, e.g. an indented name).

    Every cell goes through ``display_cell`` on its way in (``add_row``,
    ``update_cell``): strings are never parsed as markup and control characters
    are shown escaped; ``cells`` returns the values as given.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Cursor down", show=False, id="table.cursor-down"),
        Binding("k", "cursor_up", "Cursor up", show=False, id="table.cursor-up"),
        Binding("g", "scroll_top", "Top", show=False, id="table.top"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="table.bottom"),
        Binding("ctrl+f", "page_down", "Page down", show=False, id="table.page-down"),
        Binding("ctrl+b", "page_up", "Page up", show=False, id="table.page-up"),
    ]

    def __init__(
        self,
        columns: Sequence[tuple[str, str]],
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self._cells: dict[str, Cells] = {}
        self._column_keys = [key for key, _ in columns]
        for key, label in columns:
            self.add_column(label, key=key)

    def set_columns(self, columns: Sequence[tuple[str, str]]) -> None:
        """Replace the columns (and drop the rows: the caller shows them again)."""
        with self.app.batch_update():
            self.clear(columns=True)
            self._cells.clear()
            self._column_keys = [key for key, _ in columns]
            for key, label in columns:
                self.add_column(label, key=key)

    # -- reading ---------------------------------------------------------------------

    @property
    def keys(self) -> list[str]:
        """Row keys in display order."""
        return [str(row.key.value) for row in self.ordered_rows]

    def cursor_key(self) -> str | None:
        """The key of the row under the cursor, or None for an empty table."""
        if not self.row_count:
            return None
        try:
            row_key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return None if row_key.value is None else str(row_key.value)

    def cells(self, key: str) -> Cells | None:
        return self._cells.get(key)

    # -- writing ---------------------------------------------------------------------

    def add_row(self, *cells: Any, **kwargs: Any) -> RowKey:
        return super().add_row(*(display_cell(cell) for cell in cells), **kwargs)

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: Any,
        *,
        update_width: bool = False,
    ) -> None:
        super().update_cell(row_key, column_key, display_cell(value), update_width=update_width)

    def move_to_key(self, key: str, *, scroll: bool = True) -> bool:
        try:
            index = self.get_row_index(key)
        except RowDoesNotExist:
            return False
        self.move_cursor(row=index, animate=False, scroll=scroll)
        return True

    def sync_rows(
        self,
        rows: Mapping[str, Cells],
        order: Callable[[str], Any] | None = None,
        *,
        reverse: bool = False,
        rebuild: bool = False,
        ordered: bool = False,
    ) -> bool:
        """Show exactly ``rows`` (key -> cells), ordered by ``order(key)``; True if anything changed.

        ``ordered``: show the rows in the mapping's order. ``rebuild`` allows
        clearing and re-adding everything when most rows change (a filter, the
        tree toggled); live updates never rebuild.
        """
        focus_key = self.cursor_key()
        focus_index = self.cursor_row
        stale = [key for key in self._cells if key not in rows]
        if rebuild:
            churn = len(stale) + sum(
                1 for key, cells in rows.items() if self._cells.get(key) != cells
            )
            if churn > REBUILD_THRESHOLD and 2 * churn > max(len(self._cells), len(rows)):
                keys = list(rows) if order is None else sorted(rows, key=order, reverse=reverse)
                self.rebuild_rows({key: rows[key] for key in keys})
                return True
        changed = False
        with self.app.batch_update():
            for key in stale:
                self.remove_row(key)
                del self._cells[key]
                changed = True
            small = self.row_count <= REBUILD_THRESHOLD  # exact column widths are cheap here
            for key, cells in rows.items():
                old = self._cells.get(key)
                if old is None:
                    self.add_row(*cells, key=key)
                    changed = True
                elif old != cells:
                    for column, (before, after) in zip(
                        self._column_keys, zip(old, cells, strict=True), strict=True
                    ):
                        if before != after:
                            # widen a column when needed, but never let a narrower cell
                            # make DataTable measure the whole column again (O(rows)
                            # per cell: thousands of live updates would stall the UI)
                            refit = (
                                small
                                or _width(after) > self.columns[ColumnKey(column)].content_width
                            )
                            self.update_cell(key, column, after, update_width=refit)
                    changed = True
                self._cells[key] = cells
            if (order is not None or ordered) and self.row_count > 1:
                wanted = list(rows) if order is None else sorted(rows, key=order, reverse=reverse)
                if wanted != self.keys:
                    self._show_in_order(wanted)
                    changed = True
            if changed:
                self._restore_cursor(focus_key, focus_index)
        return changed

    def rebuild_rows(self, rows: Mapping[str, Cells]) -> None:
        """Clear and show ``rows`` in the mapping's order, column widths measured afresh.

        O(rows); the only way for columns to get narrower after their widest cells
        went away. The cursor stays on the same key.
        """
        focus_key = self.cursor_key()
        focus_index = self.cursor_row
        with self.app.batch_update():
            self.clear()
            self._cells.clear()
            for column in self.columns.values():
                column.content_width = column.label.cell_len
            for key, cells in rows.items():
                self.add_row(*cells, key=key)
                self._cells[key] = cells
            self._restore_cursor(focus_key, focus_index)

    def _show_in_order(self, wanted: list[str]) -> None:
        """Reorder the rows to ``wanted`` (every key of the table, once) without re-adding them."""
        first = self._column_keys[0]
        # DataTable.sort hands the key function cell values only: rank the stored cell objects
        rank = {id(self.get_cell(key, first)): index for index, key in enumerate(wanted)}
        if len(rank) == len(wanted):
            self.sort(first, key=lambda cell: rank[id(cell)])
            return
        self.clear()  # two rows share one cell object (never for distinct names): re-add
        for key in wanted:
            self.add_row(*self._cells[key], key=key)

    def _restore_cursor(self, key: str | None, index: int) -> None:
        if not self.row_count:
            return
        if key is not None and key in self._cells:
            self.move_to_key(key)
        else:
            self.move_cursor(row=min(max(index, 0), self.row_count - 1), animate=False)
