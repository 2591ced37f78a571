"""Deleting an Application itself (Argo CD mode): the cascade, what goes, the typed name.

Two steps in one dialog: choose the cascade (``f`` foreground, ``b`` background,
``o`` orphan, or the list with enter), then the dialog lists what goes with that
cascade (the app's resources, or none for orphan) and asks for the app's name,
the rule of every path that deletes. The engine call runs in a worker
(``EngineAPI.delete_app``); a refusal is shown here in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from gitops_tui.app_delete_plan import CASCADE_WORDS, listing
from gitops_tui.engine.api import APP_DELETE_CASCADES
from gitops_tui.engine.textsafe import printable
from gitops_tui.ui.messages import EngineCallFailed
from gitops_tui.ui.safe import SafeStatic, plain_text
from gitops_tui.ui.screens.base import GitOpsModal
from gitops_tui.ui.workers import run_engine_call


@dataclass
class AppDeleted(Message):
    result: str


class CascadeList(OptionList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "screen.choose('foreground')", "Foreground", id="delete-app.foreground"),
        Binding("b", "screen.choose('background')", "Background", id="delete-app.background"),
        Binding("o", "screen.choose('orphan')", "Orphan", id="delete-app.orphan"),
    ]


class DeleteAppModal(GitOpsModal[str | None]):
    """Returns what the engine did (in words), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="delete-app.cancel"),
    ]

    def __init__(self, app_name: str) -> None:
        super().__init__(classes="dialog-screen")
        self.app_name = app_name
        self.cascade: str | None = None
        self.deleting = False

    def compose(self) -> ComposeResult:
        title = plain_text(f"Delete Application {self.app_name}")
        title.stylize("bold red")
        with Vertical(id="delete-app-dialog", classes="dialog"):
            yield SafeStatic(title, classes="dialog-title")
            yield SafeStatic(
                "Its resources: f foreground, b background, o orphan (enter chooses)",
                id="delete-app-summary",
            )
            yield CascadeList(
                *(Option(plain_text(CASCADE_WORDS[c]), id=c) for c in APP_DELETE_CASCADES),
                id="delete-app-cascade",
            )
            yield SafeStatic("", id="delete-app-ask")
            yield Input(placeholder=printable(self.app_name), id="delete-app-confirm")
            yield SafeStatic("esc: cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        box = self.query_one(Input)
        box.cursor_blink = False
        box.display = False
        self.query_one(CascadeList).focus()

    def current_app(self) -> str | None:
        return self.app_name

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.action_choose(event.option.id)

    def action_choose(self, cascade: str) -> None:
        """The cascade is chosen: list what goes with it and ask for the name."""
        app = self.gitops.fleet.by_name.get(self.app_name)
        if app is None or cascade not in APP_DELETE_CASCADES or self.deleting:
            return
        self.cascade = cascade
        self.query_one(CascadeList).display = False
        text = Text()
        lines = listing(app, cascade)
        text.append(f"Cascade {lines[0]}", style="bold")
        for line in lines[1:]:
            text.append(f"\n{line}")
        self.query_one("#delete-app-summary", SafeStatic).update(text)
        self.query_one("#delete-app-ask", SafeStatic).update(
            plain_text(f"Type the app name ({self.app_name}) and press enter to delete it:")
        )
        box = self.query_one(Input)
        box.display = True
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        cascade = self.cascade
        if self.deleting or cascade is None or self.refused("delete", self.app_name):
            return
        if event.value.strip() != self.app_name:
            self.notify(
                f"The name does not match {self.app_name!r}: nothing was deleted.",
                severity="error",
            )
            event.input.value = ""
            return
        self.deleting = True
        self.query_one("#delete-app-ask", SafeStatic).update(Text("deleting...", style="italic"))
        engine, app = self.gitops.engine, self.app_name
        run_engine_call(
            self,
            lambda: engine.delete_app(app, cascade),
            lambda result: AppDeleted(str(result)),
            action=f"delete Application {app}",
            token=self,
            group="delete-app",
            exclusive=True,
        )

    def on_app_deleted(self, message: AppDeleted) -> None:
        message.stop()
        self.dismiss(message.result)

    def on_engine_call_failed(self, message: EngineCallFailed) -> None:
        if message.token is self:  # shown here, and notified by the app
            self.deleting = False
            self.query_one("#delete-app-ask", SafeStatic).update(
                Text(f"Not deleted: {message.error}", style="bold red")
            )

    def action_cancel(self) -> None:
        self.dismiss(None)
