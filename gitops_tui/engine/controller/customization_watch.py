"""The resource customizations in force: the cluster's ``argocd-cm``, watched live, under the
config file's keys and the ``healthChecks`` directories (later sources win).

The engine feeds every live ConfigMap change here; when ``argocd-cm`` in the
configured namespace of the default context changes, the merged customizations
are re-installed for ``resource_health`` and the engine recompares its apps (the
fingerprint is part of each app's compare signature). No restart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from gitops_tui.engine.cache.cluster import ClusterConnection
from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.health.customizations import (
    EMPTY,
    Customizations,
    install,
    layered,
    parse_keys,
)
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.textsafe import printable

log = logging.getLogger(__name__)

ARGOCD_CM = "argocd-cm"


class CustomizationSources:
    """Holds the sources, installs their merge, and tells the engine when it changed."""

    def __init__(
        self,
        static: Customizations,
        *,
        namespace: str,
        read_cluster: bool,
        default_context: Callable[[], str | None],
    ) -> None:
        self.static = static
        self.namespace = namespace
        self.read_cluster = read_cluster
        self._default_context = default_context
        self._cluster = EMPTY
        self._seeded: set[str] = set()
        self._lock = threading.Lock()
        install(self.current())

    @property
    def key(self) -> ResourceKey:
        return ResourceKey("", "ConfigMap", self.namespace, ARGOCD_CM)

    def current(self) -> Customizations:
        return layered([self._cluster, self.static])

    @property
    def fingerprint(self) -> str:
        return self.current().fingerprint

    def observe(self, conn_name: str, key: ResourceKey, new: Manifest | None) -> bool:
        """A live change; True when it changed the customizations in force."""
        if not self.read_cluster or key != self.key or conn_name != self._default_context():
            return False
        return self._set(new)

    def seed(self, conn: ClusterConnection) -> bool:
        """Read ``argocd-cm`` once per connection of the default context (GET or cache)."""
        if not self.read_cluster or conn.name != self._default_context():
            return False
        with self._lock:
            if conn.name in self._seeded:
                return False
            self._seeded.add(conn.name)
        # argocd-cm stays watched even when ConfigMaps are excluded (as Argo CD reads its
        # own settings apart from the cluster cache)
        conn.cache.pinned = frozenset({self.key})
        conn.refilter()
        try:
            obj = conn.live(self.key)
        except KubeApiError as exc:  # no such namespace, forbidden: no customizations
            log.info("argocd-cm not read from %s: %s", conn.name, exc)
            return False
        return self._set(obj)

    def _set(self, obj: Manifest | None) -> bool:
        data = (obj or {}).get("data") or {}
        origin = f"argocd-cm {self.namespace}/{ARGOCD_CM}"
        parsed = parse_keys(data if isinstance(data, dict) else {}, origin)
        with self._lock:
            if parsed.fingerprint == self._cluster.fingerprint:
                return False
            self._cluster = parsed
            install(self.current())
        for problem in parsed.problems:
            log.warning("%s", printable(problem))
        return True

    def close(self) -> None:
        install(EMPTY)
