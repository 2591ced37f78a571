"""``live_object`` and ``events`` for the ``FakeEngine``: sample live objects and Events.

Live objects are the fake app's own desired/live manifests (Pods and ReplicaSets of
the tree get a small made-up manifest with a status), put through the engine's own
pure functions (``fold_managed_fields``, ``mask_secret_pair``), so what the console
shows is what the real engine would return for the same objects.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

from gitops_tui.engine.api import ClusterEvent, EngineError, LiveObject, PodConnection
from gitops_tui.engine.controller.inspect import tree_keys
from gitops_tui.engine.controller.podlogs import check_pod
from gitops_tui.engine.diff.masking import mask_secret_pair
from gitops_tui.engine.inspection import fold_managed_fields, newest_first
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.podconnect import pod_connection_from
from gitops_tui.engine.podlogs import LogOptions, LogStream, containers_of, default_container

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
    containers = [{"name": "guestbook-ui", "image": "guestbook:1.1"}]
    if key.name.endswith("-fghij"):  # a pod with a sidecar: the logs screen's container picker
        containers.append({"name": "log-shipper", "image": "fluent-bit:3"})
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
        "spec": {"containers": containers} if key.kind == "Pod" else {},
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


def sample_log(pod: str, container: str) -> list[str]:
    return [
        f"{pod}/{container} line {n}: "
        + ("ERROR upstream timed out" if n % 7 == 3 else "GET /ok 200")
        for n in range(1, 41)
    ]


class FakeByteSource:
    """Bytes of a fake container log: the lines there are, then (follow) what ``emit`` sends."""

    def __init__(self, data: bytes, follow: bool) -> None:
        self.queue: queue.Queue[bytes] = queue.Queue()
        self.queue.put(data)
        self.follow = follow
        self.closed = threading.Event()

    def chunks(self) -> Iterator[bytes]:
        while not self.closed.is_set():
            try:
                chunk = self.queue.get(timeout=0.05)
            except queue.Empty:
                if not self.follow:
                    return
                continue
            yield chunk

    def close(self) -> None:
        self.closed.set()


class FakeLogs:
    """Container logs of the fake pods, through the engine's own ``LogStream`` (so lines are
    split, sanitized and bounded by the real code). ``emit`` appends to followed logs."""

    def __init__(self) -> None:
        self.extra: dict[tuple[str, str], list[bytes]] = {}
        self.previous: dict[tuple[str, str], list[str]] = {}
        self.open_sources: list[FakeByteSource] = []

    def add(self, pod: str, container: str, lines: list[bytes]) -> None:
        """Lines in the log before it is opened (e.g. hostile bytes)."""
        self.extra.setdefault((pod, container), []).extend(lines)

    def emit(self, pod: str, lines: list[str]) -> None:
        """New lines written while streams follow (every open follow of ``pod``)."""
        data = "".join(line + "\n" for line in lines).encode()
        for source in self.open_sources:
            if source.follow and not source.closed.is_set() and getattr(source, "pod", "") == pod:
                source.queue.put(data)

    def open(self, app: str, resources: Any, pod: ResourceKey, options: LogOptions) -> LogStream:
        check_pod(app, set(tree_keys(resources)), pod)
        options = options.checked()
        manifest = child_manifest(pod)
        main, other = containers_of(manifest)
        container = options.container or default_container(manifest) or ""
        if container not in main + other:
            raise EngineError(f"{pod.display} has no container {container!r}")
        if options.previous:
            lines = self.previous.get((pod.name, container))
            if lines is None:
                raise EngineError(
                    f"could not read the log of {pod.display} ({container}): previous "
                    f"terminated container {container!r} not found"
                )
            raw = [line.encode() for line in lines]
        else:
            raw = [line.encode() for line in sample_log(pod.name, container)]
            raw += self.extra.get((pod.name, container), [])
        if options.tail_lines is not None:
            raw = raw[-options.tail_lines :] if options.tail_lines else []
        source = FakeByteSource(b"".join(line + b"\n" for line in raw), options.follow)
        source.pod = pod.name  # type: ignore[attr-defined]
        self.open_sources.append(source)
        return LogStream(source, pod=pod.display, container=container, follow=options.follow)


def fake_pod_connection(app: str, resources: Any, pod: ResourceKey, context: str) -> PodConnection:
    """What ``pod_connection`` answers for a pod of the fake tree: its made-up manifest,
    with ports (80 on the app's container, 9090 on a sidecar)."""
    if pod.kind != "Pod" or pod not in set(tree_keys(resources)):
        raise EngineError(f"{pod.display} is not one of {app}'s resources")
    manifest = child_manifest(pod)
    for container, port in zip(manifest["spec"]["containers"], (80, 9090), strict=False):
        container["ports"] = [{"containerPort": port}]
    return pod_connection_from(
        manifest,
        kubeconfig="/home/op/.kube/config",
        context=context,
        namespace=pod.namespace,
        pod=pod.name,
    )
