"""What flows from a front end (TUI, CLI) back to the engine, and the engine's facade.

The UI never reaches into engine internals: it reads ``FleetSnapshot``s and calls
the methods of ``EngineAPI``. Methods marked *blocking* may touch the network
and must be called from a worker thread, never from the UI thread.

Snapshot value types (``gitops_tui.engine.snapshot``) and the errors a front end
catches are re-exported here, so a front end imports this module and the shared
vocabulary (``engine.model``) only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from gitops_tui.engine.diff.resource_diff import ResourceDiff
from gitops_tui.engine.errors import EngineError, GitOpsError, ReadOnlyError
from gitops_tui.engine.inspection import (
    MAX_EVENTS,
    ClusterEvent,
    LiveObject,
    ManagedFieldsEntry,
)
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.podconnect import ContainerPorts, PodConnection
from gitops_tui.engine.podlogs import LogOptions, LogStream
from gitops_tui.engine.snapshot import (
    IN_CLUSTER,
    AppSetSnapshot,
    AppSnapshot,
    AutomationStatus,
    ClusterState,
    Destination,
    FleetSnapshot,
    HistoryEntry,
    OperationPhase,
    OperationState,
    ResourceNode,
    ResourceResult,
    ResultCode,
)
from gitops_tui.engine.sync.app_delete import (
    ORPHAN_REFUSAL,
    AppDeletePlan,
    KeptResource,
    PlannedDeletion,
)
from gitops_tui.engine.sync.plan import SyncPlan

if TYPE_CHECKING:  # re-exported on first use (``__getattr__``): a diff needs neither
    from gitops_tui.engine.app.applicationset.preview import (
        AppSetApplied,
        AppSetChange,
        AppSetPreview,
    )
    from gitops_tui.engine.health.actions import ActionError, ActionOutcome, ResourceAction

_LAZY = {
    "AppSetApplied": "gitops_tui.engine.app.applicationset.preview",
    "AppSetChange": "gitops_tui.engine.app.applicationset.preview",
    "AppSetPreview": "gitops_tui.engine.app.applicationset.preview",
    "ActionError": "gitops_tui.engine.health.actions",
    "ActionOutcome": "gitops_tui.engine.health.actions",
    "ResourceAction": "gitops_tui.engine.health.actions",
}


def __getattr__(name: str) -> Any:
    """The ApplicationSet engine and the Lua actions load when a front end first names them."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


@dataclass(frozen=True, slots=True)
class SyncRequest:
    app: str
    prune: bool = False
    dry_run: bool = False
    force: bool = False
    force_conflicts: bool = True  # False: --no-force-conflicts (refuse field conflicts)
    apply_out_of_sync_only: bool = False
    resources: frozenset[ResourceKey] | None = None
    revision: str | None = None  # a past revision (rollback); None = the app's target
    initiated_by: str = "user"
    # sync although an Argo CD controller reconciles the app (never for automated syncs)
    force_local: bool = False


@dataclass(frozen=True, slots=True)
class SyncPreview:
    """The plan a sync would run, before anything is applied."""

    request: SyncRequest
    plan: SyncPlan
    revision: str
    errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors and not self.plan.errors


Unsubscribe = Callable[[], None]

APP_DELETE_CASCADES = ("foreground", "background", "orphan")
"""How ``delete_app`` treats the app's resources (Argo CD's cascade): deleted first with
foreground or background propagation, or left in the cluster (orphan)."""


