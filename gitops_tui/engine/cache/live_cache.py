"""The watch-based cache of one cluster's live objects.

Live objects of the watched kinds, indexed by key, by tracking app and by owner.
Re-comparing after a live change reads the cache and needs no list call; listeners
hear about every change. The watches themselves are in ``kind_watch``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from gitops_tui.engine.cache.discovery import ApiResource, Discovery
from gitops_tui.engine.cache.kind_watch import KindWatch
from gitops_tui.engine.cache.kubeclient import KubeApiError, KubeClient
from gitops_tui.engine.cache.tracking import TrackingMethod, claimed_root_app, tracked_app
from gitops_tui.engine.model import Manifest, ResourceKey

log = logging.getLogger(__name__)

ChangeListener = Callable[[ResourceKey, Manifest | None, Manifest | None], None]
"""(key, old, new): new None = deleted; old None = added."""


class Listing:
    """What one ``load_namespace`` call listed: the (group, kind, scope) lists it made
    and the objects they held. A key in a listed scope is read from here (absent: it
    does not exist) instead of one GET per object, as fresh as those GETs would be."""

    def __init__(self) -> None:
        self.scopes: set[tuple[str, str, str]] = set()
        self.objects: dict[ResourceKey, Manifest] = {}

    def lookup(self, key: ResourceKey) -> tuple[bool, Manifest | None]:
        """(whether ``key``'s kind and namespace were listed, the object or None)."""
        if (key.group, key.kind, key.namespace) not in self.scopes:
            return False, None
        return True, self.objects.get(key)


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
        self._local = threading.local()
        self.stopped = threading.Event()
        self._lock = threading.RLock()
        self._objects: dict[ResourceKey, Manifest] = {}
        self._by_uid: dict[str, ResourceKey] = {}
        self._children: dict[str, set[ResourceKey]] = {}
        self._watches: dict[tuple[str, str], KindWatch] = {}
        self._listeners: list[ChangeListener] = []
        self._wanted: set[tuple[str, str]] = set()  # every kind asked for (re-watched)
        self.excluded: Callable[[str, str], bool] = lambda _group, _kind: False
        """(group, kind) -> excluded by ``resource.exclusions``/``inclusions`` (the
        connection sets it): such kinds are neither watched nor cached."""
        self.pinned: frozenset[ResourceKey] = frozenset()
        """Objects cached even when their kind is excluded (the engine's own
        ``argocd-cm``): their kind keeps its watch, its other objects are dropped."""
        self.reachable = True
        self.unreachable_reason = ""
        self.unreachable_since = 0.0  # time.time() of the first failure (0: reachable)

    # -- watching --------------------------------------------------------
    def add_listener(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    def watch_kinds(self, kinds: Iterable[tuple[str, str]], *, wait: float = 30.0) -> list[str]:
        """Start watching each (group, kind) the server serves; wait for the first lists.

        Returns the kinds the server does not know (no CRD), as ``group/kind``.
        """
        unknown: list[str] = []
        started: list[KindWatch] = []
        with self._lock:
            for group, kind in kinds:
                self._wanted.add((group, kind))
                if not self._may_watch(group, kind):
                    continue  # excluded: no watch (``refilter`` opens it if that changes)
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
                watch = KindWatch(self, resource)
                watch.partial = self.excluded(group, kind)
                self._watches[(group, kind)] = watch
                watch.start()
                started.append(watch)
        deadline = time.monotonic() + wait
        for watch in started:
            watch.synced.wait(max(0.0, deadline - time.monotonic()))
        return unknown

    def _may_watch(self, group: str, kind: str) -> bool:
        return not self.excluded(group, kind) or any(
            k.group == group and k.kind == kind for k in self.pinned
        )

    def _keeps(self, key: ResourceKey) -> bool:
        return key in self.pinned or not self.excluded(key.group, key.kind)

    def refilter(self) -> list[tuple[str, str]]:
        """The exclusions changed: close the watches of kinds now excluded and drop their
        objects (listeners hear them go); a kind that is watched again starts over with
        a fresh list. Returns the kinds to watch again (``watch_kinds`` them)."""
        closed: list[KindWatch] = []
        with self._lock:
            for (group, kind), watch in list(self._watches.items()):
                if not self._may_watch(group, kind) or (
                    not self.excluded(group, kind) and watch.partial
                ):
                    closed.append(self._watches.pop((group, kind)))
                else:
                    watch.partial = self.excluded(group, kind)
            dropped = [k for k in self._objects if not self._keeps(k)]
            again = sorted(k for k in self._wanted if k not in self._watches)
        for watch in closed:
            watch.stop()
        for key in dropped:
            self._apply_event(key, None)
        return [k for k in again if self._may_watch(*k)]

    def load_namespace(
        self, kinds: Iterable[tuple[str, str]], namespace: str, *, for_app: str | None = None
    ) -> Listing:
        """One-shot: list ``kinds`` in ``namespace`` (cluster-scoped ones cluster-wide), no watch.

        Feeds the indexes (``tracked_by``) so a single app's extra objects are found
        without listing the whole cluster. Listed (kind, namespace) pairs are not listed
        again; the returned ``Listing`` holds what this call listed (a list refused with
        403/404 is not in it). Listeners hear of the listed objects with ``listing_for()``
        naming ``for_app``: the app whose compare reads the listing needs no re-compare
        for them."""
        todo: list[tuple[ApiResource, str]] = []
        for group, kind in sorted(set(kinds)):
            resource = self.discovery.lookup(group, kind)
            if resource is None or "list" not in resource.verbs or self.excluded(group, kind):
                continue
            scope = namespace if resource.namespaced else ""
            if resource.namespaced and not namespace:
                continue
            with self._lock:
                if (group, kind, scope) in self._loaded:
                    continue
                self._loaded.add((group, kind, scope))
            todo.append((resource, scope))

        def list_one(item: tuple[ApiResource, str]) -> list[Manifest] | None:
            resource, scope = item
            try:
                page = self.client.request(
                    "GET", resource.collection_path(scope), timeout=(5.0, 60.0)
                )
            except KubeApiError as exc:
                if exc.status in (403, 404):
                    return None
                raise
            found = page.get("items") or []
            for obj in found:
                obj.setdefault("apiVersion", resource.api_version)
                obj.setdefault("kind", resource.kind)
            return list(found)

        listing = Listing()
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="list") as pool:
            results = list(pool.map(list_one, todo))
        self._local.listing_for = for_app
        try:
            for (resource, scope), objs in zip(todo, results, strict=True):
                if objs is None:
                    continue
                listing.scopes.add((resource.group, resource.kind, scope))
                for obj in objs:
                    key = ResourceKey.of(obj)
                    listing.objects[key] = obj
                    self._apply_event(key, obj)
        finally:
            self._local.listing_for = None
        return listing

    def listing_for(self) -> str | None:
        """Inside a listener: the app whose one-shot listing this event comes from."""
        return getattr(self._local, "listing_for", None)

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
        return [o for o in self.claimed_by(app) if tracked_app(o, self.tracking) == app]

    def claimed_by(self, app: str) -> list[Manifest]:
        """Root objects whose tracking mark names ``app``, copies (naming another
        object) included: Argo CD lists those too, without a status."""
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
        if obj is not None and not self._keeps(key):
            obj = None  # an excluded kind is not cached (nor its objects seen by apps)
        with self._lock:
            old = self._objects.get(key)
            if old is not None:
                self._unindex(key, old)
            if obj is None:
                self._objects.pop(key, None)
            else:
                self._objects[key] = obj
                self._index(key, obj)
        if old is obj:  # also: an excluded object that was never cached
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
        app = claimed_root_app(obj, self.tracking)
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
        app = claimed_root_app(obj, self.tracking)
        if app and app in self._by_app:
            self._by_app[app].discard(key)
            if not self._by_app[app]:
                del self._by_app[app]

    def _note_reachable(self, ok: bool, reason: str) -> None:
        changed = ok != self.reachable
        self.reachable, self.unreachable_reason = ok, reason
        if ok or not self.unreachable_since:
            self.unreachable_since = 0.0 if ok else time.time()
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
