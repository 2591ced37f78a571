"""What every gitops-tui screen and modal shares.

* engine access through the app (``self.gitops``);
* read-only gating: mutating actions are reported as *absent* (``check_action``
  returns False), so their keys disappear from the footer, the help screen and
  the key handling itself;
* worker errors that escaped a worker go to the app's one error handler;
* ``fleet_updated`` is called by the app with each new snapshot it shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar, cast

from textual.dom import DOMNode
from textual.events import Key
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from gitops_tui.engine.api import FleetSnapshot

if TYPE_CHECKING:
    from gitops_tui.ui.app import GitOpsApp

ResultType = TypeVar("ResultType")

MUTATING_ACTIONS = frozenset(
    {"sync", "prune", "rollback", "terminate", "confirm_sync", "mark", "clear_marks"}
)
"""Actions that change a cluster, or only prepare that (marking apps for a fleet sync):
absent in read-only mode, wherever they are bound."""

REFUSED_VERBS = {"confirm_sync": "sync", "mark": "marking", "clear_marks": "marking"}
"""How a refused action is named in the read-only notice (default: the action's name)."""


def gitops_app(node: DOMNode) -> GitOpsApp:
    return cast("GitOpsApp", node.app)


def allowed(node: DOMNode, action: str) -> bool:
    return not (action in MUTATING_ACTIONS and gitops_app(node).read_only)


def forward_worker_error(node: DOMNode, event: Worker.StateChanged) -> None:
    if event.state == WorkerState.ERROR and event.worker.error is not None:
        gitops_app(node).report_error(event.worker.name or "background task", event.worker.error)


class FleetView:
    """What every screen and dialog of the console shares: snapshots, verbs, errors."""

    fleet_ready = False
    """Set by a subclass's ``on_mount`` once its widgets exist: snapshots go to it from then on."""

    @property
    def gitops(self) -> GitOpsApp:
        return gitops_app(self)  # type: ignore[arg-type]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return allowed(self, action)  # type: ignore[arg-type]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        forward_worker_error(self, event)  # type: ignore[arg-type]

    def on_key(self, event: Key) -> None:
        """In read-only mode a key bound to a mutating action says why it does nothing, with
        the notice ``:sync`` gives (the binding itself stays absent from footer and help)."""
        if not self.gitops.read_only:
            return
        chain = self._modal_binding_chain  # type: ignore[attr-defined]
        for _node, bindings in chain:
            for binding in bindings.key_to_bindings.get(event.key, ()):
                action = binding.action.rpartition(".")[2].partition("(")[0]
                if action in MUTATING_ACTIONS:
                    event.stop()
                    event.prevent_default()
                    self.refused(REFUSED_VERBS.get(action, action))
                    return

    def fleet_updated(self, fleet: FleetSnapshot) -> None:
        """A newer snapshot is shown (called on the UI thread, only after mount)."""

    def current_app(self) -> str | None:
        """The app the user is looking at, for verbs given without an app name."""
        return None

    def refused(self, verb: str, app: str | None = None) -> bool:
        """True, with the notice every refused verb gives, when read-only forbids ``verb``
        (everywhere, or for ``app``'s context)."""
        return self.gitops._refuse_read_only(verb, app)


class GitOpsScreen(FleetView, Screen[ResultType]):
    """A full screen over the fleet."""


class GitOpsModal(FleetView, ModalScreen[ResultType]):
    """A dialog over a screen."""
