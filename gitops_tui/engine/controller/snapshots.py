"""Pure functions building the published snapshots from the engine's state.

Nothing here locks, schedules or talks to a cluster: the caller passes what a
snapshot shows (the app's state, the other apps for App of Apps children, the
cluster's errors and connection, automation's status) and gets a value back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from gitops_tui.engine.app.application import Application, InvalidApplication
from gitops_tui.engine.cache.cluster import ClusterConnection
from gitops_tui.engine.controller.app_of_apps import ChildHealth, children_changed, parent_health
from gitops_tui.engine.controller.resource_tree import resource_tree
from gitops_tui.engine.controller.state import AppState
from gitops_tui.engine.model import (
    APPLICATION_GROUP,
    APPLICATION_KIND,
    Condition,
    ConditionType,
    HealthStatus,
    ResourceKey,
    SyncStatus,
)
from gitops_tui.engine.redact import redact_url
from gitops_tui.engine.snapshot import (
    AppSnapshot,
    AutomationStatus,
    ClusterState,
    Destination,
    ResourceNode,
)


@dataclass(frozen=True)
class AppView:
    """What the snapshot of one app shows besides the app's own state."""

    cluster_errors: Mapping[str, str] = field(default_factory=dict)
    conn: ClusterConnection | None = None  # the app's cluster, once connected
    automation_conditions: Sequence[Condition] = ()
    automation: AutomationStatus | None = None
    read_only: bool = False
    comparing: bool = False


def invalid_snapshot(app: InvalidApplication, state: AppState) -> AppSnapshot:
    """An app whose manifest could not be read: its problems, nothing else."""
    return AppSnapshot(
        name=app.name,
        project="",
        sync=SyncStatus.UNKNOWN,
        health=HealthStatus.UNKNOWN,
        health_message="invalid Application",
        revision="",
        target_revision="",
        repo_url="",
        path="",
        destination=Destination("", "", ""),
        conditions=app.conditions,
        origin=app.origin,
        last_sync=state.last_sync,
        compared_at=state.compared_at,
    )


def app_conditions(state: AppState, view: AppView) -> list[Condition]:
    """The conditions of an app, before its comparison's and its children's."""
    conditions: list[Condition] = []
    if state.destination_error:
        conditions.append(Condition(ConditionType.CLUSTER_UNREACHABLE, state.destination_error))
    elif state.context and state.context in view.cluster_errors:
        conditions.append(
            Condition(
                ConditionType.CLUSTER_UNREACHABLE,
                f"cluster {state.context} unreachable: {view.cluster_errors[state.context]}",
            )
        )
    if state.source_error is not None:
        kind = (
            ConditionType.REPO_ERROR
            if state.source_error.kind == "repo"
            else ConditionType.COMPARISON_ERROR
        )
        stale = (
            " (showing the last known manifests)"
            if state.generated is not None and kind == ConditionType.REPO_ERROR
            else ""
        )
        conditions.append(Condition(kind, f"{state.source_error}{stale}"))
    conditions.extend(state.load_problems)
    if state.process_error is not None:
        conditions.append(state.process_error)
    conditions.extend(view.automation_conditions)
    if state.argocd is not None:
        conditions.append(Condition(ConditionType.MANAGED_BY_ARGOCD, state.argocd.message()))
    conditions.extend(
        Condition(ConditionType.INVALID_SPEC, p)
        for p in (*state.project_problems, *state.refused_kinds)
    )
    if state.generated is not None and state.generated.duplicates:
        conditions.append(
            Condition(
                ConditionType.REPEATED_RESOURCE,
                "the same object appears more than once (the last one is used): "
                + ", ".join(state.generated.duplicates),
            )
        )
    conn = view.conn
    if conn is not None and not conn.cache.reachable:
        conditions.append(
            Condition(
                ConditionType.CLUSTER_UNREACHABLE,
                f"cluster {conn.name} unreachable: {conn.cache.unreachable_reason}",
            )
        )
    return conditions


def child_nodes(
    state: AppState,
    states: Mapping[str, AppState],
    compared_live: frozenset[ResourceKey] = frozenset(),
) -> tuple[list[ResourceNode], bool]:
    """Tree nodes for child apps kept outside the cluster; True if any is out of sync.

    ``compared_live``: the parent's compared objects that exist live. A child
    Application among them that gitops-tui does not hold (not registered with this
    parent: read from the cluster, e.g. an Argo CD's) is left to the comparison, as
    Argo CD shows it: the live object's sync status, no health."""
    nodes: list[ResourceNode] = []
    out_of_sync = False
    for doc in state.child_docs:
        name = str((doc.get("metadata") or {}).get("name") or "")
        child = states.get(name)
        registered = child is not None and child.parent == state.app.name
        if not registered and ResourceKey.of(doc) in compared_live:
            continue
        same = (
            registered
            and child is not None
            and (
                not isinstance(child.app, Application)
                or child.app.raw.get("spec") == doc.get("spec")
            )
        )
        status = SyncStatus.SYNCED if same else SyncStatus.OUT_OF_SYNC
        out_of_sync |= not same
        snap = child.snapshot if (registered and child is not None) else None
        nodes.append(
            ResourceNode(
                key=ResourceKey(
                    APPLICATION_GROUP,
                    APPLICATION_KIND,
                    str((doc.get("metadata") or {}).get("namespace") or ""),
                    name,
                ),
                version=str(doc.get("apiVersion", "")),
                status=status,
                health=(
                    snap.health
                    if snap
                    else (HealthStatus.UNKNOWN if registered else HealthStatus.MISSING)
                ),
                health_message=(
                    "child app" if registered else "not registered yet: sync the parent"
                ),
                exists=registered,
            )
        )
    for name in sorted(
        state.children - {str((d.get("metadata") or {}).get("name")) for d in state.child_docs}
    ):
        nodes.append(
            ResourceNode(
                key=ResourceKey(APPLICATION_GROUP, APPLICATION_KIND, "", name),
                version="argoproj.io/v1alpha1",
                status=SyncStatus.OUT_OF_SYNC,
                health=None,
                requires_pruning=True,
                health_message="no longer in Git: sync with prune removes it",
            )
        )
        out_of_sync = True
    return nodes, out_of_sync


