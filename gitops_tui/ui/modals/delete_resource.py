"""Deleting one resource of an app: what goes, confirmed by typing the resource's name.

The same rule as prune: nothing is deleted without the typed name. The dialog
lists the object and its children from the app's tree (they go with it:
foreground deletion), and says what happens next when Git still has the object
(the app turns OutOfSync; automated sync with self-heal re-creates it). The
engine proves the app owns the object before it sends the DELETE
(``EngineAPI.delete_resource``); its refusal is shown here in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input

from gitops_tui.engine.api import AppSnapshot, ResourceNode
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.textsafe import printable
from gitops_tui.ui.messages import EngineCallFailed
from gitops_tui.ui.modals.actions import resource_label
from gitops_tui.ui.safe import SafeStatic, plain_text
from gitops_tui.ui.screens.base import GitOpsModal
from gitops_tui.ui.workers import run_engine_call

MAX_LISTED = 12


@dataclass
class ResourceDeleted(Message):
    key: ResourceKey
    result: str


def doomed_lines(node: ResourceNode, limit: int = MAX_LISTED) -> list[str]:
    """The object and its children (depth first, indented), at most ``limit`` lines."""
    lines: list[str] = []
    total = 0

    def walk(n: ResourceNode, depth: int) -> None:
        nonlocal total
        total += 1
        if len(lines) < limit:
            lines.append("  " * depth + resource_label(n.key))
        for child in n.children:
            walk(child, depth + 1)

    walk(node, 0)
    if total > limit:
        lines.append(f"... and {total - limit} more")
    return lines


def aftermath(app: AppSnapshot, node: ResourceNode) -> str:
    """What happens after the delete, for an object Git still has."""
    if node.status is None or node.requires_pruning:
        return ""
    if app.automated and app.self_heal:
        return "Git still has it: automated sync with self-heal will re-create it."
    return "Git still has it: the app turns OutOfSync (Missing) until the next sync."


class DeleteResourceModal(GitOpsModal[str | None]):
    """Returns what the engine did (in words), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="delete.cancel"),
    ]

    def __init__(self, app_name: str, node: ResourceNode) -> None:
        super().__init__(classes="dialog-screen")
        self.app_name = app_name
        self.node = node
        self.deleting = False

    def compose(self) -> ComposeResult:
        key = self.node.key
        title = plain_text(f"Delete {resource_label(key)} of {self.app_name}")
        title.stylize("bold red")
        listing = Text()
        listing.append("Deleted, with what it owns:", style="bold")
        for line in doomed_lines(self.node):
            listing.append(f"\n  {printable(line)}")
        app = self.gitops.fleet.by_name.get(self.app_name)
        after = aftermath(app, self.node) if app is not None else ""
        if after:
            listing.append(f"\n{after}", style="yellow")
        with Vertical(id="delete-dialog", classes="dialog"):
            yield SafeStatic(title, classes="dialog-title")
            yield SafeStatic(listing, id="delete-summary")
            yield SafeStatic(
                plain_text(f"Type the name ({key.name}) and press enter to delete it:"),
                id="delete-ask",
            )
            yield Input(placeholder=printable(key.name), id="delete-confirm")
            yield SafeStatic("esc: cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        box = self.query_one(Input)
        box.cursor_blink = False
        box.focus()

    def current_app(self) -> str | None:
        return self.app_name

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        key = self.node.key
        if self.deleting:
            return
        if self.refused("delete", self.app_name):
            return
        if event.value.strip() != key.name:
            self.notify(
                f"The name does not match {key.name!r}: nothing was deleted.", severity="error"
            )
            event.input.value = ""
            return
        self.deleting = True
        self.query_one("#delete-ask", SafeStatic).update(Text("deleting...", style="italic"))
        engine, app = self.gitops.engine, self.app_name
        run_engine_call(
            self,
            lambda: engine.delete_resource(app, key),
            lambda result: ResourceDeleted(key, str(result)),
            action=f"delete {resource_label(key)}",
            token=self,
            group="delete",
            exclusive=True,
        )

    def on_resource_deleted(self, message: ResourceDeleted) -> None:
        message.stop()
        self.dismiss(message.result)

    def on_engine_call_failed(self, message: EngineCallFailed) -> None:
        if message.token is self:  # shown here, and notified by the app
            self.deleting = False
            self.query_one("#delete-ask", SafeStatic).update(
                Text(f"Not deleted: {message.error}", style="bold red")
            )

    def action_cancel(self) -> None:
        self.dismiss(None)
