"""Quitting while syncs run: wait for them, terminate them cleanly, or stay.

Closing the engine stops its sync workers, leaving an app half-applied (its history
says "interrupted"). So ``q`` with operations in flight asks first; the choice
shows the operations live and quits once none runs.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical

from gitops_tui.engine.api import AppSnapshot, FleetSnapshot
from gitops_tui.ui.messages import TerminateDone
from gitops_tui.ui.safe import SafeStatic
from gitops_tui.ui.screens.base import GitOpsModal
from gitops_tui.ui.workers import run_engine_call


def running_operations(fleet: FleetSnapshot) -> list[AppSnapshot]:
    """The apps whose operation (sync, rollback) has not ended."""
    return [a for a in fleet.apps if a.operation is not None and not a.operation.phase.done]


class QuitModal(GitOpsModal[None]):
    """``q`` while syncs run. ``w`` waits then quits, ``t`` terminates then quits, esc stays."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("w", "wait", "Wait, then quit", id="quit.wait"),
        Binding("t", "terminate", "Terminate, then quit", id="quit.terminate"),
        Binding("escape", "stay", "Stay", id="quit.stay"),
        Binding("n", "stay", "Stay", show=False, id="quit.stay-n"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")
        self.waiting = False
        self.terminating = False

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-dialog", classes="dialog"):
            yield SafeStatic(Text("Syncs are running", style="bold"), classes="dialog-title")
            yield SafeStatic("", id="quit-operations")
            yield SafeStatic("", id="quit-hint", classes="dialog-hint")

    def on_mount(self) -> None:
        self.fleet_ready = True
        self.fleet_updated(self.gitops.fleet)

    def fleet_updated(self, fleet: FleetSnapshot) -> None:
        running = running_operations(fleet)
        if (self.waiting or self.terminating) and not running:
            self.gitops.action_quit_now()
            return
        glyphs = self.gitops.glyphs
        lines = Text()
        if not running:
            lines.append("No sync runs any more.")
        for app in running:
            op = app.operation
            assert op is not None
            lines.append(f"{glyphs.phase[op.phase]} {app.name}", style="bold")
            lines.append(f"  {op.phase.value}: {op.message or 'in progress'}\n")
        lines.append(
            "Quitting now stops them halfway: the apps are left partly applied.",
            style="italic",
        )
        self.query_one("#quit-operations", SafeStatic).update(lines)
        self._render_hint(len(running))

    def _render_hint(self, count: int) -> None:
        hint = self.query_one("#quit-hint", SafeStatic)
        if self.terminating:
            hint.update(f"Terminating {count} sync(s); quitting when they stopped.  esc: stay")
        elif self.waiting:
            hint.update(f"Waiting for {count} sync(s) to end, then quitting.  esc: stay")
        elif self.gitops.read_only:
            hint.update("w: wait for them, then quit   esc / n: stay")
        else:
            hint.update("w: wait for them, then quit   t: terminate them, then quit   esc: stay")

    def action_wait(self) -> None:
        self.waiting = True
        self.fleet_updated(self.gitops.fleet)

    def action_terminate(self) -> None:
        if self.gitops.read_only or self.terminating:
            return
        self.terminating = True
        for app in running_operations(self.gitops.fleet):
            self._terminate(app.name)
        self.fleet_updated(self.gitops.fleet)

    def _terminate(self, name: str) -> None:
        engine = self.gitops.engine
        run_engine_call(
            self,
            lambda: engine.terminate(name),
            lambda stopped: TerminateDone(name, bool(stopped)),
            action=f"terminate {name}",
            group=f"quit-terminate-{name}",
        )

    def on_terminate_done(self, message: TerminateDone) -> None:
        message.stop()  # the dialog shows the operations: no notice per app

    def action_stay(self) -> None:
        self.dismiss(None)
