"""The fleet sync dialog: the plan of several apps at once, then one sync per app.

Opened by ``s`` with apps marked in the list (``space``), or by ``:plan`` for
every OutOfSync app. ``fleet_preview`` runs in a worker; a plan that comes back
for an older request (``p`` toggled since) is dropped, and confirming is only
possible when the plan on screen is the current one. Confirming sends one
``SyncRequest`` per app that could be planned, from one worker: an app whose
sync fails to start is reported on its row and the others still go. The rows
then follow each app's operation live from the snapshots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Footer

from gitops_tui.engine.api import (
    FleetSnapshot,
    OperationPhase,
    OperationState,
    SyncPreview,
    SyncRequest,
)
from gitops_tui.engine.sync.plan import TaskAction
from gitops_tui.ui.messages import (
    EngineCallFailed,
    FleetPlanReady,
    FleetSyncFailed,
    FleetSyncStarted,
)
from gitops_tui.ui.safe import SafeStatic
from gitops_tui.ui.screens.base import GitOpsModal
from gitops_tui.ui.symbols import ACTION_STYLE, Glyphs, action_text, phase_text
from gitops_tui.ui.widgets.tables import Cells, KeyedTable
from gitops_tui.ui.workers import describe_error, run_engine_call

FLEET_COLUMNS = (
    ("item", "APP / RESOURCE"),
    ("plan", "PLAN"),
    ("status", "STATUS"),
)

COUNTED = (TaskAction.CREATE, TaskAction.UPDATE, TaskAction.PRUNE)
"""Always shown in an app's counts (zeros dimmed); other actions only when present."""

EXTRA = (TaskAction.PRUNE_SKIPPED, TaskAction.HOOK)

Plans = Mapping[str, SyncPreview | str]


def plan_errors(preview: SyncPreview | str) -> tuple[str, ...]:
    if isinstance(preview, str):
        return (preview,)
    return (*preview.errors, *preview.plan.errors)


def counts_text(counts: Mapping[str, int], glyphs: Glyphs) -> Text:
    """``+1 ~2 -0`` (create, update, prune), then prune-skipped and hooks when there are any."""
    text = Text()
    for action in (*COUNTED, *EXTRA):
        count = counts.get(action.value, 0)
        if not count and action not in COUNTED:
            continue
        if text:
            text.append(" ")
        text.append(
            f"{glyphs.action[action]}{count}",
            style=ACTION_STYLE[action] if count else "bright_black",
        )
    return text


def totals(previews: Plans) -> dict[str, int]:
    out: dict[str, int] = {}
    for preview in previews.values():
        if isinstance(preview, SyncPreview):
            for action, count in preview.plan.summary().items():
                out[action] = out.get(action, 0) + count
    return out


WORDS = {
    TaskAction.CREATE: "create",
    TaskAction.UPDATE: "update",
    TaskAction.PRUNE: "prune",
    TaskAction.PRUNE_SKIPPED: "prune skipped",
    TaskAction.HOOK: "hook",
}


def totals_text(previews: Plans, glyphs: Glyphs, *, read_only: Sequence[str] = ()) -> Text:
    """``3 apps: +2 create  ~4 update  -1 prune  ▲ 1 cannot be planned``."""
    if not previews:
        return Text("Nothing to sync: no app is OutOfSync.", style="bright_black")
    count = len(previews)
    text = Text(f"{count} app{'s' if count != 1 else ''}:", style="bold")
    summed = totals(previews)
    for action in (*COUNTED, *EXTRA):
        number = summed.get(action.value, 0)
        if number or action in COUNTED:
            text.append("  ")
            text.append(
                f"{glyphs.action[action]}{number} {WORDS[action]}",
                style=ACTION_STYLE[action] if number else "bright_black",
            )
    failed = sum(1 for p in previews.values() if plan_errors(p))
    if failed or read_only:
        text.append("\n")
    if failed:
        text.append(f"{glyphs.warning} {failed} cannot be planned  ", style="bold red")
    if read_only:
        text.append(f"{len(read_only)} read-only (not synced)", style="yellow")
    return text


