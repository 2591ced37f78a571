"""App of Apps: a parent's Application documents become child apps when it is synced."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import commit, make_repo
from helpers import application, dump_all, running_engine, wait_for

from gitops_tui.engine.api import SyncRequest
from gitops_tui.engine.model import HealthStatus, SyncStatus
from gitops_tui.engine.snapshot import OperationPhase
from gitops_tui.headless import cmd_list

pytestmark = pytest.mark.cluster


def cm(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


def sync(engine, name: str, *, prune: bool = False) -> None:  # type: ignore[no-untyped-def]
    op = engine.sync(SyncRequest(app=name, prune=prune))
    final = engine.wait_for_operation(name, op, timeout=60)
    assert final is not None and final.phase == OperationPhase.SUCCEEDED, final


def listing(engine) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    assert cmd_list(engine, output="json", out=out) == 0
    return {app["name"]: app for app in json.loads(out.getvalue())}


def current_cluster(kubeconfig: Path) -> tuple[str, str]:
    """The kubeconfig's current context and its cluster's server."""
    config = yaml.safe_load(kubeconfig.read_text())
    context = config["current-context"]
    [entry] = [c for c in config["contexts"] if c["name"] == context]
    [cluster] = [c for c in config["clusters"] if c["name"] == entry["context"]["cluster"]]
    return context, cluster["cluster"]["server"]


def test_plain_yaml_parent_registers_updates_and_prunes_children(
    sandbox, namespace, tmp_path
) -> None:
    url_holder: dict[str, str] = {}
    repo = make_repo(
        tmp_path / "repo",
        {"a/cm.yaml": dump_all([cm("a-cm")]), "b/cm.yaml": dump_all([cm("b-cm")])},
    )
    url = url_holder["url"] = f"file://{repo.working_tree_dir}"
    child_a = application(f"{namespace}-a", url, "a", namespace)
    child_b = application(f"{namespace}-b", url, "b", namespace)
    commit(repo, {"parent/apps.yaml": dump_all([child_a, child_b])}, "parent lists two children")
    parent = application(namespace, url, "parent", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [parent]) as engine:
        snap = engine.snapshot().by_name
        assert snap[namespace].sync == SyncStatus.OUT_OF_SYNC  # children not registered yet
        assert f"{namespace}-a" not in snap
        nodes = {n.key.name: n for n in snap[namespace].resources if n.key.kind == "Application"}
        assert set(nodes) == {f"{namespace}-a", f"{namespace}-b"} and not any(
            n.exists for n in nodes.values()
        )

        sync(engine, namespace)
        wait_for(lambda: f"{namespace}-b" in engine.snapshot().by_name, what="children registered")
        engine.wait_until_compared(timeout=30)
        snap = engine.snapshot().by_name
        assert snap[f"{namespace}-a"].parent == namespace
        assert (
            snap[f"{namespace}-a"].sync == SyncStatus.OUT_OF_SYNC
        )  # its ConfigMap is not applied yet
        sync(engine, f"{namespace}-a")
        wait_for(
            lambda: engine.snapshot().by_name[f"{namespace}-a"].sync == SyncStatus.SYNCED,
            what="child synced",
        )
        parent_snap = engine.snapshot().by_name[namespace]
        nodes = {n.key.name: n for n in parent_snap.resources if n.key.kind == "Application"}
        assert all(n.exists and n.status == SyncStatus.SYNCED for n in nodes.values())

        # list -o json names each app's parent and the cluster its destination resolved to
        listed = listing(engine)
        context, server = current_cluster(sandbox.kubeconfig)
        assert listed[namespace]["parent"] is None
        for name in (namespace, f"{namespace}-a", f"{namespace}-b"):
            assert listed[name]["cluster"] == {
                "context": context,
                "server": server,
                "reachable": True,
            }, name
        assert listed[f"{namespace}-a"]["parent"] == namespace
        assert listed[f"{namespace}-b"]["parent"] == namespace
        assert listed[f"{namespace}-a"]["automation"] is None

        # Git drops child b: without prune it stays (and the parent says so), with prune it goes
        commit(repo, {"parent/apps.yaml": dump_all([child_a])}, "drop b")
        engine.refresh(namespace)
        wait_for(
            lambda: any(n.requires_pruning for n in engine.snapshot().by_name[namespace].resources),
            what="b requires pruning",
        )
        sync(engine, namespace)
        assert f"{namespace}-b" in engine.snapshot().by_name
        sync(engine, namespace, prune=True)
        wait_for(lambda: f"{namespace}-b" not in engine.snapshot().by_name, what="b removed")


def test_helm_parent_nested_children_and_cycles(sandbox, namespace, tmp_path) -> None:
    repo = make_repo(tmp_path / "repo", {"leaf/cm.yaml": dump_all([cm("leaf")])})
    url = f"file://{repo.working_tree_dir}"
    chart_template = (
        "{{- range .Values.apps }}\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        "metadata:\n  name: {{ .name }}\n  namespace: argocd\nspec:\n  project: default\n"
        "  source:\n    repoURL: {{ $.Values.repoURL }}\n    path: {{ .path }}\n    targetRevision: HEAD\n"
        "  destination:\n    server: https://kubernetes.default.svc\n    namespace: {{ $.Values.namespace }}\n"
        "{{- end }}\n"
    )
    values = {
        "repoURL": url,
        "namespace": namespace,
        "apps": [{"name": f"{namespace}-mid", "path": "mid"}],
    }
    commit(
        repo,
        {
            "root/Chart.yaml": "apiVersion: v2\nname: apps\nversion: 0.1.0\n",
            "root/values.yaml": yaml.safe_dump(values),
            "root/templates/apps.yaml": chart_template,
            # the middle app lists a leaf and, wrongly, the root itself (a cycle)
            "mid/apps.yaml": dump_all(
                [
                    application(f"{namespace}-leaf", url, "leaf", namespace),
                    application(namespace, url, "root", namespace),
                ]
            ),
        },
        "app of apps",
    )
    root = application(namespace, url, "root", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [root]) as engine:
        sync(engine, namespace)
        wait_for(lambda: f"{namespace}-mid" in engine.snapshot().by_name, what="mid registered")
        engine.wait_until_compared(timeout=30)
        sync(engine, f"{namespace}-mid")
        wait_for(lambda: f"{namespace}-leaf" in engine.snapshot().by_name, what="leaf registered")
        snap = engine.snapshot().by_name
        assert snap[f"{namespace}-leaf"].parent == f"{namespace}-mid"
        assert snap[namespace].parent is None  # the cycle did not re-parent the root
        problems = [c.message for c in snap[f"{namespace}-mid"].conditions]
        assert any("not followed" in p and namespace in p for p in problems), problems


def unschedulable_deployment(name: str) -> dict[str, Any]:
    """A Deployment whose pod no node accepts: it stays Progressing."""
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "nodeSelector": {"gitops-tui-test/no-such-node": "true"},
                    "containers": [{"name": "app", "image": "registry.invalid/app:1"}],
                },
            },
        },
    }


def child_nodes(engine, parent: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    snap = engine.snapshot().by_name[parent]
    return {n.key.name: n for n in snap.resources if n.key.kind == "Application"}


def test_parent_health_follows_its_children(sandbox, namespace, tmp_path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "a/cm.yaml": dump_all([cm("a-cm")]),
            "b/deploy.yaml": dump_all([unschedulable_deployment("b-web")]),
        },
    )
    url = f"file://{repo.working_tree_dir}"
    a, b = f"{namespace}-a", f"{namespace}-b"
    commit(
        repo,
        {
            "parent/apps.yaml": dump_all(
                [application(a, url, "a", namespace), application(b, url, "b", namespace)]
            )
        },
        "parent lists two children",
    )
    parent = application(namespace, url, "parent", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [parent]) as engine:
        # before any sync nothing the parent wants exists: Missing, as in Argo CD
        snap = engine.snapshot().by_name[namespace]
        assert snap.health == HealthStatus.MISSING, (snap.health, snap.health_message)

        sync(engine, namespace)
        wait_for(lambda: b in engine.snapshot().by_name, what="children registered")
        engine.wait_until_compared(timeout=30)
        sync(engine, a)
        wait_for(
            lambda: engine.snapshot().by_name[a].health == HealthStatus.HEALTHY,
            what="child a healthy",
        )
        # the parent's rows follow the children's own verdicts
        wait_for(
            lambda: child_nodes(engine, namespace)[a].health == HealthStatus.HEALTHY,
            what="parent row of a healthy",
        )
        assert child_nodes(engine, namespace)[b].health == engine.snapshot().by_name[b].health

        sync(engine, b)
        wait_for(
            lambda: engine.snapshot().by_name[b].health == HealthStatus.PROGRESSING,
            what="child b progressing",
        )
        wait_for(
            lambda: child_nodes(engine, namespace)[b].health == HealthStatus.PROGRESSING,
            what="parent row of b progressing",
        )
        parent_snap = wait_for(
            lambda: (
                s
                if (s := engine.snapshot().by_name[namespace]).health == HealthStatus.PROGRESSING
                else None
            ),
            what="parent progressing because of b",
        )
        assert b in parent_snap.health_message
