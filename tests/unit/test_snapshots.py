"""The pure snapshot functions of the controller: an app's snapshot from its state,
App of Apps child rows, stale parents and cluster rows (no cluster, no engine)."""

from __future__ import annotations

from typing import Any

from gitops_tui.engine.app.application import InvalidApplication
from gitops_tui.engine.app.parse import parse_application
from gitops_tui.engine.controller.snapshots import (
    AppView,
    app_snapshot,
    child_nodes,
    stale_parents,
)
from gitops_tui.engine.controller.state import AppState
from gitops_tui.engine.diff.compare import Comparison
from gitops_tui.engine.model import Condition, ConditionType, HealthStatus, SyncStatus
from gitops_tui.engine.snapshot import AutomationStatus
from gitops_tui.engine.source.sources import Generated, SourceError

H = HealthStatus
SHA = "a" * 40


def app_doc(
    name: str, path: str = "", repo: str = "https://git.example/repo.git"
) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {"repoURL": repo, "path": path or name, "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "ns"},
        },
    }


def compared_state(
    name: str,
    *,
    sync: SyncStatus = SyncStatus.SYNCED,
    health: HealthStatus = H.HEALTHY,
    children: tuple[str, ...] = (),
    repo: str = "https://git.example/repo.git",
) -> AppState:
    """The state of an app compared at SHA: its own objects give ``sync`` and ``health``."""
    own = () if health is H.HEALTHY else ((health, False),)
    state = AppState(app=parse_application(app_doc(name, repo=repo), "test"))
    state.generated = Generated((SHA,), tuple(app_doc(c) for c in children))
    state.comparison = Comparison((), sync, health, f"own {health.value}", (), own)
    state.child_docs = [app_doc(c) for c in children]
    state.context = "ctx"
    return state


def snap(state: AppState, states: dict[str, AppState] | None = None, **view: Any) -> Any:
    return app_snapshot(state, states or {state.app.name: state}, AppView(**view))


def test_a_compared_app_shows_its_comparison_and_revision_with_credentials_redacted() -> None:
    state = compared_state(
        "web", sync=SyncStatus.OUT_OF_SYNC, repo="https://bob:s3cret@git.example/r.git"
    )
    snapshot, shown = snap(state, read_only=True, comparing=True)
    assert (snapshot.sync, snapshot.health) == (SyncStatus.OUT_OF_SYNC, H.HEALTHY)
    assert snapshot.revision == SHA
    assert snapshot.target_revision == "main"
    assert "s3cret" not in snapshot.repo_url and "git.example/r.git" in snapshot.repo_url
    assert snapshot.destination.context == "ctx"
    assert snapshot.read_only and snapshot.comparing
    assert shown == {}


def test_an_invalid_app_is_unknown_and_shows_its_problems() -> None:
    problem = Condition(ConditionType.INVALID_SPEC, "spec.source: missing")
    state = AppState(app=InvalidApplication("broken", "file:apps.yaml", (problem,)))
    snapshot, shown = snap(state)
    assert (snapshot.sync, snapshot.health) == (SyncStatus.UNKNOWN, H.UNKNOWN)
    assert snapshot.conditions == (problem,)
    assert snapshot.origin == "file:apps.yaml"
    assert shown == {}


def test_a_failed_fetch_keeps_the_verdict_but_a_failed_render_makes_it_unknown() -> None:
    state = compared_state("web", sync=SyncStatus.OUT_OF_SYNC)
    state.source_error = SourceError("repo", "fetch timed out")
    snapshot, _ = snap(state)
    assert snapshot.sync == SyncStatus.OUT_OF_SYNC
    (condition,) = snapshot.conditions
    assert condition.type == ConditionType.REPO_ERROR
    assert condition.message == "fetch timed out (showing the last known manifests)"

    state.source_error = SourceError("render", "kustomize build failed")
    snapshot, _ = snap(state)
    assert (snapshot.sync, snapshot.health) == (SyncStatus.UNKNOWN, H.UNKNOWN)
    assert [c.type for c in snapshot.conditions] == [ConditionType.COMPARISON_ERROR]


def test_an_unreachable_destination_is_unknown_and_says_why() -> None:
    state = compared_state("web")
    snapshot, _ = snap(state, cluster_errors={"ctx": "connection refused"})
    assert snapshot.conditions == (
        Condition(ConditionType.CLUSTER_UNREACHABLE, "cluster ctx unreachable: connection refused"),
    )
    state.destination_error = "no context for server https://x"
    snapshot, _ = snap(state)
    assert snapshot.sync == SyncStatus.UNKNOWN
    assert snapshot.destination.context == ""  # not resolved now
    assert snapshot.conditions[0].message == "no context for server https://x"


