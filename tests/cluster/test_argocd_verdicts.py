"""Where the engine used to disagree with a live Argo CD, checked on the real sandbox.

Each test sets up the live state Argo CD leaves behind (or reads) and asks the engine
for the verdict Argo CD gives: the tracking id of cluster-scoped objects, the listing
of hooks, and objects carrying a tracking id copied from another object.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gitrepo import make_repo
from helpers import application, dump_all, kubectl, running_engine, wait_for

from gitops_tui.engine.api import SyncRequest
from gitops_tui.engine.cache.tracking import TRACKING_ANNOTATION
from gitops_tui.engine.model import ResourceKey, SyncStatus
from gitops_tui.engine.snapshot import AppSnapshot, OperationPhase
from gitops_tui.headless import app_to_json, cmd_diff

pytestmark = pytest.mark.cluster

RBAC = "rbac.authorization.k8s.io"


def cluster_role(name: str, tracking: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if tracking is not None:
        meta["annotations"] = {TRACKING_ANNOTATION: tracking}
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRole",
        "metadata": meta,
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
    }


def cm(name: str, namespace: str | None = None, **annotations: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": "v"}}


def apply(kubeconfig: Path, objs: list[dict[str, Any]]) -> None:
    kubectl(
        kubeconfig,
        "apply",
        "--server-side",
        "--field-manager=argocd-controller",
        "-f",
        "-",
        stdin=dump_all(objs),
    )


def exists(kubeconfig: Path, *what: str) -> bool:
    result = kubectl(kubeconfig, "get", *what, "-o", "name", check=False)
    return result.returncode == 0


@pytest.fixture
def cluster_roles(sandbox, namespace) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """Names of ClusterRoles for one test (cluster-scoped: deleted afterwards)."""
    names = [f"{namespace}-{suffix}" for suffix in ("synced", "extra", "other", "copy")]
    yield names
    kubectl(
        sandbox.kubeconfig,
        "delete",
        "clusterrole",
        "--ignore-not-found",
        "--wait=false",
        *names,
        check=False,
    )


def by_name(app: AppSnapshot) -> dict[str, Any]:
    return {r.key.name: r for r in app.resources}


def test_cluster_scoped_objects_carry_the_destination_namespace_in_their_tracking_id(
    sandbox, namespace, tmp_path, cluster_roles
) -> None:
    """Argo CD writes ``<app>:<group>/<kind>:<dest-ns>/<name>`` for a cluster-scoped
    object (``UnstructuredToAppInstanceValue``) and accepts any namespace there
    (``isSelfReferencedObj``): such objects are Synced, and the app's extra one is
    pruned, while another app's and a copy are left alone."""
    app = namespace
    synced, extra, other, copy = cluster_roles
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all([cluster_role(synced)])})
    apply(
        sandbox.kubeconfig,
        [
            cluster_role(synced, f"{app}:{RBAC}/ClusterRole:{namespace}/{synced}"),
            cluster_role(extra, f"{app}:{RBAC}/ClusterRole:{namespace}/{extra}"),
            cluster_role(other, f"other-app:{RBAC}/ClusterRole:{namespace}/{other}"),
            cluster_role(copy, f"{app}:{RBAC}/ClusterRole:{namespace}/{synced}"),
        ],
    )
    doc = application(app, f"file://{repo.working_tree_dir}", "app", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [doc]) as engine:
        snap = engine.snapshot().by_name[app]
        nodes = by_name(snap)
        assert nodes[synced].status == SyncStatus.SYNCED, nodes[synced]
        assert nodes[extra].status == SyncStatus.OUT_OF_SYNC and nodes[extra].requires_pruning
        assert other not in nodes
        assert nodes[copy].status is None and not nodes[copy].requires_pruning
        assert snap.sync == SyncStatus.OUT_OF_SYNC  # the extra one only

        op = engine.sync(SyncRequest(app, prune=True))
        final = engine.wait_for_operation(app, op, timeout=60)
        assert final is not None and final.phase == OperationPhase.SUCCEEDED, final
    assert not exists(sandbox.kubeconfig, "clusterrole", extra)
    assert exists(sandbox.kubeconfig, "clusterrole", other)
    assert exists(sandbox.kubeconfig, "clusterrole", copy)
    live = json.loads(
        kubectl(sandbox.kubeconfig, "get", "clusterrole", synced, "-o", "json").stdout
    )
    assert live["metadata"]["annotations"][TRACKING_ANNOTATION] == (
        f"{app}:{RBAC}/ClusterRole:{namespace}/{synced}"
    )


