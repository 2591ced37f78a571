"""The sandbox itself: a real control plane where Deployments run and namespaces go away."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from kubernetes import client

from gitops_tui.sandbox.controlplane import Sandbox, pid_alive
from gitops_tui.sandbox.toolchain import ToolError, require_tool

pytestmark = pytest.mark.cluster


def _wait(predicate, timeout: float = 60.0, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_deployment_becomes_available_with_running_pods(kube_api, namespace) -> None:
    apps = client.AppsV1Api(kube_api)
    core = client.CoreV1Api(kube_api)
    labels = {"app": "web"}
    apps.create_namespaced_deployment(
        namespace,
        {
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        },
    )

    def available() -> bool:
        dep = apps.read_namespaced_deployment("web", namespace)
        return any(
            c.type == "Available" and c.status == "True" for c in dep.status.conditions or []
        )

    _wait(available, what="Deployment Available")
    replicasets = apps.list_namespaced_replica_set(namespace).items
    assert len(replicasets) == 1
    assert replicasets[0].metadata.owner_references[0].kind == "Deployment"
    pods = core.list_namespaced_pod(namespace).items
    assert len(pods) == 2
    assert {p.status.phase for p in pods} == {"Running"}
    assert all(p.metadata.owner_references[0].name == replicasets[0].metadata.name for p in pods)
    assert all(p.spec.node_name.startswith("kwok-node-") for p in pods)


def test_namespace_deletion_completes(kube_api) -> None:
    core = client.CoreV1Api(kube_api)
    core.create_namespace({"metadata": {"name": "to-delete"}})
    core.create_namespaced_config_map(
        "to-delete", {"metadata": {"name": "cfg"}, "data": {"a": "1"}}
    )
    core.delete_namespace("to-delete")

    def gone() -> bool:
        try:
            core.read_namespace("to-delete")
        except client.ApiException as exc:
            return exc.status == 404
        return False

    _wait(gone, what="namespace deletion")


def test_audit_log_and_metrics(sandbox, sandbox_box: Sandbox, kube_api) -> None:
    client.CoreV1Api(kube_api).list_namespace()
    assert sandbox.kubeconfig.exists()
    _wait(
        lambda: (
            sandbox_box.audit_log.exists() and '"verb":"list"' in sandbox_box.audit_log.read_text()
        ),
        what="audit entries",
    )
    assert "apiserver_request_total" in sandbox_box.metrics()


def test_up_twice_is_safe_and_reports_the_running_sandbox(sandbox, sandbox_box: Sandbox) -> None:
    # (fault tests may have restarted components: compare with the state right now)
    before = sandbox_box.status()
    assert before is not None and before.running
    again = sandbox_box.up()
    assert again.server == sandbox.server
    assert [c.pid for c in again.components] == [c.pid for c in before.components]


def test_second_sandbox_runs_beside_the_first_and_down_leaves_no_process(
    sandbox, tmp_path: Path
) -> None:
    other = Sandbox(tmp_path / "other")
    cli = [sys.executable, "-m", "gitops_tui.cli", "sandbox"]
    up = subprocess.run(
        [*cli, "up", "--dir", str(other.directory), "--no-build"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert up.returncode == 0, up.stderr
    assert f"export KUBECONFIG={other.kubeconfig}" in up.stdout
    status = other.status()
    assert status is not None and status.running and status.ready
    assert status.server != sandbox.server
    kubectl = require_tool("kubectl")
    nodes = subprocess.run(
        [str(kubectl), "--kubeconfig", str(other.kubeconfig), "get", "nodes", "-o", "name"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "node/kwok-node-0" in nodes.stdout
    pids = [c.pid for c in status.components]
    down = subprocess.run(
        [*cli, "down", "--dir", str(other.directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert down.returncode == 0, down.stderr
    assert not any(pid_alive(pid) for pid in pids)
    assert other.status() is None
    # the first sandbox is untouched
    assert Sandbox(sandbox.directory).status().ready  # type: ignore[union-attr]


def test_missing_binary_names_what_to_install(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GITOPS_TUI_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("KUBEBUILDER_ASSETS", raising=False)
    with pytest.raises(ToolError, match=r"etcd not found: run `make tools`"):
        require_tool("etcd")
    with pytest.raises(ToolError, match="etcd not found"):
        Sandbox(tmp_path / "box").up()
