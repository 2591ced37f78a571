"""What the app view does to the resource under the tree's cursor: run one of its
actions (``a``) or delete it (``ctrl+d``, or ``delete`` in the action menu); shell
into one of its pods (``x``) or forward a port to one (``F``; ``f`` lists the
forwards): ``ui/pod_connect.py``.

Both are refused in read-only mode with the notice every refused verb gives. An
action asks for confirmation naming the resource and the action, then runs in a
worker (``EngineAPI.run_action``); what it did, or why it failed, is said in a
notice. A delete goes through the typed confirmation (``DeleteResourceModal``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message

from gitops_tui.engine.api import ActionOutcome, ResourceNode
from gitops_tui.ui.modals.actions import ActionMenuModal, MenuChoice, resource_label
from gitops_tui.ui.modals.confirm import ConfirmModal
from gitops_tui.ui.modals.delete_resource import DeleteResourceModal
from gitops_tui.ui.pod_connect import PodConnectionRead, connection_read
from gitops_tui.ui.pod_connect import start as start_pod_connect
from gitops_tui.ui.port_forwards import PortForwardsModal
from gitops_tui.ui.screens.base import GitOpsScreen
from gitops_tui.ui.widgets.resource_tree import ResourceTree
from gitops_tui.ui.workers import run_engine_call


@dataclass
class ActionDone(Message):
    outcome: ActionOutcome


def outcome_text(outcome: ActionOutcome) -> str:
    what = f"{outcome.action} on {resource_label(outcome.key)}"
    if not outcome.changes:
        return f"{what}: done, nothing needed to change."
    return f"{what}: " + "; ".join(outcome.changes) + "."


class ResourceVerbsScreen(GitOpsScreen[None]):
    """The base of ``AppViewScreen``: its resource verbs and their keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "resource_actions", "Actions", show=False, id="app-view.actions"),
        Binding("ctrl+d", "delete_resource", "Delete resource", show=False, id="app-view.delete"),
        Binding("x", "exec", "Shell (kubectl exec)", show=False, id="app-view.exec"),
        Binding("F", "port_forward", "Port-forward", show=False, id="app-view.port-forward"),
        Binding("f", "port_forwards", "Port forwards", show=False, id="app-view.port-forwards"),
    ]

    app_name: str

    @property
    def resource_tree(self) -> ResourceTree:
        return self.query_one(ResourceTree)

    def _selected_node(self, what: str) -> ResourceNode | None:
        data = self.resource_tree.cursor_data
        if data is None or data.node is None:
            self.notify(f"Select a resource in the tree to {what}.", severity="warning")
            return None
        return data.node

    def action_resource_actions(self) -> None:
        if self.refused("running an action", self.app_name):
            return
        node = self._selected_node("see its actions")
        if node is None:
            return
        self.app.push_screen(
            ActionMenuModal(self.app_name, node.key),
            callback=lambda choice: self._action_chosen(node, choice),
        )

    def _action_chosen(self, node: ResourceNode, choice: MenuChoice | None) -> None:
        if choice is None:
            return
        if choice.delete:
            self._open_delete(node)
            return
        label = resource_label(node.key)
        self.app.push_screen(
            ConfirmModal(
                f"Run {choice.action[:64]} on {label}?",
                f"Action {choice.action} changes {label} of {self.app_name} in the cluster now.",
                confirm_label=f"run {choice.action[:64]}",
            ),
            callback=lambda ok: self._run_action(node, choice.action, ok),
        )

    def _run_action(self, node: ResourceNode, name: str, ok: bool | None) -> None:
        if not ok or self.refused("running an action", self.app_name):
            return
        engine, app, key = self.gitops.engine, self.app_name, node.key
        self.notify(f"Running {name} on {resource_label(key)}...", timeout=3)
        run_engine_call(
            self,
            lambda: engine.run_action(app, key, name),
            ActionDone,
            action=f"action {name[:64]} on {resource_label(key)}",
            group="resource-action",
        )

    def on_action_done(self, message: ActionDone) -> None:
        message.stop()
        self.notify(outcome_text(message.outcome), timeout=8)

    def action_delete_resource(self) -> None:
        node = self._selected_node("delete it")
        if node is not None:
            self._open_delete(node)

    def _open_delete(self, node: ResourceNode) -> None:
        if self.refused("delete", self.app_name):
            return
        if not node.exists:
            self.notify(
                f"{resource_label(node.key)} is not in the cluster (missing): nothing to delete.",
                severity="warning",
            )
            return

        def done(result: str | None) -> None:
            if result:
                self.notify(result[:1].upper() + result[1:] + ".", timeout=8)

        self.app.push_screen(DeleteResourceModal(self.app_name, node), callback=done)

    def action_exec(self) -> None:
        """A shell in a container of the selected Pod (a workload: pick one of its pods)."""
        data = self.resource_tree.cursor_data
        start_pod_connect(self, self.app_name, data.node if data is not None else None, "exec")

    def action_port_forward(self) -> None:
        data = self.resource_tree.cursor_data
        node = data.node if data is not None else None
        start_pod_connect(self, self.app_name, node, "port-forward")

    def on_pod_connection_read(self, message: PodConnectionRead) -> None:
        message.stop()
        connection_read(self, message)

    def action_port_forwards(self) -> None:
        self.app.push_screen(PortForwardsModal())
