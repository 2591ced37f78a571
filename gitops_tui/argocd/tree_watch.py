"""Shared watches of the live tree's kinds, for the Argo CD backend over the Kubernetes API.

One list + watch per kind (across all namespaces), shared by every app whose tree
needs that kind: started when the first app needs it, stopped (its objects dropped)
when none does any more. The watches are the engine's own (``KindWatch`` feeding a
``LiveCache``): resumed from the last ``resourceVersion`` when the server ends a
watch, listed again (in pages) after ``410 Gone`` or a lost server, with backoff.

Bounded: at most ``MAX_OBJECTS`` objects are kept (new objects past that are left
out and the tree says so); ``managedFields`` are not kept (the tree needs none).
A kind the operator may not list or watch across the cluster (403) is reported by
``serves`` as not served: ``LiveTree`` then lists it per namespace on its period,
as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping

from gitops_tui.engine.cache.discovery import ApiResource, Discovery
from gitops_tui.engine.cache.kind_watch import KindWatch
from gitops_tui.engine.cache.kubeclient import KubeClient
from gitops_tui.engine.cache.live_cache import LiveCache
from gitops_tui.engine.model import Manifest, ResourceKey

log = logging.getLogger(__name__)

MAX_OBJECTS = 50_000

Kind = tuple[str, str]  # (group, kind)


class _FixedKinds(Discovery):
    """The built-in kinds the tree reads: their URLs are known, no discovery request."""

    def __init__(self, client: KubeClient, kinds: Mapping[Kind, tuple[str, str]]) -> None:
        super().__init__(client)
        self._fixed = {
            (group, kind): ApiResource(
                group=group,
                version=prefix.rsplit("/", 1)[-1],
                kind=kind,
                plural=plural,
                namespaced=True,
                verbs=frozenset({"list", "watch", "get"}),
            )
            for (group, kind), (prefix, plural) in kinds.items()
        }

    def lookup(self, group: str, kind: str) -> ApiResource | None:
        return self._fixed.get((group, kind))


class _TreeCache(LiveCache):
    """A ``LiveCache`` that keeps only what the tree reads, and at most ``MAX_OBJECTS``."""

    def __init__(self, client: KubeClient, discovery: Discovery) -> None:
        super().__init__(client, discovery)
        self.left_out = 0

    def _apply_event(self, key: ResourceKey, obj: Manifest | None) -> None:
        if obj is not None:
            with self._lock:
                watched = (key.group, key.kind) in self._watches
                full = key not in self._objects and len(self._objects) >= MAX_OBJECTS
            if not watched:
                obj = None  # a late event of a watch just stopped
            elif full:
                self.left_out += 1
                obj = None
            else:
                meta = obj.get("metadata")
                if isinstance(meta, dict):
                    meta.pop("managedFields", None)
        super()._apply_event(key, obj)

    def unwatch(self, kinds: Iterable[Kind]) -> None:
        """Stop the watches of ``kinds`` and drop their objects."""
        closed: list[KindWatch] = []
        with self._lock:
            for kind in kinds:
                self._wanted.discard(kind)
                watch = self._watches.pop(kind, None)
                if watch is not None:
                    closed.append(watch)
            gone = {kind for kind in kinds}
            dropped = [k for k in self._objects if (k.group, k.kind) in gone]
        for watch in closed:
            watch.stop()
        for key in dropped:
            self._apply_event(key, None)

    def watched(self) -> set[Kind]:
        with self._lock:
            return set(self._watches)


class TreeWatches:
    """The shared watches: ``want`` says which kinds (and namespaces) any app needs now."""

    def __init__(
        self,
        client: KubeClient,
        kinds: Mapping[Kind, tuple[str, str]],
        on_change: Callable[[], None],
    ) -> None:
        self._cache = _TreeCache(client, _FixedKinds(client, kinds))
        self._on_change = on_change
        self._namespaces: frozenset[str] = frozenset()
        self._cache.add_listener(self._changed)
        self._lock = threading.Lock()

    def _changed(self, key: ResourceKey, old: Manifest | None, new: Manifest | None) -> None:
        # a change in a namespace no app looks at wakes nobody; the empty key is the
        # server going away or coming back
        if not key.kind or key.namespace in self._namespaces:
            self._on_change()

    def want(self, kinds: set[Kind], namespaces: Iterable[str]) -> None:
        """Watch exactly ``kinds`` from now on (new ones start, unneeded ones stop)."""
        with self._lock:
            self._namespaces = frozenset(namespaces)
            current = self._cache.watched()
            if current - kinds:
                self._cache.unwatch(current - kinds)
            if kinds - current:
                self._cache.watch_kinds(sorted(kinds - current), wait=0.0)

    def serves(self, group: str, kind: str) -> bool:
        """Whether the kind's watch is listed and healthy (its objects can be read here)."""
        return self._cache.is_watched(group, kind)

    def watched(self) -> set[Kind]:
        return self._cache.watched()

    def get(self, key: ResourceKey) -> Manifest | None:
        return self._cache.get(key)

    def children_of(self, uid: str) -> list[Manifest]:
        return self._cache.children_of(uid)

    @property
    def left_out(self) -> int:
        return self._cache.left_out

    def close(self) -> None:
        self._cache.stop()
        for kind in self._cache.watched():
            watch = self._cache._watches.get(kind)
            if watch is not None:
                watch.stop()
