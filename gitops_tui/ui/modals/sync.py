"""The sync dialog: preview the plan, toggle options with one key, confirm, watch it run.

Every toggle builds a new ``SyncRequest`` and previews it in a worker; a preview
that comes back for an older request is dropped, and confirming is only
possible when the plan on screen belongs to the request that will be sent.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, Footer, Input

from gitops_tui.engine.api import FleetSnapshot, OperationState, SyncPreview, SyncRequest
from gitops_tui.engine.errors import GitOpsError, without_reprs
from gitops_tui.engine.model import ConditionType, ResourceKey
from gitops_tui.engine.sync.plan import TaskAction
from gitops_tui.ui.messages import EngineCallFailed, PreviewReady, SyncStarted, TerminateDone
from gitops_tui.ui.modals.prune import confirm_prompt, deletions
from gitops_tui.ui.reachability import cannot_plan, cluster_down, unreachable_error
from gitops_tui.ui.safe import SafeStatic
from gitops_tui.ui.screens.base import GitOpsModal
from gitops_tui.ui.symbols import Glyphs, action_text
from gitops_tui.ui.widgets.operation_view import OperationView
from gitops_tui.ui.widgets.tables import Cells, KeyedTable
from gitops_tui.ui.workers import describe_error, run_engine_call

PLAN_COLUMNS = (
    ("step", "#"),
    ("wave", "PHASE/WAVE"),
    ("action", "ACTION"),
    ("resource", "RESOURCE"),
    ("note", "NOTE"),
)

OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("p", "prune", "prune"),
    ("d", "dry_run", "dry run"),
    ("f", "force", "force"),
    ("o", "apply_out_of_sync_only", "out-of-sync only"),
    ("m", "selected", "selected only"),
)
"""(key, option id, label) of the one-key toggles, in display order (two lines: p d f / o m)."""


def plan_rows(preview: SyncPreview, glyphs: Glyphs) -> dict[str, Cells]:
    """One row per task in execution order; the phase/wave is written on a wave's first task."""
    rows: dict[str, Cells] = {}
    step = 0
    for (phase, wave), tasks in preview.plan.waves():
        for index, task in enumerate(tasks):
            step += 1
            where = f"{phase} {wave}" if index == 0 else ""
            rows[str(step)] = (
                str(step),
                where,
                action_text(glyphs, task.action, skipped=task.skipped),
                task.key.display,
                task.note,
            )
    return rows


def plan_summary(preview: SyncPreview, glyphs: Glyphs) -> Text:
    counts = preview.plan.summary()
    skipped = sum(1 for t in preview.plan.tasks if t.skipped)
    text = Text(f"revision {preview.revision[:7] or glyphs.none}  ")
    for action in (
        TaskAction.CREATE,
        TaskAction.UPDATE,
        TaskAction.PRUNE,
        TaskAction.PRUNE_SKIPPED,
        TaskAction.HOOK,
        TaskAction.UNCHANGED,
    ):
        count = counts.get(action.value, 0)
        if count:
            text.append_text(action_text(glyphs, action))
            text.append(f" {count}  ")
    if skipped:
        text.append(f"({skipped} skipped: in sync)", style="bright_black")
    if not preview.plan.tasks:
        text.append("nothing to do", style="bright_black")
    for error in (*preview.errors, *preview.plan.errors):
        text.append(f"\n{glyphs.warning} {error}", style="bold red")
    return text


