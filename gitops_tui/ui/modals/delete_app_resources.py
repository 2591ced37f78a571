"""Deleting an app's resources (local engine): the plan, the typed name, progress, result.

The local engine reads the Application from Git; ``ctrl+d`` in the list deletes what
it provably owns in the cluster, as Argo CD's cascade deletion would. The dialog asks
the engine for a plan read fresh from the cluster (``plan_app_delete``), lists what
goes (kind, namespace/name, wave; highest wave first) and what stays with the reason,
bounded ("... and N more") and scrollable, then asks for the app's name: the rule of
every path that deletes. The engine deletes exactly the listed objects (matched by
uid: what appeared or was re-created since is left alone); progress and the result
are said in words. Every string from the cluster is made printable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input

from gitops_tui.app_delete_plan import plan_lines
from gitops_tui.engine.api import (
    AppDeletePlan,
    FleetSnapshot,
    ResultCode,
    delete_app_resources,
    plan_app_delete,
)
from gitops_tui.engine.textsafe import printable
from gitops_tui.ui.messages import EngineCallFailed
from gitops_tui.ui.safe import SafeStatic, plain_text
from gitops_tui.ui.screens.base import GitOpsModal
from gitops_tui.ui.workers import run_engine_call

MAX_LISTED = 200
"""Lines of each list (deleted, kept) shown; the rest is counted."""

LEFT_OVER_ROWS = 17
"""Rows of the screen the rest of the dialog needs (borders, title, summary, question,
input, hint) plus the header and footer around it."""

CASCADE = "foreground"  # each object's dependents go first, as Argo CD's default


@dataclass
class PlanReady(Message):
    plan: AppDeletePlan


@dataclass
class ResourcesDeleted(Message):
    result: str


class DeleteAppResourcesModal(GitOpsModal[str | None]):
    """Returns what the engine did (in words), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="delete-resources.cancel"),
        Binding("pageup", "page('up')", "Scroll up", id="delete-resources.page-up"),
        Binding("pagedown", "page('down')", "Scroll down", id="delete-resources.page-down"),
    ]

    def __init__(self, app_name: str) -> None:
        super().__init__(classes="dialog-screen")
        self.app_name = app_name
        self.plan: AppDeletePlan | None = None
        self.deleting = False

    def compose(self) -> ComposeResult:
        title = plain_text(f"Delete the resources of {self.app_name}")
        title.stylize("bold red")
        with Vertical(id="delete-resources-dialog", classes="dialog"):
            yield SafeStatic(title, classes="dialog-title")
            yield SafeStatic(
                "The Application stays in Git (a sync recreates what goes). Planning...",
                id="delete-resources-summary",
            )
            with VerticalScroll(id="delete-resources-list"):
                yield SafeStatic("", id="delete-resources-lines")
            yield SafeStatic("", id="delete-resources-ask")
            yield Input(placeholder=printable(self.app_name), id="delete-resources-confirm")
            yield SafeStatic("esc: cancel   pgup/pgdn: scroll the list", classes="dialog-hint")

    def on_mount(self) -> None:
        box = self.query_one(Input)
        box.cursor_blink = False
        box.display = False
        scroll = self.query_one(VerticalScroll)
        scroll.styles.height = "auto"
        self._fit_list()
        self.fleet_ready = True
        engine, app = self.gitops.engine, self.app_name
        run_engine_call(
            self,
            lambda: plan_app_delete(engine, app),
            PlanReady,
            action=f"plan the deletion of {app}'s resources",
            token=self,
            group="delete-resources-plan",
            exclusive=True,
        )

    def on_resize(self) -> None:
        self._fit_list()

    def _fit_list(self) -> None:
        """The list takes what the rest of the dialog leaves (it fits at 80x24)."""
        rows = self.app.size.height
        self.query_one(VerticalScroll).styles.max_height = max(3, rows - LEFT_OVER_ROWS)

    def action_page(self, direction: str) -> None:
        scroll = self.query_one(VerticalScroll)
        if direction == "up":
            scroll.scroll_page_up(animate=False)
        else:
            scroll.scroll_page_down(animate=False)

    def current_app(self) -> str | None:
        return self.app_name

    def on_plan_ready(self, message: PlanReady) -> None:
        message.stop()
        plan = self.plan = message.plan
        summary = self.query_one("#delete-resources-summary", SafeStatic)
        summary.update(
            plain_text(
                f"The Application stays in Git; a sync recreates what goes. "
                f"{len(plan.deletions)} to delete, {len(plan.kept)} kept "
                f"(read from cluster {plan.cluster} now)."
            )
        )
        text = Text()
        for index, line in enumerate(plan_lines(plan, MAX_LISTED)):
            style = "bold" if not line.startswith(" ") else ""
            text.append(("\n" if index else "") + line, style=style)
        self.query_one("#delete-resources-lines", SafeStatic).update(text)
        ask = self.query_one("#delete-resources-ask", SafeStatic)
        if not plan.deletions:
            ask.update(plain_text("Nothing to delete. esc closes."))
            return
        ask.update(
            plain_text(
                f"Type the app name ({self.app_name}) and press enter to delete "
                f"these {len(plan.deletions)} resources:"
            )
        )
        box = self.query_one(Input)
        box.display = True
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        plan = self.plan
        if self.deleting or plan is None or self.refused("delete", self.app_name):
            return
        if event.value.strip() != self.app_name:
            self.notify(
                f"The name does not match {self.app_name!r}: nothing was deleted.",
                severity="error",
                markup=False,
            )
            event.input.value = ""
            return
        self.deleting = True
        event.input.display = False
        self.query_one("#delete-resources-ask", SafeStatic).update(
            Text(f"deleting {len(plan.deletions)} resources, highest wave first...", "italic")
        )
        engine = self.gitops.engine
        run_engine_call(
            self,
            lambda: delete_app_resources(engine, plan, CASCADE),
            lambda result: ResourcesDeleted(str(result)),
            action=f"delete the resources of {self.app_name}",
            token=self,
            group="delete-resources",
            exclusive=True,
        )

    def fleet_updated(self, fleet: FleetSnapshot) -> None:
        """While deleting: how far it got, from the app's operation."""
        plan = self.plan
        if not self.deleting or plan is None:
            return
        app = fleet.by_name.get(self.app_name)
        op = app.operation if app is not None else None
        if op is None or op.kind != "delete" or op.phase.done:
            return
        gone = sum(1 for r in op.results if r.status is ResultCode.PRUNED)
        self.query_one("#delete-resources-ask", SafeStatic).update(
            Text(f"deleting: {gone} of {len(plan.deletions)} gone...", "italic")
        )

    def on_resources_deleted(self, message: ResourcesDeleted) -> None:
        message.stop()
        self.dismiss(message.result)

    def on_engine_call_failed(self, message: EngineCallFailed) -> None:
        if message.token is self:  # shown here, and notified by the app
            self.deleting = False
            self.query_one(Input).display = self.plan is not None
            text = plain_text(f"Not deleted: {message.error}")
            text.stylize("bold red")
            self.query_one("#delete-resources-ask", SafeStatic).update(text)

    def action_cancel(self) -> None:
        if self.deleting:
            self.notify("The deletion is running: it finishes its current wave first.")
            return
        self.dismiss(None)