def test_an_empty_namespace_in_a_cluster_scoped_tracking_id_is_still_read(
    sandbox, namespace, tmp_path, cluster_roles
) -> None:
    """Objects written by earlier versions of this engine (``<app>:<g>/<k>:/<name>``)
    stay the app's: an extra one is still found and offered for pruning."""
    app = namespace
    synced, extra, _other, _copy = cluster_roles
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all([cluster_role(synced)])})
    apply(sandbox.kubeconfig, [cluster_role(extra, f"{app}:{RBAC}/ClusterRole:/{extra}")])
    doc = application(app, f"file://{repo.working_tree_dir}", "app", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [doc]) as engine:
        nodes = by_name(engine.snapshot().by_name[app])
        assert nodes[extra].requires_pruning


def test_hooks_are_listed_as_they_exist_in_the_cluster_without_status(
    sandbox, namespace, tmp_path
) -> None:
    """Argo CD lists the live hook objects (under their generated names) with no sync
    status and no health, and not the hooks declared in Git."""
    app = namespace
    hooks = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "generateName": "pre-",
                "annotations": {"argocd.argoproj.io/hook": "PreSync"},
            },
            "data": {"k": "v"},
        },
        cm(
            "post",
            **{"argocd.argoproj.io/hook": "PostSync", "argocd.argoproj.io/sync-wave": "3"},
        ),
    ]
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all([cm("plain"), *hooks])})
    doc = application(app, f"file://{repo.working_tree_dir}", "app", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [doc]) as engine:
        before = engine.snapshot().by_name[app]
        assert [r.key.name for r in before.resources] == ["plain"]  # no hook exists yet

        op = engine.sync(SyncRequest(app))
        final = engine.wait_for_operation(app, op, timeout=60)
        assert final is not None and final.phase == OperationPhase.SUCCEEDED, final
        generated = next(r.key.name for r in final.results if r.hook and r.phase == "PreSync")
        engine.refresh(app)
        after = wait_for(
            lambda: (
                (a := engine.snapshot().by_name[app]).compared_at > before.compared_at
                and len(a.resources) == 3
                and a
            ),
            timeout=30,
            what=f"a comparison that sees the hooks: {engine.snapshot().by_name[app].resources}",
        )
        nodes = by_name(after)
        assert set(nodes) == {"plain", "post", generated}
        for name in ("post", generated):
            assert nodes[name].hook and nodes[name].status is None and nodes[name].health is None
            assert not nodes[name].requires_pruning
        assert nodes["post"].sync_wave == 3  # from the Git hook of the same name
        assert after.sync == SyncStatus.SYNCED
        listed = {r["name"]: r for r in app_to_json(after)["resources"]}
        assert listed[generated]["status"] is None and listed[generated]["hook"] is True
        assert all(d.key.name == "plain" for d in engine.diffs(app))
        assert cmd_diff(engine, app, exit_code=True, output="text", out=_Sink()) == 0


def test_an_object_with_a_copied_tracking_id_is_listed_without_status_and_never_pruned(
    sandbox, namespace, tmp_path
) -> None:
    """A controller copied the tracking annotation of ``plain`` onto ``copied``: Argo CD
    lists ``copied`` without status, leaves it out of the sync status, and does not
    prune it (``isSelfReferencedObj`` false: ``RequiresPruning`` false)."""
    app = namespace
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all([cm("plain")])})
    copied_id = f"{app}:/ConfigMap:{namespace}/plain"
    apply(sandbox.kubeconfig, [cm("copied", namespace, **{TRACKING_ANNOTATION: copied_id})])
    doc = application(app, f"file://{repo.working_tree_dir}", "app", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [doc]) as engine:
        op = engine.sync(SyncRequest(app, prune=True))
        final = engine.wait_for_operation(app, op, timeout=60)
        assert final is not None and final.phase == OperationPhase.SUCCEEDED, final
        assert all(r.key.name != "copied" for r in final.results)
        engine.refresh(app)
        snap = wait_for(
            lambda: (
                (a := engine.snapshot().by_name[app]).sync == SyncStatus.SYNCED
                and "plain" in by_name(a)
                and by_name(a)["plain"].exists
                and a
            ),
            timeout=30,
            what="the app Synced after the sync",
        )
        nodes = by_name(snap)
        assert nodes["copied"].status is None and not nodes["copied"].requires_pruning
        assert nodes["copied"].key == ResourceKey("", "ConfigMap", namespace, "copied")
        assert all(d.key.name != "copied" for d in engine.diffs(app))
    assert exists(sandbox.kubeconfig, "-n", namespace, "configmap", "copied")


class _Sink:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None
