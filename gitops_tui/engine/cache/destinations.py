"""Which cluster an app's destination means, and one connection per cluster.

``destination.name`` is a kubeconfig context; ``destination.server`` matches a
kubeconfig cluster's server URL; ``https://kubernetes.default.svc`` (Argo CD's
in-cluster address) means the current (or ``--context``) context.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gitops_tui.engine.app.application import Destination
from gitops_tui.engine.cache.cluster import ClusterConnection
from gitops_tui.engine.cache.kubeclient import (
    ContextInfo,
    KubeTarget,
    context_fingerprints,
    kubeconfig_files,
    list_contexts,
)
from gitops_tui.engine.cache.tracking import TrackingMethod
from gitops_tui.engine.errors import GitOpsError
from gitops_tui.engine.snapshot import IN_CLUSTER


class DestinationError(GitOpsError):
    """A destination that matches no kubeconfig entry."""

    title = "Unknown destination"


@dataclass(frozen=True, slots=True)
class ResolvedDestination:
    context: str
    server: str


class ClusterRegistry:
    """Kubeconfig contexts and lazily created connections, one per context."""

    def __init__(
        self,
        kubeconfig: Path | None,
        context: str | None,
        *,
        tracking: TrackingMethod = "annotation",
        read_only: Callable[[str], bool] = lambda _context: False,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.tracking: TrackingMethod = tracking
        self._read_only = read_only  # context -> its connection refuses every write
        self._contexts, current = list_contexts(kubeconfig)
        self._fingerprints = context_fingerprints(kubeconfig)
        self.default_context = context or current
        self._connections: dict[str, ClusterConnection] = {}
        self._lock = threading.Lock()

    @property
    def files(self) -> list[Path]:
        """The kubeconfig files read (watched for changes)."""
        return kubeconfig_files(self.kubeconfig)

    def reload(self) -> set[str]:
        """Re-read the kubeconfig; close the connections of contexts whose entry changed
        (address, credentials, or gone). Returns the changed contexts' names."""
        contexts, _current = list_contexts(self.kubeconfig)
        prints = context_fingerprints(self.kubeconfig)
        with self._lock:
            changed = {
                name
                for name in set(prints) | set(self._fingerprints)
                if prints.get(name) != self._fingerprints.get(name)
            }
            self._contexts, self._fingerprints = contexts, prints
            dropped = [self._connections.pop(n) for n in changed if n in self._connections]
        for conn in dropped:
            conn.close()
        return changed

    @property
    def contexts(self) -> list[ContextInfo]:
        return list(self._contexts)

    def set_default_context(self, name: str) -> None:
        if name not in {c.name for c in self._contexts}:
            raise DestinationError(f"no context {name!r} in the kubeconfig")
        self.default_context = name

    def resolve(self, dest: Destination) -> ResolvedDestination:
        by_name = {c.name: c for c in self._contexts}
        if dest.name:
            found = by_name.get(dest.name)
            if found is None:
                raise DestinationError(
                    f"destination.name {dest.name!r} matches no kubeconfig context "
                    f"(known: {', '.join(sorted(by_name)) or 'none'})"
                )
            return ResolvedDestination(found.name, found.server)
        server = dest.server.rstrip("/")
        if server == IN_CLUSTER or not server:
            if not self.default_context or self.default_context not in by_name:
                raise DestinationError(
                    "no current kubeconfig context for the in-cluster destination"
                )
            ctx = by_name[self.default_context]
            return ResolvedDestination(ctx.name, ctx.server)
        # prefer the default context when it points at that server
        candidates = [c for c in self._contexts if c.server.rstrip("/") == server]
        if not candidates:
            raise DestinationError(
                f"destination.server {dest.server!r} matches no kubeconfig cluster"
            )
        preferred = [c for c in candidates if c.name == self.default_context]
        ctx = (preferred or candidates)[0]
        return ResolvedDestination(ctx.name, ctx.server)

    def connection(self, context: str) -> ClusterConnection:
        with self._lock:
            conn = self._connections.get(context)
            if conn is None:
                target = KubeTarget(self.kubeconfig, context, read_only=self._read_only(context))
                conn = ClusterConnection(context, target, tracking=self.tracking)
                conn.in_cluster = lambda: self.default_context == context
                self._connections[context] = conn
            return conn

    def connections(self) -> list[ClusterConnection]:
        with self._lock:
            return list(self._connections.values())

    def close(self) -> None:
        for conn in self.connections():
            conn.close()
