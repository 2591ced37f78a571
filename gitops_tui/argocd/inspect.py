"""Looking at an app's objects over Argo CD: the live manifest, the events, pod logs.

The same calls as the local engine's (``engine/controller/inspect.py``), read
straight from the cluster Argo CD manages: GETs and lists only, only objects of the
app's resource tree, Secret values masked, managedFields folded. Argo CD keeps the
desired manifests in its repo server, not in the Application, so ``desired`` is
None here (the diff shows them when the repository is reachable from this host).
"""

from __future__ import annotations

import threading
import time

from gitops_tui.engine.api import EngineError, FleetSnapshot
from gitops_tui.engine.cache.kubeclient import KubeApiError, KubeClient, path_segment
from gitops_tui.engine.controller.inspect import app_events, tree_keys
from gitops_tui.engine.controller.podlogs import check_pod, open_pod_logs
from gitops_tui.engine.diff.masking import mask_secret_pair
from gitops_tui.engine.inspection import MAX_EVENTS, ClusterEvent, LiveObject, fold_managed_fields
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.podlogs import LogOptions, LogStream
from gitops_tui.engine.redact import redact_text

DISCOVERY_TIMEOUT_S = 15.0
GET_TIMEOUT_S = 15.0


class ArgoCDInspector:
    """``live_object``, ``events`` and ``logs`` for the Argo CD backend (blocking calls)."""

    def __init__(self, client: KubeClient) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._resources: dict[str, dict[str, tuple[str, bool]]] = {}  # group/version -> kind

    def _keys(self, fleet: FleetSnapshot, app: str) -> set[ResourceKey]:
        found = fleet.by_name.get(app)
        if found is None:
            raise EngineError(f"no app named {app!r}")
        return set(tree_keys(found.resources))

    def _group_version(self, group: str) -> str:
        if not group:
            return "v1"
        body = self._client.request(
            "GET", f"/apis/{path_segment('group', group)}", timeout=DISCOVERY_TIMEOUT_S
        )
        preferred = body.get("preferredVersion") if isinstance(body, dict) else None
        version = preferred.get("groupVersion") if isinstance(preferred, dict) else None
        if not isinstance(version, str) or not version:
            raise EngineError(f"the cluster serves no API group {group!r}")
        return version

    def _kinds(self, group_version: str) -> dict[str, tuple[str, bool]]:
        with self._lock:
            known = self._resources.get(group_version)
        if known is not None:
            return known
        prefix = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        body = self._client.request("GET", prefix, timeout=DISCOVERY_TIMEOUT_S)
        resources = body.get("resources") if isinstance(body, dict) else None
        kinds: dict[str, tuple[str, bool]] = {}
        for item in resources if isinstance(resources, list) else []:
            if isinstance(item, dict) and "/" not in str(item.get("name", "")):
                kinds[str(item.get("kind"))] = (str(item["name"]), bool(item.get("namespaced")))
        with self._lock:
            self._resources[group_version] = kinds
        return kinds

    def _path(self, key: ResourceKey) -> str:
        group_version = self._group_version(key.group)
        found = self._kinds(group_version).get(key.kind)
        if found is None:
            raise EngineError(f"the cluster serves no kind {key.kind} in {group_version}")
        plural, namespaced = found
        prefix = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        where = (
            f"/namespaces/{path_segment('namespace', key.namespace)}"
            if namespaced and key.namespace
            else ""
        )
        return f"{prefix}{where}/{plural}/{path_segment('name', key.name)}"

    def live_object(self, fleet: FleetSnapshot, app: str, key: ResourceKey) -> LiveObject:
        if key not in self._keys(fleet, app):
            raise EngineError(f"{key.display} is not one of {app}'s resources")
        live = None
        try:
            live = self._client.request("GET", self._path(key), timeout=GET_TIMEOUT_S)
        except KubeApiError as exc:
            if exc.status != 404:
                raise EngineError(
                    f"could not read {key.display} from {app}'s cluster: {redact_text(str(exc))}"
                ) from None
        _, masked = mask_secret_pair(None, live if isinstance(live, dict) else None)
        folded, entries = fold_managed_fields(masked) if masked is not None else (None, ())
        return LiveObject(
            key=key,
            live=folded,
            desired=None,
            managed_fields=entries,
            fetched_at=time.time(),
            from_cache=False,
        )

    def events(
        self,
        fleet: FleetSnapshot,
        app: str,
        key: ResourceKey | None = None,
        *,
        limit: int = MAX_EVENTS,
    ) -> list[ClusterEvent]:
        keys = self._keys(fleet, app)
        if key is not None and key not in keys:
            raise EngineError(f"{key.display} is not one of {app}'s resources")
        return app_events(self._client, app, keys, key, limit=limit)

    def logs(
        self, fleet: FleetSnapshot, app: str, pod: ResourceKey, options: LogOptions
    ) -> LogStream:
        keys = self._keys(fleet, app)
        check_pod(app, keys, pod)
        return open_pod_logs(self._client, app, keys, pod, options)
