"""The engine's links to its clusters: connections started on demand, the reason a
cluster could not be reached, and live changes routed to the apps they affect."""

from __future__ import annotations

import threading
from collections.abc import Callable

from gitops_tui.engine.app.application import Application
from gitops_tui.engine.cache.cluster import ClusterConnection
from gitops_tui.engine.cache.destinations import ClusterRegistry, DestinationError
from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.cache.live_cache import owner_chain_root
from gitops_tui.engine.cache.tracking import TrackingMethod, claimed_app
from gitops_tui.engine.controller.customization_watch import CustomizationSources
from gitops_tui.engine.controller.state import AppState, AppTable
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.redact import redact_text

CLUSTER_RETRY_S = 5.0

Schedule = Callable[[str], None]


class ClusterLinks:
    """Which contexts are connected and listened to, and which failed (and why)."""

    def __init__(
        self,
        clusters: ClusterRegistry,
        table: AppTable,
        schedule: Schedule,
        stopped: threading.Event,
        *,
        tracking: TrackingMethod,
        watch: bool,
        customizations: CustomizationSources | None = None,
    ) -> None:
        self.clusters = clusters
        self._custom = customizations
        self._table = table
        self._schedule = schedule
        self._stopped = stopped
        self._tracking = tracking
        self._watch = watch
        self.lock = threading.Lock()
        self.errors: dict[str, str] = {}
        self.ready: set[str] = set()

    def connection_for(self, state: AppState) -> ClusterConnection | None:
        """The started connection to the app's destination; None (the reason kept on
        the state or in ``errors``, a retry scheduled) if there is none now."""
        app = state.app
        assert isinstance(app, Application)
        try:
            resolved = self.clusters.resolve(app.destination)
        except DestinationError as exc:
            state.destination_error = str(exc)
            return None
        state.destination_error = None
        state.context = resolved.context
        conn = self.clusters.connection(resolved.context)
        if resolved.context in self.ready:
            return conn
        with self.lock:
            if resolved.context in self.ready:
                return conn
            try:
                conn.start(watch=self._watch)
            except KubeApiError as exc:
                self.errors[resolved.context] = redact_text(str(exc))
                threading.Timer(CLUSTER_RETRY_S, self._retry, args=(resolved.context,)).start()
                return None
            self.errors.pop(resolved.context, None)
            self.ready.add(resolved.context)
            conn.cache.add_listener(self._live_listener(conn))
        return conn

    def listen(self, conn: ClusterConnection) -> None:
        """Route ``conn``'s live changes to the apps (once per context)."""
        with self.lock:
            if conn.name not in self.ready:
                self.ready.add(conn.name)
                conn.cache.add_listener(self._live_listener(conn))

    def connected(self, context: str | None) -> ClusterConnection | None:
        """The connection of ``context`` if it was started (no network)."""
        return self.clusters.connection(context) if context in self.ready else None

    def context_of(self, state: AppState) -> str | None:
        """The kubeconfig context the app's destination means now (no network)."""
        if not isinstance(state.app, Application):
            return state.context
        try:
            return self.clusters.resolve(state.app.destination).context
        except DestinationError:
            return state.context

    def forget(self, contexts: set[str]) -> None:
        """The kubeconfig entries of ``contexts`` changed: connect them afresh."""
        with self.lock:
            self.ready -= contexts
            for context in contexts:
                self.errors.pop(context, None)

    def seed_customizations(self, conn: ClusterConnection) -> None:
        """Read ``argocd-cm`` of ``conn`` once; apps compared before it must recompare."""
        if self._custom is not None and self._custom.seed(conn):
            self._customizations_changed()

    @property
    def customizations_fingerprint(self) -> str:
        """Changes when the customizations in force change (part of a compare's signature)."""
        return self._custom.fingerprint if self._custom is not None else ""

    def _customizations_changed(self) -> None:
        """argocd-cm changed: watches follow the resource filter, every app is judged anew."""
        for conn in self.clusters.connections():
            if conn.name in self.ready:
                conn.refilter()
        self._schedule_all()

    def _schedule_all(self) -> None:
        for name in list(self._table.states):
            self._schedule(name)

    def _retry(self, context: str) -> None:
        if self._stopped.is_set():
            return
        for name, state in list(self._table.states.items()):
            if state.context == context or state.context is None:
                self._schedule(name)

    def _live_listener(
        self, conn: ClusterConnection
    ) -> Callable[[ResourceKey, Manifest | None, Manifest | None], None]:
        def on_change(key: ResourceKey, old: Manifest | None, new: Manifest | None) -> None:
            if self._custom is not None and self._custom.observe(conn.name, key, new):
                self._customizations_changed()
            if not key.kind:  # reachability changed
                for name, state in list(self._table.states.items()):
                    if state.context == conn.name:
                        self._schedule(name)
                return
            affected: set[str] = set()
            for obj in (old, new):
                if obj is None:
                    continue
                root = (
                    owner_chain_root(conn.cache, obj)
                    if (obj.get("metadata") or {}).get("ownerReferences")
                    else obj
                )
                owner = claimed_app(root, self._tracking)
                if owner:
                    affected.add(owner)
            affected |= self._table.wanting(conn.name, key)
            # a one-shot compare's own listing: that compare reads it, no second one
            affected.discard(conn.cache.listing_for() or "")
            for name in affected:
                self._schedule(name)

        return on_change
