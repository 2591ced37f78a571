"""The current or last sync operation of an app, with one row per resource result."""

from __future__ import annotations

import time
from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical

from gitops_tui.engine.api import OperationPhase, OperationState, ResourceResult
from gitops_tui.ui.hints import for_console
from gitops_tui.ui.safe import SafeStatic
from gitops_tui.ui.symbols import Glyphs, phase_text, result_text
from gitops_tui.ui.widgets.tables import Cells, KeyedTable

RESULT_COLUMNS = (
    ("result", "RESULT"),
    ("resource", "RESOURCE"),
    ("message", "MESSAGE"),
    ("step", "PHASE/WAVE"),
)

DETAIL_AFTER = 30
"""A result message longer than this is also shown in full, wrapped, below the table."""


def utc(timestamp: float) -> str:
    """``2024-05-01 12:00:00Z``: absolute UTC, the same on every machine."""
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(timestamp))


def operation_summary(
    op: OperationState, glyphs: Glyphs, *, label: str, keymap: Mapping[str, str] | None = None
) -> Text:
    text = Text()
    text.append(f"{label} ", style="bold")
    text.append_text(phase_text(glyphs, op.phase))
    details = [f"revision {op.revision[:7] or glyphs.none}", f"by {op.initiated_by}"]
    if op.prune:
        details.append("prune")
    if op.dry_run:
        details.append("DRY RUN")
    details.append(f"started {utc(op.started_at)}")
    if op.finished_at is not None:
        details.append(f"took {max(op.finished_at - op.started_at, 0):.0f}s")
    text.append("  " + " · ".join(details) if not glyphs.ascii else "  " + ", ".join(details))
    if op.message:
        text.append("\n")
        text.append(
            for_console(op.message, keymap),
            style="red" if op.phase.done and op.phase is not OperationPhase.SUCCEEDED else "",
        )
    return text


def result_key(result: ResourceResult) -> str:
    return f"{result.phase}|{result.wave}|{result.key}"


def result_cells(
    result: ResourceResult, glyphs: Glyphs, keymap: Mapping[str, str] | None = None
) -> Cells:
    step = f"{result.phase} {result.wave}" + (" hook" if result.hook else "")
    message = for_console(result.message, keymap)
    return (result_text(glyphs, result.status), result.key.display, message, step)


class OperationView(Vertical):
    """Summary line(s), a live results table and, wrapped in full, the message of the
    result under the cursor (the table cuts long messages at its width)."""

    def __init__(
        self, glyphs: Glyphs, *, keymap: Mapping[str, str] | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.glyphs = glyphs
        self.keymap = dict(keymap or {})
        self.operation: OperationState | None = None
        self._messages: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield SafeStatic("", id="operation-summary", markup=False)
        yield KeyedTable(RESULT_COLUMNS, id="operation-results")
        yield SafeStatic("", id="operation-detail", markup=False)

    def show_operation(self, op: OperationState | None, *, running: bool) -> None:
        self.operation = op
        summary = self.query_one("#operation-summary", SafeStatic)
        table = self.query_one("#operation-results", KeyedTable)
        if op is None:
            summary.update(Text("No sync has run for this app yet.", style="italic"))
            self._messages = {}
            table.sync_rows({})
            self._show_detail()
            return
        label = "Operation" if running else "Last sync"
        summary.update(
            operation_summary(op, self.glyphs, label=f"{label} {op.id}", keymap=self.keymap)
        )
        rows = {result_key(r): result_cells(r, self.glyphs, self.keymap) for r in op.results}
        self._messages = {key: str(cells[2]) for key, cells in rows.items()}
        table.sync_rows(rows)
        self._show_detail()

    def on_data_table_row_highlighted(self, event: KeyedTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        key = self.query_one("#operation-results", KeyedTable).cursor_key()
        message = self._messages.get(key or "", "")
        op_message = self.operation.message if self.operation is not None else ""
        if message and message in for_console(op_message, self.keymap):
            message = ""  # the summary above shows it whole already
        # the row's message in full when the table's column cannot show it all
        detail = self.query_one("#operation-detail", SafeStatic)
        long = len(message) > DETAIL_AFTER
        detail.update(Text(message, style="italic") if long else "")
        detail.display = long
