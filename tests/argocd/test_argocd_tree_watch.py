"""The live resource tree over ``--argocd`` follows the cluster through shared watches
(one per kind), against a real Argo CD and the real API server: a Pod the cluster
creates shows up at once (no poll period), an idle minute sends no LIST, and the
watches stop when no app needs their kind."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from audit import audit_events, audit_mark
from gitrepo import make_repo
from helpers import application, dump_all, kubectl, wait_for

from gitops_tui.argocd.backend import ArgoCDBackend, ArgoCDOptions
from gitops_tui.engine.cache.kubeclient import KubeClient, KubeTarget
from gitops_tui.engine.model import SyncStatus

pytestmark = [pytest.mark.cluster, pytest.mark.argocd]

TREE_KINDS = {"pods", "replicasets", "deployments"}
POLL_PERIOD_S = 30.0  # the fallback period: far longer than the latency asserted
LATENCY_S = 2.5  # "within 1-2 s", with room for a loaded 2-core machine
IDLE_S = 60.0


def deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "example.invalid/app:1"}]},
            },
        },
    }


@pytest.fixture
def app_names(sandbox: Any, argocd: Any) -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        kubectl(sandbox.kubeconfig, "-n", "argocd", "delete", "applications.argoproj.io", name,
                "--ignore-not-found", "--wait=false", check=False)  # fmt: skip


def tree_pods(engine: ArgoCDBackend, app: str) -> set[str]:
    snap = engine.snapshot().by_name.get(app)
    if snap is None:
        return set()
    out: set[str] = set()
    stack = list(snap.resources)
    while stack:
        node = stack.pop()
        if node.key.kind == "Pod":
            out.add(node.key.name)
        stack.extend(node.children)
    return out


def api_pods(client: KubeClient, namespace: str) -> set[str]:
    body = client.request("GET", f"/api/v1/namespaces/{namespace}/pods")
    return {p["metadata"]["name"] for p in body["items"]}


def test_a_pod_the_cluster_creates_appears_at_once_and_idle_sends_no_list(
    sandbox: Any,
    sandbox_box: Any,
    argocd: Any,
    app_names: list[str],
    namespace: str,
    tmp_path: Path,
) -> None:
    kc = sandbox.kubeconfig
    repo = make_repo(tmp_path / "repo", {"web/all.yaml": dump_all([deployment("web", 1)])})
    app = f"watch-{uuid.uuid4().hex[:6]}"
    doc = application(app, f"file://{repo.working_tree_dir}", "web", namespace, automated={})
    app_names.append(app)
    kubectl(kc, "apply", "-f", "-", stdin=yaml.safe_dump(doc))

    engine = ArgoCDBackend(ArgoCDOptions(kubeconfig=kc, tree_interval_s=POLL_PERIOD_S)).start()
    reader = KubeClient(KubeTarget(kc, None))
    try:
        wait_for(
            lambda: (
                engine.snapshot().by_name.get(app) is not None
                and engine.snapshot().by_name[app].sync == SyncStatus.SYNCED
                and len(tree_pods(engine, app)) == 1
            ),
            timeout=120,
            what="the synced app's Pod in the tree",
            step=0.2,
        )

        # the ReplicaSet controller creates the Pods: each is in the tree within LATENCY_S
        # of its existence in the API server (a poll would take up to POLL_PERIOD_S)
        before = api_pods(reader, namespace)
        kubectl(kc, "-n", namespace, "scale", "deployment/web", "--replicas=3")
        seen_api: dict[str, float] = {}
        seen_tree: dict[str, float] = {}

        def both_seen() -> bool:
            in_api = api_pods(reader, namespace) - before
            now = time.monotonic()
            for pod in in_api:
                seen_api.setdefault(pod, now)
            for pod in tree_pods(engine, app) - before:
                seen_tree.setdefault(pod, time.monotonic())
            return len(seen_api) == 2 and seen_tree.keys() == seen_api.keys()

        wait_for(both_seen, timeout=60, what="the two new Pods in the API and the tree", step=0.05)
        latency = max(seen_tree[p] - seen_api[p] for p in seen_api)
        print(f"new Pods reached the tree {latency:.2f} s after the API server had them")
        assert latency <= LATENCY_S, f"a new Pod took {latency:.2f} s to reach the tree"

        # an idle minute: the watches stay open, nothing is listed again
        mark = audit_mark(sandbox_box)
        threading.Event().wait(IDLE_S)  # the measurement window itself, not a synchronisation
        events = audit_events(sandbox_box, kc, mark)
        lists = [
            e["requestURI"]
            for e in events
            if e.get("verb") == "list" and (e.get("objectRef") or {}).get("resource") in TREE_KINDS
        ]
        print(f"LIST requests of the tree's kinds in {IDLE_S:.0f} s idle: {len(lists)}")
        assert len(lists) <= 1, lists  # at most one re-list (a 410 Gone), never a poll
        assert len(tree_pods(engine, app)) == 3

        # one watch per kind the app's tree needs; none once no app needs them
        assert engine._tree.watches is not None
        assert engine._tree.watches.watched() == {
            ("apps", "Deployment"), ("apps", "ReplicaSet"), ("", "Pod")
        }  # fmt: skip
        kubectl(kc, "-n", "argocd", "delete", "applications.argoproj.io", app, "--wait=false")
        wait_for(
            lambda: engine._tree.watches is not None and not engine._tree.watches.watched(),
            timeout=60,
            what="the tree's watches to stop once no app needs them",
            step=0.2,
        )
    finally:
        reader.close()
        engine.close()
