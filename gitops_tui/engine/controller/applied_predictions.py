"""A sync's cluster calls, keeping each real server-side apply's answer as a prediction.

The response of a server-side apply *is* what applying the same object to the
object it returned produces (applying it again changes nothing), so it is put in
the :class:`PredictionCache` under the returned object's signature: the compare
after the sync finds it and sends no dry run for every object nothing else
touched since. Dry runs, replaces and deletes pass through unchanged.
"""

from __future__ import annotations

from gitops_tui.engine.cache.cluster import ClusterConnection
from gitops_tui.engine.cache.discovery import ApiResource
from gitops_tui.engine.cache.kubeclient import KubeTarget
from gitops_tui.engine.diff.compare import PredictionCache, remember_applied
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.sync.kubeops import CacheOps, DiscoveryOps, KubeOps


class RememberingOps:
    """:class:`KubeOps` over ``conn`` that remembers real server-side apply responses."""

    def __init__(self, conn: ClusterConnection, predictions: PredictionCache) -> None:
        self._conn = conn
        self._predictions = predictions

    @property
    def target(self) -> KubeTarget:
        return self._conn.target

    @property
    def discovery(self) -> DiscoveryOps:
        return self._conn.discovery

    @property
    def cache(self) -> CacheOps:
        return self._conn.cache

    def excludes(self, group: str, kind: str) -> bool:
        return self._conn.excludes(group, kind)

    def resource(self, group: str, kind: str) -> ApiResource:
        return self._conn.resource(group, kind)

    def live(self, key: ResourceKey) -> Manifest | None:
        return self._conn.live(key)

    def get(self, key: ResourceKey) -> Manifest | None:
        return self._conn.get(key)

    def apply(
        self,
        obj: Manifest,
        *,
        dry_run: bool = False,
        force: bool = False,
        field_validation: str | None = None,
    ) -> Manifest:
        result = self._conn.apply(
            obj, dry_run=dry_run, force=force, field_validation=field_validation
        )
        if not dry_run:
            remember_applied(self._predictions, self._conn, obj, result)
        return result

    def replace(self, obj: Manifest, *, dry_run: bool = False) -> Manifest:
        return self._conn.replace(obj, dry_run=dry_run)

    def delete(
        self,
        key: ResourceKey,
        *,
        propagation: str = "Foreground",
        dry_run: bool = False,
        uid: str | None = None,
    ) -> bool:
        return self._conn.delete(key, propagation=propagation, dry_run=dry_run, uid=uid)


def remembering(conn: ClusterConnection, predictions: PredictionCache | None) -> KubeOps:
    """``conn`` itself without a cache, else a :class:`RememberingOps` over it."""
    return conn if predictions is None else RememberingOps(conn, predictions)
