"""Never two engines on one app: an app an Argo CD controller is reconciling is left to it.

Which ``Application`` object stands for an app: with ``--from-cluster NS`` the app *is*
the Application ``NS/<name>``; an app read from files stands for the Application of the
same name in Argo CD's namespace (``argocdNamespace``, default ``argocd``). Both are
looked for in the cluster of the default kubeconfig context (where ``--from-cluster``
and ``argocd-cm`` are read too).

"Being reconciled" means Argo CD's controller touched the object recently (within
``window_s``, default 10 minutes; its default resync is 2-3 minutes). The evidence,
the freshest wins:

- ``status.reconciledAt``: written with the controller's clock;
- the ``managedFields`` time of the controller's last write: the API server's clock;
- a change of ``reconciledAt`` seen by our watch: our monotonic clock.

Ages are measured against the API server's time (``KubeClient.server_now``, from the
responses' ``Date`` header), never our clock alone, so a skewed workstation clock
neither hides nor invents a controller. A timestamp ahead of the server counts as now.

Then the app carries a ``ManagedByArgoCD`` condition, automated sync leaves it alone,
and sync, rollback and resource actions refuse it (a fresh GET at the moment of the
request decides) unless the operator forces it (``--force-local``, or the typed
confirmation in the console's sync dialog). Dry runs and previews are allowed.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from gitops_tui.engine.api import EngineError
from gitops_tui.engine.cache.cluster import ClusterConnection
from gitops_tui.engine.cache.kubeclient import KubeApiError, path_segment
from gitops_tui.engine.controller.cluster_links import ClusterLinks
from gitops_tui.engine.controller.state import AppState, AppTable
from gitops_tui.engine.model import APPLICATION_GROUP, APPLICATION_KIND, Manifest, ResourceKey
from gitops_tui.engine.textsafe import printable

log = logging.getLogger(__name__)

DEFAULT_WINDOW_S = 600.0
RECHECK_S = 15.0  # how often verdicts age out (besides every Application event)

# field managers of Argo CD's application controller (user-agent derived, and the one
# its server-side apply uses)
CONTROLLER_MANAGERS = frozenset({"argocd-application-controller", "argocd-controller"})


@dataclass(frozen=True)
class ArgoCDReconciler:
    """An Argo CD controller reconciles the app's Application object."""

    namespace: str
    name: str
    context: str
    reconciled_at: float  # epoch seconds (server clock) of the freshest evidence

    def message(self) -> str:
        when = dt.datetime.fromtimestamp(self.reconciled_at, dt.UTC).strftime("%H:%M:%S UTC")
        return printable(
            f"Argo CD reconciles this app (Application {self.namespace}/{self.name} on "
            f"{self.context}, last at {when}): open it with `gitops-tui --argocd "
            f"{self.namespace}`; local sync is refused unless forced (--force-local)"
        )


def parse_time(value: Any) -> float | None:
    """An RFC 3339 timestamp as epoch seconds; None if absent or malformed."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def reconcile_times(app: Manifest) -> list[float]:
    """Every trace of Argo CD's controller on the Application object (epoch seconds)."""
    times: list[float] = []
    status = app.get("status")
    if isinstance(status, dict):
        at = parse_time(status.get("reconciledAt"))
        if at is not None:
            times.append(at)
    meta = app.get("metadata")
    fields = meta.get("managedFields") if isinstance(meta, dict) else None
    for entry in fields if isinstance(fields, list) else []:
        if isinstance(entry, dict) and entry.get("manager") in CONTROLLER_MANAGERS:
            at = parse_time(entry.get("time"))
            if at is not None:
                times.append(at)
    return times


def last_reconcile(
    times: Iterable[float], server_now: float, window_s: float, *, seen_ago: float | None = None
) -> float | None:
    """The time of the freshest reconcile if it lies within ``window_s`` of the server's
    ``server_now``, else None. A time ahead of the server (a skewed controller clock)
    counts as now; ``seen_ago``: seconds since our watch saw ``reconciledAt`` change."""
    fresh = [min(t, server_now) for t in times]
    if seen_ago is not None:
        fresh.append(server_now - max(0.0, seen_ago))
    if not fresh:
        return None
    latest = max(fresh)
    return latest if server_now - latest <= window_s else None


def application_path(namespace: str, name: str) -> str:
    """The API path of an Application (v1alpha1 is Argo CD's only version)."""
    return (
        f"/apis/{APPLICATION_GROUP}/v1alpha1/namespaces/"
        f"{path_segment('namespace', namespace)}/applications/{path_segment('name', name)}"
    )


