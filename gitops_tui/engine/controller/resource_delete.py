"""Deleting one resource of an app from the console (``EngineAPI.delete_resource``).

A deletion touches only what this app provably owns, decided on a fresh read:

1. refused in read-only mode (the flag, the config file, or the app's context)
   before anything is read or sent;
2. the object is read fresh (one GET); it is this app's when its own tracking
   mark names this app and this very object (``tracked_app``, the rule prune
   uses), or when its owner references lead, owner by owner (each read fresh and
   its uid checked against the reference), to such an object within
   ``MAX_OWNER_DEPTH`` steps (a Pod of a ReplicaSet of the app's Deployment);
3. kinds whose deletion takes other objects along that this app does not
   provably own are refused: a Namespace (everything inside it; prune counts
   and names those first) and a CustomResourceDefinition (every object of its
   kind, in every namespace);
4. the DELETE carries the uid read in step 2 as a precondition (a namesake
   re-created meanwhile is never touched) and foreground propagation (its own
   dependents go first, as Argo CD's UI does by default);
5. the app is re-compared.

Nothing is written to the sync history (an entry there is a sync of a revision).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from gitops_tui.engine.cache.cluster import ClusterConnection
from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.cache.tracking import TrackingMethod, claimed_app, tracked_app
from gitops_tui.engine.controller.cluster_links import ClusterLinks
from gitops_tui.engine.controller.operations import Operations
from gitops_tui.engine.errors import EngineError
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.textsafe import printable

log = logging.getLogger(__name__)

MAX_OWNER_DEPTH = 5
"""Pod -> ReplicaSet -> Deployment is 2; Argo Rollouts, Jobs of CronJobs and the like stay
well within this."""

REFUSED_KINDS = {
    ("", "Namespace"): "deleting a Namespace deletes everything inside it, whoever manages it "
    "(prune lists and counts those first: use prune)",
    ("apiextensions.k8s.io", "CustomResourceDefinition"): "deleting a CustomResourceDefinition "
    "deletes every object of its kind in every namespace",
}


def _name(key: ResourceKey) -> str:
    where = f"{key.namespace}/{key.name}" if key.namespace else key.name
    return printable(f"{key.kind} {where}"[:200])


class ResourceDeleter:
    """Deletes one resource an app provably owns."""

    def __init__(
        self,
        operations: Operations,
        links: ClusterLinks,
        schedule: Callable[[str], None],
        tracking: TrackingMethod,
    ) -> None:
        self._operations = operations
        self._links = links
        self._schedule = schedule
        self._tracking = tracking

    def delete_resource(self, app: str, key: ResourceKey) -> str:
        """Delete ``key`` (blocking); what was done, in words. ``ReadOnlyError`` in
        read-only mode, ``EngineError`` when this app does not provably own it (nothing
        is sent then)."""
        self._operations.refuse_if_read_only(f"delete {key.kind[:64]}", app)
        refused = REFUSED_KINDS.get((key.group, key.kind))
        if refused is not None:
            raise EngineError(f"{_name(key)} is not deleted: {refused}")
        state = self._operations.require_app(app)
        conn = self._links.connection_for(state)
        if conn is None:
            raise EngineError(state.destination_error or f"the cluster of {app} is unreachable")
        live = self._read(conn, key)
        if live is None:
            raise EngineError(f"{_name(key)} of app {app} no longer exists")
        meta = live.get("metadata") or {}
        if meta.get("deletionTimestamp"):
            return f"{_name(key)} is already being deleted"
        self._prove_owned(conn, app, key, live)
        uid = str(meta.get("uid") or "")
        try:
            existed = conn.delete(key, propagation="Foreground", uid=uid or None)
        except KubeApiError as exc:
            if exc.status == 409:
                raise EngineError(
                    f"{_name(key)} was not deleted: it was re-created since it was read "
                    "(its uid changed); look again and retry"
                ) from None
            raise EngineError(f"cannot delete {_name(key)}: {exc}") from None
        log.info("deleted %s of app %s (uid %s)", _name(key), app, uid)
        self._schedule(app)
        return f"deleted {_name(key)}" if existed else f"{_name(key)} was already gone"

    def _read(self, conn: ClusterConnection, key: ResourceKey) -> Manifest | None:
        try:
            return conn.get(key)
        except KubeApiError as exc:
            raise EngineError(f"cannot read {_name(key)}: {exc}") from None

    def _prove_owned(
        self, conn: ClusterConnection, app: str, key: ResourceKey, live: Manifest
    ) -> None:
        """Return when ``live`` is ``app``'s (its own mark, or its owners'); else raise."""
        obj, obj_key = live, key
        for _ in range(MAX_OWNER_DEPTH + 1):
            if tracked_app(obj, self._tracking) == app:
                return
            refs = (obj.get("metadata") or {}).get("ownerReferences") or []
            if not refs:
                who = claimed_app(obj, self._tracking)
                if who == app:
                    owner = "its tracking mark names another object (a copy)"
                elif who:
                    owner = f"it is tracked by app {printable(who[:100])!r}"
                else:
                    owner = "it has no tracking mark"
                raise EngineError(
                    f"{_name(key)} is not deleted: app {app} does not own it "
                    f"({owner if obj is live else f'its owner {_name(obj_key)}: {owner}'})"
                )
            ref = next((r for r in refs if isinstance(r, dict) and r.get("controller")), refs[0])
            if not isinstance(ref, dict):
                break
            obj_key, obj = self._owner(conn, obj_key, ref, key)
        raise EngineError(
            f"{_name(key)} is not deleted: no owner within {MAX_OWNER_DEPTH} steps is "
            f"tracked by app {app}"
        )

    def _owner(
        self, conn: ClusterConnection, child: ResourceKey, ref: dict[str, object], key: ResourceKey
    ) -> tuple[ResourceKey, Manifest]:
        api_version = str(ref.get("apiVersion") or "")
        group = api_version.rpartition("/")[0] if "/" in api_version else ""
        kind, name, uid = str(ref.get("kind") or ""), str(ref.get("name") or ""), ref.get("uid")
        try:
            namespaced = conn.resource(group, kind).namespaced
        except KubeApiError as exc:
            raise EngineError(
                f"{_name(key)} is not deleted: its owner {kind} {name}: {exc}"
            ) from None
        owner_key = ResourceKey(group, kind, child.namespace if namespaced else "", name)
        owner = self._read(conn, owner_key)
        if owner is None or (owner.get("metadata") or {}).get("uid") != uid:
            raise EngineError(
                f"{_name(key)} is not deleted: its owner {_name(owner_key)} is gone "
                "(ownership cannot be proven)"
            )
        return owner_key, owner