class EngineAPI(Protocol):
    """The engine as front ends see it."""

    @property
    def read_only(self) -> bool: ...

    def subscribe(self, callback: Callable[[FleetSnapshot], None]) -> Unsubscribe:
        """``callback`` runs on an engine thread after each publication."""
        ...

    def snapshot(self) -> FleetSnapshot: ...

    def refresh(self, app: str | None = None, *, hard: bool = False) -> None:
        """Ask for a re-compare (``hard``: re-fetch Git and re-render). Never blocks."""
        ...

    def diffs(self, app: str, *, context: int = 3) -> list[ResourceDiff]:
        """The app's per-resource diffs from the last comparison (cheap, no network)."""
        ...

    def preview(self, request: SyncRequest) -> SyncPreview:
        """The plan for ``request`` (blocking: may refresh the live state)."""
        ...

    def sync(self, request: SyncRequest) -> str:
        """Start a sync (or dry run) in the background; returns the operation id."""
        ...

    def terminate(self, app: str) -> bool:
        """Stop the app's running operation after its current step."""
        ...

    def history(self, app: str) -> list[HistoryEntry]: ...

    def rollback(self, app: str, history_id: int) -> str:
        """Turn automation off for ``app`` and sync the recorded revision."""
        ...

    def fleet_preview(
        self, apps: Iterable[str] | None = None, *, prune: bool = False
    ) -> dict[str, SyncPreview | str]:
        """Plans of several apps (default: every OutOfSync one); blocking. Values are
        previews or an error message."""
        ...

    def actions(self, app: str, key: ResourceKey) -> list[ResourceAction]:
        """The resource actions offered for one of the app's resources (blocking)."""
        ...

    def run_action(self, app: str, key: ResourceKey, name: str) -> ActionOutcome:
        """Run a resource action (blocking); ReadOnlyError in read-only mode."""
        ...

    def delete_resource(self, app: str, key: ResourceKey) -> str:
        """Delete one resource the app provably owns (its tracking mark, or an owner chain
        to such an object), blocking; what was done, in words. ReadOnlyError in
        read-only mode; EngineError, with nothing sent, when ownership is not proven."""
        ...

    def delete_app(self, app: str, cascade: str) -> str:
        """Delete the Application itself (Argo CD mode), its resources as ``cascade`` says
        (one of ``APP_DELETE_CASCADES``); blocking; what was done, in words. ReadOnlyError
        in read-only mode, nothing sent. The local engine reads Applications from Git: it
        deletes the app's resources only (planned now, see ``plan_app_delete``), and
        refuses orphan (nothing to delete) with an EngineError."""
        ...

    def contexts(self) -> list[str]:
        """The kubeconfig's context names (cheap, no network)."""
        ...

    @property
    def default_context(self) -> str | None: ...

    def set_default_context(self, name: str) -> None:
        """Point in-cluster destinations at ``name`` and re-compare (EngineError if unknown)."""
        ...

    def live_object(self, app: str, key: ResourceKey) -> LiveObject:
        """One object of the app's resource tree as the cluster has it now, beside its
        desired manifest (blocking: reads from the API server). managedFields folded,
        Secret values masked; EngineError if ``key`` is not in the app's tree or the
        cluster cannot be read."""
        ...

    def events(
        self, app: str, key: ResourceKey | None = None, *, limit: int = MAX_EVENTS
    ) -> list[ClusterEvent]:
        """The Events about ``key`` (default: about every object of the app's tree),
        newest first, at most ``limit`` (blocking: lists Events from the API server)."""
        ...

    def logs(
        self,
        app: str,
        pod: ResourceKey,
        container: str | None = None,
        *,
        follow: bool = False,
        previous: bool = False,
        since_seconds: int | None = None,
        tail_lines: int | None = None,
    ) -> LogStream:
        """The log of one container (default: kubectl's default container) of a Pod of the
        app's resource tree, as printable bounded lines (blocking until the API server
        answers; iterate the stream on a worker thread, ``close()`` it from any thread).
        EngineError if ``pod`` is not a Pod of the app's tree or the log cannot be read.
        A backend without logs keeps this default."""
        raise EngineError("this backend cannot show container logs")

    def appset_preview(self, name: str) -> AppSetPreview:
        """What ApplicationSet ``name``'s generators produce now against the apps that
        exist (blocking: fetches Git). EngineError if there is no such set."""
        ...

    def appset_apply(self, name: str) -> AppSetApplied:
        """Bring the set's apps in line with its generators now, as its policy allows
        (blocking); ReadOnlyError in read-only mode."""
        ...

    def close(self) -> None: ...