class ArgoCDGuard:
    """Decides, shows and enforces which apps an Argo CD controller is reconciling."""

    def __init__(
        self,
        links: ClusterLinks,
        table: AppTable,
        refresh: Callable[[AppState], None],
        stopped: threading.Event,
        *,
        namespace: str,
        window_s: float = DEFAULT_WINDOW_S,
        watch: bool = True,
    ) -> None:
        self._links = links
        self._table = table
        self._refresh = refresh  # rebuild and publish an app's snapshot
        self._stopped = stopped
        self._namespace = namespace
        self._window_s = window_s
        self._watch = watch
        self._conn: ClusterConnection | None = None
        self._seen: dict[ResourceKey, tuple[str, float]] = {}  # reconciledAt, when it changed
        self.read = threading.Event()  # the first look is done (or given up)

    def application_key(self, state: AppState) -> ResourceKey:
        """The Application object that stands for the app (see the module's docstring)."""
        origin = state.app.origin
        namespace = origin.removeprefix("cluster:") if origin.startswith("cluster:") else ""
        return ResourceKey(
            APPLICATION_GROUP, APPLICATION_KIND, namespace or self._namespace, state.app.name
        )

    # ------------------------------------------------------------------ enforcing
    def refuse(self, action: str, name: str, *, forced: bool) -> None:
        """EngineError when an Argo CD controller reconciles ``name`` (one fresh GET)."""
        with self._table.lock:
            state = self._table.states.get(name)
        if state is None:
            return
        found = self.check_now(state)
        if found is None:
            return
        if forced:
            log.warning("%s of %s forced although Argo CD reconciles it", action, name)
            return
        raise EngineError(
            f"{action} of {name} refused: Argo CD reconciles it (Application "
            f"{found.namespace}/{found.name} on {found.context}, within the last "
            f"{self._window_s / 60:g} min); two engines would fight over its objects. "
            f"Open it with `gitops-tui --argocd {found.namespace}`, or force the local "
            "sync with --force-local (the console's sync dialog asks for the app's name)"
        )

    def check_now(self, state: AppState) -> ArgoCDReconciler | None:
        """The verdict from a fresh GET of the Application (server time from the same
        response). Unreachable or forbidden: None (the operation fails or goes on by itself)."""
        context = self._links.clusters.default_context
        if context is None:
            return None
        conn = self._links.clusters.connection(context)
        key = self.application_key(state)
        try:
            obj = conn.client.request("GET", application_path(key.namespace, key.name))
        except KubeApiError as exc:
            if exc.status not in (0, 404):
                log.warning("cannot read Application %s/%s: %s", key.namespace, key.name, exc)
            return None
        if not isinstance(obj, dict):
            return None
        return self._verdict(key, obj, context, conn.client.server_now())

    def _verdict(
        self, key: ResourceKey, obj: Manifest, context: str, server_now: float
    ) -> ArgoCDReconciler | None:
        seen = self._seen.get(key)
        seen_ago = time.monotonic() - seen[1] if seen is not None else None
        at = last_reconcile(reconcile_times(obj), server_now, self._window_s, seen_ago=seen_ago)
        if at is None:
            return None
        return ArgoCDReconciler(key.namespace, key.name, context, at)

    # ------------------------------------------------------------------ showing
    def run(self) -> None:
        """The guard's thread: follow the Applications and keep each app's verdict."""
        try:
            self._conn = self._connect()
        finally:
            if self._conn is not None:
                self.evaluate()
            self.read.set()
        if self._conn is None or not self._watch:
            return
        while not self._stopped.wait(RECHECK_S):
            self.evaluate()

    def _connect(self) -> ClusterConnection | None:
        clusters = self._links.clusters
        context = clusters.default_context
        if context is None:
            return None
        conn = clusters.connection(context)
        try:
            conn.start(watch=self._watch)
            if conn.discovery.lookup(APPLICATION_GROUP, APPLICATION_KIND) is None:
                return None  # no Argo CD here (a sync still asks the server afresh)
            if self._watch:
                conn.cache.watch_kinds([(APPLICATION_GROUP, APPLICATION_KIND)])
                conn.cache.add_listener(self._on_change)
            else:
                namespaces = {self.application_key(s).namespace for s in self._states()}
                for namespace in sorted(namespaces):
                    conn.cache.load_namespace([(APPLICATION_GROUP, APPLICATION_KIND)], namespace)
        except Exception as exc:  # KubeApiError, a broken kubeconfig entry: nothing to show
            log.info("cannot look for Argo CD's Applications: %s", exc)
            return None
        return conn

    def _states(self) -> list[AppState]:
        with self._table.lock:
            return list(self._table.states.values())

    def _on_change(self, key: ResourceKey, old: Manifest | None, new: Manifest | None) -> None:
        if key.group != APPLICATION_GROUP or key.kind != APPLICATION_KIND:
            return
        before = _reconciled_at(old)
        after = _reconciled_at(new)
        if old is not None and new is not None and after and after != before:
            self._seen[key] = (after, time.monotonic())
        with self._table.lock:
            state = self._table.states.get(key.name)
        if state is not None and self.application_key(state) == key:
            self._evaluate_one(state)

    def evaluate(self) -> None:
        """Recompute every app's verdict from the cache; publish those that changed."""
        for state in self._states():
            self._evaluate_one(state)

    def _evaluate_one(self, state: AppState) -> None:
        conn = self._conn
        if conn is None:
            return
        key = self.application_key(state)
        obj = conn.cache.get(key)
        verdict = (
            self._verdict(key, obj, conn.name, conn.client.server_now())
            if obj is not None
            else None
        )
        with self._table.lock:
            if verdict == state.argocd:
                return
            state.argocd = verdict
        self._refresh(state)


def _reconciled_at(obj: Manifest | None) -> str:
    status = obj.get("status") if obj is not None else None
    return str(status.get("reconciledAt") or "") if isinstance(status, dict) else ""