def test_automation_and_duplicates_show_as_conditions() -> None:
    state = compared_state("web")
    state.generated = Generated((SHA,), (), duplicates=("apps/Deployment ns/web",))
    held = Condition(ConditionType.SYNC_ERROR, "retry 2 of 5 at 12:00")
    status = AutomationStatus("retry", "waiting", attempt=2)
    snapshot, _ = snap(state, automation_conditions=(held,), automation=status)
    assert held in snapshot.conditions
    assert snapshot.automation == status
    assert any(
        c.type == ConditionType.REPEATED_RESOURCE and "apps/Deployment ns/web" in c.message
        for c in snapshot.conditions
    )


def test_child_rows_unregistered_registered_and_removed_from_git() -> None:
    parent = compared_state("root", children=("a", "b"))
    parent.children = {"a", "gone"}
    child_a = AppState(app=parse_application(app_doc("a"), "app:root"), parent="root")
    child_a.snapshot, _ = snap(compared_state("a", health=H.DEGRADED))
    states = {"root": parent, "a": child_a}
    nodes, out_of_sync = child_nodes(parent, states)
    by_name = {n.key.name: n for n in nodes}
    assert out_of_sync
    assert (by_name["a"].status, by_name["a"].health, by_name["a"].exists) == (
        SyncStatus.SYNCED,
        H.DEGRADED,
        True,
    )
    assert (by_name["b"].status, by_name["b"].health, by_name["b"].exists) == (
        SyncStatus.OUT_OF_SYNC,
        H.MISSING,
        False,
    )
    assert by_name["gone"].requires_pruning and by_name["gone"].status == SyncStatus.OUT_OF_SYNC


def test_a_child_whose_spec_differs_from_git_is_out_of_sync() -> None:
    parent = compared_state("root", children=("a",))
    child = AppState(app=parse_application(app_doc("a", path="elsewhere"), "app:root"))
    child.parent = "root"
    nodes, out_of_sync = child_nodes(parent, {"root": parent, "a": child})
    assert out_of_sync and nodes[0].status == SyncStatus.OUT_OF_SYNC


def test_a_parent_is_out_of_sync_and_degraded_through_its_children() -> None:
    parent = compared_state("root", children=("a", "b"))
    parent.children = {"a", "b"}
    states = {"root": parent}
    for name, health in (("a", H.HEALTHY), ("b", H.DEGRADED)):
        child = AppState(app=parse_application(app_doc(name), "app:root"), parent="root")
        child.snapshot, _ = snap(compared_state(name, health=health))
        states[name] = child
    snapshot, shown = snap(parent, states)
    assert (snapshot.sync, snapshot.health) == (SyncStatus.SYNCED, H.DEGRADED)
    assert shown == {"a": H.HEALTHY, "b": H.DEGRADED}

    del states["b"]  # b not registered (yet): the parent is OutOfSync
    snapshot, shown = snap(parent, states)
    assert snapshot.sync == SyncStatus.OUT_OF_SYNC
    assert shown == {"a": H.HEALTHY}


def test_stale_parents_are_those_showing_a_childs_old_health() -> None:
    parent = compared_state("root", children=("a",))
    child = AppState(app=parse_application(app_doc("a"), "app:root"), parent="root")
    child.snapshot, _ = snap(compared_state("a"))
    states = {"root": parent, "a": child}
    parent.snapshot, parent.shown_child_health = snap(parent, states)
    assert stale_parents(states) == []
    child.snapshot, _ = snap(compared_state("a", health=H.DEGRADED))
    assert stale_parents(states) == [parent]


def test_a_child_application_in_the_cluster_that_gitops_tui_does_not_hold_is_listed_once() -> None:
    """With the Application CRD the parent compares its child Applications as live
    objects. A child that is not gitops-tui's own (read from the cluster, as with
    --from-cluster over an Argo CD) is that compared object only: Argo CD's verdict
    (the live object's status, no health), not a second "not registered yet" row that
    made the parent OutOfSync and the child Missing (seen against a real Argo CD)."""
    from gitops_tui.engine.diff.compare import ResourceComparison
    from gitops_tui.engine.diff.resource_diff import diff_resource
    from gitops_tui.engine.model import ResourceKey

    parent = compared_state("root", children=("a",))
    doc = app_doc("a")
    key = ResourceKey("argoproj.io", "Application", "argocd", "a")
    row = ResourceComparison(
        key,
        "argoproj.io/v1alpha1",
        doc,
        doc,
        doc,
        diff_resource(key, doc, doc),
        SyncStatus.SYNCED,
        None,
    )
    parent.comparison = Comparison((row,), SyncStatus.SYNCED, H.HEALTHY, "", (), ())
    child = AppState(app=parse_application(doc, "cluster:argocd"))  # not registered here
    child.snapshot, _ = snap(compared_state("a"))
    snapshot, _ = snap(parent, {"root": parent, "a": child})
    rows = [(n.key, n.status, n.health) for n in snapshot.resources]
    assert rows == [(key, SyncStatus.SYNCED, None)]
    assert (snapshot.sync, snapshot.health) == (SyncStatus.SYNCED, H.HEALTHY)
