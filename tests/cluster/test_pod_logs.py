"""Container logs through the API server's real ``pods/log`` endpoint.

kube-apiserver proxies the request to the node's kubelet API, which is kwok's server
in the sandbox: it reads ``pod-logs/current.log`` (``previous.log``) of the sandbox
directory, CRI format, with the kubelet's own reader (``sandbox/podlogs.py``). So
``tailLines``, ``sinceSeconds`` and ``follow`` are the real ones; the test appends
lines to the file and sees them come back through the engine and the CLI.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from gitrepo import make_repo
from helpers import application, dump_all, kubectl, run_cli, running_engine, wait_for

from gitops_tui.engine.api import EngineError, SyncRequest
from gitops_tui.engine.controller.inspect import tree_keys
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.snapshot import OperationPhase
from gitops_tui.sandbox.podlogs import append_pod_log

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
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {"name": "web", "image": "nginx:1.27"},
                        {"name": "sidecar", "image": "busybox:1.36"},
                    ]
                },
            },
        },
    }


def stray_pod(namespace: str) -> str:
    return dump_all(
        [
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "stray", "namespace": namespace},
                "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
            }
        ]
    )


def test_pod_logs_through_the_api_server(sandbox, namespace, tmp_path: Path) -> None:
    directory = Path(sandbox.directory)
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all([deployment("web")])})
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=stray_pod(namespace))
    with running_engine(sandbox.kubeconfig, tmp_path, [doc]) as engine:
        op_id = engine.sync(SyncRequest(namespace))
        op = engine.wait_for_operation(namespace, op_id, timeout=120)
        assert op is not None and op.phase is OperationPhase.SUCCEEDED, op

        def running_pod() -> ResourceKey | None:
            app = engine.snapshot().by_name[namespace]
            pods = [k for k in tree_keys(app.resources) if k.kind == "Pod"]
            if not pods:
                return None
            phase = kubectl(
                sandbox.kubeconfig, "-n", namespace, "get", "pod", pods[0].name,
                "-o", "jsonpath={.status.phase}", check=False,
            ).stdout  # fmt: skip
            return pods[0] if phase == "Running" else None

        pod = wait_for(running_pod, timeout=90, what="a running Pod in the app's tree")
        mark = uuid.uuid4().hex[:8]
        old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
        append_pod_log(directory, [f"{mark} two hours ago"], at=old)
        append_pod_log(
            directory,
            [
                f"{mark} one",
                f"{mark} two",
                # hostile bytes: OSC retitle, CSI clear, C1 CSI, bidi override, raw C0
                f"{mark} evil ".encode()
                + b"\x1b]0;pwned\x07\x1b[2J\xc2\x9b31m\xe2\x80\xae\x08\x00 end",
                f"{mark} three",
            ],
        )

        # a plain read: every line, in order, printable
        lines = list(engine.logs(namespace, pod))
        mine = [line for line in lines if line.startswith(mark)]
        assert mine[0] == f"{mark} two hours ago" and mine[1:3] == [f"{mark} one", f"{mark} two"]
        evil = next(line for line in mine if "evil" in line)
        assert evil.endswith(" end")
        assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in evil), repr(evil)
        assert "\u202e" not in evil and "\\x1b]0;pwned\\x07" in evil and "\\x9b" in evil

        # tail and since are the kubelet's (kwok's) own
        assert list(engine.logs(namespace, pod, tail_lines=2)) == [
            evil,
            f"{mark} three",
        ]
        recent = list(engine.logs(namespace, pod, since_seconds=600))
        assert f"{mark} one" in recent and f"{mark} two hours ago" not in recent

        # the other container and the previous container's log
        assert f"{mark} three" in list(engine.logs(namespace, pod, "sidecar", tail_lines=1))
        append_pod_log(directory, [f"{mark} before the restart"], previous=True)
        previous = list(engine.logs(namespace, pod, previous=True, tail_lines=1))
        assert previous == [f"{mark} before the restart"]
        with pytest.raises(EngineError, match="no container 'nope'.*web, sidecar"):
            engine.logs(namespace, pod, "nope")

        # follow: a line appended later arrives; close() from here ends the reader
        stream = engine.logs(namespace, pod, follow=True, tail_lines=0)
        seen: list[str] = []
        arrived = threading.Event()

        def follow() -> None:
            for line in stream:
                seen.append(line)
                if "followed" in line:
                    arrived.set()

        reader = threading.Thread(target=follow, daemon=True)
        reader.start()
        deadline = time.monotonic() + 30
        while not arrived.is_set() and time.monotonic() < deadline:
            # appended until seen: the follow may attach after the first append
            append_pod_log(directory, [f"{mark} followed"])
            arrived.wait(1.0)
        assert arrived.is_set(), f"the followed line never arrived: {seen}"
        assert all(line.startswith(f"{mark} followed") for line in seen), seen
        stream.close()
        reader.join(10)
        assert not reader.is_alive(), "close() did not end a waiting follow"

        # only pods of the app's tree; only pods
        stray = ResourceKey("", "Pod", namespace, "stray")
        with pytest.raises(EngineError, match="not one of"):
            engine.logs(namespace, stray)
        deployment_key = ResourceKey("apps", "Deployment", namespace, "web")
        with pytest.raises(EngineError, match="not a Pod"):
            engine.logs(namespace, deployment_key)

    # the headless command: same lines, exit codes as the other commands
    apps = tmp_path / "apps"
    apps.mkdir()
    (apps / "app.yaml").write_text(dump_all([doc]))
    common = ["--kubeconfig", str(sandbox.kubeconfig), "--apps", str(apps)]
    done = run_cli(["logs", *common, namespace, pod.name, "--tail", "2"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith(mark), done.stdout
    assert "\x1b" not in done.stdout
    refused = run_cli(["logs", *common, namespace, "stray"], tmp_path)
    assert refused.returncode == 2
    assert "no pod 'stray'" in refused.stderr and pod.name in refused.stderr
    bad = run_cli(["logs", *common, namespace, pod.name, "--since", "5x"], tmp_path)
    assert bad.returncode == 2 and "not a duration" in bad.stderr
