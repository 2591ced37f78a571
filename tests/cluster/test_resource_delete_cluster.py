"""Deleting one resource of an app against the real control plane: what the app owns
(its tracking mark, or an owner chain to it) goes; nothing else does, and read-only
sends nothing (read from the audit log)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from audit import WRITE_VERBS, audit_events, audit_mark
from helpers import kubectl, wait_for
from test_resource_actions_cluster import deployment, get, live_in, settings, start

from gitops_tui.engine.api import EngineError, ReadOnlyError
from gitops_tui.engine.cache.tracking import TRACKING_ANNOTATION, with_tracking
from gitops_tui.engine.model import ResourceKey

pytestmark = pytest.mark.cluster


def config_map(namespace: str, name: str, annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
        "data": {"a": "1"},
    }


def pods(sandbox: Any, namespace: str) -> list[dict[str, Any]]:
    done = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "pods", "-o", "json")
    return [
        p for p in json.loads(done.stdout)["items"] if not p["metadata"].get("deletionTimestamp")
    ]


def test_delete_touches_only_what_the_app_provably_owns(
    sandbox, namespace: str, tmp_path: Path
) -> None:
    web = ResourceKey("apps", "Deployment", namespace, "web")
    cfg = ResourceKey("", "ConfigMap", namespace, "settings")
    with start(
        sandbox, namespace, tmp_path, [deployment(namespace), settings(namespace)]
    ) as engine:
        wait_for(lambda: live_in(engine, namespace, web), what="the Deployment compared")
        wait_for(lambda: pods(sandbox, namespace), what="a Pod of the Deployment")

        # a Pod: owned through ReplicaSet -> Deployment, each owner read and its uid checked
        pod = pods(sandbox, namespace)[0]
        pod_key = ResourceKey("", "Pod", namespace, pod["metadata"]["name"])
        assert (
            engine.delete_resource(namespace, pod_key) == f"deleted Pod {namespace}/{pod_key.name}"
        )
        wait_for(
            lambda: (
                pod["metadata"]["uid"]
                not in {p["metadata"]["uid"] for p in pods(sandbox, namespace)}
            ),
            what="the Pod deleted",
        )

        # a managed object: its tracking mark names this app and this object
        assert engine.delete_resource(namespace, cfg) == f"deleted ConfigMap {namespace}/settings"
        wait_for(
            lambda: get(sandbox, namespace, "configmap", "settings", check=False) is None,
            what="the ConfigMap deleted",
        )

        # another app's object, a copy of our mark naming another object, an unmarked
        # object, a ReplicaSet whose owner is not ours: all refused, all still there
        other = with_tracking(config_map(namespace, "theirs", {}), "other-app")
        copy = config_map(
            namespace,
            "copied",
            {TRACKING_ANNOTATION: f"{namespace}:/ConfigMap:{namespace}/settings"},
        )
        bare = config_map(namespace, "bare", {})
        for obj in (other, copy, bare):
            kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump(obj))
        foreign = dict(deployment(namespace), metadata={"name": "foreign", "namespace": namespace})
        kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump(foreign))
        for name, reason in (
            ("theirs", "it is tracked by app 'other-app'"),
            ("copied", "its tracking mark names another object"),
            ("bare", "it has no tracking mark"),
        ):
            with pytest.raises(EngineError, match=reason):
                engine.delete_resource(namespace, ResourceKey("", "ConfigMap", namespace, name))
            assert get(sandbox, namespace, "configmap", name, check=False) is not None
        wait_for(
            lambda: any(
                p["metadata"]["name"].startswith("foreign-") for p in pods(sandbox, namespace)
            ),
            what="a Pod of the foreign Deployment",
        )
        theirs = next(
            p for p in pods(sandbox, namespace) if p["metadata"]["name"].startswith("foreign-")
        )
        with pytest.raises(EngineError, match="its owner Deployment .*foreign: it has no tracking"):
            engine.delete_resource(
                namespace, ResourceKey("", "Pod", namespace, theirs["metadata"]["name"])
            )
        assert any(
            p["metadata"]["uid"] == theirs["metadata"]["uid"] for p in pods(sandbox, namespace)
        )

        # kinds whose deletion takes unowned objects along: refused before any request
        with pytest.raises(EngineError, match="use prune"):
            engine.delete_resource(namespace, ResourceKey("", "Namespace", "", namespace))
        assert kubectl(sandbox.kubeconfig, "get", "namespace", namespace).returncode == 0


def test_read_only_refuses_a_delete_and_sends_nothing(
    sandbox, sandbox_box, namespace: str, tmp_path: Path
) -> None:
    cfg = ResourceKey("", "ConfigMap", namespace, "settings")
    mark = audit_mark(sandbox_box)
    with start(sandbox, namespace, tmp_path, [settings(namespace)], read_only=True) as engine:
        wait_for(lambda: live_in(engine, namespace, cfg), what="the ConfigMap compared")
        with pytest.raises(ReadOnlyError) as refused:
            engine.delete_resource(namespace, cfg)
        assert "read-only mode: delete ConfigMap" in str(refused.value)
    events = audit_events(sandbox_box, sandbox.kubeconfig, mark, namespace)
    assert [e for e in events if e.get("verb") in WRITE_VERBS] == []
    assert any(e.get("verb") in ("get", "list", "watch") for e in events)  # it did read
    assert get(sandbox, namespace, "configmap", "settings", check=False) is not None
