"""Argo CD health customizations read live from the cluster's ``argocd-cm`` (no restart)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import make_repo
from helpers import application, dump_all, kubectl, running_engine, wait_for

from gitops_tui.engine.cache.tracking import with_tracking
from gitops_tui.engine.controller.engine import Engine
from gitops_tui.engine.model import HealthStatus, SyncStatus

pytestmark = pytest.mark.cluster

SETTINGS = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "settings"},
    "data": {"mode": "maintenance"},
}
# Argo CD style: a ConfigMap in maintenance mode counts as Suspended, else Healthy
SCRIPT = """
local hs = {}
if obj.data ~= nil and obj.data.mode == "maintenance" then
  hs.status = "Suspended"
  hs.message = "in maintenance"
  return hs
end
hs.status = "Healthy"
return hs
"""


def argocd_cm(namespace: str, data: dict[str, str]) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "argocd-cm", "namespace": namespace},
            "data": data,
        }
    )


def resource(engine: Engine, app: str) -> Any:
    found = engine.snapshot().by_name[app]
    return next((r for r in found.resources if r.key.kind == "ConfigMap"), None)


def test_argocd_cm_customization_changes_app_health_live(
    sandbox, namespace: str, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all([SETTINGS])})
    live = with_tracking(
        {**SETTINGS, "metadata": {"name": "settings", "namespace": namespace}}, namespace
    )
    kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump(live))
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [doc], argocd_namespace=namespace) as engine:
        wait_for(
            lambda: engine.snapshot().by_name[namespace].health == HealthStatus.HEALTHY,
            what="Healthy",
        )
        cm = resource(engine, namespace)
        assert cm is not None and cm.health is None  # a ConfigMap has no built-in health

        key = "resource.customizations.health.ConfigMap"
        kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=argocd_cm(namespace, {key: SCRIPT}))
        wait_for(
            lambda: engine.snapshot().by_name[namespace].health == HealthStatus.SUSPENDED,
            what="Suspended from the argocd-cm script",
        )
        cm = resource(engine, namespace)
        assert cm.health == HealthStatus.SUSPENDED and cm.health_message == "in maintenance"
        assert cm.health_rule == f"Lua (argocd-cm {namespace}/argocd-cm: {key})"

        # a hostile edit: that resource turns Unknown with the reason, the engine carries on
        kubectl(
            sandbox.kubeconfig,
            "apply",
            "-f",
            "-",
            stdin=argocd_cm(namespace, {key: "while true do end"}),
        )
        wait_for(
            lambda: engine.snapshot().by_name[namespace].health == HealthStatus.UNKNOWN,
            what="Unknown",
        )
        assert "endless loop" in resource(engine, namespace).health_message

        kubectl(sandbox.kubeconfig, "-n", namespace, "delete", "configmap", "argocd-cm")
        wait_for(
            lambda: (
                engine.snapshot().by_name[namespace].health == HealthStatus.HEALTHY
                and resource(engine, namespace).health is None
            ),
            what="back to no health check once argocd-cm is gone",
        )


def test_argocd_cm_present_at_start_is_read(sandbox, namespace: str, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all([SETTINGS])})
    live = with_tracking(
        {**SETTINGS, "metadata": {"name": "settings", "namespace": namespace}}, namespace
    )
    kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump(live))
    kubectl(
        sandbox.kubeconfig,
        "apply",
        "-f",
        "-",
        stdin=argocd_cm(namespace, {"resource.customizations.health.ConfigMap": SCRIPT}),
    )
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [doc], argocd_namespace=namespace) as engine:
        wait_for(
            lambda: engine.snapshot().by_name[namespace].health == HealthStatus.SUSPENDED,
            what="Suspended",
        )
    # other namespaces' argocd-cm is not read
    with running_engine(
        sandbox.kubeconfig, tmp_path / "b", [doc], argocd_namespace="argocd-elsewhere"
    ) as engine:
        wait_for(
            lambda: engine.snapshot().by_name[namespace].health == HealthStatus.HEALTHY,
            what="Healthy",
        )


def test_argocd_cm_ignore_differences_apply_live(sandbox, namespace: str, tmp_path: Path) -> None:
    desired = {**SETTINGS, "data": {"mode": "prod"}}
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all([desired])})
    live = with_tracking(
        {**SETTINGS, "metadata": {"name": "settings", "namespace": namespace}}, namespace
    )
    kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump(live))  # mode: maintenance
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [doc], argocd_namespace=namespace) as engine:
        wait_for(
            lambda: engine.snapshot().by_name[namespace].sync == SyncStatus.OUT_OF_SYNC,
            what="OutOfSync",
        )
        key = "resource.customizations.ignoreDifferences.ConfigMap"
        kubectl(
            sandbox.kubeconfig,
            "apply",
            "-f",
            "-",
            stdin=argocd_cm(namespace, {key: "jsonPointers:\n- /data/mode\n"}),
        )
        wait_for(
            lambda: engine.snapshot().by_name[namespace].sync == SyncStatus.SYNCED,
            what="Synced once argocd-cm ignores /data/mode",
        )


def test_config_and_directory_scripts_reach_the_engine_and_win_over_argocd_cm(
    sandbox, namespace: str, tmp_path: Path
) -> None:
    from gitops_tui.engine.health.customizations import layered, load_directories, parse_keys

    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all([SETTINGS])})
    live = with_tracking(
        {**SETTINGS, "metadata": {"name": "settings", "namespace": namespace}}, namespace
    )
    kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump(live))
    key = "resource.customizations.health.ConfigMap"
    kubectl(
        sandbox.kubeconfig,
        "apply",
        "-f",
        "-",
        stdin=argocd_cm(
            namespace, {key: 'return {status = "Degraded", message = "from argocd-cm"}'}
        ),
    )
    checks = tmp_path / "checks" / "ConfigMap"
    checks.mkdir(parents=True)
    (checks / "health.lua").write_text(
        'return {status = "Progressing", message = string.lower("FROM DIR")}'
    )
    config = parse_keys(
        {key: 'return {status = "Suspended", message = "from config"}'}, "config.yaml"
    )
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    for static, expected, message in (
        (config, HealthStatus.SUSPENDED, "from config"),
        (
            layered([config, load_directories([tmp_path / "checks"])]),
            HealthStatus.PROGRESSING,
            "from dir",
        ),
    ):
        with running_engine(
            sandbox.kubeconfig,
            tmp_path / expected.value,
            [doc],
            argocd_namespace=namespace,
            customizations=static,
        ) as engine:
            wait_for(
                lambda e=engine, x=expected: e.snapshot().by_name[namespace].health == x,
                what=expected.value,
            )
            assert resource(engine, namespace).health_message == message
