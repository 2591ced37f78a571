"""App of Apps in the engine without a cluster: a parent's snapshot follows its children.

The engine is not started (no workers, no cluster); the fields a comparison would
fill are set by hand. The real path is tests/cluster/test_app_of_apps.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitops_tui.engine.app.parse import parse_application
from gitops_tui.engine.controller.engine import Engine, EngineOptions
from gitops_tui.engine.controller.state import AppState
from gitops_tui.engine.diff.compare import Comparison
from gitops_tui.engine.model import HealthStatus, SyncStatus
from gitops_tui.engine.source.sources import Generated

H = HealthStatus


def app_doc(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {"repoURL": "file:///nowhere", "path": name, "targetRevision": "HEAD"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "ns"},
        },
    }


def compared(state: AppState, health: HealthStatus, children: tuple[str, ...] = ()) -> None:
    """As if the app had been compared: its own objects give ``health``."""
    own = () if health is H.HEALTHY else ((health, False),)
    state.generated = Generated(("0" * 40,), tuple(app_doc(c) for c in children))
    state.comparison = Comparison((), SyncStatus.SYNCED, health, "", (), own)
    state.child_docs = [app_doc(c) for c in children]


def engine_with(tmp_path: Path, tree: dict[str, tuple[str, ...]]) -> Engine:
    """An engine whose apps form ``tree`` (parent -> children), every child registered."""
    engine = Engine(
        EngineOptions(
            kubeconfig=tmp_path / "no-kubeconfig",
            repo_cache_dir=tmp_path / "repos",
            history_path=tmp_path / "history.sqlite3",
        ),
        apps=[parse_application(app_doc(name), "test") for name in tree],
    )
    for parent, children in tree.items():
        state = engine.table.states[parent]
        compared(state, H.HEALTHY, children)
        state.children = set(children)
        for child in children:
            engine.table.states[child].parent = parent
    return engine


def fleet(engine: Engine) -> dict[str, Any]:
    engine.publisher.mark_dirty()
    return engine.snapshot().by_name


def settle(engine: Engine, name: str) -> None:
    """What the end of ``_process`` does: the app's own snapshot is rebuilt."""
    with engine.table.lock:
        state = engine.table.states[name]
        state.snapshot = engine.publisher.app_snapshot(state)


def test_parent_snapshot_follows_a_child_compared_after_it(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, {"root": ("a", "b"), "a": (), "b": ()})
    try:
        settle(engine, "root")  # the parent is built before its children are compared
        for name, health in (("a", H.HEALTHY), ("b", H.PROGRESSING)):
            compared(engine.table.states[name], health)
            settle(engine, name)
        snap = fleet(engine)
        rows = {n.key.name: n.health for n in snap["root"].resources}
        assert rows == {"a": H.HEALTHY, "b": H.PROGRESSING}
        assert snap["root"].health is H.PROGRESSING
        assert "'b'" in snap["root"].health_message
    finally:
        engine.close()


def test_grandparent_follows_a_grandchild(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, {"root": ("mid",), "mid": ("leaf",), "leaf": ()})
    try:
        for name in ("root", "mid", "leaf"):
            settle(engine, name)
        assert fleet(engine)["root"].health is H.HEALTHY
        compared(engine.table.states["leaf"], H.DEGRADED)
        settle(engine, "leaf")
        snap = fleet(engine)
        assert snap["mid"].health is H.DEGRADED
        assert snap["root"].health is H.DEGRADED
        assert snap["root"].health_message == "child app 'mid' is Degraded"
    finally:
        engine.close()


def test_registered_child_not_compared_yet_is_unknown_not_missing(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, {"root": ("a",), "a": ()})
    try:
        settle(engine, "root")
        (row,) = engine.table.states["root"].snapshot.resources  # type: ignore[union-attr]
        assert row.exists and row.health is H.UNKNOWN
    finally:
        engine.close()


def test_parent_listing_unregistered_children_is_missing(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, {"root": ()})
    try:
        compared(engine.table.states["root"], H.HEALTHY, ("a", "b"))  # not synced: not registered
        settle(engine, "root")
        snap = fleet(engine)["root"]
        assert snap.health is H.MISSING
        assert all(not n.exists and n.health is H.MISSING for n in snap.resources)
    finally:
        engine.close()
