"""Looking at an app's objects in the cluster: the live manifest beside the desired one, events.

Both calls are *blocking* (they read from the API server) and read-only (GETs and
lists only). Only objects of the app's resource tree can be asked for: its
managed resources and their live children (Pods, ReplicaSets ...).

- ``live_object``: a GET of the object (the watch cache answers when the API
  server cannot), ``managedFields`` folded, Secret values masked on both sides
  with the diff's masking, so no Secret value ever leaves the engine;
- ``events``: the ``v1`` Events about one object (a field-selected list) or about
  every object of the app (the Events of the app's namespaces, filtered to its
  objects), newest first; how much is read and returned is bounded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from gitops_tui.engine.api import EngineError, FleetSnapshot, ResourceNode
from gitops_tui.engine.cache.cluster import ClusterConnection
from gitops_tui.engine.cache.kubeclient import KubeApiError, KubeClient, path_segment
from gitops_tui.engine.cache.readonly import ReadOnlyPolicy
from gitops_tui.engine.controller.cluster_links import ClusterLinks
from gitops_tui.engine.controller.podconnect import read_pod_connection
from gitops_tui.engine.controller.podlogs import check_pod, open_pod_logs
from gitops_tui.engine.controller.state import AppTable
from gitops_tui.engine.diff.masking import mask_secret_pair
from gitops_tui.engine.inspection import (
    MAX_EVENTS,
    ClusterEvent,
    LiveObject,
    event_from_manifest,
    fold_managed_fields,
    newest_first,
)
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.podconnect import PodConnection
from gitops_tui.engine.podlogs import LogOptions, LogStream
from gitops_tui.engine.redact import redact_text

EVENTS_PAGE = 500
"""Events asked for per list request."""

MAX_EVENTS_SCANNED = 5_000
"""Most Events read for one call (all namespaces together); the newest of them are kept."""

MAX_EVENT_NAMESPACES = 20
"""Most namespaces an app's event list reads."""

REQUEST_TIMEOUT_S = 15.0

# Events about cluster-scoped objects are stored in this namespace (kubectl, client-go).
_CLUSTER_EVENTS_NAMESPACE = "default"


def tree_keys(nodes: tuple[ResourceNode, ...], depth: int = 0) -> Iterator[ResourceKey]:
    """Every key of an app's resource tree (managed resources and live children)."""
    if depth > 8:
        return
    for node in nodes:
        yield node.key
        yield from tree_keys(node.children, depth + 1)


def field_selector(key: ResourceKey) -> str:
    """The Events field selector for ``key`` (values escaped as ``fields.EscapeValue`` does)."""
    parts = [("involvedObject.kind", key.kind), ("involvedObject.name", key.name)]
    if key.namespace:
        parts.append(("involvedObject.namespace", key.namespace))
    return ",".join(f"{name}={_escape(value)}" for name, value in parts)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


