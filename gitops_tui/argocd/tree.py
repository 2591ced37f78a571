"""The live side of an Argo CD app: children by owner references, and local health.

Argo CD keeps its resource tree in Redis, which the Kubernetes API does not show;
so the console reads the live objects of the managed workloads' kinds itself (one
shared watch per kind, ``tree_watch``; a kind it may not watch cluster-wide is
listed per namespace instead, GET only) and links children (ReplicaSets, Pods, Jobs) to their owners by
``metadata.ownerReferences[].uid``. The same lists give the health of managed
objects Argo CD did not persist (``--persist-resource-health`` off, the default
in Argo CD 3), assessed with our health rules (Argo CD's built-in ones).

Bounded: ``tree_watch.MAX_OBJECTS`` objects watched; when listing, at most
``MAX_NAMESPACES`` namespaces and ``LIST_LIMIT`` objects per list; ``MAX_DEPTH``
levels and ``MAX_CHILDREN`` children per object.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gitops_tui.argocd.status import name, text
from gitops_tui.argocd.tree_watch import TreeWatches
from gitops_tui.engine.cache.kubeclient import KubeApiError, KubeClient, path_segment
from gitops_tui.engine.health.dispatch import resource_health
from gitops_tui.engine.model import HealthStatus, Manifest, ResourceKey, group_of
from gitops_tui.engine.snapshot import ResourceNode

MAX_NAMESPACES = 100
LIST_LIMIT = 2000
MAX_DEPTH = 3
MAX_CHILDREN = 200
LIST_TIMEOUT = (5.0, 20.0)

# (group, kind) -> (API path prefix, plural): the namespaced kinds read live
KINDS: dict[tuple[str, str], tuple[str, str]] = {
    ("apps", "Deployment"): ("/apis/apps/v1", "deployments"),
    ("apps", "StatefulSet"): ("/apis/apps/v1", "statefulsets"),
    ("apps", "DaemonSet"): ("/apis/apps/v1", "daemonsets"),
    ("apps", "ReplicaSet"): ("/apis/apps/v1", "replicasets"),
    ("", "Pod"): ("/api/v1", "pods"),
    ("batch", "Job"): ("/apis/batch/v1", "jobs"),
    ("batch", "CronJob"): ("/apis/batch/v1", "cronjobs"),
    ("", "Service"): ("/api/v1", "services"),
    ("", "PersistentVolumeClaim"): ("/api/v1", "persistentvolumeclaims"),
}
# what a kind owns, to list alongside it
CHILD_KINDS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("apps", "Deployment"): (("apps", "ReplicaSet"), ("", "Pod")),
    ("apps", "ReplicaSet"): (("", "Pod"),),
    ("apps", "StatefulSet"): (("", "Pod"),),
    ("apps", "DaemonSet"): (("", "Pod"),),
    ("batch", "CronJob"): (("batch", "Job"), ("", "Pod")),
    ("batch", "Job"): (("", "Pod"),),
}

Health = tuple[HealthStatus | None, str]


@dataclass(frozen=True)
class LiveView:
    """What the live cluster says about a set of managed objects."""

    health: Mapping[ResourceKey, Health] = field(default_factory=dict)
    children: Mapping[ResourceKey, tuple[ResourceNode, ...]] = field(default_factory=dict)
    errors: tuple[str, ...] = ()


def _key(obj: Manifest) -> ResourceKey:
    meta = obj.get("metadata") or {}
    return ResourceKey(
        group=name(group_of(str(obj.get("apiVersion", "")))),
        kind=name(obj.get("kind")),
        namespace=name(meta.get("namespace")),
        name=name(meta.get("name")),
    )


def _health(obj: Manifest) -> Health:
    result = resource_health(obj)
    if result is None:
        return None, ""
    return result.status, text(result.message)


def _owners(obj: Manifest) -> list[str]:
    refs = (obj.get("metadata") or {}).get("ownerReferences")
    return (
        [str(r.get("uid")) for r in refs if isinstance(r, dict)] if isinstance(refs, list) else []
    )


class LiveTree:
    """The live objects of managed workloads: from the shared watches (``on_change`` given:
    called on every change an app's tree may show), or listed per namespace (GETs only)."""

    def __init__(self, client: KubeClient, on_change: Callable[[], None] | None = None) -> None:
        self._client = client
        self.watches = TreeWatches(client, KINDS, on_change) if on_change is not None else None
        self._health: dict[ResourceKey, tuple[str, Health]] = {}  # by resourceVersion
        self.lists = 0  # LIST requests sent (the fallback for kinds not watched)
        self._polled = True

    def close(self) -> None:
        if self.watches is not None:
            self.watches.close()

    def polls(self) -> bool:
        """Whether some kind is read by listing (not watched): the tree needs its period."""
        return self._polled

    def _list(self, group: str, kind: str, namespace: str) -> list[Manifest]:
        prefix, plural = KINDS[(group, kind)]
        path = f"{prefix}/namespaces/{path_segment('namespace', namespace)}/{plural}"
        self.lists += 1
        body = self._client.request("GET", path, query={"limit": LIST_LIMIT}, timeout=LIST_TIMEOUT)
        items = body.get("items") if isinstance(body, dict) else None
        api_version = prefix.removeprefix("/apis/").removeprefix("/api/")
        out: list[Manifest] = []
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                item.setdefault("kind", kind)  # list items carry no kind/apiVersion
                item.setdefault("apiVersion", api_version)
                out.append(item)
        return out

    def read(self, wanted: Iterable[ResourceKey]) -> LiveView:
        """Health and children of the ``wanted`` managed objects that are of a known kind."""
        per_ns: dict[str, set[tuple[str, str]]] = {}
        targets = [k for k in wanted if (k.group, k.kind) in KINDS and k.namespace]
        for key in targets:
            kinds = per_ns.setdefault(key.namespace, set())
            kinds.add((key.group, key.kind))
            kinds.update(CHILD_KINDS.get((key.group, key.kind), ()))
        watches = self.watches
        if watches is not None:
            watches.want(set().union(*per_ns.values()) if per_ns else set(), per_ns)
        errors: list[str] = []
        by_key: dict[ResourceKey, Manifest] = {}
        by_owner: dict[str, list[Manifest]] = {}
        polled = False
        for namespace in sorted(per_ns)[:MAX_NAMESPACES]:
            for group, kind in sorted(per_ns[namespace]):
                if watches is not None and watches.serves(group, kind):
                    continue
                polled = True
                try:
                    objects = self._list(group, kind, namespace)
                except KubeApiError as exc:
                    errors.append(f"{kind} in {namespace}: {text(exc, 300)}")
                    continue
                for obj in objects:
                    by_key[_key(obj)] = obj
                    for uid in _owners(obj):
                        by_owner.setdefault(uid, []).append(obj)
        self._polled = polled
        if watches is not None and watches.left_out:
            errors.append(
                f"{watches.left_out} live objects left out of the tree (more than "
                "the watched limit)"
            )

        def lookup(key: ResourceKey) -> Manifest | None:
            found = by_key.get(key)
            if found is None and watches is not None:
                found = watches.get(key)
            return found

        def kids(uid: str) -> list[Manifest]:
            listed = by_owner.get(uid, [])
            if watches is None or not polled:
                return listed or (watches.children_of(uid) if watches is not None else [])
            both = {_key(o): o for o in watches.children_of(uid)}
            both.update((_key(o), o) for o in listed)
            return list(both.values())

        health: dict[ResourceKey, Health] = {}
        children: dict[ResourceKey, tuple[ResourceNode, ...]] = {}
        seen: dict[ResourceKey, tuple[str, Health]] = {}
        for key in targets:
            live = lookup(key)
            if live is None:
                continue
            health[key] = self._health_of(key, live, seen)
            nodes = self._children(live, kids, MAX_DEPTH, seen)
            if nodes:
                children[key] = nodes
        self._health = seen
        return LiveView(health=health, children=children, errors=tuple(errors))

    def _health_of(
        self, key: ResourceKey, obj: Manifest, seen: dict[ResourceKey, tuple[str, Health]]
    ) -> Health:
        """``_health``, kept per object version (most objects do not change between reads)."""
        version = str((obj.get("metadata") or {}).get("resourceVersion") or "")
        old = self._health.get(key)
        if old is not None and version and old[0] == version:
            result = old[1]
        else:
            result = _health(obj)
        seen[key] = (version, result)
        return result

    def _children(
        self,
        obj: Manifest,
        kids: Callable[[str], list[Manifest]],
        depth: int,
        seen: dict[ResourceKey, tuple[str, Health]],
    ) -> tuple[ResourceNode, ...]:
        if depth <= 0:
            return ()
        uid = str((obj.get("metadata") or {}).get("uid") or "")
        if not uid:
            return ()
        nodes: list[ResourceNode] = []
        for child in sorted(kids(uid), key=lambda c: _key(c))[:MAX_CHILDREN]:
            key = _key(child)
            status, message = self._health_of(key, child, seen)
            api_version = str(child.get("apiVersion", ""))
            nodes.append(
                ResourceNode(
                    key=key,
                    version=name(api_version.rsplit("/", 1)[-1]),
                    status=None,
                    health=status,
                    health_message=message,
                    children=self._children(child, kids, depth - 1, seen),
                )
            )
        return tuple(nodes)


def live_keys(resources: Iterable[Mapping[str, Any]]) -> list[ResourceKey]:
    """The keys of ``status.resources`` entries of the kinds this module reads."""
    out: list[ResourceKey] = []
    for entry in resources:
        key = ResourceKey(
            group=name(entry.get("group")),
            kind=name(entry.get("kind")),
            namespace=name(entry.get("namespace")),
            name=name(entry.get("name")),
        )
        if (key.group, key.kind) in KINDS:
            out.append(key)
    return out