def pod_connection(engine: EngineAPI, app: str, pod: ResourceKey) -> PodConnection:
    """How ``kubectl`` reaches a Pod of the app's tree to exec into it or forward a port:
    ``engine.pod_connection(app, pod)``, an optional method of a backend (the local
    engine has it; the Argo CD backends do not: an EngineError in words). It returns
    the destination's kubeconfig and context and the pod's containers and ports
    (blocking: reads the pod), and raises ReadOnlyError when the app's context is
    read-only (exec and port-forward are connect verbs: they create ``pods/exec`` and
    ``pods/portforward``)."""
    method = getattr(engine, "pod_connection", None)
    if method is None:
        raise EngineError("this backend cannot open a shell or forward a port")
    connection: PodConnection = method(app, pod)
    return connection


def plan_app_delete(engine: EngineAPI, app: str) -> AppDeletePlan:
    """What deleting ``app``'s resources would delete and keep, read fresh from its cluster
    (blocking): ``engine.plan_app_delete(app)``, an optional method (the local engine has
    it; the Argo CD backends delete the Application instead: an EngineError in words).
    ReadOnlyError in read-only mode."""
    method = getattr(engine, "plan_app_delete", None)
    if method is None:
        raise EngineError("this backend deletes Applications, not an app's resources alone")
    plan: AppDeletePlan = method(app)
    return plan


def delete_app_resources(engine: EngineAPI, plan: AppDeletePlan, cascade: str) -> str:
    """Carry out a confirmed ``plan`` (blocking): only its objects, matched by uid, highest
    wave first; ``cascade`` foreground or background. What was done, in words."""
    method = getattr(engine, "delete_app_resources", None)
    if method is None:
        raise EngineError("this backend deletes Applications, not an app's resources alone")
    result: str = method(plan, cascade)
    return result


def follow_tree(engine: EngineAPI, app: str) -> Unsubscribe:
    """Tell the engine ``app``'s resource tree is wanted in the snapshots from now on
    (an app open in the console), until the returned function is called. An optional
    method of a backend: the Argo CD API server backend reads trees only for the apps
    that want one (through Argo CD's tree stream); engines that keep every tree
    anyway have no such method, and this does nothing for them."""
    method = getattr(engine, "follow_tree", None)
    if method is None:
        return lambda: None
    unfollow: Unsubscribe = method(app)
    return unfollow


def open_logs(engine: EngineAPI, app: str, pod: ResourceKey, options: LogOptions) -> LogStream:
    """``engine.logs`` for front ends: a backend without the method (one written before
    logs existed) answers with an EngineError in words, not an AttributeError."""
    method = getattr(engine, "logs", None)
    if method is None:
        raise EngineError("this backend cannot show container logs")
    stream: LogStream = method(
        app,
        pod,
        options.container,
        follow=options.follow,
        previous=options.previous,
        since_seconds=options.since_seconds,
        tail_lines=options.tail_lines,
    )
    return stream


__all__ = [
    "APP_DELETE_CASCADES",
    "AppDeletePlan",
    "KeptResource",
    "ORPHAN_REFUSAL",
    "PlannedDeletion",
    "delete_app_resources",
    "plan_app_delete",
    "ActionError",
    "ActionOutcome",
    "AppSetApplied",
    "AppSetChange",
    "AppSetPreview",
    "AppSetSnapshot",
    "AppSnapshot",
    "AutomationStatus",
    "ClusterEvent",
    "ClusterState",
    "ContainerPorts",
    "Destination",
    "EngineAPI",
    "EngineError",
    "FleetSnapshot",
    "GitOpsError",
    "HistoryEntry",
    "IN_CLUSTER",
    "LiveObject",
    "LogOptions",
    "LogStream",
    "MAX_EVENTS",
    "ManagedFieldsEntry",
    "OperationPhase",
    "OperationState",
    "PodConnection",
    "ReadOnlyError",
    "ResourceAction",
    "ResourceNode",
    "ResourceResult",
    "ResultCode",
    "SyncPreview",
    "SyncRequest",
    "Unsubscribe",
    "follow_tree",
    "open_logs",
    "pod_connection",
]
