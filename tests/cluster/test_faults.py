"""Faults survived: the API server stopped during a sync, and a user without write rights."""

from __future__ import annotations

from typing import Any

import pytest
from gitrepo import make_repo
from helpers import application, dump_all, kubectl, running_engine, wait_for

from gitops_tui.engine.api import EngineError, SyncRequest
from gitops_tui.engine.model import SyncStatus
from gitops_tui.engine.snapshot import OperationPhase
from gitops_tui.sandbox import pki
from gitops_tui.sandbox.controlplane import write_kubeconfig

pytestmark = pytest.mark.cluster


def cm(name: str, wave: int = 0) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "annotations": {"argocd.argoproj.io/sync-wave": str(wave)}},
        "data": {"k": "v"},
    }


def deployment(name: str, wave: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "annotations": {"argocd.argoproj.io/sync-wave": str(wave)}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]},
            },
        },
    }


@pytest.mark.parametrize("component", ["kube-apiserver", "etcd"])
def test_control_plane_stopped_during_a_sync(
    sandbox, sandbox_box, namespace, tmp_path, component
) -> None:
    objects = [cm("first", 0), deployment("middle", 1), cm("last", 2)]
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all(objects)})
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [doc], wave_timeout_s=8.0) as engine:
        op_id = engine.sync(SyncRequest(app=namespace))

        def middle_applied() -> bool:
            op = engine.snapshot().by_name[namespace].operation
            return op is not None and any(
                r.key.name == "middle" and r.status.value == "Synced" for r in op.results
            )

        wait_for(middle_applied, timeout=30, step=0.01, what="wave 1 applied")
        sandbox_box.stop_component(component)
        try:
            final = engine.wait_for_operation(namespace, op_id, timeout=60)
            assert final is not None, "the sync did not end while the control plane was down"
            assert final.phase in (OperationPhase.FAILED, OperationPhase.ERROR)
            assert final.message, "a failed sync says why"
            assert not any(
                r.key.name == "last" and r.status.value == "Synced" for r in final.results
            )
        finally:
            sandbox_box.start_component(component)
            if component == "etcd":
                # the API server reconnects to etcd by itself; wait until it serves again
                wait_for(
                    lambda: (
                        kubectl(
                            sandbox.kubeconfig, "get", "--raw", "/readyz", check=False
                        ).returncode
                        == 0
                    ),
                    timeout=60,
                    what="API server ready again",
                )
        wait_for(
            lambda: engine.snapshot().by_name[namespace].sync != SyncStatus.UNKNOWN,
            timeout=60,
            what="the app compared again",
        )
        again = engine.sync(SyncRequest(app=namespace))
        done = engine.wait_for_operation(namespace, again, timeout=90)
        assert done is not None and done.phase == OperationPhase.SUCCEEDED, done
        history = engine.history(namespace)
        assert [e.operation.phase for e in history][:2] == [OperationPhase.SUCCEEDED, final.phase]
        assert kubectl(sandbox.kubeconfig, "-n", namespace, "get", "cm", "last").returncode == 0


def test_read_only_rbac_user_reads_but_cannot_write(
    sandbox, sandbox_box, namespace, tmp_path
) -> None:
    files = pki.PkiFiles.in_dir(sandbox_box.pki_dir)
    user = f"viewer-{namespace}"
    cert, key = pki.issue_client_cert(files, user, (), tmp_path / "pki")
    kubeconfig = tmp_path / "viewer.kubeconfig"
    write_kubeconfig(
        kubeconfig, server=sandbox.server, ca=files.ca_cert, cert=cert, key=key, context="viewer"
    )
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": user},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "User", "name": user, "apiGroup": "rbac.authorization.k8s.io"}],
    }
    kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=dump_all([binding]))
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm("wanted")])})
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    try:
        with running_engine(kubeconfig, tmp_path, [doc]) as engine:
            app = engine.snapshot().by_name[namespace]
            assert app.sync == SyncStatus.OUT_OF_SYNC  # reads work: compared
            op_id = engine.sync(SyncRequest(app=namespace))
            final = engine.wait_for_operation(namespace, op_id, timeout=30)
            assert final is not None and final.phase == OperationPhase.FAILED
            text = final.message + " ".join(r.message for r in final.results)
            assert (
                "forbidden" in text and f'User "{user}" cannot patch resource "configmaps"' in text
            ), text
            with pytest.raises(EngineError):
                engine.rollback(namespace, 999999)
        assert (
            kubectl(
                sandbox.kubeconfig, "-n", namespace, "get", "cm", "wanted", check=False
            ).returncode
            != 0
        )
    finally:
        kubectl(sandbox.kubeconfig, "delete", "clusterrolebinding", user, check=False)