def app_snapshot(
    state: AppState, states: Mapping[str, AppState], view: AppView
) -> tuple[AppSnapshot, dict[str, HealthStatus | None]]:
    """The snapshot of one app, and the health of each registered child it shows
    (``stale_parents`` compares that with the children's own snapshots later)."""
    app = state.app
    if isinstance(app, InvalidApplication):
        return invalid_snapshot(app, state), {}
    conditions = app_conditions(state, view)
    comparison = state.comparison
    conn = view.conn
    if comparison is not None:
        conditions.extend(comparison.conditions)
    usable = (
        comparison is not None
        and state.generated is not None
        and not (state.source_error is not None and state.source_error.kind != "repo")
        and not state.destination_error
        and state.process_error is None
        and not (conn is not None and not conn.cache.reachable)
    )
    sync = comparison.sync if (usable and comparison is not None) else SyncStatus.UNKNOWN
    health = comparison.health if (usable and comparison is not None) else HealthStatus.UNKNOWN
    health_message = comparison.health_message if (usable and comparison is not None) else ""
    resources = resource_tree(comparison, conn) if comparison is not None else ()
    shown: dict[str, HealthStatus | None] = {}
    if state.child_docs or state.children:
        compared_live = frozenset(n.key for n in resources if n.exists)
        nodes, children_out_of_sync = child_nodes(state, states, compared_live)
        resources = resources + tuple(nodes)
        if children_out_of_sync and sync == SyncStatus.SYNCED:
            sync = SyncStatus.OUT_OF_SYNC
        children = [
            ChildHealth(n.key.name, n.exists, n.health) for n in nodes if not n.requires_pruning
        ]
        shown = {c.name: c.health for c in children if c.registered}
        if usable and comparison is not None:
            health, health_message = parent_health(
                comparison.health_items, health_message, children
            )
    conditions.extend(
        Condition(ConditionType.COMPARISON_ERROR, problem) for problem in state.child_problems
    )
    snapshot = AppSnapshot(
        name=app.name,
        project=app.project,
        sync=sync,
        health=health,
        health_message=health_message,
        revision=state.generated.revision if state.generated else "",
        target_revision=app.source.target_revision,
        repo_url=redact_url(app.source.repo_url),
        path=app.source.path or app.source.chart,
        destination=Destination(
            app.destination.server,
            app.destination.name,
            app.destination.namespace,
            "" if state.destination_error else (state.context or ""),  # resolved now
        ),
        automated=app.sync_policy.automated,
        auto_prune=app.sync_policy.prune,
        self_heal=app.sync_policy.self_heal,
        conditions=tuple(conditions),
        resources=resources,
        operation=state.operation,
        last_sync=state.last_sync,
        origin=app.origin,
        compared_at=state.compared_at,
        comparing=view.comparing,
        parent=state.parent,
        parent_kind=state.parent_kind,
        read_only=view.read_only,
        sync_options=tuple(f"{k}={v}" for k, v in app.sync_policy.options.items()),
        automation=view.automation,
    )
    return snapshot, shown


def stale_parents(
    states: Mapping[str, AppState], candidates: Iterable[AppState] | None = None
) -> list[AppState]:
    """The App of Apps parents (among ``candidates``, default all of ``states``) whose
    snapshot shows a child's old health (the children are looked up in ``states``)."""

    def current(name: str) -> HealthStatus | None:
        # as child_nodes shows it: Unknown until the child has a snapshot
        child = states.get(name)
        if child is None or child.snapshot is None:
            return HealthStatus.UNKNOWN
        return child.snapshot.health

    return [
        s
        for s in (states.values() if candidates is None else candidates)
        if s.snapshot is not None and children_changed(s.shown_child_health, current)
    ]


def cluster_states(
    connections: Iterable[ClusterConnection], errors: Mapping[str, str]
) -> tuple[ClusterState, ...]:
    """Each connected cluster, reachable or with the reason it is not."""
    return tuple(
        ClusterState(
            c.name,
            c.server,
            c.name not in errors and c.cache.reachable,
            errors.get(c.name) or c.cache.unreachable_reason,
            c.cache.unreachable_since,
        )
        for c in connections
    )
