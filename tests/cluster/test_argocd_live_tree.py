"""The Argo CD backend's live side against the sandbox: children by owner references and
the health Argo CD did not persist, computed locally (GETs only); and --argocd where
there is no Argo CD."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import dump_all, kubectl, run_cli, wait_for

from gitops_tui.argocd.status import LOCAL_HEALTH_NOTE, app_snapshot
from gitops_tui.argocd.tree import LiveTree
from gitops_tui.engine.cache.kubeclient import KubeClient, KubeTarget
from gitops_tui.engine.model import HealthStatus, ResourceKey

pytestmark = pytest.mark.cluster


def test_children_and_local_health_of_managed_workloads(sandbox: Any, namespace: str) -> None:
    labels = {"app": "web"}
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "example.invalid/web:1"}]},
            },
        },
    }
    kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=dump_all([deploy]))
    key = ResourceKey("apps", "Deployment", namespace, "web")
    client = KubeClient(KubeTarget(Path(sandbox.kubeconfig), None, read_only=True))
    try:
        tree = LiveTree(client)

        def ready() -> Any:
            view = tree.read([key, ResourceKey("", "ConfigMap", namespace, "not-read")])
            health = view.health.get(key)
            kids = view.children.get(key, ())
            pods = [p for rs in kids for p in rs.children]
            return view if health and health[0] == HealthStatus.HEALTHY and len(pods) == 2 else None

        view = wait_for(ready, timeout=60, what="the Deployment healthy with 2 pods", step=0.5)
        assert view.errors == ()
        (replica_set,) = view.children[key]
        assert replica_set.key.kind == "ReplicaSet" and replica_set.status is None
        assert {p.key.kind for p in replica_set.children} == {"Pod"}
        # an Application whose controller did not persist resource health: ours, marked
        obj = {
            "metadata": {"name": "web"},
            "spec": {"destination": {"server": "https://kubernetes.default.svc"}},
            "status": {
                "resources": [
                    {"group": "apps", "version": "v1", "kind": "Deployment",
                     "namespace": namespace, "name": "web", "status": "Synced"}
                ]
            },
        }  # fmt: skip
        snap = app_snapshot(
            obj,
            origin="argocd:argocd",
            in_cluster_context="",
            read_only=True,
            live_health=view.health,
            children=view.children,
        )
        (node,) = snap.resources
        assert node.health == HealthStatus.HEALTHY and LOCAL_HEALTH_NOTE in node.health_message
        assert node.children == view.children[key]
    finally:
        client.close()


def test_argocd_mode_without_argocd_says_so(sandbox: Any, tmp_path: Path) -> None:
    # this cluster has no Argo CD CRDs (tests/argocd removes them when done)
    done = run_cli(["--kubeconfig", str(sandbox.kubeconfig), "--argocd", "list"], tmp_path)
    assert done.returncode == 2, done.stdout
    assert "CRD applications.argoproj.io is not installed" in done.stderr
    assert "namespace argocd" in done.stderr
