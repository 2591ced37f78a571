"""One cluster: API discovery and a watch-based cache of live objects.

The cache lists each watched kind once (500 per page) and then follows a watch;
re-comparing after a live change reads the cache and needs no list call. Watches
restart every few minutes (as Argo CD's do), reconnect with backoff when the
server goes away, and re-list on ``410 Gone``. Listeners hear about every change.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from gitops_tui.engine.cache.kubeclient import (
    FIELD_MANAGER,
    KubeApiError,
    KubeClient,
    KubeTarget,
    path_segment,
)
from gitops_tui.engine.cache.tracking import TrackingMethod, tracked_app
from gitops_tui.engine.errors import EngineSignal
from gitops_tui.engine.model import Manifest, ResourceKey, group_of

log = logging.getLogger(__name__)

PAGE_SIZE = 500
WATCH_SECONDS = (
    240,
    360,
)  # server-side watch timeout, randomised so watches don't restart together
BACKOFF = (0.25, 10.0)

# Kinds watched for every cluster: the common kinds apps use (so a tracked object
# whose kind left Git is still seen for pruning) and the children shown in the tree.
BASELINE_KINDS: tuple[tuple[str, str], ...] = (
    ("", "Namespace"),
    ("", "ConfigMap"),
    ("", "Secret"),
    ("", "Service"),
    ("", "ServiceAccount"),
    ("", "PersistentVolumeClaim"),
    ("", "Pod"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("apps", "ReplicaSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("networking.k8s.io", "Ingress"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("policy", "PodDisruptionBudget"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("argoproj.io", "Application"),
)


@dataclass(frozen=True, slots=True)
class ApiResource:
    """A served kind: how to reach it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    verbs: frozenset[str]

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def collection_path(self, namespace: str = "") -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{path_segment('namespace', namespace)}/{self.plural}"
        return f"{base}/{self.plural}"

    def object_path(self, namespace: str, name: str) -> str:
        """The URL of one object; an empty name raises (never a collection URL: a LIST)."""
        where = f" in namespace {namespace}" if self.namespaced and namespace else ""
        segment = path_segment(f"{self.kind}{where}", name)
        return f"{self.collection_path(namespace if self.namespaced else '')}/{segment}"


class Discovery:
    """The kinds the server serves (aggregated discovery: two requests)."""

    _ACCEPT = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

    def __init__(self, client: KubeClient) -> None:
        self._client = client
        self._by_kind: dict[tuple[str, str], ApiResource] = {}
        self._lock = threading.Lock()
        self.loaded_at = 0.0

    def refresh(self) -> None:
        found: dict[tuple[str, str], ApiResource] = {}
        for root in ("/api", "/apis"):
            doc = self._client.request("GET", root, accept=self._ACCEPT)
            for group in doc.get("items") or []:
                name = str((group.get("metadata") or {}).get("name") or "")
                # versions are listed in preference order: keep the first that serves a kind
                for version in group.get("versions") or []:
                    for res in version.get("resources") or []:
                        kind = str((res.get("responseKind") or {}).get("kind") or "")
                        if not kind or (name, kind) in found:
                            continue
                        found[(name, kind)] = ApiResource(
                            group=name,
                            version=str(version.get("version")),
                            kind=kind,
                            plural=str(res.get("resource")),
                            namespaced=res.get("scope") == "Namespaced",
                            verbs=frozenset(res.get("verbs") or ()),
                        )
        with self._lock:
            self._by_kind = found
            self.loaded_at = time.monotonic()

    def lookup(self, group: str, kind: str) -> ApiResource | None:
        with self._lock:
            return self._by_kind.get((group, kind))

    def resources(self) -> list[ApiResource]:
        """Every served kind (as of the last refresh)."""
        with self._lock:
            return list(self._by_kind.values())

    def for_object(self, obj: Manifest) -> ApiResource | None:
        return self.lookup(group_of(str(obj.get("apiVersion", ""))), str(obj.get("kind", "")))

    def resolve(self, group: str, kind: str) -> ApiResource | None:
        """``lookup``, refreshing discovery once if the kind is unknown (a new CRD)."""
        found = self.lookup(group, kind)
        if found is None and time.monotonic() - self.loaded_at > 1.0:
            self.refresh()
            found = self.lookup(group, kind)
        return found


ChangeListener = Callable[[ResourceKey, Manifest | None, Manifest | None], None]
"""(key, old, new): new None = deleted; old None = added."""


