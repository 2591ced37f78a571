"""Live objects and events through the engine, against the real control plane.

The events are the ones the real controllers emit: the deployment controller scales
(Normal ``ScalingReplicaSet`` on the Deployment), the replica set controller is
refused by a ResourceQuota (Warning ``FailedCreate`` on the ReplicaSet).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import make_repo
from helpers import application, dump_all, kubectl, running_engine, wait_for

from gitops_tui.engine.api import EngineError, SyncRequest
from gitops_tui.engine.controller.inspect import tree_keys
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.snapshot import OperationPhase

pytestmark = pytest.mark.cluster

SECRET_VALUE = "s3cr3t-inspect-value"


def manifests() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "web",
                                "image": "nginx:1.27",
                                "resources": {"limits": {"cpu": "10m", "memory": "16Mi"}},
                            }
                        ]
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds"},
            "stringData": {"password": SECRET_VALUE},
        },
    ]


def quota(namespace: str) -> str:
    """No Pod may be created in ``namespace``: the replica set controller gets a Warning."""
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "no-pods", "namespace": namespace},
            "spec": {"hard": {"pods": "0"}},
        }
    )


def test_live_object_and_events_from_the_cluster(sandbox, namespace, tmp_path: Path) -> None:
    kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=quota(namespace))
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all(manifests())})
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [doc]) as engine:
        op_id = engine.sync(SyncRequest(namespace))
        op = engine.wait_for_operation(namespace, op_id, timeout=120)
        assert op is not None and op.phase is OperationPhase.SUCCEEDED, op
        deployment = ResourceKey("apps", "Deployment", namespace, "web")
        secret = ResourceKey("", "Secret", namespace, "creds")

        def replica_set() -> ResourceKey | None:
            app = engine.snapshot().by_name[namespace]
            return next((k for k in tree_keys(app.resources) if k.kind == "ReplicaSet"), None)

        rs = wait_for(replica_set, timeout=60, what="the ReplicaSet in the tree")

        # the live Deployment: from the API server, managedFields folded, desired beside it
        # the deployment controller writes status after our apply, on its own time (seen
        # missing once in CI): read again until its entry is there
        def with_status() -> Any:
            found = engine.live_object(namespace, deployment)
            return found if any(e.subresource == "status" for e in found.managed_fields) else None

        live = wait_for(with_status, timeout=60, what="the Deployment's status writer")
        assert live.live is not None and live.desired is not None
        assert "managedFields" not in live.live["metadata"]
        assert {e.manager for e in live.managed_fields} >= {"gitops-tui"}
        assert live.live["metadata"]["uid"] and "status" in live.live
        assert live.desired["spec"]["replicas"] == 1 and "status" not in live.desired
        # a live child: no desired manifest
        child = engine.live_object(namespace, rs)
        assert child.live is not None and child.desired is None

        # the Secret: its value never leaves the engine, in any form
        shown = engine.live_object(namespace, secret)
        assert shown.live is not None and shown.desired is not None
        text = repr(shown)
        encoded = base64.b64encode(SECRET_VALUE.encode()).decode()
        assert SECRET_VALUE not in text and encoded not in text
        assert set(shown.live["data"]["password"]) == {"+"}
        assert shown.live["data"] == shown.desired["data"]  # equal values, equal masks

        # events really emitted by the controllers, newest first, warnings flagged
        def rs_warning() -> bool:
            return any(e.warning for e in engine.events(namespace, rs))

        wait_for(rs_warning, timeout=60, what="the quota's FailedCreate warning")
        whole = engine.events(namespace)
        reasons = {(e.object.kind, e.reason, e.warning) for e in whole}
        assert ("Deployment", "ScalingReplicaSet", False) in reasons, reasons
        assert ("ReplicaSet", "FailedCreate", True) in reasons, reasons
        stamps = [e.last_seen or 0.0 for e in whole]
        assert stamps == sorted(stamps, reverse=True)
        assert all(
            e.object in set(tree_keys(engine.snapshot().by_name[namespace].resources))
            for e in whole
        )
        own = engine.events(namespace, deployment)
        assert own and {e.object for e in own} == {deployment}
        assert len(engine.events(namespace, limit=1)) == 1

        # only the app's own objects can be asked for
        other = ResourceKey("", "Secret", "kube-system", "anything")
        with pytest.raises(EngineError, match="not one of"):
            engine.live_object(namespace, other)
        with pytest.raises(EngineError, match="not one of"):
            engine.events(namespace, other)