class Inspector:
    """``live_object`` and ``events`` for the Engine facade."""

    def __init__(
        self,
        table: AppTable,
        links: ClusterLinks,
        snapshot: Callable[[], FleetSnapshot],
    ) -> None:
        self._table = table
        self._links = links
        self._snapshot = snapshot

    # -- the app, its objects and its cluster -------------------------------------------

    def _keys(self, app: str) -> set[ResourceKey]:
        found = self._snapshot().by_name.get(app)
        if found is None:
            raise EngineError(f"no app named {app!r}")
        return set(tree_keys(found.resources))

    def _connection(self, app: str) -> ClusterConnection:
        with self._table.lock:
            state = self._table.states.get(app)
            if state is None:
                raise EngineError(f"no app named {app!r}")
            context = self._links.context_of(state)
        conn = self._links.connected(context)
        if conn is None:
            reason = self._links.errors.get(context or "", "not connected yet")
            raise EngineError(f"{app}: its cluster ({context or 'none'}) is unreachable: {reason}")
        return conn

    def _desired(self, app: str, key: ResourceKey) -> Manifest | None:
        with self._table.lock:
            state = self._table.states.get(app)
            comparison = state.comparison if state is not None else None
        if comparison is None:
            return None
        for resource in comparison.resources:
            if resource.key == key:
                return resource.desired
        return None

    def _checked(self, app: str, key: ResourceKey) -> None:
        if key not in self._keys(app):
            raise EngineError(f"{key.display} is not one of {app}'s resources")

    # -- live object ---------------------------------------------------------------------

    def live_object(self, app: str, key: ResourceKey) -> LiveObject:
        """The object as the cluster has it now and as Git wants it (blocking)."""
        self._checked(app, key)
        conn = self._connection(app)
        from_cache = False
        try:
            live = conn.get(key)
        except KubeApiError as exc:
            cached = conn.cache.get(key) if conn.cache.is_watched(key.group, key.kind) else None
            if cached is None:
                raise EngineError(
                    f"could not read {key.display} from {app}'s cluster: {redact_text(str(exc))}"
                ) from None
            live, from_cache = cached, True
        desired, masked_live = mask_secret_pair(self._desired(app, key), live)
        folded, entries = (
            fold_managed_fields(masked_live) if masked_live is not None else (None, ())
        )
        desired_copy, _ = fold_managed_fields(desired) if desired is not None else (None, ())
        return LiveObject(
            key=key,
            live=folded,
            desired=desired_copy,
            managed_fields=entries,
            fetched_at=time.time(),
            from_cache=from_cache,
        )

    # -- events --------------------------------------------------------------------------

    def events(
        self, app: str, key: ResourceKey | None = None, *, limit: int = MAX_EVENTS
    ) -> list[ClusterEvent]:
        """Events about ``key`` (or every object of the app), newest first (blocking)."""
        keys = self._keys(app)
        if key is not None and key not in keys:
            raise EngineError(f"{key.display} is not one of {app}'s resources")
        return app_events(self._connection(app).client, app, keys, key, limit=limit)

    # -- container logs ------------------------------------------------------------------

    def logs(self, app: str, pod: ResourceKey, options: LogOptions) -> LogStream:
        """The log of one container of a pod of the app's tree (blocking until connected)."""
        keys = self._keys(app)
        check_pod(app, keys, pod)
        return open_pod_logs(self._connection(app).client, app, keys, pod, options)

    # -- exec and port-forward -----------------------------------------------------------

    def pod_connection(self, app: str, pod: ResourceKey, policy: ReadOnlyPolicy) -> PodConnection:
        """What kubectl needs to exec into / port-forward to a pod of the app's tree
        (blocking: reads the pod); ReadOnlyError when the app's context is read-only."""
        check_pod(app, self._keys(app), pod)
        conn = self._connection(app)
        policy.check(f"exec or port-forward into {pod.display}", conn.name)
        return read_pod_connection(conn, app, pod)


def app_events(
    client: KubeClient,
    app: str,
    keys: set[ResourceKey],
    key: ResourceKey | None,
    *,
    limit: int = MAX_EVENTS,
) -> list[ClusterEvent]:
    """Events about ``key`` (or about every one of ``keys``, the app's tree), newest
    first, at most ``limit``; EngineError when the cluster refuses (blocking).
    Shared by the local engine and the Argo CD backend."""
    wanted = {key} if key is not None else keys
    found: list[ClusterEvent] = []
    try:
        if key is not None:
            found = _list_events(client, key.namespace, field_selector(key))
        else:
            for namespace in _event_namespaces(keys):
                found.extend(_list_events(client, namespace, None))
                if len(found) >= MAX_EVENTS_SCANNED:
                    break
    except KubeApiError as exc:
        raise EngineError(f"could not list the events of {app}: {redact_text(str(exc))}") from None
    return newest_first((e for e in found if e.object in wanted), limit)


def _event_namespaces(keys: set[ResourceKey]) -> list[str]:
    names = sorted({k.namespace for k in keys if k.namespace})
    if any(not k.namespace for k in keys):
        names.append(_CLUSTER_EVENTS_NAMESPACE)
    return names[:MAX_EVENT_NAMESPACES]


def _list_events(client: KubeClient, namespace: str, selector: str | None) -> list[ClusterEvent]:
    path = (
        f"/api/v1/namespaces/{path_segment('namespace', namespace)}/events"
        if namespace
        else "/api/v1/events"
    )
    out: list[ClusterEvent] = []
    token: str | None = None
    read = 0
    while read < MAX_EVENTS_SCANNED:
        query = {"limit": EVENTS_PAGE, "fieldSelector": selector, "continue": token}
        body = client.request("GET", path, query=query, timeout=REQUEST_TIMEOUT_S)
        items = body.get("items") if isinstance(body, dict) else None
        for item in items if isinstance(items, list) else []:
            read += 1
            event = event_from_manifest(item) if isinstance(item, dict) else None
            if event is not None:
                out.append(event)
        meta = body.get("metadata") if isinstance(body, dict) else None
        token = meta.get("continue") if isinstance(meta, dict) else None
        if not token:
            break
    return out