def fleet_plan_rows(previews: Plans, glyphs: Glyphs) -> dict[str, dict[str, Cells]]:
    """Per app (by name): its header row then its tasks (Unchanged left out) and errors."""
    out: dict[str, dict[str, Cells]] = {}
    for name in sorted(previews):
        preview = previews[name]
        rows: dict[str, Cells] = {}
        title = Text(name, style="bold")
        if isinstance(preview, SyncPreview):
            title.append(f" @{preview.revision[:7] or glyphs.none}", style="bright_black")
            rows[f"app|{name}"] = (title, counts_text(preview.plan.summary(), glyphs), "")
            for index, task in enumerate(preview.plan.tasks):
                if task.action is TaskAction.UNCHANGED:
                    continue
                rows[f"task|{name}|{index}"] = (
                    Text(f"  {task.key.display}"),
                    action_text(glyphs, task.action, skipped=task.skipped),
                    Text(task.note, style="bright_black"),
                )
        else:
            rows[f"app|{name}"] = (title, Text("cannot plan", style="bold red"), "")
        for index, error in enumerate(plan_errors(preview)):
            rows[f"error|{name}|{index}"] = (
                Text(f"  {glyphs.warning}", style="bold red"),
                Text("error", style="bold red"),
                Text(error, style="red"),
            )
        out[name] = rows
    return out


