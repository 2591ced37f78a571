"""Never two engines on one app, against a real Argo CD reconciling it.

The local engine pointed at an app a live Argo CD controller reconciles shows it
``ManagedByArgoCD`` and refuses to sync it (headless exit 2, the message naming the
Application and ``--argocd``) unless ``--force-local``; over ``--argocd`` every change
goes through Argo CD (the objects carry only Argo CD's field manager).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import make_repo
from helpers import application, dump_all, kubectl, run_cli, running_engine, wait_for

from gitops_tui.argocd.backend import ArgoCDBackend, ArgoCDOptions
from gitops_tui.engine.api import EngineError, OperationPhase, SyncRequest
from gitops_tui.engine.cache.kubeclient import FIELD_MANAGER
from gitops_tui.engine.model import ConditionType
from gitops_tui.engine.snapshot import AppSnapshot

pytestmark = [pytest.mark.cluster, pytest.mark.argocd]

TIMEOUT = 90.0


def cm(name: str, value: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"v": value},
    }


def app_status(kubeconfig: Path, name: str) -> dict[str, Any]:
    out = kubectl(
        kubeconfig,
        *("-n", "argocd", "get", "applications.argoproj.io", name),
        *("-o", "json", "--show-managed-fields"),
    )
    return dict(json.loads(out.stdout))


def managers(kubeconfig: Path, namespace: str, name: str) -> set[str]:
    out = kubectl(
        kubeconfig, "-n", namespace, "get", "configmap", name, "-o", "json", "--show-managed-fields"
    )
    fields = json.loads(out.stdout)["metadata"].get("managedFields") or []
    return {str(f.get("manager")) for f in fields}


def managed_condition(snapshot: AppSnapshot | None) -> str:
    if snapshot is None:
        return ""
    return next(
        (c.message for c in snapshot.conditions if c.type == ConditionType.MANAGED_BY_ARGOCD), ""
    )


def test_local_sync_of_an_app_argo_cd_reconciles_is_refused_unless_forced(
    sandbox: Any, argocd: Any, namespace: str, tmp_path: Path
) -> None:
    kc = sandbox.kubeconfig
    name = f"both-{uuid.uuid4().hex[:6]}"
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm("both", "git")])})
    doc = application(
        name, f"file://{repo.working_tree_dir}", "app", namespace, automated={"prune": False}
    )
    app_file = tmp_path / "apps" / f"{name}.yaml"
    app_file.parent.mkdir()
    app_file.write_text(yaml.safe_dump(doc))
    kubectl(kc, "apply", "-f", str(app_file))
    try:
        wait_for(
            lambda: (
                app_status(kc, name).get("status", {}).get("sync", {}).get("status") == "Synced"
            ),
            timeout=TIMEOUT,
            what="Argo CD to sync the app",
            step=0.5,
        )
        seen = app_status(kc, name)
        assert seen["status"].get("reconciledAt")
        # what Argo CD's controller writes with (the guard's server-clock evidence)
        writers = {f.get("manager") for f in seen["metadata"].get("managedFields") or []}
        assert "argocd-application-controller" in writers, writers

        # headless, app from a file: refused, exit 2, a message naming the way out
        kubectl(kc, "-n", namespace, "patch", "configmap", "both", "-p", '{"data":{"v":"drift"}}')
        common = ["--kubeconfig", str(kc), "--apps", str(app_file)]
        refused = run_cli([*common, "sync", name], tmp_path)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert f"sync of {name} refused: Argo CD reconciles it" in refused.stderr
        assert f"Application argocd/{name}" in refused.stderr
        assert "gitops-tui --argocd argocd" in refused.stderr
        assert "--force-local" in refused.stderr
        data = kubectl(kc, "-n", namespace, "get", "configmap", "both", "-o", "json").stdout
        assert json.loads(data)["data"] == {"v": "drift"}  # nothing was applied
        assert FIELD_MANAGER not in managers(kc, namespace, "both")

        # the same Application read from the cluster (--from-cluster): refused too
        from_cluster = run_cli(
            ["--kubeconfig", str(kc), "--from-cluster", "argocd", "sync", name], tmp_path
        )
        assert from_cluster.returncode == 2, from_cluster.stdout + from_cluster.stderr
        assert f"sync of {name} refused" in from_cluster.stderr
        # a dry run changes nothing: allowed
        dry = run_cli([*common, "sync", name, "--dry-run"], tmp_path)
        assert dry.returncode == 0, dry.stdout + dry.stderr

        # the console's engine shows the condition and its automation stays away
        with running_engine(kc, tmp_path, [doc], automation=True) as engine:
            shown = wait_for(
                lambda: managed_condition(engine.snapshot().by_name.get(name)),
                timeout=30,
                what="the ManagedByArgoCD condition",
            )
            assert f"Application argocd/{name}" in shown and "--argocd argocd" in shown
            with pytest.raises(EngineError, match="refused: Argo CD reconciles it"):
                engine.rollback(name, 1)
            with pytest.raises(EngineError, match="refused: Argo CD reconciles it"):
                engine.sync(SyncRequest(app=name, prune=True))
            assert engine.snapshot().by_name[name].operation is None  # no automated sync

        # forced: the local engine applies
        forced = run_cli([*common, "sync", name, "--force-local"], tmp_path)
        assert forced.returncode == 0, forced.stdout + forced.stderr
        data = kubectl(kc, "-n", namespace, "get", "configmap", "both", "-o", "json").stdout
        assert json.loads(data)["data"] == {"v": "git"}
        assert FIELD_MANAGER in managers(kc, namespace, "both")
    finally:
        kubectl(kc, "delete", "-f", str(app_file), "--wait=false", check=False)


def test_over_argocd_only_argo_cd_applies(
    sandbox: Any, argocd: Any, namespace: str, tmp_path: Path
) -> None:
    """The Argo CD backend has no path to a local apply: a sync through it leaves only
    Argo CD's field managers on the objects, never gitops-tui's."""
    kc = sandbox.kubeconfig
    name = f"only-{uuid.uuid4().hex[:6]}"
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm("only", "git")])})
    doc = application(name, f"file://{repo.working_tree_dir}", "app", namespace)
    kubectl(kc, "apply", "-f", "-", stdin=yaml.safe_dump(doc))
    engine = ArgoCDBackend(ArgoCDOptions(kubeconfig=kc, tree_interval_s=1.0)).start()
    try:
        assert engine.wait_until_compared(timeout=30)
        op = engine.sync(SyncRequest(app=name, force_local=True))
        final = engine.wait_for_operation(name, op, timeout=TIMEOUT)
        assert final is not None and final.phase == OperationPhase.SUCCEEDED, final
        assert managers(kc, namespace, "only") and FIELD_MANAGER not in managers(
            kc, namespace, "only"
        )
    finally:
        engine.close()
        kubectl(kc, "-n", "argocd", "delete", "application", name, "--wait=false", check=False)
