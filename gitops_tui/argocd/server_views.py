"""What the Argo CD API server shows about one app, read on demand (GETs only).

- ``tree_view``: ``/resource-tree`` -> children of the managed objects (by the
  nodes' ``parentRefs``) and their health as Argo CD assessed it;
- ``managed_diffs``: ``/managed-resources`` -> Argo CD's own normalised live and
  target (predicted live) states, compared and rendered by our diff renderer
  (Secret values masked there again, whatever the server sent);
- ``live_object``: ``/resource`` (the live manifest), Secret values masked,
  managedFields folded, the target state beside it when Argo CD manages the object;
- ``events``: ``/events`` of the Application and of its objects (by uid);
- ``actions`` / ``run_action``: ``/resource/actions`` (listing; running is
  ``/resource/actions/v2``, a POST, done by the backend after its read-only check).

Every string is made printable and bounded (``status.text``) before it leaves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from gitops_tui.argocd.server_client import ServerApiError, ServerClient, app_path, describe
from gitops_tui.argocd.status import health_status, name, resource_key, text
from gitops_tui.engine.diff.masking import mask_secret_pair
from gitops_tui.engine.diff.resource_diff import ResourceDiff, diff_resource
from gitops_tui.engine.health.actions import ResourceAction
from gitops_tui.engine.inspection import (
    MAX_EVENTS,
    ClusterEvent,
    LiveObject,
    event_from_manifest,
    fold_managed_fields,
    newest_first,
)
from gitops_tui.engine.model import HealthStatus, Manifest, ResourceKey
from gitops_tui.engine.snapshot import ResourceNode

MAX_NODES = 20000  # resource-tree nodes read per app
MAX_DEPTH = 4
MAX_CHILDREN = 200
MAX_MANAGED = 5000
MAX_STATE_BYTES = 4 << 20  # one targetState / liveState JSON string
MAX_EVENT_LISTS = 25  # /events calls for "every object of the app"
MAX_ACTIONS = 100
TREE_TIMEOUT_S = 30.0

Health = tuple[HealthStatus | None, str]


@dataclass(frozen=True)
class TreeView:
    """One app's resource tree as Argo CD keeps it."""

    health: Mapping[ResourceKey, Health] = field(default_factory=dict)
    children: Mapping[ResourceKey, tuple[ResourceNode, ...]] = field(default_factory=dict)
    uids: Mapping[ResourceKey, str] = field(default_factory=dict)
    versions: Mapping[ResourceKey, str] = field(default_factory=dict)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any, limit: int) -> list[Any]:
    return value[:limit] if isinstance(value, list) else []


def tree_view(body: Any, managed: Iterable[ResourceKey]) -> TreeView:
    """``ApplicationTree`` JSON -> children of the ``managed`` keys (pure)."""
    nodes = [_map(n) for n in _list(_map(body).get("nodes"), MAX_NODES)]
    by_owner: dict[str, list[Mapping[str, Any]]] = {}
    health: dict[ResourceKey, Health] = {}
    uids: dict[ResourceKey, str] = {}
    versions: dict[ResourceKey, str] = {}
    by_key: dict[ResourceKey, Mapping[str, Any]] = {}
    for node in nodes:
        key = resource_key(node)
        by_key[key] = node
        uid = name(node.get("uid"))
        if uid:
            uids[key] = uid
        versions[key] = name(node.get("version"))
        node_health = _map(node.get("health"))
        if node_health.get("status"):
            health[key] = (
                health_status(node_health.get("status")),
                text(node_health.get("message")),
            )
        for ref in _list(node.get("parentRefs"), 20):
            owner = name(_map(ref).get("uid"))
            if owner:
                by_owner.setdefault(owner, []).append(node)
    children: dict[ResourceKey, tuple[ResourceNode, ...]] = {}
    for key in managed:
        found = by_key.get(key)
        if found is None:
            continue
        kids = _children(name(found.get("uid")), by_owner, health, MAX_DEPTH)
        if kids:
            children[key] = kids
    return TreeView(health=health, children=children, uids=uids, versions=versions)


def _children(
    uid: str,
    by_owner: Mapping[str, list[Mapping[str, Any]]],
    health: Mapping[ResourceKey, Health],
    depth: int,
) -> tuple[ResourceNode, ...]:
    if depth <= 0 or not uid:
        return ()
    out: list[ResourceNode] = []
    for child in sorted(by_owner.get(uid, ()), key=resource_key)[:MAX_CHILDREN]:
        key = resource_key(child)
        status, message = health.get(key, (None, ""))
        out.append(
            ResourceNode(
                key=key,
                version=name(child.get("version")),
                status=None,
                health=status,
                health_message=message,
                children=_children(name(child.get("uid")), by_owner, health, depth - 1),
            )
        )
    return tuple(out)