class PlanTable(KeyedTable):
    """The plan; enter confirms the dialog rather than selecting a row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.confirm_sync", "Sync", show=False, id="sync.confirm-enter"),
    ]


class SyncModal(GitOpsModal[str | None]):
    """Returns the started operation id, or None when cancelled before starting."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "toggle_option('prune')", "Prune", id="sync.prune"),
        Binding("d", "toggle_option('dry_run')", "Dry run", id="sync.dry-run"),
        Binding(
            "o",
            "toggle_option('apply_out_of_sync_only')",
            "Out-of-sync only",
            id="sync.out-of-sync-only",
        ),
        Binding("f", "toggle_option('force')", "Force", id="sync.force"),
        Binding("m", "toggle_option('selected')", "Selected only", id="sync.selected-only"),
        Binding("y", "confirm_sync", "Sync", id="sync.confirm"),
        Binding("enter", "confirm_sync", "Sync", show=False, id="sync.confirm-enter"),
        Binding("t", "terminate", "Terminate", id="sync.terminate"),
        Binding("ctrl+c", "terminate", "Terminate", show=False, id="sync.terminate-ctrl-c"),
        Binding("r", "retry", "Retry", id="sync.retry"),
        Binding("escape", "close", "Close", id="sync.close"),
        Binding("question_mark", "app.help", "Help", show=False, id="sync.help"),
    ]

    def __init__(self, app_name: str, marked: frozenset[ResourceKey] = frozenset()) -> None:
        super().__init__(classes="dialog-screen")
        self.app_name = app_name
        self.marked = marked
        self.options = {
            "prune": False,
            "dry_run": False,
            "apply_out_of_sync_only": False,
            "force": False,
            "selected": bool(marked),
        }
        self.request = self._build_request()
        self.preview: SyncPreview | None = None
        self.preview_error = ""
        self.unreachable = ""  # why the app's cluster cannot be reached: nothing to sync
        self.unreachable_per_fleet = False  # the snapshot says so: plan once it is back
        self.operation_id: str | None = None
        self.finished = False  # the started operation has ended: options may change again
        self.starting = False

    def compose(self) -> ComposeResult:
        with Vertical(id="sync-dialog", classes="dialog"):
            yield SafeStatic("", id="sync-title", classes="dialog-title", markup=False)
            yield SafeStatic("", id="sync-options", markup=False)
            yield SafeStatic("", id="sync-summary", markup=False)
            with ContentSwitcher(initial="sync-plan", id="sync-body"):
                yield PlanTable(PLAN_COLUMNS, id="sync-plan")
                yield OperationView(
                    self.gitops.glyphs, keymap=self.gitops.key_overrides, id="sync-progress"
                )
            yield SafeStatic("", id="sync-hint", classes="dialog-hint", markup=False)
            # typed confirmation of a local sync of an app Argo CD reconciles
            yield Input(placeholder="app name", id="sync-force-local")
        yield Footer()

    def on_mount(self) -> None:
        self.fleet_ready = True
        self.query_one("#sync-force-local", Input).display = False
        self._render_header()
        down = cluster_down(self.gitops.fleet, self.app_name)
        if down is None:
            self._start_preview()
        else:
            self._show_unreachable(down, per_fleet=True)
        self.query_one("#sync-plan", KeyedTable).focus()

    def current_app(self) -> str | None:
        return self.app_name

    # -- state -----------------------------------------------------------------------

    @property
    def in_progress(self) -> bool:
        return self.operation_id is not None and not self.finished

    def _back_to_plan(self) -> None:
        """After a finished operation: show the plan again (e.g. to retry with --force)."""
        self.operation_id = None
        self.finished = False
        self.preview = None
        self.query_one(ContentSwitcher).current = "sync-plan"
        self._render_header()
        self._start_preview()
        self.query_one("#sync-plan", KeyedTable).focus()

    def _build_request(self) -> SyncRequest:
        selected = self.options["selected"] and bool(self.marked)
        return SyncRequest(
            app=self.app_name,
            prune=self.options["prune"],
            dry_run=self.options["dry_run"],
            force=self.options["force"],
            apply_out_of_sync_only=self.options["apply_out_of_sync_only"],
            resources=frozenset(self.marked) if selected else None,
        )

    @property
    def ready(self) -> bool:
        """A preview for the current request is shown and allows syncing."""
        return (
            self.preview is not None
            and self.preview.request == self.request
            and self.preview.ok
            and not self.starting
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not super().check_action(action, parameters):
            return False
        if action == "retry":
            return bool(self.unreachable) and not self.in_progress
        if action == "toggle_option":
            return not self.in_progress and not self.unreachable
        if action == "confirm_sync":
            if self.in_progress or self.unreachable:
                return False
            return True if (self.ready or self.finished) else None
        if action == "terminate":
            return self.in_progress
        return True

    # -- rendering -------------------------------------------------------------------

    def _render_header(self) -> None:
        glyphs = self.gitops.glyphs
        app = self.gitops.fleet.by_name.get(self.app_name)
        title = Text(f"Sync {self.app_name}", style="bold")
        if app is not None:
            title.append(f"  {glyphs.arrow} {app.destination.label}")
        if self.in_progress:
            title.append(f"  operation {self.operation_id}", style="bright_black")
        self.query_one("#sync-title", SafeStatic).update(title)
        options = Text()
        for index, (key, option, label) in enumerate(OPTIONS):
            on = self.options[option]
            if index:
                options.append("\n" if option == "apply_out_of_sync_only" else "   ")
            options.append(f"[{key}] ", style="bold")
            options.append(f"{label} ")
            options.append("ON" if on else "off", style="bold green" if on else "bright_black")
            if option == "selected":
                options.append(f" ({len(self.marked)} marked)", style="bright_black")
        self.query_one("#sync-options", SafeStatic).update(options)
        self._render_hint()

    def _render_hint(self) -> None:
        if self.finished:
            hint = "change an option or press y to plan again   esc: close"
        elif self.in_progress:
            hint = "t / ctrl+c: terminate   esc: close (the sync keeps running)"
        elif self.unreachable:
            hint = "r: retry   esc: close"
        elif self.starting:
            hint = "starting..."
        elif self.ready:
            verb = "dry run" if self.options["dry_run"] else "sync"
            hint = f"enter / y: {verb} now   esc: cancel"
        elif self.preview_error or (self.preview is not None and not self.preview.ok):
            hint = "cannot sync with this plan   esc: cancel"
        else:
            hint = "computing the plan...   esc: cancel"
        self.query_one("#sync-hint", SafeStatic).update(hint)

    def _show_preview(self, preview: SyncPreview) -> None:
        glyphs = self.gitops.glyphs
        self.query_one("#sync-summary", SafeStatic).update(plan_summary(preview, glyphs))
        self.query_one("#sync-plan", KeyedTable).sync_rows(plan_rows(preview, glyphs))

    # -- preview ---------------------------------------------------------------------

    def action_toggle_option(self, option: str) -> None:
        if option not in self.options or self.in_progress:
            return
        if self.finished:
            self.operation_id = None
            self.finished = False
            self.query_one(ContentSwitcher).current = "sync-plan"
        if option == "selected" and not self.marked:
            self.notify(
                "No resources marked: mark them with space in the app's resource tree.",
                severity="warning",
            )
            return
        self.options[option] = not self.options[option]
        self.request = self._build_request()
        self._render_header()
        self._start_preview()

    def _show_unreachable(self, down: str, *, per_fleet: bool) -> None:
        """No plan and no "sync now": what is wrong, in words; only retry or close."""
        self.unreachable, self.unreachable_per_fleet = down, per_fleet
        self.preview = None
        self.query_one("#sync-plan", KeyedTable).sync_rows({})
        summary = self.query_one("#sync-summary", SafeStatic)
        summary.display = True
        summary.update(Text(cannot_plan(down), style="bold red"))
        self._render_hint()
        self.refresh_bindings()

    def action_retry(self) -> None:
        """Try the plan again (it reaches the cluster: the snapshot may be behind)."""
        if not self.unreachable or self.in_progress:
            return
        self.gitops.engine.refresh(self.app_name)  # never blocks
        self._start_preview()

    def _start_preview(self) -> None:
        self.preview_error = ""
        self.unreachable = ""
        summary = self.query_one("#sync-summary", SafeStatic)
        summary.display = True
        summary.update(Text("computing the plan...", style="italic"))
        self._render_hint()
        self.refresh_bindings()
        engine, request = self.gitops.engine, self.request
        run_engine_call(
            self,
            lambda: engine.preview(request),
            lambda preview: PreviewReady(request, preview),
            action="preview",
            token=request,
            group="preview",
            exclusive=True,
        )

    def on_preview_ready(self, message: PreviewReady) -> None:
        message.stop()
        if message.request != self.request or self.in_progress:
            return  # stale: the options changed since this preview started
        self.preview = message.preview
        self._show_preview(message.preview)
        self._render_hint()
        self.refresh_bindings()

    def on_engine_call_failed(self, message: EngineCallFailed) -> None:
        # shown here and (the message bubbles on) reported by the app's handler
        if message.action == "preview" and message.token == self.request:
            self.preview = None
            down = unreachable_error(message.error)
            if down is not None:
                known = cluster_down(self.gitops.fleet, self.app_name)
                self._show_unreachable(known or down, per_fleet=known is not None)
                return
            error = message.error
            self.preview_error = (
                without_reprs(str(error))
                if isinstance(error, GitOpsError)
                else describe_error("preview", error)[0]
            )
            self.query_one("#sync-summary", SafeStatic).update(
                Text(f"Preview failed: {self.preview_error}", style="bold red")
            )
        elif message.action == "sync" and message.token == self.request:
            self.starting = False
        self._render_hint()
        self.refresh_bindings()

    # -- sync ------------------------------------------------------------------------

    def action_confirm_sync(self) -> None:
        if self.gitops.read_only or self.in_progress:
            return
        if self.finished:
            self._back_to_plan()
            return
        if not self.ready:
            self.notify("The plan is not ready: wait for it or fix the errors.", severity="warning")
            return
        asks = self._typed_confirmations()
        if asks:
            self._ask_typed(asks)
            return
        self._start_sync()

    def _typed_confirmations(self) -> list[str]:
        """Why the app's name must be typed first: Argo CD reconciles the app, or the sync
        deletes objects (the prune dialog's rule: every path that deletes asks the same)."""
        if self.request.dry_run:
            return []
        asks = []
        if self._argocd_reconciles():
            asks.append(
                f"Argo CD reconciles {self.app_name}: two engines would fight over its objects."
            )
        if self.request.prune and self.preview is not None and deletions(self.preview):
            asks.append(confirm_prompt(self.app_name, self.preview).rstrip(":") + ".")
        return asks

    def _argocd_reconciles(self) -> bool:
        app = self.gitops.fleet.by_name.get(self.app_name)
        return app is not None and any(
            c.type == ConditionType.MANAGED_BY_ARGOCD for c in app.conditions
        )

    def _ask_typed(self, asks: list[str]) -> None:
        """A sync only after the app's name is typed (see ``_typed_confirmations``)."""
        box = self.query_one("#sync-force-local", Input)
        box.display = True
        box.value = ""
        if not asks[-1].startswith("Type"):  # no deletion: the Argo CD one alone
            asks.append(
                f"Type the app name ({self.app_name}) and press enter to sync locally anyway,"
            )
        text = " ".join(asks) + " esc: cancel"
        self.query_one("#sync-hint", SafeStatic).update(text)
        box.focus()

    def on_input_submitted(self, message: Input.Submitted) -> None:
        message.stop()
        box = self.query_one("#sync-force-local", Input)
        if message.value != self.app_name:
            self.notify(f"Not synced: type {self.app_name} exactly.", severity="warning")
            return
        box.display = False
        if self.ready:
            self._start_sync(force_local=self._argocd_reconciles())

    def _start_sync(self, *, force_local: bool = False) -> None:
        self.starting = True
        self._render_hint()
        self.refresh_bindings()
        engine, request = self.gitops.engine, self.request
        sent = replace(request, force_local=True) if force_local else request
        run_engine_call(
            self,
            lambda: engine.sync(sent),
            lambda operation_id: SyncStarted(request, operation_id),
            action="sync",
            token=request,
            group="sync",
            exclusive=True,
        )

    def on_sync_started(self, message: SyncStarted) -> None:
        message.stop()
        self.starting = False
        self.operation_id = message.operation_id
        self.query_one(ContentSwitcher).current = "sync-progress"
        summary = self.query_one("#sync-summary", SafeStatic)
        summary.update(Text("dry run: nothing is changed" if message.request.dry_run else ""))
        summary.display = message.request.dry_run  # no empty lines above the progress
        self._render_header()
        self.refresh_bindings()
        self.fleet_updated(self.gitops.fleet)
        self.query_one("#operation-results").focus()
        # the feedback arrives with the acceptance, while the dialog is still open
        what = "Dry run" if message.request.dry_run else "Sync"
        self.notify(f"{what} of {self.app_name} started ({message.operation_id}).")

    def _operation(self, fleet: FleetSnapshot) -> OperationState | None:
        app = fleet.by_name.get(self.app_name)
        if app is None or self.operation_id is None:
            return None
        for op in (app.operation, app.last_sync):
            if op is not None and op.id == self.operation_id:
                return op
        return None

    def fleet_updated(self, fleet: FleetSnapshot) -> None:
        back = self.unreachable_per_fleet and cluster_down(fleet, self.app_name) is None
        if self.fleet_ready and self.unreachable and back:
            self._start_preview()  # the cluster is back: plan now
            return
        if not self.fleet_ready or self.operation_id is None or self.finished:
            return
        op = self._operation(fleet)
        view = self.query_one(OperationView)
        if op is None:
            view.show_operation(None, running=True)
            self.query_one("#operation-summary", SafeStatic).update(
                Text(f"Waiting for operation {self.operation_id} to start...", style="italic")
            )
            return
        view.show_operation(op, running=not op.phase.done)
        if op.phase.done:
            self.finished = True
            self._render_hint()
        self.refresh_bindings()

    def action_terminate(self) -> None:
        if self.gitops.read_only or not self.in_progress:
            return
        engine, app = self.gitops.engine, self.app_name
        run_engine_call(
            self,
            lambda: engine.terminate(app),
            lambda stopped: TerminateDone(app, bool(stopped)),
            action="terminate",
            group="terminate",
            exclusive=True,
        )

    def on_terminate_done(self, message: TerminateDone) -> None:
        message.stop()
        self.gitops.terminate_done(message)

    def action_close(self) -> None:
        self.dismiss(self.operation_id)
