"""The current or last sync operation of an app, with one row per resource result."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical

from gitops_tui.engine.api import OperationPhase, OperationState, ResourceResult
from gitops_tui.ui.safe import SafeStatic
from gitops_tui.ui.symbols import Glyphs, phase_text, result_text
from gitops_tui.ui.widgets.tables import Cells, KeyedTable

RESULT_COLUMNS = (
    ("result", "RESULT"),
    ("resource", "RESOURCE"),
    ("message", "MESSAGE"),
    ("step", "PHASE/WAVE"),
)


def utc(timestamp: float) -> str:
    """``2024-05-01 12:00:00Z``: absolute UTC, the same on every machine."""
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(timestamp))


def operation_summary(op: OperationState, glyphs: Glyphs, *, label: str) -> Text:
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
            op.message,
            style="red" if op.phase.done and op.phase is not OperationPhase.SUCCEEDED else "",
        )
    return text


def result_key(result: ResourceResult) -> str:
    return f"{result.phase}|{result.wave}|{result.key}"


def result_cells(result: ResourceResult, glyphs: Glyphs) -> Cells:
    step = f"{result.phase} {result.wave}" + (" hook" if result.hook else "")
    return (result_text(glyphs, result.status), result.key.display, result.message, step)


class OperationView(Vertical):
    """Summary line(s) and a live results table; updated in place as snapshots arrive."""

    def __init__(self, glyphs: Glyphs, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.glyphs = glyphs
        self.operation: OperationState | None = None

    def compose(self) -> ComposeResult:
        yield SafeStatic("", id="operation-summary", markup=False)
        yield KeyedTable(RESULT_COLUMNS, id="operation-results")

    def show_operation(self, op: OperationState | None, *, running: bool) -> None:
        self.operation = op
        summary = self.query_one("#operation-summary", SafeStatic)
        table = self.query_one("#operation-results", KeyedTable)
        if op is None:
            summary.update(Text("No sync has run for this app yet.", style="italic"))
            table.sync_rows({})
            return
        label = "Operation" if running else "Last sync"
        summary.update(operation_summary(op, self.glyphs, label=f"{label} {op.id}"))
        table.sync_rows({result_key(r): result_cells(r, self.glyphs) for r in op.results})
