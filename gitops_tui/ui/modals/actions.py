"""The action menu of one resource (``a`` in the app view's tree).

It lists what the engine offers for the resource (``EngineAPI.actions``: the
built-in ``restart``, the Lua discovery of the customizations), disabled ones
greyed with the reason, and ``delete`` last. Loading runs in a worker; a failure
(the Argo CD backend, a broken discovery script, an unreachable cluster) is shown
in the menu in words. Choosing returns ``MenuChoice``; the app view asks for
confirmation and runs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from gitops_tui.engine.api import ResourceAction
from gitops_tui.engine.model import ResourceKey
from gitops_tui.ui.messages import EngineCallFailed
from gitops_tui.ui.safe import SafeStatic, plain_text, safe_text
from gitops_tui.ui.screens.base import GitOpsModal
from gitops_tui.ui.workers import run_engine_call

DELETE = "\x00delete"
"""The option id of the delete entry (no action name holds a NUL: names are printable)."""


@dataclass(frozen=True)
class MenuChoice:
    """``action`` to run, or ``delete`` (then ``action`` is empty)."""

    action: str = ""
    delete: bool = False


@dataclass
class ActionsLoaded(Message):
    actions: list[ResourceAction]


def resource_label(key: ResourceKey) -> str:
    """``Deployment shop/web`` (cluster-scoped: ``ClusterRole reader``)."""
    return f"{key.kind} {key.namespace}/{key.name}" if key.namespace else f"{key.kind} {key.name}"


def action_prompt(action: ResourceAction) -> Text:
    text = plain_text(action.display_name or action.name)
    text.stylize("bold")
    if action.display_name and action.display_name != action.name:
        text.append(f" ({action.name})", style="bright_black")
    text.append(f"  {action.origin}", style="bright_black")
    if action.disabled:
        text.append("  disabled by its discovery script", style="italic")
    return safe_text(text)


class ActionMenuModal(GitOpsModal[MenuChoice | None]):
    """Returns the choice, or None when closed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="actions.close"),
        Binding("j", "cursor_down", "Down", show=False, id="actions.down"),
        Binding("k", "cursor_up", "Up", show=False, id="actions.up"),
    ]

    def __init__(self, app_name: str, key: ResourceKey) -> None:
        super().__init__(classes="dialog-screen")
        self.app_name = app_name
        self.key = key
        self.actions: list[ResourceAction] | None = None
        self.error = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="actions-dialog", classes="dialog"):
            title = plain_text(f"Actions on {resource_label(self.key)}")
            title.stylize("bold")
            yield SafeStatic(title, classes="dialog-title")
            yield SafeStatic(Text("loading the actions...", style="italic"), id="actions-status")
            yield OptionList(id="actions-menu")
            yield SafeStatic("enter: choose   esc: close", classes="dialog-hint")

    def on_mount(self) -> None:
        self._show()
        engine, app, key = self.gitops.engine, self.app_name, self.key
        run_engine_call(
            self,
            lambda: engine.actions(app, key),
            lambda found: ActionsLoaded(list(found)),
            action="actions",
            group="actions",
            exclusive=True,
            on_error=lambda exc: EngineCallFailed("actions", exc, token=self),
        )
        self.query_one(OptionList).focus()

    def current_app(self) -> str | None:
        return self.app_name

    def on_actions_loaded(self, message: ActionsLoaded) -> None:
        message.stop()
        self.actions = message.actions
        self._show()

    def on_engine_call_failed(self, message: EngineCallFailed) -> None:
        if message.token is self:
            message.stop()  # shown here, in the menu: no second notice
            self.actions = []
            self.error = str(message.error) or type(message.error).__name__
            self._show()

    def _show(self) -> None:
        menu = self.query_one(OptionList)
        highlighted = menu.highlighted
        menu.clear_options()
        status = self.query_one("#actions-status", SafeStatic)
        if self.actions is None:
            status.update(Text("loading the actions...", style="italic"))
        elif self.error:
            status.update(Text(f"No actions: {self.error}", style="red"))
        elif not self.actions:
            status.update(Text("No actions are offered for this resource.", style="italic"))
        else:
            disabled = sum(1 for a in self.actions if a.disabled)
            status.update(
                f"{len(self.actions)} action(s)" + (f", {disabled} disabled" if disabled else "")
            )
        options = [
            Option(action_prompt(a), id=a.name, disabled=a.disabled) for a in self.actions or ()
        ]
        delete = Text("delete", style="bold red")
        delete.append("  typed confirmation", style="bright_black")
        options.append(Option(delete, id=DELETE))
        menu.add_options(options)
        enabled = [i for i, o in enumerate(options) if not o.disabled]
        menu.highlighted = highlighted if highlighted in enabled else enabled[0]

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        chosen = event.option.id or ""
        self.dismiss(MenuChoice(delete=True) if chosen == DELETE else MenuChoice(action=chosen))

    def action_cursor_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_close(self) -> None:
        self.dismiss(None)