class FleetPlanTable(KeyedTable):
    """The aggregated plan; enter confirms the dialog rather than selecting a row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "screen.confirm_sync",
            "Sync these apps",
            show=False,
            id="fleet-sync.confirm-enter",
        ),
    ]


class FleetSyncModal(GitOpsModal[int]):
    """Returns how many syncs were started (0 when cancelled before confirming)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "toggle_prune", "Prune", id="fleet-sync.prune"),
        Binding("d", "toggle_dry_run", "Dry run", id="fleet-sync.dry-run"),
        Binding("y", "confirm_sync", "Sync these apps", id="fleet-sync.confirm"),
        Binding(
            "enter", "confirm_sync", "Sync these apps", show=False, id="fleet-sync.confirm-enter"
        ),
        Binding("escape", "close", "Close", id="fleet-sync.close"),
        Binding("question_mark", "app.help", "Help", show=False, id="fleet-sync.help"),
    ]

    def __init__(self, apps: Sequence[str] | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.apps: tuple[str, ...] | None = None if apps is None else tuple(sorted(set(apps)))
        self.prune = False
        self.dry_run = False
        self.previews: dict[str, SyncPreview | str] | None = None
        self.plan_token = 0
        self.plan_error = ""
        self.sync_token = 0
        self.sending = False
        self._unsent: list[SyncRequest] = []
        """The syncs still to ask for, in order (one engine call at a time)."""
        self.sent: tuple[str, ...] = ()
        """Apps a sync was asked for, in order."""
        self.operations: dict[str, str] = {}
        self.failed: dict[str, str] = {}
        self._plan_rows: dict[str, dict[str, Cells]] = {}
        self._compact = False

    def compose(self) -> ComposeResult:
        with Vertical(id="fleet-dialog", classes="dialog"):
            yield SafeStatic("", id="fleet-title", classes="dialog-title", markup=False)
            yield SafeStatic("", id="fleet-options", markup=False)
            yield SafeStatic("", id="fleet-summary", markup=False)
            yield FleetPlanTable(FLEET_COLUMNS, id="fleet-plan")
            yield SafeStatic("", id="fleet-hint", classes="dialog-hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.fleet_ready = True
        self._render_header()
        self._start_plan()
        self.query_one(FleetPlanTable).focus()

    def current_app(self) -> str | None:
        return None

    # -- state -----------------------------------------------------------------------

    @property
    def confirmed(self) -> bool:
        return self.sync_token > 0

    @property
    def syncable(self) -> list[str]:
        """Apps of the plan on screen that a confirm would sync."""
        if self.previews is None:
            return []
        by_name = self.gitops.fleet.by_name
        out = []
        for name in sorted(self.previews):
            preview = self.previews[name]
            app = by_name.get(name)
            if isinstance(preview, SyncPreview) and preview.ok and not (app and app.read_only):
                out.append(name)
        return out

    def _read_only_apps(self) -> list[str]:
        by_name = self.gitops.fleet.by_name
        return [
            name
            for name in self.previews or ()
            if (app := by_name.get(name)) is not None and app.read_only
        ]

    @property
    def ready(self) -> bool:
        """The current plan is shown and has at least one app to sync."""
        return not self.confirmed and bool(self.syncable)

    @property
    def finished(self) -> bool:
        """Every sync asked for has ended (or failed to start)."""
        if not self.confirmed or self.sending:
            return False
        return all(
            name in self.failed or self._phase_done(name, self.gitops.fleet) for name in self.sent
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not super().check_action(action, parameters):
            return False
        if action in ("toggle_prune", "toggle_dry_run", "confirm_sync"):
            if self.confirmed:
                return False
            if action == "confirm_sync":
                return True if self.ready else None
        return True

    # -- rendering -------------------------------------------------------------------

    def _render_header(self) -> None:
        if self.apps is None:
            title = Text("Plan and sync every OutOfSync app", style="bold")
        else:
            count = len(self.apps)
            title = Text(f"Sync {count} app{'s' if count != 1 else ''}", style="bold")
        self.query_one("#fleet-title", SafeStatic).update(title)
        options = Text()
        for index, (key, label, on) in enumerate(
            (("p", "prune", self.prune), ("d", "dry run", self.dry_run))
        ):
            if index:
                options.append("   ")
            options.append(f"[{key}] ", style="bold")
            options.append(f"{label} ")
            options.append("ON" if on else "off", style="bold green" if on else "bright_black")
        self.query_one("#fleet-options", SafeStatic).update(options)
        self._render_hint()

    def _render_hint(self) -> None:
        if self.finished:
            hint = "every sync has ended   esc: close"
        elif self.sending:
            hint = "starting the syncs...   esc: close (the rest are not started)"
        elif self.confirmed:
            hint = "syncs running   esc: close (they keep running)"
        elif self.ready:
            verb = "dry run" if self.dry_run else "sync"
            count = len(self.syncable)
            hint = f"enter / y: {verb} {count} app{'s' if count != 1 else ''}   esc: cancel"
        elif self.previews is not None or self.plan_error:
            hint = "nothing can be synced with this plan   esc: close"
        else:
            hint = "computing the plan...   esc: cancel"
        self.query_one("#fleet-hint", SafeStatic).update(hint)

    def _render_summary(self) -> None:
        summary = self.query_one("#fleet-summary", SafeStatic)
        if self.plan_error:
            summary.update(Text(f"Plan failed: {self.plan_error}", style="bold red"))
        elif self.previews is None:
            summary.update(Text("computing the plan...", style="italic"))
        elif not self.confirmed:
            glyphs = self.gitops.glyphs
            summary.update(totals_text(self.previews, glyphs, read_only=self._read_only_apps()))
        else:
            summary.update(self._progress_text(self.gitops.fleet))

    def _progress_text(self, fleet: FleetSnapshot) -> Text:
        """``3 syncs: 1 ⟳ Running  1 ✓ Succeeded  1 ▲ not started``."""
        glyphs = self.gitops.glyphs
        text = Text("DRY RUN (nothing is changed)  " if self.dry_run else "", style="bold")
        counts: dict[OperationPhase | str, int] = {}
        for name in self.sent:
            op = self._operation(name, fleet)
            state: OperationPhase | str = (
                "not started" if name in self.failed else "starting" if op is None else op.phase
            )
            counts[state] = counts.get(state, 0) + 1
        text.append(f"{len(self.sent)} sync{'s' if len(self.sent) != 1 else ''}:")
        for state, count in counts.items():
            text.append(f"  {count} ")
            if isinstance(state, OperationPhase):
                text.append_text(phase_text(glyphs, state))
            elif state == "not started":
                text.append(f"{glyphs.warning} {state}", style="bold red")
            else:
                text.append(state, style="italic")
        return text

    def _status(self, name: str, fleet: FleetSnapshot) -> Text:
        glyphs = self.gitops.glyphs
        if name in self.failed:
            return Text(f"{glyphs.warning} not started", style="bold red")
        if name in self.operations:
            op = self._operation(name, fleet)
            if op is None:
                return Text(f"started {self.operations[name]}", style="italic")
            text = phase_text(glyphs, op.phase)
            if op.message:
                text.append(f" {op.message}", style="bright_black")
            return text
        if self.confirmed:
            return Text("starting...", style="italic") if name in self.sent else Text("not synced")
        preview = (self.previews or {}).get(name)
        app = fleet.by_name.get(name)
        if app is not None and app.read_only:
            return Text("read-only context: not synced", style="yellow")
        if preview is not None and plan_errors(preview):
            return Text("not synced", style="bright_black")
        return Text("")

    def _render_table(self) -> None:
        """The plan; once confirmed, one row per app (the status column gets the room)."""
        fleet = self.gitops.fleet
        glyphs = self.gitops.glyphs
        rows: dict[str, Cells] = {}
        for name, app_rows in self._plan_rows.items():
            for key, cells in app_rows.items():
                if key.startswith("app|"):
                    rows[key] = (*cells[:2], self._status(name, fleet))
                elif not self.confirmed:
                    rows[key] = cells
            if name in self.failed:
                rows[f"failed|{name}"] = (
                    Text(f"  {glyphs.warning}", style="bold red"),
                    Text("error", style="bold red"),
                    Text(self.failed[name], style="red"),
                )
        table = self.query_one(FleetPlanTable)
        if self.confirmed and not self._compact:
            self._compact = True
            table.rebuild_rows(rows)  # without the task rows: narrower columns
        else:
            table.sync_rows(rows, ordered=True)

    def _refresh_view(self) -> None:
        self._render_summary()
        self._render_table()
        self._render_hint()
        self.refresh_bindings()

    # -- plan ------------------------------------------------------------------------

    def action_toggle_prune(self) -> None:
        if self.confirmed:
            return
        self.prune = not self.prune
        self._render_header()
        self._start_plan()

    def action_toggle_dry_run(self) -> None:
        if self.confirmed:
            return
        self.dry_run = not self.dry_run  # the plan is the same: no need to plan again
        self._render_header()

    def _start_plan(self) -> None:
        self.plan_token += 1
        self.previews = None
        self.plan_error = ""
        self._render_summary()
        self._render_hint()
        self.refresh_bindings()
        apps = None if self.apps is None else list(self.apps)
        engine, prune, token = self.gitops.engine, self.prune, self.plan_token
        run_engine_call(
            self,
            lambda: engine.fleet_preview(apps, prune=prune),
            lambda previews: FleetPlanReady(token, dict(previews)),
            action="plan",
            token=token,
            group="fleet-plan",
            exclusive=True,
        )

    def on_fleet_plan_ready(self, message: FleetPlanReady) -> None:
        message.stop()
        if message.token != self.plan_token or self.confirmed:
            return  # stale: prune was toggled since this plan started
        self.previews = message.previews
        self._plan_rows = fleet_plan_rows(message.previews, self.gitops.glyphs)
        self._refresh_view()

    def on_engine_call_failed(self, message: EngineCallFailed) -> None:
        # shown here and (the message bubbles on) reported by the app's handler
        if message.action == "plan" and message.token == self.plan_token:
            self.plan_error = str(message.error)
            self._refresh_view()

    # -- sync ------------------------------------------------------------------------

    def action_confirm_sync(self) -> None:
        if self.gitops.read_only or self.confirmed:
            return
        if not self.ready:
            self.notify(
                "Nothing to sync yet: wait for the plan or fix its errors.", severity="warning"
            )
            return
        self.sync_token += 1
        self.sent = tuple(self.syncable)
        self.sending = True
        requests = [
            SyncRequest(app=name, prune=self.prune, dry_run=self.dry_run) for name in self.sent
        ]
        self._refresh_view()
        self._unsent = requests
        self._send_next(self.sync_token)

    def _send_next(self, token: int) -> None:
        """Ask for the next app's sync, one at a time; a failure stops only that app."""
        if token != self.sync_token:
            return
        if not self._unsent:
            self.sending = False
            self._refresh_view()
            return
        request = self._unsent.pop(0)
        engine = self.gitops.engine
        run_engine_call(
            self,
            lambda: engine.sync(request),
            lambda operation_id: FleetSyncStarted(token, request.app, operation_id),
            action=f"sync {request.app}",
            group="fleet-sync",
            exclusive=True,
            on_error=lambda exc: FleetSyncFailed(token, request.app, exc),
        )

    def on_fleet_sync_started(self, message: FleetSyncStarted) -> None:
        message.stop()
        if message.token == self.sync_token:
            self.operations[message.app] = message.operation_id
            self._refresh_view()
        self._send_next(message.token)

    def on_fleet_sync_failed(self, message: FleetSyncFailed) -> None:
        message.stop()
        if message.token != self.sync_token:
            return
        text, _ = describe_error(f"sync {message.app}", message.error)
        self.failed[message.app] = text
        self.gitops.report_error(f"sync {message.app}", message.error)
        self._refresh_view()
        self._send_next(message.token)

    def _operation(self, name: str, fleet: FleetSnapshot) -> OperationState | None:
        app = fleet.by_name.get(name)
        operation_id = self.operations.get(name)
        if app is None or operation_id is None:
            return None
        for op in (app.operation, app.last_sync):
            if op is not None and op.id == operation_id:
                return op
        return None

    def _phase_done(self, name: str, fleet: FleetSnapshot) -> bool:
        op = self._operation(name, fleet)
        return op is not None and op.phase.done

    def fleet_updated(self, fleet: FleetSnapshot) -> None:
        if not self.fleet_ready or self.previews is None:
            return
        self._refresh_view()

    def action_close(self) -> None:
        self.dismiss(len(self.operations))