def _state(raw: Any) -> Manifest | None:
    """A ``targetState``/``liveState`` JSON string as an object (None: absent or "null")."""
    if not isinstance(raw, str) or not raw or raw == "null" or len(raw) > MAX_STATE_BYTES:
        return None
    try:
        obj = json.loads(raw)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def managed_diffs(body: Any, *, context: int = 3) -> list[ResourceDiff]:
    """``ManagedResourcesResponse`` -> rendered diffs: Argo CD's predicted live state
    (else target) against its normalised live state; ``modified`` is Argo CD's verdict."""
    out: list[ResourceDiff] = []
    for raw in _list(_map(body).get("items"), MAX_MANAGED):
        item = _map(raw)
        if item.get("hook"):
            continue
        key = resource_key(item)
        desired = _state(item.get("predictedLiveState")) or _state(item.get("targetState"))
        live = _state(item.get("normalizedLiveState")) or _state(item.get("liveState"))
        if desired is None and live is None:
            continue
        rendered = diff_resource(key, desired, live, context=context)
        out.append(replace(rendered, modified=bool(item.get("modified")) or rendered.modified))
    out.sort(key=lambda d: (not d.modified, d.key))
    return out


def _resource_query(app: str, key: ResourceKey, version: str) -> dict[str, str]:
    return {
        "namespace": key.namespace,
        "resourceName": key.name,
        "version": version or "v1",
        "group": key.group,
        "kind": key.kind,
    }


class ServerViews:
    """The blocking reads of the server backend; errors become messages naming app and action."""

    def __init__(self, client: ServerClient) -> None:
        self._client = client

    def tree(self, app: str, managed: Iterable[ResourceKey]) -> TreeView:
        body = self._client.request("GET", app_path(app, "/resource-tree"), timeout=TREE_TIMEOUT_S)
        return tree_view(body, managed)

    def diffs(self, app: str, *, context: int = 3) -> list[ResourceDiff]:
        try:
            body = self._client.request("GET", app_path(app, "/managed-resources"))
        except ServerApiError as exc:
            raise describe(exc, "show the diff of", app) from None
        return managed_diffs(body, context=context)

    def live_object(self, app: str, key: ResourceKey, version: str, managed: bool) -> LiveObject:
        import time

        query = _resource_query(app, key, version)
        live: Manifest | None = None
        try:
            body = self._client.request("GET", app_path(app, "/resource"), query=query)
            live = _state(_map(body).get("manifest"))
        except ServerApiError as exc:
            if not exc.not_found:
                raise describe(exc, f"read {key.display} of", app) from None
        desired: Manifest | None = None
        if managed:
            try:
                items = self._client.request("GET", app_path(app, "/managed-resources"))
            except ServerApiError:
                items = None
            for raw in _list(_map(items).get("items"), MAX_MANAGED):
                if resource_key(_map(raw)) == key:
                    desired = _state(_map(raw).get("targetState"))
                    break
        masked_desired, masked_live = mask_secret_pair(desired, live)
        folded, entries = (
            fold_managed_fields(masked_live) if masked_live is not None else (None, ())
        )
        desired_copy = fold_managed_fields(masked_desired)[0] if masked_desired else None
        return LiveObject(
            key=key,
            live=folded,
            desired=desired_copy,
            managed_fields=entries,
            fetched_at=time.time(),
            from_cache=False,
        )

    def events(
        self,
        app: str,
        targets: Mapping[ResourceKey, str],
        *,
        include_app: bool,
        limit: int = MAX_EVENTS,
    ) -> list[ClusterEvent]:
        """Events of ``targets`` (key -> uid, from the resource tree) and, with
        ``include_app``, of the Application itself."""
        queries: list[dict[str, str]] = [{}] if include_app else []
        for key, uid in sorted(targets.items())[:MAX_EVENT_LISTS]:
            queries.append(
                {"resourceNamespace": key.namespace, "resourceName": key.name, "resourceUID": uid}
            )
        found: list[ClusterEvent] = []
        for query in queries:
            try:
                body = self._client.request("GET", app_path(app, "/events"), query=query)
            except ServerApiError as exc:
                raise describe(exc, "list the events of", app) from None
            for item in _list(_map(body).get("items"), 2000):
                event = event_from_manifest(item) if isinstance(item, dict) else None
                if event is not None:
                    found.append(event)
        return newest_first(found, limit)

    def actions(self, app: str, key: ResourceKey, version: str) -> list[ResourceAction]:
        try:
            body = self._client.request(
                "GET", app_path(app, "/resource/actions"), query=_resource_query(app, key, version)
            )
        except ServerApiError as exc:
            raise describe(exc, f"list the actions of {key.display} in", app) from None
        out: list[ResourceAction] = []
        for raw in _list(_map(body).get("actions"), MAX_ACTIONS):
            action = _map(raw)
            if not action.get("name"):
                continue
            out.append(
                ResourceAction(
                    name=text(action.get("name"), 100),
                    disabled=bool(action.get("disabled")),
                    display_name=text(action.get("displayName"), 100),
                    icon_class=text(action.get("iconClass"), 100),
                    origin="Argo CD",
                )
            )
        return out

    def run_action(self, app: str, key: ResourceKey, version: str, action: str) -> None:
        body = {"name": app, **_resource_query(app, key, version), "action": action}
        try:
            self._client.request("POST", app_path(app, "/resource/actions/v2"), body=body)
        except ServerApiError as exc:
            raise describe(exc, f"run the action {action} on {key.display} of", app) from None
