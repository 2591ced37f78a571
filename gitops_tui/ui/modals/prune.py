"""The prune dialog: exactly what would be deleted, confirmed by typing the app's name.

The preview is a sync with ``prune=True``; its PRUNE tasks are listed as
deletions and its PRUNE_SKIPPED tasks as kept (with the reason). Confirming
starts a sync limited to the listed deletions, so nothing else is applied.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Footer, Input

from gitops_tui.engine.api import SyncPreview, SyncRequest
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.sync.plan import TaskAction
from gitops_tui.engine.textsafe import printable
from gitops_tui.ui.messages import EngineCallFailed, PreviewReady, SyncStarted
from gitops_tui.ui.safe import SafeStatic
from gitops_tui.ui.screens.base import GitOpsModal
from gitops_tui.ui.symbols import Glyphs, action_text
from gitops_tui.ui.widgets.tables import Cells, KeyedTable
from gitops_tui.ui.workers import run_engine_call

PRUNE_COLUMNS = (("step", "#"), ("action", "ACTION"), ("resource", "RESOURCE"), ("note", "NOTE"))


def prune_rows(preview: SyncPreview, glyphs: Glyphs) -> dict[str, Cells]:
    rows: dict[str, Cells] = {}
    for step, task in enumerate((t for t in preview.plan.tasks if t.is_prune), 1):
        rows[str(step)] = (
            str(step),
            action_text(glyphs, task.action),
            task.key.display,
            task.note or ("will be deleted" if task.action is TaskAction.PRUNE else ""),
        )
    return rows


def confirm_prompt(app_name: str, preview: SyncPreview) -> str:
    """What typing the name confirms: the listed deletions and what goes with Namespaces."""
    doomed = len(deletions(preview))
    text = f"Type the app name ({app_name}) and press enter to delete {doomed} object(s)"
    for cascade in preview.plan.cascades:
        if cascade.total:
            plus = "+" if cascade.more else ""
            text += (
                f" AND, with Namespace {cascade.namespace}, {cascade.total}{plus} more object(s) "
                f"inside it ({cascade.unmanaged}{plus} NOT managed by this app)"
            )
    return text + ":"


def deletions(preview: SyncPreview) -> frozenset[ResourceKey]:
    return frozenset(t.key for t in preview.plan.tasks if t.action is TaskAction.PRUNE)


class PruneModal(GitOpsModal[str | None]):
    """Returns the started operation id, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prune.cancel"),
    ]

    def __init__(self, app_name: str) -> None:
        super().__init__(classes="dialog-screen")
        self.app_name = app_name
        self.request = SyncRequest(app=app_name, prune=True)
        self.preview: SyncPreview | None = None
        self.starting = False

    def compose(self) -> ComposeResult:
        with Vertical(id="prune-dialog", classes="dialog"):
            yield SafeStatic(
                Text(f"Prune {self.app_name}: delete live objects no longer in Git", style="bold"),
                id="prune-title",
                classes="dialog-title",
            )
            yield SafeStatic(
                Text("computing what would be deleted...", style="italic"), id="prune-summary"
            )
            yield KeyedTable(PRUNE_COLUMNS, id="prune-plan")
            yield SafeStatic(
                f"Type the app name ({self.app_name}) and press enter to delete:", id="prune-ask"
            )
            yield Input(placeholder=printable(self.app_name), id="prune-confirm", disabled=True)
            yield SafeStatic("esc: cancel", classes="dialog-hint")
        yield Footer()  # its own keys, not the list's under it

    def on_mount(self) -> None:
        box = self.query_one(Input)
        box.cursor_blink = False
        engine, request = self.gitops.engine, self.request
        run_engine_call(
            self,
            lambda: engine.preview(request),
            lambda preview: PreviewReady(request, preview),
            action="prune preview",
            token=request,
            group="preview",
            exclusive=True,
        )

    def current_app(self) -> str | None:
        return self.app_name

    def on_preview_ready(self, message: PreviewReady) -> None:
        message.stop()
        if message.request != self.request:
            return
        preview = message.preview
        self.preview = preview
        glyphs = self.gitops.glyphs
        self.query_one(KeyedTable).sync_rows(prune_rows(preview, glyphs))
        doomed = deletions(preview)
        kept = sum(1 for t in preview.plan.tasks if t.action is TaskAction.PRUNE_SKIPPED)
        summary = Text()
        errors = (*preview.errors, *preview.plan.errors)
        if errors:
            for error in errors:
                summary.append(f"{glyphs.warning} {error}\n", style="bold red")
            summary.append("Cannot prune while the plan has errors.", style="bold red")
        elif doomed:
            summary.append(f"{len(doomed)} object(s) will be DELETED", style="bold red")
            if kept:
                summary.append(f", {kept} kept (sync options say no prune)")
        else:
            summary.append("Nothing to prune", style="bold")
            if kept:
                summary.append(
                    f": {kept} object(s) would be pruned but are kept by their sync options"
                )
        self.query_one("#prune-summary", SafeStatic).update(summary)
        if doomed and not errors and any(c.total for c in preview.plan.cascades):
            self.query_one("#prune-ask", SafeStatic).update(confirm_prompt(self.app_name, preview))
        box = self.query_one(Input)
        box.disabled = not doomed or bool(errors)
        if not box.disabled:
            box.focus()

    def on_engine_call_failed(self, message: EngineCallFailed) -> None:
        if message.token == self.request:
            self.starting = False
            self.query_one("#prune-summary", SafeStatic).update(
                Text(f"{message.action} failed: {message.error}", style="bold red")
            )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.gitops.read_only or self.preview is None or self.starting:
            return
        if event.value.strip() != self.app_name:
            self.notify(
                f"The name does not match {self.app_name!r}: nothing was pruned.",
                severity="error",
            )
            event.input.value = ""
            return
        doomed = deletions(self.preview)
        if not doomed:
            return
        self.starting = True
        request = SyncRequest(app=self.app_name, prune=True, resources=doomed)
        self.request = request
        engine = self.gitops.engine
        run_engine_call(
            self,
            lambda: engine.sync(request),
            lambda operation_id: SyncStarted(request, operation_id),
            action="prune",
            token=request,
            group="sync",
            exclusive=True,
        )

    def on_sync_started(self, message: SyncStarted) -> None:
        message.stop()
        self.dismiss(message.operation_id)

    def action_cancel(self) -> None:
        self.dismiss(None)
