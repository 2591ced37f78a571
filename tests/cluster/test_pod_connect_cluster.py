"""``kubectl exec`` and ``kubectl port-forward`` as the console runs them, for real.

The engine says how kubectl reaches a pod of an app's tree (``pod_connection``);
the argv the console builds from it is run with the real kubectl against the
sandbox's real kube-apiserver, which proxies ``pods/exec`` and
``pods/portforward`` to the node's kubelet API: kwok's server, configured by
``sandbox/podconnect.py`` to run exec'd commands locally and to tunnel every pod
port to one loopback address, where this test listens.
"""

from __future__ import annotations

import http.server
import os
import select
import subprocess
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from gitrepo import make_repo
from helpers import application, dump_all, kubectl, running_engine, wait_for

from gitops_tui.engine.api import EngineError, ReadOnlyError, SyncRequest
from gitops_tui.engine.cache.tracking import with_tracking
from gitops_tui.engine.controller.inspect import tree_keys
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.snapshot import OperationPhase
from gitops_tui.sandbox.podconnect import forward_target_port
from gitops_tui.sandbox.toolchain import require_tool
from gitops_tui.ui.port_forwards import PortForwards, free_local_port

pytestmark = pytest.mark.cluster


def deployment(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {
                    "labels": {"app": name},
                    "annotations": {"kubectl.kubernetes.io/default-container": "web"},
                },
                "spec": {
                    "containers": [
                        {"name": "sidecar", "image": "busybox:1.36"},
                        {
                            "name": "web",
                            "image": "nginx:1.27",
                            "ports": [{"containerPort": 8080}, {"containerPort": 9090}],
                        },
                    ]
                },
            },
        },
    }


def run_in_pty(
    argv: list[str], timeout: float = 60.0, *, enter_after: str | None = None
) -> tuple[int, str]:
    """``argv`` with a terminal as stdin/stdout (as the console hands it over); once
    ``enter_after`` has been printed, Enter is typed (the command waits for a line)."""
    master, slave = os.openpty()
    process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
            if enter_after is not None and enter_after.encode() in out:
                enter_after = None
                os.write(master, b"\r")
        elif process.poll() is not None:
            break
    code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    os.close(master)
    assert process.stderr is not None
    err = process.stderr.read().decode()
    return code, out.decode("utf-8", "replace") + err


@contextmanager
def loopback_server(port: int, body: bytes) -> Iterator[None]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def synced_pod(engine: Any, app: str, kubeconfig: Path, namespace: str) -> ResourceKey:
    op_id = engine.sync(SyncRequest(app))
    op = engine.wait_for_operation(app, op_id, timeout=120)
    assert op is not None and op.phase is OperationPhase.SUCCEEDED, op

    def running_pod() -> ResourceKey | None:
        tree = engine.snapshot().by_name[app].resources
        pods = [k for k in tree_keys(tree) if k.kind == "Pod"]
        if not pods:
            return None
        phase = kubectl(
            kubeconfig, "-n", namespace, "get", "pod", pods[0].name,
            "-o", "jsonpath={.status.phase}", check=False,
        ).stdout  # fmt: skip
        return pods[0] if phase == "Running" else None

    return wait_for(running_pod, timeout=90, what="a running Pod in the app's tree")


def test_exec_and_port_forward_with_the_real_kubectl(sandbox, namespace, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all([deployment("web")])})
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    stray = ResourceKey("", "Pod", namespace, "stray")
    kubectl_bin = str(require_tool("kubectl"))
    with running_engine(sandbox.kubeconfig, tmp_path, [doc]) as engine:
        pod = synced_pod(engine, namespace, sandbox.kubeconfig, namespace)

        conn = engine.pod_connection(namespace, pod)
        assert conn.kubeconfig == str(sandbox.kubeconfig)
        assert conn.context == sandbox.context
        assert (conn.namespace, conn.pod) == (namespace, pod.name)
        assert [(c.name, c.ports) for c in conn.containers] == [
            ("sidecar", ()),
            ("web", (8080, 9090)),
        ]
        assert conn.default_container == "web"
        with pytest.raises(EngineError, match="not one of"):
            engine.pod_connection(namespace, stray)

        # exec: the operator's command, split (the quoted argument is one), no shell in
        # between. It waits for a line before it ends: kwok's tty exec may drop the output
        # of a command that ends at once.
        mark = uuid.uuid4().hex[:8]
        command = f"sh -c 'echo hi {mark} \"$0\"; read line' '$HOME; x'"
        argv = conn.exec_argv(kubectl_bin, "web", command)
        assert argv[-4:] == ["sh", "-c", f'echo hi {mark} "$0"; read line', "$HOME; x"]
        code, out = run_in_pty(argv, enter_after=f"hi {mark} $HOME; x")
        assert code == 0, out
        assert f"hi {mark} $HOME; x" in out
        # a failing command: kwok reports it as an error (no exit code passes through it)
        code, out = run_in_pty(conn.exec_argv(kubectl_bin, "sidecar", "sh -c 'exit 3'"))
        assert code != 0 and "exit status 3" in out, (code, out)

        # port-forward: kubectl in the background, the pod's port reaches the loopback server
        body = f"forwarded {mark}".encode()
        said: list[tuple[str, bool]] = []
        forwards = PortForwards()
        with loopback_server(forward_target_port(Path(sandbox.directory)), body):
            local = free_local_port()
            argv = conn.port_forward_argv(kubectl_bin, local, 8080)
            forward = forwards.start(
                namespace, conn.label, local, 8080, argv, lambda t, e: said.append((t, e))
            )
            wait_for(lambda: forward.ready, timeout=60, what="kubectl port-forward ready")
            with urllib.request.urlopen(f"http://127.0.0.1:{local}/", timeout=30) as reply:
                assert reply.read() == body
            assert said[0] == (
                f"Forwarding 127.0.0.1:{local} -> {conn.label}:8080 (f: forwards)",
                False,
            )

            # a second forward on the same local port: kubectl's complaint, in words
            clash = forwards.start(
                namespace, conn.label, local, 9090,
                conn.port_forward_argv(kubectl_bin, local, 9090),
                lambda t, e: said.append((t, e)),
            )  # fmt: skip
            wait_for(lambda: clash.exit_code is not None, timeout=60, what="the clash to end")
            assert "unable to listen" in clash.state(), clash.state()
            assert any(error and "unable to listen" in text for text, error in said), said
            assert [f.number for f in forwards.running()] == [forward.number]

            forwards.stop_all()
            assert forward.exit_code is not None or forward.process is not None
            assert forward.process is not None and forward.process.poll() is not None
            assert forward.state() == "stopped"
            with pytest.raises(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{local}/", timeout=5)


def test_read_only_refuses_exec_and_port_forward(sandbox, namespace, tmp_path: Path) -> None:
    live = {**deployment("web"), "metadata": {"name": "web", "namespace": namespace}}
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all([live])})
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    kubectl(
        sandbox.kubeconfig, "apply", "-f", "-", stdin=dump_all([with_tracking(live, namespace)])
    )
    with running_engine(sandbox.kubeconfig, tmp_path, [doc], read_only=True) as engine:

        def pod() -> ResourceKey | None:
            tree = engine.snapshot().by_name[namespace].resources
            return next((k for k in tree_keys(tree) if k.kind == "Pod"), None)

        key = wait_for(pod, timeout=90, what="the pod in the read-only engine's tree")
        with pytest.raises(ReadOnlyError, match="exec or port-forward"):
            engine.pod_connection(namespace, key)
