"""The ``--argocd-server`` tree follows Argo CD's tree stream (``WatchResourceTree``) for
the apps opened in the console, against a real Argo CD v3.2.11 API server: a Pod the
ReplicaSet controller creates reaches the tree promptly with the periodic re-read an
hour away, an idle period sends no tree GET (the stream only; none at all for an app
not opened), and the stream recovers after the API server is killed and restarted.
Requests are counted by a recording proxy in front of the real server."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from argocd_server_proxy import RecordingProxy
from argocd_server_support import Server, backend, server
from gitrepo import make_repo
from helpers import application, deployment, dump_all, kubectl, wait_for

from gitops_tui.argocd.server_backend import UNREACHABLE, ArgoCDServerBackend
from gitops_tui.engine.api import follow_tree
from gitops_tui.engine.model import HealthStatus, SyncStatus

pytestmark = [pytest.mark.cluster, pytest.mark.argocd]
__all__ = ["server"]  # the module-scoped fixture, imported

TIMEOUT = 120.0
REFRESH_S = 3600.0  # the fallback period: only the stream can deliver within the test
LATENCY_S = 10.0  # Argo CD's controller writes the tree, its server streams it
IDLE_S = 20.0


@pytest.fixture
def app_names(sandbox: Any, server: Server) -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        kubectl(sandbox.kubeconfig, "-n", "argocd", "delete", "applications.argoproj.io", name,
                "--ignore-not-found", "--wait=false", check=False)  # fmt: skip


def tree_pods(engine: ArgoCDServerBackend, app: str) -> set[str]:
    snap = engine.snapshot().by_name.get(app)
    out: set[str] = set()
    stack = list(snap.resources) if snap is not None else []
    while stack:
        node = stack.pop()
        if node.key.kind == "Pod":
            out.add(node.key.name)
        stack.extend(node.children)
    return out


def api_pods(kubeconfig: Path, namespace: str) -> set[str]:
    out = kubectl(kubeconfig, "-n", namespace, "get", "pods", "-o", "name").stdout
    return {line.split("/", 1)[1] for line in out.split() if "/" in line}


def tree_gets(proxy: RecordingProxy, app: str) -> list[str]:
    return [p for m, p in proxy.recorded() if p.startswith(f"/api/v1/applications/{app}/resource-tree")]  # fmt: skip


def tree_streams(proxy: RecordingProxy, app: str) -> list[str]:
    path = f"/api/v1/stream/applications/{app}/resource-tree"
    return [p for _, p in proxy.recorded() if p.startswith(path)]


def test_server_tree_is_streamed_idle_sends_no_tree_get_and_a_restart_is_survived(
    sandbox: Any,
    argocd: Any,
    server: Server,
    app_names: list[str],
    namespace: str,
    tmp_path: Path,
) -> None:
    kc = sandbox.kubeconfig
    repo = make_repo(tmp_path / "repo", {"web/all.yaml": dump_all([deployment("web")])})
    url = f"file://{repo.working_tree_dir}"
    app = f"stream-{uuid.uuid4().hex[:6]}"
    other = f"closed-{uuid.uuid4().hex[:6]}"
    other_ns = f"{namespace}-b"
    kubectl(kc, "create", "namespace", other_ns)
    try:
        for name, ns in ((app, namespace), (other, other_ns)):
            app_names.append(name)
            doc = application(name, url, "web", ns, automated={})
            kubectl(kc, "apply", "-f", "-", stdin=yaml.safe_dump(doc))
        with (
            RecordingProxy(server.port) as proxy,
            backend(server.target(port=proxy.port), tree_refresh_s=REFRESH_S) as engine,
        ):

            def synced(name: str) -> bool:
                snap = engine.snapshot().by_name.get(name)
                return (
                    snap is not None
                    and snap.sync == SyncStatus.SYNCED
                    and snap.health == HealthStatus.HEALTHY
                )

            wait_for(lambda: synced(app) and synced(other), timeout=TIMEOUT, what="both synced")
            unfollow = follow_tree(engine, app)  # what the console's app view does
            wait_for(lambda: len(tree_pods(engine, app)) == 1, timeout=60, what="the Pod")
            assert tree_streams(proxy, app), proxy.recorded()
            gets = len(tree_gets(proxy, app))

            # the ReplicaSet controller creates two Pods: they reach the tree through the
            # stream (no GET; the periodic re-read is an hour away)
            before = api_pods(kc, namespace)
            kubectl(kc, "-n", namespace, "scale", "deployment/web", "--replicas=3")
            seen_api: dict[str, float] = {}
            seen_tree: dict[str, float] = {}

            def both_seen() -> bool:
                now = time.monotonic()
                for pod in api_pods(kc, namespace) - before:
                    seen_api.setdefault(pod, now)
                for pod in tree_pods(engine, app) - before:
                    seen_tree.setdefault(pod, time.monotonic())
                return len(seen_api) == 2 and seen_tree.keys() == seen_api.keys()

            wait_for(both_seen, timeout=60, what="the two new Pods in the API and the tree")
            latency = max(seen_tree[p] - seen_api[p] for p in seen_api)
            print(f"new Pods reached the tree {latency:.2f} s after the API server had them")
            assert latency <= LATENCY_S, f"a new Pod took {latency:.2f} s to reach the tree"
            assert len(tree_gets(proxy, app)) == gets, "the Pods came by GET, not the stream"

            # idle: the streams stay open, no tree is read
            mark = len(proxy.recorded())
            threading.Event().wait(IDLE_S)  # the measurement window itself, not a synchronisation
            idle = [p for _, p in proxy.recorded()[mark:] if "resource-tree" in p]
            print(f"tree requests in {IDLE_S:.0f} s idle: {idle}")
            assert idle == [], idle
            assert not tree_gets(proxy, other) and not tree_streams(proxy, other)

            # the API server killed and restarted: the stream comes back (one GET, then
            # streaming again)
            streams = len(tree_streams(proxy, app))
            sent, answered = len(proxy.recorded()), len(proxy.answered())  # counted from
            # before the stop: the follower may reconnect before the test could see the
            # restarted server serve
            argocd.stop_one("server")
            wait_for(
                lambda: any(c.type == UNREACHABLE for c in engine.snapshot().by_name[app].conditions),
                timeout=30,
                what="the server seen down",
            )  # fmt: skip
            argocd.start_server(disable_auth=False, port=server.port)

            def reopened() -> bool:  # the stream asked for again, the tree read with success
                # (the stream's own answer starts with the first change: not awaited here)
                stream = f"/api/v1/stream/applications/{app}/resource-tree"
                tree = f"/api/v1/applications/{app}/resource-tree"
                return any(p.startswith(stream) for _, p in proxy.recorded()[sent:]) and any(
                    p.startswith(tree) and status == 200
                    for _, p, status in proxy.answered()[answered:]
                )

            wait_for(
                reopened,
                timeout=TIMEOUT,
                what="the tree stream re-opened (and the tree read once) after the restart",
                step=0.5,
            )
            assert len(tree_streams(proxy, app)) > streams
            gets = len(tree_gets(proxy, app))
            kubectl(kc, "-n", namespace, "scale", "deployment/web", "--replicas=4")
            wait_for(
                lambda: len(tree_pods(engine, app)) == 4,
                timeout=60,
                what="the fourth Pod streamed after the restart",
            )
            assert len(tree_gets(proxy, app)) == gets, "after the restart, a GET and no stream"

            unfollow()
            wait_for(lambda: not tree_pods(engine, app), timeout=30, what="the tree let go")
    finally:
        kubectl(kc, "delete", "namespace", other_ns, "--wait=false", check=False)
