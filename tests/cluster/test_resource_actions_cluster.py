"""Resource actions against the real control plane: built-in restart, an argocd-cm Lua
action, what a script may not touch, and read-only (read from the audit log)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from audit import WRITE_VERBS, audit_events, audit_mark
from gitrepo import make_repo
from helpers import application, dump_all, kubectl, running_engine, wait_for

from gitops_tui.engine.api import ActionError, ReadOnlyError
from gitops_tui.engine.cache.tracking import with_tracking
from gitops_tui.engine.controller.engine import Engine
from gitops_tui.engine.health.actions import RESTARTED_AT
from gitops_tui.engine.model import ResourceKey

pytestmark = pytest.mark.cluster


def deployment(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }


def settings(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": namespace},
        "data": {"mode": "normal"},
    }


# Argo CD style, as a user would put it in argocd-cm
CM_ACTIONS = """
discovery.lua: |
  actions = {}
  actions["maintenance"] = {["disabled"] = obj.data.mode == "maintenance"}
  actions["copy"] = {}
  actions["escape"] = {}
  return actions
definitions:
- name: maintenance
  action.lua: |
    obj.data.mode = "maintenance"
    return obj
- name: copy
  action.lua: |
    local copy = {apiVersion = "v1", kind = "ConfigMap",
                  metadata = {name = obj.metadata.name .. "-copy"}, data = {from = "action"}}
    return {{operation = "create", resource = copy}}
- name: escape
  action.lua: |
    obj.metadata.namespace = "kube-system"
    return {{operation = "patch", resource = obj}}
"""


def start(
    sandbox: Any, namespace: str, tmp_path: Path, objects: list[dict[str, Any]], **options: Any
) -> Any:
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all(objects)})
    for obj in objects:
        live = with_tracking(obj, namespace)
        kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump(live))
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    return running_engine(
        sandbox.kubeconfig, tmp_path, [doc], argocd_namespace=namespace, **options
    )


def get(sandbox: Any, namespace: str, kind: str, name: str, check: bool = True) -> Any:
    done = kubectl(
        sandbox.kubeconfig,
        "-n",
        namespace,
        "get",
        kind,
        name,
        "-o",
        "json",
        "--show-managed-fields",
        check=check,
    )
    return json.loads(done.stdout) if done.returncode == 0 else None


def live_in(engine: Engine, app: str, key: ResourceKey) -> bool:
    found = engine.snapshot().by_name[app]
    return any(r.key == key and r.exists for r in found.resources)


def test_builtin_restart_changes_the_pod_template_annotation(
    sandbox, namespace: str, tmp_path: Path
) -> None:
    key = ResourceKey("apps", "Deployment", namespace, "web")
    with start(sandbox, namespace, tmp_path, [deployment(namespace)]) as engine:
        wait_for(lambda: live_in(engine, namespace, key), what="the Deployment compared")
        assert [(a.name, a.disabled) for a in engine.actions(namespace, key)] == [
            ("restart", False)
        ]
        before = get(sandbox, namespace, "deployment", "web")
        assert RESTARTED_AT not in (before["spec"]["template"]["metadata"].get("annotations") or {})
        outcome = engine.run_action(namespace, key, "restart")
        assert outcome.changes == (f"patched Deployment {namespace}/web",)
        after = get(sandbox, namespace, "deployment", "web")
        stamp = after["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT]
        assert stamp.endswith("Z")
        assert after["metadata"]["generation"] > before["metadata"]["generation"]
        managers = {
            m["manager"]: m
            for m in after["metadata"]["managedFields"]
            if m["operation"] == "Update"
        }
        assert RESTARTED_AT in json.dumps(managers["gitops-tui"]["fieldsV1"])
        with pytest.raises(ActionError, match="not offered"):
            engine.run_action(namespace, key, "scale-to-zero")


def test_lua_action_from_argocd_cm_runs_on_a_live_object(
    sandbox, namespace: str, tmp_path: Path
) -> None:
    key = ResourceKey("", "ConfigMap", namespace, "settings")
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "argocd-cm", "namespace": namespace},
        "data": {"resource.customizations.actions.ConfigMap": CM_ACTIONS},
    }
    with start(sandbox, namespace, tmp_path, [settings(namespace)]) as engine:
        wait_for(lambda: live_in(engine, namespace, key), what="the ConfigMap compared")
        assert engine.actions(namespace, key) == []  # no built-in action for a ConfigMap
        kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump(cm))
        wait_for(
            lambda: (
                [a.name for a in engine.actions(namespace, key)]
                == ["copy", "escape", "maintenance"]
            ),
            what="the argocd-cm actions seen live",
        )
        engine.run_action(namespace, key, "maintenance")
        assert get(sandbox, namespace, "configmap", "settings")["data"] == {"mode": "maintenance"}
        offered = {a.name: a for a in engine.actions(namespace, key)}
        assert offered["maintenance"].disabled
        with pytest.raises(ActionError, match="disabled"):
            engine.run_action(namespace, key, "maintenance")

        outcome = engine.run_action(namespace, key, "copy")
        assert outcome.changes == (f"created ConfigMap {namespace}/settings-copy",)
        assert get(sandbox, namespace, "configmap", "settings-copy")["data"] == {"from": "action"}

        with pytest.raises(ActionError, match="may patch only ConfigMap settings"):
            engine.run_action(namespace, key, "escape")
        assert get(sandbox, "kube-system", "configmap", "settings", check=False) is None


def test_read_only_refuses_an_action_and_sends_nothing(
    sandbox, sandbox_box, namespace: str, tmp_path: Path
) -> None:
    key = ResourceKey("apps", "Deployment", namespace, "web")
    mark = audit_mark(sandbox_box)
    with start(sandbox, namespace, tmp_path, [deployment(namespace)], read_only=True) as engine:
        wait_for(lambda: live_in(engine, namespace, key), what="the Deployment compared")
        assert [a.name for a in engine.actions(namespace, key)] == ["restart"]  # reading is fine
        with pytest.raises(ReadOnlyError) as refused:
            engine.run_action(namespace, key, "restart")
        assert "read-only mode: action restart" in str(refused.value)
    events = audit_events(sandbox_box, sandbox.kubeconfig, mark, namespace)
    assert [e for e in events if e.get("verb") in WRITE_VERBS] == []
    assert any(e.get("verb") == "get" for e in events)  # the positive control: it did read
    annotations = get(sandbox, namespace, "deployment", "web")["spec"]["template"]["metadata"]
    assert RESTARTED_AT not in (annotations.get("annotations") or {})
