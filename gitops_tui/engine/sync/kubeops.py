"""The cluster calls a sync run makes, as a protocol (``KubeOps``).

``run.py``'s state machine (dry run, waves, hooks, prunes, health waits) talks to
the cluster only through these members, so it can be driven by an in-memory fake
in fast unit tests of our own logic (``tests/unit/kubeops_fake.py``) as well as by
the real ``ClusterConnection`` (which satisfies it: checked by mypy below). What the
server decides (defaulting, dry runs, conflicts, deletion) is tested against the
real control plane in ``tests/cluster``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from gitops_tui.engine.cache.discovery import ApiResource
from gitops_tui.engine.cache.kubeclient import KubeTarget
from gitops_tui.engine.model import Manifest, ResourceKey

if TYPE_CHECKING:
    from gitops_tui.engine.cache.cluster import ClusterConnection


class DiscoveryOps(Protocol):
    """The served kinds (the part the sync run reads while it waits for a new CRD)."""

    def refresh(self) -> None: ...

    def lookup(self, group: str, kind: str) -> ApiResource | None: ...


class CacheOps(Protocol):
    """The live cache (a client-side apply records its result in it)."""

    def upsert(self, obj: Manifest) -> None: ...


class KubeOps(Protocol):
    """Every cluster call a sync run makes.

    * ``resource``: the kind as served (raises ``UnknownKindError`` when it is not);
    * ``live``: the object as cached (or one GET); ``get``: always a fresh GET;
      both None when it does not exist;
    * ``apply`` (server-side) / ``replace`` (PUT, create when missing), a dry run
      when asked; each returns the server's result;
    * ``delete`` with a propagation policy and an optional uid precondition (a 409
      ``KubeApiError`` when the uid differs); False when it was already gone.
    """

    @property
    def target(self) -> KubeTarget: ...

    @property
    def discovery(self) -> DiscoveryOps: ...

    @property
    def cache(self) -> CacheOps: ...

    def resource(self, group: str, kind: str) -> ApiResource: ...

    def excludes(self, group: str, kind: str) -> bool: ...

    def live(self, key: ResourceKey) -> Manifest | None: ...

    def get(self, key: ResourceKey) -> Manifest | None: ...

    def apply(
        self,
        obj: Manifest,
        *,
        dry_run: bool = False,
        force: bool = False,
        field_validation: str | None = None,
    ) -> Manifest: ...

    def replace(self, obj: Manifest, *, dry_run: bool = False) -> Manifest: ...

    def delete(
        self,
        key: ResourceKey,
        *,
        propagation: str = "Foreground",
        dry_run: bool = False,
        uid: str | None = None,
    ) -> bool: ...


if TYPE_CHECKING:

    def _real_connection_is_kubeops(conn: ClusterConnection) -> KubeOps:
        return conn  # mypy: ClusterConnection satisfies KubeOps
