"""``live_object`` and ``events`` for the ``FakeEngine``: sample live objects and Events.

Live objects are the fake app's own desired/live manifests (Pods and ReplicaSets of
the tree get a small made-up manifest with a status), put through the engine's own
pure functions (``fold_managed_fields``, ``mask_secret_pair``), so what the console
shows is what the real engine would return for the same objects.
"""

from __future__ import annotations

from typing import Any

from gitops_tui.engine.api import ClusterEvent, EngineError, LiveObject
from gitops_tui.engine.controller.inspect import tree_keys
from gitops_tui.engine.diff.masking import mask_secret_pair
from gitops_tui.engine.inspection import fold_managed_fields, newest_first
from gitops_tui.engine.model import Manifest, ResourceKey

T0 = 1_700_000_000.0

MANAGED_FIELDS = [
    {
        "manager": "gitops-tui",
        "operation": "Apply",
        "time": "2023-11-14T22:13:20Z",
        "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {".": {}}}}},
    },
    {
        "manager": "kube-controller-manager",
        "operation": "Update",
        "subresource": "status",
        "time": "2023-11-14T22:13:21Z",
        "fieldsV1": {"f:status": {"f:replicas": {}, "f:readyReplicas": {}}},
    },
]


def child_manifest(key: ResourceKey) -> Manifest:
    """A made-up live child (Pod, ReplicaSet) with a status to describe."""
    version = "v1" if not key.group else f"{key.group}/v1"
    status: dict[str, Any] = (
        {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "guestbook-ui", "ready": True, "restartCount": 2}],
        }
        if key.kind == "Pod"
        else {"replicas": 1, "readyReplicas": 1}
    )
    return {
        "apiVersion": version,
        "kind": key.kind,
        "metadata": {"name": key.name, "namespace": key.namespace, "uid": f"uid-{key.name}"},
        "spec": {},
        "status": status,
    }


def sample_events(app: str, namespace: str) -> list[ClusterEvent]:
    def event(n: int, kind: str, name: str, type_: str, reason: str, message: str) -> ClusterEvent:
        group = "apps" if kind in ("Deployment", "ReplicaSet") else ""
        return ClusterEvent(
            uid=f"{app}-ev-{n}",
            object=ResourceKey(group, kind, namespace, name),
            type=type_,
            reason=reason,
            message=message,
            count=n,
            last_seen=T0 - 60 * n,
            first_seen=T0 - 120 * n,
            source="kubelet" if kind == "Pod" else "deployment-controller",
        )

    return [
        event(1, "Deployment", f"{app}-ui", "Normal", "ScalingReplicaSet", "Scaled up to 3"),
        event(2, "Pod", f"{app}-ui-7d9f8-abcde", "Warning", "BackOff", "Back-off restarting"),
        event(3, "ConfigMap", f"{app}-config", "Normal", "Updated", "config changed"),
    ]


class FakeInspection:
    """The part of ``FakeEngine`` that answers ``live_object`` and ``events``."""

    def __init__(self) -> None:
        self.events_by_app: dict[str, list[ClusterEvent]] = {}

    def live_object_of(
        self,
        app: str,
        resources: Any,
        desired: list[Manifest],
        live: list[Manifest],
        key: ResourceKey,
    ) -> LiveObject:
        if key not in set(tree_keys(resources)):
            raise EngineError(f"{key.display} is not one of {app}'s resources")
        wanted = next((o for o in desired if ResourceKey.of(o) == key), None)
        found = next((o for o in live if ResourceKey.of(o) == key), None)
        if found is None and wanted is None:
            found = child_manifest(key)
        if found is not None:
            found = {**found, "metadata": {**found["metadata"], "managedFields": MANAGED_FIELDS}}
        masked_desired, masked_live = mask_secret_pair(wanted, found)
        live_copy, entries = (
            fold_managed_fields(masked_live) if masked_live is not None else (None, ())
        )
        desired_copy = fold_managed_fields(masked_desired)[0] if masked_desired else None
        return LiveObject(key, live_copy, desired_copy, entries, fetched_at=T0)

    def events_of(
        self, app: str, resources: Any, key: ResourceKey | None, limit: int
    ) -> list[ClusterEvent]:
        keys = set(tree_keys(resources))
        if key is not None and key not in keys:
            raise EngineError(f"{key.display} is not one of {app}'s resources")
        found = self.events_by_app.get(app, [])
        return newest_first((e for e in found if key is None or e.object == key), limit)
