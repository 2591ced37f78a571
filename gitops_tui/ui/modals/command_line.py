"""The ``:`` command line (k9s): one input docked at the bottom of the screen."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Input, Label

from gitops_tui.ui.screens.base import GitOpsModal

COMMAND_HINT = (
    "sync [app]  diff  prune  history  refresh[!]  filter TEXT  sort COL  plan  ctx [NAME]  q"
)


class CommandLineModal(GitOpsModal[str | None]):
    """Returns the typed command (without the ``:``), or None on escape."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=False, id="command-line.cancel"),
    ]

    def __init__(self) -> None:
        super().__init__(id="command-line-screen")

    def compose(self) -> ComposeResult:
        with Horizontal(id="command-line"):
            yield Label(":", id="command-prompt")
            yield Input(placeholder=COMMAND_HINT, id="command-input")

    def on_mount(self) -> None:
        box = self.query_one(Input)
        box.cursor_blink = False
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