class _KindWatch:
    """List + watch of one kind across all namespaces, feeding the cache."""

    def __init__(self, cache: LiveCache, resource: ApiResource) -> None:
        self.cache = cache
        self.resource = resource
        self.synced = threading.Event()
        self.error: str | None = None
        self.resource_version = ""
        self._thread = threading.Thread(
            target=self._run, name=f"watch-{resource.kind}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def _list(self) -> None:
        items: dict[ResourceKey, Manifest] = {}
        cont: str | None = None
        while True:
            page = self.cache.client.request(
                "GET",
                self.resource.collection_path(),
                query={"limit": PAGE_SIZE, "continue": cont},
                timeout=(5.0, 60.0),
            )
            for item in page.get("items") or []:
                item.setdefault("apiVersion", self.resource.api_version)
                item.setdefault("kind", self.resource.kind)
                items[ResourceKey.of(item)] = item
            cont = (page.get("metadata") or {}).get("continue") or None
            if not cont:
                self.resource_version = str(
                    (page.get("metadata") or {}).get("resourceVersion") or ""
                )
                break
        self.cache._replace_kind(self.resource, items)

    def _watch(self) -> None:
        seconds = random.randint(*WATCH_SECONDS)
        query = {
            "watch": "1",
            "resourceVersion": self.resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": seconds,
        }
        for event in self.cache.client.stream(
            self.resource.collection_path(), query=query, read_timeout=seconds + 30
        ):
            if self.cache.stopped.is_set():
                return
            kind = event.get("type")
            obj = event.get("object") or {}
            if kind == "ERROR":
                if obj.get("code") == 410:
                    raise _Gone()
                raise KubeApiError(
                    int(obj.get("code") or 500),
                    str(obj.get("reason") or ""),
                    str(obj.get("message") or ""),
                )
            self.resource_version = str(
                (obj.get("metadata") or {}).get("resourceVersion") or self.resource_version
            )
            if kind == "BOOKMARK":
                continue
            obj.setdefault("apiVersion", self.resource.api_version)
            obj.setdefault("kind", self.resource.kind)
            self.cache._apply_event(ResourceKey.of(obj), None if kind == "DELETED" else obj)

    def _run(self) -> None:
        delay = BACKOFF[0]
        need_list = True
        while not self.cache.stopped.is_set():
            try:
                if need_list:
                    self._list()
                    need_list = False
                    self.synced.set()
                    self.error = None
                    self.cache._note_reachable(True, "")
                self._watch()
                delay = BACKOFF[0]
            except _Gone:
                need_list = True
            except KubeApiError as exc:
                self.error = str(exc)
                if exc.status in (403, 404):
                    # forbidden or kind gone: report once, retry slowly
                    self.synced.set()
                    self.cache.stopped.wait(30.0)
                    need_list = True
                    continue
                self.cache._note_reachable(False, str(exc))
                if exc.status == 0:
                    # the server went away: list again once it is back (confirms it, and
                    # catches anything the watch missed)
                    need_list = True
                self.cache.stopped.wait(delay)
                delay = min(delay * 2, BACKOFF[1])
            except Exception as exc:  # a malformed event must not kill the watch thread
                log.exception("watch %s failed", self.resource.kind)
                self.error = f"{type(exc).__name__}: {exc}"
                self.cache.stopped.wait(delay)
                delay = min(delay * 2, BACKOFF[1])
                need_list = True


class _Gone(EngineSignal):
    """The watch's resourceVersion is too old (HTTP 410): list again."""


class LiveCache:
    """Live objects of the watched kinds, indexed by key, tracking app and owner."""

    def __init__(
        self, client: KubeClient, discovery: Discovery, *, tracking: TrackingMethod = "annotation"
    ) -> None:
        self.client = client
        self.discovery = discovery
        self.tracking: TrackingMethod = tracking
        self._by_app: dict[str, set[ResourceKey]] = {}
        self._loaded: set[tuple[str, str, str]] = set()
        self.stopped = threading.Event()
        self._lock = threading.RLock()
        self._objects: dict[ResourceKey, Manifest] = {}
        self._by_uid: dict[str, ResourceKey] = {}
        self._children: dict[str, set[ResourceKey]] = {}
        self._watches: dict[tuple[str, str], _KindWatch] = {}
        self._listeners: list[ChangeListener] = []
        self.reachable = True
        self.unreachable_reason = ""

    # -- watching --------------------------------------------------------
    def add_listener(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    def watch_kinds(self, kinds: Iterable[tuple[str, str]], *, wait: float = 30.0) -> list[str]:
        """Start watching each (group, kind) the server serves; wait for the first lists.

        Returns the kinds the server does not know (no CRD), as ``group/kind``.
        """
        unknown: list[str] = []
        started: list[_KindWatch] = []
        with self._lock:
            for group, kind in kinds:
                if (group, kind) in self._watches:
                    started.append(self._watches[(group, kind)])
                    continue
                resource = self.discovery.lookup(group, kind)
                if (
                    resource is None
                    or "watch" not in resource.verbs
                    or "list" not in resource.verbs
                ):
                    unknown.append(f"{group}/{kind}" if group else kind)
                    continue
                watch = _KindWatch(self, resource)
                self._watches[(group, kind)] = watch
                watch.start()
                started.append(watch)
        deadline = time.monotonic() + wait
        for watch in started:
            watch.synced.wait(max(0.0, deadline - time.monotonic()))
        return unknown

    def load_namespace(self, kinds: Iterable[tuple[str, str]], namespace: str) -> None:
        """One-shot: list ``kinds`` in ``namespace`` (cluster-scoped ones cluster-wide), no watch.

        Feeds the indexes (``tracked_by``) so a single app's extra objects are found
        without listing the whole cluster. Listed (kind, namespace) pairs are not listed again.
        """
        todo: list[tuple[ApiResource, str]] = []
        for group, kind in sorted(set(kinds)):
            resource = self.discovery.lookup(group, kind)
            if resource is None or "list" not in resource.verbs:
                continue
            scope = namespace if resource.namespaced else ""
            if resource.namespaced and not namespace:
                continue
            with self._lock:
                if (group, kind, scope) in self._loaded:
                    continue
                self._loaded.add((group, kind, scope))
            todo.append((resource, scope))

        def list_one(item: tuple[ApiResource, str]) -> list[Manifest]:
            resource, scope = item
            try:
                page = self.client.request(
                    "GET", resource.collection_path(scope), timeout=(5.0, 60.0)
                )
            except KubeApiError as exc:
                if exc.status in (403, 404):
                    return []
                raise
            found = page.get("items") or []
            for obj in found:
                obj.setdefault("apiVersion", resource.api_version)
                obj.setdefault("kind", resource.kind)
            return list(found)

        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="list") as pool:
            for objs in pool.map(list_one, todo):
                for obj in objs:
                    self._apply_event(ResourceKey.of(obj), obj)

    def is_watched(self, group: str, kind: str) -> bool:
        with self._lock:
            watch = self._watches.get((group, kind))
        return watch is not None and watch.synced.is_set() and watch.error is None

    def watch_errors(self) -> dict[str, str]:
        with self._lock:
            return {w.resource.kind: w.error for w in self._watches.values() if w.error}

    def synced(self) -> bool:
        with self._lock:
            return all(w.synced.is_set() for w in self._watches.values())

    def stop(self) -> None:
        self.stopped.set()

    # -- reading ---------------------------------------------------------
    def get(self, key: ResourceKey) -> Manifest | None:
        with self._lock:
            return self._objects.get(key)

    def objects(self) -> list[Manifest]:
        with self._lock:
            return list(self._objects.values())

    def tracked_by(self, app: str) -> list[Manifest]:
        """Root objects whose tracking mark names ``app`` and this very object."""
        with self._lock:
            return [
                self._objects[k] for k in sorted(self._by_app.get(app, ())) if k in self._objects
            ]

    def children_of(self, uid: str) -> list[Manifest]:
        with self._lock:
            return [
                self._objects[k] for k in sorted(self._children.get(uid, ())) if k in self._objects
            ]

    def __len__(self) -> int:
        with self._lock:
            return len(self._objects)

    # -- writing (watch threads, and the sync engine after its own writes) ----
    def _replace_kind(self, resource: ApiResource, items: dict[ResourceKey, Manifest]) -> None:
        with self._lock:
            old = {
                k: v
                for k, v in self._objects.items()
                if k.group == resource.group and k.kind == resource.kind
            }
        for key, obj in items.items():
            if old.get(key) is not obj:
                prev = old.get(key)
                if prev is None or _rv(prev) != _rv(obj):
                    self._apply_event(key, obj)
        for key in old.keys() - items.keys():
            self._apply_event(key, None)

    def _apply_event(self, key: ResourceKey, obj: Manifest | None) -> None:
        with self._lock:
            old = self._objects.get(key)
            if old is not None:
                self._unindex(key, old)
            if obj is None:
                self._objects.pop(key, None)
            else:
                self._objects[key] = obj
                self._index(key, obj)
        if old is obj:
            return
        for listener in list(self._listeners):
            try:
                listener(key, old, obj)
            except Exception:
                log.exception("cache listener failed")

    def upsert(self, obj: Manifest) -> None:
        """Record an object the engine just wrote (the watch will confirm it)."""
        key = ResourceKey.of(obj)
        current = self.get(key)
        if current is not None and _rv_int(current) >= _rv_int(obj):
            return
        self._apply_event(key, obj)

    def _index(self, key: ResourceKey, obj: Manifest) -> None:
        meta = obj.get("metadata") or {}
        uid = meta.get("uid")
        if uid:
            self._by_uid[str(uid)] = key
        for ref in meta.get("ownerReferences") or []:
            self._children.setdefault(str(ref.get("uid")), set()).add(key)
        app = tracked_app(obj, self.tracking)
        if app:
            self._by_app.setdefault(app, set()).add(key)

    def _unindex(self, key: ResourceKey, obj: Manifest) -> None:
        meta = obj.get("metadata") or {}
        uid = meta.get("uid")
        if uid and self._by_uid.get(str(uid)) == key:
            del self._by_uid[str(uid)]
        for ref in meta.get("ownerReferences") or []:
            kids = self._children.get(str(ref.get("uid")))
            if kids is not None:
                kids.discard(key)
                if not kids:
                    del self._children[str(ref.get("uid"))]
        app = tracked_app(obj, self.tracking)
        if app and app in self._by_app:
            self._by_app[app].discard(key)
            if not self._by_app[app]:
                del self._by_app[app]

    def _note_reachable(self, ok: bool, reason: str) -> None:
        changed = ok != self.reachable
        self.reachable, self.unreachable_reason = ok, reason
        if changed:
            for listener in list(self._listeners):
                try:
                    listener(ResourceKey("", "", "", ""), None, None)
                except Exception:
                    log.exception("cache listener failed")


def _rv(obj: Manifest) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def _rv_int(obj: Manifest) -> int:
    try:
        return int(_rv(obj))
    except ValueError:
        return 0


def owner_chain_root(cache: LiveCache, obj: Manifest, *, limit: int = 10) -> Manifest:
    """Follow controller owner references up to the topmost cached owner."""
    current = obj
    for _ in range(limit):
        refs = (current.get("metadata") or {}).get("ownerReferences") or []
        if not refs:
            return current
        with cache._lock:
            key = cache._by_uid.get(str(refs[0].get("uid")))
            parent = cache._objects.get(key) if key else None
        if parent is None:
            return current
        current = parent
    return current


class UnknownKindError(KubeApiError):
    """The cluster serves no such kind (a CRD is missing)."""

    def __init__(self, group: str, kind: str) -> None:
        what = f"{kind}.{group}" if group else kind
        super().__init__(
            404, "UnknownKind", f"the cluster has no resource type {what} (is its CRD installed?)"
        )


class ClusterConnection:
    """Client, discovery and live cache of one cluster, plus the writes the sync engine makes."""

    def __init__(
        self, name: str, target: KubeTarget, *, tracking: TrackingMethod = "annotation"
    ) -> None:
        self.name = name
        self.target = target
        self.client = KubeClient(target)
        self.server = self.client.server
        self.discovery = Discovery(self.client)
        self.cache = LiveCache(self.client, self.discovery, tracking=tracking)
        self._started = False
        self._start_lock = threading.Lock()
        self.error: str | None = None

    def start(self, extra_kinds: Iterable[tuple[str, str]] = (), *, watch: bool = True) -> None:
        """Discover and start the baseline watches (once); raises KubeApiError if unreachable.

        ``watch=False`` (one-shot commands) only discovers: objects are then read with
        GETs and ``load_namespace``, like kubectl does, instead of cluster-wide lists.
        """
        with self._start_lock:
            if not self._started:
                self.discovery.refresh()
                if watch:
                    self.cache.watch_kinds(BASELINE_KINDS)
                self._started = True
        if extra_kinds:
            self.cache.watch_kinds(extra_kinds)

    def close(self) -> None:
        self.cache.stop()
        self.client.close()

    def resource(self, group: str, kind: str) -> ApiResource:
        found = self.discovery.resolve(group, kind)
        if found is None:
            raise UnknownKindError(group, kind)
        return found

    def live(self, key: ResourceKey) -> Manifest | None:
        """From the cache when the kind is watched, else one GET."""
        if self.cache.is_watched(key.group, key.kind):
            return self.cache.get(key)
        return self.get(key)

    def get(self, key: ResourceKey) -> Manifest | None:
        res = self.resource(key.group, key.kind)
        try:
            obj = self.client.request("GET", res.object_path(key.namespace, key.name))
        except KubeApiError as exc:
            if exc.status == 404:
                return None
            raise
        return obj if isinstance(obj, dict) else None

    def apply(
        self,
        obj: Manifest,
        *,
        dry_run: bool = False,
        force: bool = False,
        manager: str = FIELD_MANAGER,
        timeout: float = 30.0,
        field_validation: str | None = None,
    ) -> Manifest:
        """Server-side apply of ``obj`` (a dry run when asked); returns the server's result.

        ``field_validation`` is the API's ``fieldValidation`` (``Strict``, ``Warn``,
        ``Ignore``); None leaves the server's default.
        """
        key = ResourceKey.of(obj)
        res = self.resource(key.group, key.kind)
        body = dict(obj)
        body["apiVersion"] = str(obj.get("apiVersion") or res.api_version)
        result = self.client.request(
            "PATCH",
            res.object_path(key.namespace, key.name),
            query={
                "fieldManager": manager,
                "force": "true" if force else "false",
                "dryRun": "All" if dry_run else None,
                "fieldValidation": field_validation,
            },
            body=body,
            content_type="application/apply-patch+yaml",
            timeout=(5.0, timeout),
        )
        return self._written(result, dry_run)

    def _written(self, result: Any, dry_run: bool) -> Manifest:
        """The server's answer to a write; a real write is recorded in the cache at once."""
        if not isinstance(result, dict):
            return {}
        if not dry_run:
            self.cache.upsert(result)
        return result

    def replace(self, obj: Manifest, *, dry_run: bool = False, timeout: float = 30.0) -> Manifest:
        """PUT (``Replace=true``): create when missing, else replace wholesale."""
        key = ResourceKey.of(obj)
        res = self.resource(key.group, key.kind)
        query = {"fieldManager": FIELD_MANAGER, "dryRun": "All" if dry_run else None}
        current = self.get(key)
        if current is None:
            return self.create(obj, dry_run=dry_run, timeout=timeout)
        body = dict(obj)
        meta = dict(body.get("metadata") or {})
        meta["resourceVersion"] = (current.get("metadata") or {}).get("resourceVersion")
        body["metadata"] = meta
        result = self.client.request(
            "PUT",
            res.object_path(key.namespace, key.name),
            query=query,
            body=body,
            timeout=(5.0, timeout),
        )
        return self._written(result, dry_run)

    def create(self, obj: Manifest, *, dry_run: bool = False, timeout: float = 30.0) -> Manifest:
        key = ResourceKey.of(obj)
        res = self.resource(key.group, key.kind)
        query = {"fieldManager": FIELD_MANAGER, "dryRun": "All" if dry_run else None}
        result = self.client.request(
            "POST",
            res.collection_path(key.namespace),
            query=query,
            body=obj,
            timeout=(5.0, timeout),
        )
        return self._written(result, dry_run)

    def delete(
        self,
        key: ResourceKey,
        *,
        propagation: str = "Foreground",
        dry_run: bool = False,
        uid: str | None = None,
        timeout: float = 30.0,
    ) -> bool:
        """Delete one object (``uid`` as a precondition guards against a re-created namesake).

        Returns False when it was already gone.
        """
        res = self.resource(key.group, key.kind)
        body: dict[str, Any] = {
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "propagationPolicy": propagation,
        }
        if uid:
            body["preconditions"] = {"uid": uid}
        if dry_run:
            # the API server ignores a DELETE's query parameters when a body is sent:
            # the dry-run flag must be in DeleteOptions, or the object is really deleted
            body["dryRun"] = ["All"]
        try:
            self.client.request(
                "DELETE",
                res.object_path(key.namespace, key.name),
                query={"dryRun": "All" if dry_run else None},
                body=body,
                timeout=(5.0, timeout),
            )
        except KubeApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True
