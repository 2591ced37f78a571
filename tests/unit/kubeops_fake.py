"""An in-memory ``KubeOps`` (``gitops_tui/engine/sync/kubeops.py``) for fast tests of the sync
state machine: OUR logic (order of waves, hooks, prunes, waits, cancel), not the server's.

Like gitops-engine's ``kubetest`` mock it records every write and answers with what the
test set up; it decides nothing a server would decide beyond that: no defaulting, no
validation, no status, no controllers, no finalizers. Objects get a uid when first
written (a hook's uid is needed to recognise it) and a real write keeps the status the
test gave the object; a delete removes at once. Errors are injected per
(verb, key, dry run); ``on_write`` lets a test play a controller (e.g. mark a hook Pod
Succeeded). Thread-safe: the sync applies in parallel.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gitops_tui.engine.cache.cluster import UnknownKindError
from gitops_tui.engine.cache.discovery import ApiResource
from gitops_tui.engine.cache.kubeclient import KubeApiError, KubeTarget
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.sync.kubeops import KubeOps

VERBS = frozenset({"get", "list", "create", "update", "patch", "delete"})

DEFAULT_KINDS: tuple[ApiResource, ...] = (
    ApiResource("", "v1", "Namespace", "namespaces", False, VERBS),
    ApiResource("", "v1", "ConfigMap", "configmaps", True, VERBS),
    ApiResource("", "v1", "Secret", "secrets", True, VERBS),
    ApiResource("", "v1", "Pod", "pods", True, VERBS),
    ApiResource("batch", "v1", "Job", "jobs", True, VERBS),
)


@dataclass(frozen=True)
class Write:
    """One mutating call as the sync made it."""

    verb: str  # "apply" | "replace" | "delete"
    key: ResourceKey
    dry_run: bool
    uid: str | None = None  # delete: the uid precondition sent
    propagation: str | None = None  # delete


class FakeDiscovery:
    def __init__(self, kinds: Iterable[ApiResource]) -> None:
        self._by_kind = {(r.group, r.kind): r for r in kinds}
        self.refreshes = 0

    def refresh(self) -> None:
        self.refreshes += 1

    def lookup(self, group: str, kind: str) -> ApiResource | None:
        return self._by_kind.get((group, kind))

    def add(self, resource: ApiResource) -> None:
        self._by_kind[(resource.group, resource.kind)] = resource


class FakeKube:
    """``KubeOps`` over a dict of objects; see the module docstring."""

    def __init__(self, kinds: Iterable[ApiResource] = DEFAULT_KINDS) -> None:
        self.target = KubeTarget(kubeconfig=None, context="fake")
        self.discovery = FakeDiscovery(kinds)
        self.cache = self
        self.objects: dict[ResourceKey, Manifest] = {}
        self.writes: list[Write] = []
        self.errors: dict[tuple[str, ResourceKey, bool], KubeApiError] = {}
        self.on_write: Callable[[Write, Manifest | None], None] | None = None
        self.excluded_kinds: set[tuple[str, str]] = set()  # resource.exclusions
        self._uids = itertools.count(1)
        self._changed = threading.Condition()

    # -- test setup and inspection ------------------------------------------
    def add(self, obj: Manifest) -> Manifest:
        """Put a live object in place (a uid is given when it has none)."""
        stored = copy.deepcopy(obj)
        meta = stored.setdefault("metadata", {})
        meta.setdefault("uid", f"uid-{next(self._uids)}")
        with self._changed:
            self.objects[ResourceKey.of(stored)] = stored
            self._changed.notify_all()
        return copy.deepcopy(stored)

    def remove(self, key: ResourceKey) -> None:
        """Take a live object away (someone else deleted it)."""
        with self._changed:
            self.objects.pop(key, None)
            self._changed.notify_all()

    def set_status(self, key: ResourceKey, status: Manifest) -> None:
        with self._changed:
            self.objects[key]["status"] = copy.deepcopy(status)
            self._changed.notify_all()

    def fail(self, verb: str, key: ResourceKey, *, dry_run: bool, error: KubeApiError) -> None:
        """The next and every later ``verb`` of ``key`` (dry run or not) raises ``error``."""
        self.errors[(verb, key, dry_run)] = error

    def real_writes(self, verb: str | None = None) -> list[Write]:
        with self._changed:
            return [w for w in self.writes if not w.dry_run and verb in (None, w.verb)]

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Block until ``predicate`` holds (checked after every change and call)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("the fake cluster never reached the awaited state")
                self._changed.wait(left)

    # -- KubeOps ----------------------------------------------------------------
    def excludes(self, group: str, kind: str) -> bool:
        return (group, kind) in self.excluded_kinds

    def upsert(self, obj: Manifest) -> None:  # the live cache of a client-side apply
        self.add(obj)

    def resource(self, group: str, kind: str) -> ApiResource:
        found = self.discovery.lookup(group, kind)
        if found is None:
            raise UnknownKindError(group, kind)
        return found

    def live(self, key: ResourceKey) -> Manifest | None:
        return self.get(key)

    def get(self, key: ResourceKey) -> Manifest | None:
        self.resource(key.group, key.kind)
        with self._changed:
            obj = self.objects.get(key)
            self._changed.notify_all()
            return copy.deepcopy(obj) if obj is not None else None

    def apply(
        self,
        obj: Manifest,
        *,
        dry_run: bool = False,
        force: bool = False,
        field_validation: str | None = None,
    ) -> Manifest:
        return self._write("apply", obj, dry_run)

    def replace(self, obj: Manifest, *, dry_run: bool = False) -> Manifest:
        return self._write("replace", obj, dry_run)

    def _write(self, verb: str, obj: Manifest, dry_run: bool) -> Manifest:
        key = ResourceKey.of(obj)
        write = Write(verb, key, dry_run)
        self._record(write)
        self.resource(key.group, key.kind)
        result = copy.deepcopy(obj)
        with self._changed:
            current = self.objects.get(key)
            meta = result.setdefault("metadata", {})
            if current is not None:
                meta["uid"] = current["metadata"]["uid"]
                if "status" in current:
                    result["status"] = copy.deepcopy(current["status"])
            elif not dry_run:
                meta["uid"] = f"uid-{next(self._uids)}"
            if not dry_run:
                self.objects[key] = copy.deepcopy(result)
            self._changed.notify_all()
        if not dry_run and self.on_write is not None:
            self.on_write(write, copy.deepcopy(result))
        return result

    def delete(
        self,
        key: ResourceKey,
        *,
        propagation: str = "Foreground",
        dry_run: bool = False,
        uid: str | None = None,
    ) -> bool:
        write = Write("delete", key, dry_run, uid=uid, propagation=propagation)
        self._record(write)
        self.resource(key.group, key.kind)
        with self._changed:
            current = self.objects.get(key)
            if current is None:
                return False
            live_uid = current["metadata"]["uid"]
            if uid and uid != live_uid:
                raise KubeApiError(
                    409,
                    "Conflict",
                    f"Precondition failed: UID in precondition: {uid}, "
                    f"UID in object meta: {live_uid}",
                )
            if not dry_run:
                del self.objects[key]
            self._changed.notify_all()
        if not dry_run and self.on_write is not None:
            self.on_write(write, None)
        return True

    def _record(self, write: Write) -> None:
        with self._changed:
            self.writes.append(write)
            self._changed.notify_all()
            error = self.errors.get((write.verb, write.key, write.dry_run))
        if error is not None:
            raise error


def _is_kubeops(fake: FakeKube) -> KubeOps:
    return fake  # mypy: the fake satisfies the same protocol as ClusterConnection
