"""An app's sync history, newest first, with rollback to a recorded revision."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer

from gitops_tui.engine.api import FleetSnapshot, HistoryEntry
from gitops_tui.ui.messages import HistoryLoaded, RollbackStarted
from gitops_tui.ui.modals.confirm import ConfirmModal
from gitops_tui.ui.safe import SafeStatic
from gitops_tui.ui.screens.base import GitOpsScreen
from gitops_tui.ui.symbols import Glyphs, phase_text
from gitops_tui.ui.widgets.header import FleetHeader
from gitops_tui.ui.widgets.operation_view import utc
from gitops_tui.ui.widgets.tables import Cells, KeyedTable
from gitops_tui.ui.workers import run_engine_call

HISTORY_COLUMNS = (
    ("id", "ID"),
    ("revision", "REVISION"),
    ("result", "RESULT"),
    ("started", "STARTED (UTC)"),
    ("by", "BY"),
    ("source", "SOURCE"),
    ("message", "MESSAGE"),
)


def history_cells(entry: HistoryEntry, glyphs: Glyphs) -> Cells:
    op = entry.operation
    result = phase_text(glyphs, op.phase)
    if op.dry_run:
        result.append(" (dry run)", style="bright_black")
    if op.kind == "delete":
        result.append(" (resources deleted)", style="magenta")
    return (
        str(entry.id),
        entry.revision[:7] or glyphs.none,
        result,
        utc(op.started_at),
        op.initiated_by,
        f"{entry.repo_url} {entry.path}".strip(),
        op.message,
    )


class HistoryTable(KeyedTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "screen.rollback",
            "Roll back to this revision (asks first)",
            show=False,
            id="history.rollback-enter",
        ),
    ]


class HistoryScreen(GitOpsScreen[None]):
    """``H`` from the list or the app view."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="history.back"),
        Binding("R", "rollback", "Roll back to this revision (asks first)", id="history.rollback"),
        Binding("r", "reload", "Reload", id="history.reload"),
    ]

    def __init__(self, app_name: str) -> None:
        super().__init__()
        self.app_name = app_name
        self.entries: dict[str, HistoryEntry] = {}
        self._token = 0
        self.loaded = False
        self._last_sync: tuple[object, ...] | None = None
        """The app's last operation as last seen: when it changes (a rollback or a sync
        ended), the history is loaded again."""

    def compose(self) -> ComposeResult:
        yield FleetHeader(id="header")
        yield SafeStatic("", id="history-hint", markup=False)
        yield HistoryTable(HISTORY_COLUMNS, id="history")
        yield Footer()

    def on_mount(self) -> None:
        self.fleet_ready = True
        self.fleet_updated(self.gitops.fleet)
        hint = f"Sync history of {self.app_name}, newest first."
        if not self.gitops.read_only:
            hint += "  enter / R: roll back (asks first; turns automated sync off)."
        self.query_one("#history-hint", SafeStatic).update(hint)
        self.query_one(HistoryTable).focus()
        self.action_reload()

    def current_app(self) -> str | None:
        return self.app_name

    def fleet_updated(self, fleet: FleetSnapshot) -> None:
        if self.fleet_ready:
            self.query_one(FleetHeader).show_fleet(
                fleet,
                self.gitops.glyphs,
                read_only=self.gitops.read_only,
                crumbs=(self.app_name, "history"),
                where=self.gitops.where(),
                churn=True,
            )
            app = fleet.by_name.get(self.app_name)
            last = app.last_sync if app is not None else None
            seen = () if last is None else (last.id, last.phase, last.finished_at)
            if self._last_sync is not None and seen != self._last_sync:
                self.action_reload()  # e.g. the rollback just started from here has ended
            self._last_sync = seen

    # -- loading ---------------------------------------------------------------------

    def action_reload(self) -> None:
        self._token += 1
        engine, app, token = self.gitops.engine, self.app_name, self._token
        run_engine_call(
            self,
            lambda: engine.history(app),
            lambda entries: HistoryLoaded(app, token, list(entries)),
            action="history",
            token=token,
            group="history",
            exclusive=True,
        )

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        message.stop()
        if message.token != self._token:
            return
        self.loaded = True
        ordered = sorted(message.entries, key=lambda e: e.id, reverse=True)
        self.entries = {str(e.id): e for e in ordered}
        glyphs = self.gitops.glyphs
        table = self.query_one(HistoryTable)
        table.sync_rows(
            {key: history_cells(e, glyphs) for key, e in self.entries.items()},
            order=lambda key: -int(key),
        )
        if not ordered:
            self.query_one("#history-hint", SafeStatic).update(
                Text(f"No recorded syncs for {self.app_name} yet.", style="italic")
            )

    # -- rollback --------------------------------------------------------------------

    def action_rollback(self) -> None:
        if self.gitops.read_only:
            return
        key = self.query_one(HistoryTable).cursor_key()
        entry = self.entries.get(key or "")
        if entry is None:
            self.notify("No history entry selected.", severity="warning")
            return
        if entry.operation.kind != "sync":
            self.notify(
                f"History #{entry.id} deleted the app's resources: it is not a sync, there is "
                "no revision to roll back to in it.",
                severity="warning",
                markup=False,
            )
            return
        self.app.push_screen(
            ConfirmModal(
                f"Roll back {self.app_name} to {entry.revision[:7]} (history #{entry.id})?",
                "This turns automated sync OFF for the app and syncs the recorded revision. "
                "Re-enable automation in Git when you are done.",
                confirm_label="roll back",
            ),
            callback=lambda ok: self._confirmed(entry, ok),
        )

    def _confirmed(self, entry: HistoryEntry, ok: bool | None) -> None:
        if ok and not self.gitops.read_only:
            engine, app, history_id = self.gitops.engine, self.app_name, entry.id
            run_engine_call(
                self,
                lambda: engine.rollback(app, history_id),
                lambda operation_id: RollbackStarted(app, history_id, operation_id),
                action="rollback",
                group="rollback",
                exclusive=True,
            )

    def on_rollback_started(self, message: RollbackStarted) -> None:
        message.stop()
        self.notify(
            f"Rollback of {message.app} to history #{message.history_id} started "
            f"(operation {message.operation_id}); automated sync is off.",
            markup=False,
        )

    def action_back(self) -> None:
        self.dismiss()
