"""The engine: keeps every app compared as Git and the cluster change, and publishes snapshots.

Work per app runs on a thread pool, one job per app at a time (a request that
arrives while the app is being processed sets a flag and the job loops once
more), so bursts of watch events coalesce. Publications are batched (100 ms) and
go to subscribers from one publisher thread; nothing here ever waits on a
subscriber. Mutations (sync, prune, rollback, terminate) are refused in
read-only mode before anything reaches the cluster.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from gitops_tui.engine.api import (
    EngineError,
    HistoryEntry,
    SyncPreview,
    SyncRequest,
    Unsubscribe,
)
from gitops_tui.engine.app.application import (
    Application,
    InvalidApplication,
    load_application_files,
    parse_application,
)
from gitops_tui.engine.app.ignore_rules import IgnoreRule
from gitops_tui.engine.app.projects import (
    Project,
    app_violations,
    kind_permitted,
    project_from_object,
)
from gitops_tui.engine.cache.cluster import BASELINE_KINDS, ClusterConnection, owner_chain_root
from gitops_tui.engine.cache.destinations import ClusterRegistry, DestinationError
from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.cache.readonly import ReadOnlyPolicy
from gitops_tui.engine.cache.tracking import TrackingMethod, claimed_app
from gitops_tui.engine.controller.app_of_apps import (
    APPLICATION_GROUP,
    APPLICATION_KIND,
    ChildHealth,
    children_changed,
    parent_health,
    plan_children,
    split_children,
)
from gitops_tui.engine.controller.appfiles import group_by_name, watch_files
from gitops_tui.engine.controller.automation import Automation
from gitops_tui.engine.controller.customization_watch import CustomizationSources
from gitops_tui.engine.controller.resource_tree import resource_tree
from gitops_tui.engine.diff.compare import Comparison, PredictionCache, compare_app, prepare_desired
from gitops_tui.engine.diff.resource_diff import ResourceDiff, diff_resource
from gitops_tui.engine.errors import GitOpsError
from gitops_tui.engine.health.customizations import EMPTY as EMPTY_CUSTOMIZATIONS
from gitops_tui.engine.health.customizations import Customizations, system_ignore_rules
from gitops_tui.engine.health.customizations import active as active_customizations
from gitops_tui.engine.model import (
    Condition,
    ConditionType,
    HealthStatus,
    Manifest,
    ResourceKey,
    SyncStatus,
)
from gitops_tui.engine.redact import redact_text, redact_url
from gitops_tui.engine.snapshot import (
    AppSnapshot,
    ClusterState,
    Destination,
    FleetSnapshot,
    OperationPhase,
    OperationState,
    ResourceNode,
)
from gitops_tui.engine.source.limits import ManifestLimits
from gitops_tui.engine.source.render import RenderPolicy
from gitops_tui.engine.source.repo import RepoCache, RepoError
from gitops_tui.engine.source.sources import (
    Generated,
    ManifestCache,
    SourceError,
    generate,
    resolve_revisions,
    without_credentials,
)
from gitops_tui.engine.sync.history import HistoryStore
from gitops_tui.engine.sync.ownership import with_namespace_cascades
from gitops_tui.engine.sync.plan import SyncPlan, build_plan
from gitops_tui.engine.sync.takeover import with_takeovers

log = logging.getLogger(__name__)
logging.getLogger("watchfiles").setLevel(logging.WARNING)

PUBLISH_BATCH_S = 0.1
CLUSTER_RETRY_S = 5.0
AUTOMATION_PERIOD_S = 2.0
"""How often automated apps are re-checked besides after each compare (backoffs expire)."""


@dataclass(frozen=True)
class EngineOptions:
    app_paths: tuple[Path, ...] = ()
    kubeconfig: Path | None = None
    context: str | None = None
    read_only: bool = False
    read_only_contexts: frozenset[str] = frozenset()
    # where read-only came from (flag, config file); default: the two fields above
    read_only_policy: ReadOnlyPolicy | None = None
    from_cluster: str | None = None
    repo_poll_interval_s: float = 60.0
    tracking: TrackingMethod = "annotation"
    force_conflicts: bool = True
    """False (config ``forceConflicts: false``): syncs refuse field conflicts unless forced."""
    repo_cache_dir: Path | None = None
    history_path: Path | None = None
    watch_local_repos: bool = True
    workers: int = 4
    automation: bool = True
    wave_timeout_s: float = 300.0
    # one-shot commands: no cluster-wide watches (GETs and per-namespace lists, as
    # kubectl), and only the named apps are processed
    watch: bool = True
    only_apps: frozenset[str] | None = None
    render_policy: RenderPolicy = RenderPolicy()  # sourceRepos are filled in per app
    # Argo CD's opt-in health check of live Application objects (status.health)
    application_health: bool = False
    limits: ManifestLimits = ManifestLimits()  # objects and bytes of manifests per app
    # resource customizations (config file + healthChecks dirs) and where argocd-cm lives
    customizations: Customizations = EMPTY_CUSTOMIZATIONS
    argocd_namespace: str = "argocd"
    argocd_config_map: bool = True


@dataclass
class _AppState:
    """The engine's mutable record of one app (guarded by Engine._lock)."""

    app: Application | InvalidApplication
    generated: Generated | None = None
    source_error: SourceError | None = None
    desired: list[Manifest] = field(default_factory=list)
    unknown_kinds: list[str] = field(default_factory=list)
    comparison: Comparison | None = None
    context: str | None = None
    destination_error: str | None = None
    operation: OperationState | None = None
    last_sync: OperationState | None = None
    cancel: threading.Event | None = None
    snapshot: AppSnapshot | None = None
    # scheduling
    running: bool = False
    again: bool = False
    need_render: bool = True
    fetch: bool = True
    hard: bool = False
    compared_at: float = 0.0
    # App of Apps
    parent: str | None = None
    children: set[str] = field(default_factory=set)
    child_docs: list[Manifest] = field(default_factory=list)
    child_problems: list[str] = field(default_factory=list)
    children_restored: bool = False
    shown_child_health: dict[str, HealthStatus | None] = field(default_factory=dict)
    process_error: Condition | None = None
    compare_signature: str | None = None
    project_problems: list[str] = field(default_factory=list)
    refused_kinds: list[str] = field(default_factory=list)
    load_problems: list[Condition] = field(default_factory=list)


class Engine:
    """Implements ``EngineAPI``: load apps, compare continuously, sync on request."""

    def __init__(
        self,
        options: EngineOptions,
        *,
        apps: Iterable[Application | InvalidApplication] | None = None,
    ) -> None:
        self.options = options
        self._custom = CustomizationSources(
            options.customizations,
            namespace=options.argocd_namespace,
            read_cluster=options.argocd_config_map,
            default_context=lambda: self.clusters.default_context,
        )
        self.read_only_policy = options.read_only_policy or ReadOnlyPolicy(
            flag=options.read_only, contexts=options.read_only_contexts
        )
        self._read_only = self.read_only_policy.everywhere
        self._lock = threading.RLock()
        self._states: dict[str, _AppState] = {}
        self._subscribers: list[Callable[[FleetSnapshot], None]] = []
        self._generation = 0
        self._latest = FleetSnapshot.build(0, [], read_only=self._read_only)
        self._dirty = threading.Event()
        self._stopped = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=options.workers, thread_name_prefix="engine")
        self._dry_runs = ThreadPoolExecutor(max_workers=8, thread_name_prefix="dryrun")
        self._sync_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sync")
        self.repos = RepoCache(options.repo_cache_dir)
        self.manifests = ManifestCache()
        self.predictions = PredictionCache()
        self.clusters = ClusterRegistry(
            options.kubeconfig,
            options.context,
            tracking=options.tracking,
            read_only=self.read_only_policy.covers,
        )
        self.history_store = HistoryStore(options.history_path)
        self.automation = Automation()
        self._cluster_errors: dict[str, str] = {}
        self._cluster_ready: set[str] = set()
        self._cluster_lock = threading.Lock()
        self._desired_index: dict[tuple[str, ResourceKey], set[str]] = {}
        self._desired_by_app: dict[str, set[tuple[str, ResourceKey]]] = {}
        self._projects: dict[str, Project] = {}
        self._projects_known = False  # only with --from-cluster are AppProjects read
        self._cluster_apps_read = threading.Event()  # --from-cluster: first read done
        if not options.from_cluster:
            self._cluster_apps_read.set()
        self._threads: list[threading.Thread] = []
        loaded = list(apps) if apps is not None else load_application_files(list(options.app_paths))
        # a second definition of a name never replaces the first: it is reported on it
        first, problems = group_by_name(loaded)
        for name, app in first.items():
            self._states[name] = _AppState(app=app, load_problems=list(problems.get(name, [])))
        # apps read from --apps files (re-read when the files change, and on hard refresh)
        self._file_apps: set[str] = set(first) if apps is None else set()
        self.app_files_watched = threading.Event()  # set once the --apps watch is in place
        self._apps_changed = threading.Event()  # the local-repository watch starts over
        self.local_repos_watched = threading.Event()  # set while that watch is in place
        self.kubeconfig_watched = threading.Event()  # set once the kubeconfig watch is
        for state in self._states.values():
            state.last_sync = self._last_sync_from_history(state.app.name)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Engine:
        self._spawn(self._publisher, "publisher")
        self._spawn(self._poller, "git-poller")
        self._spawn(self._automation_loop, "automation")
        if self.options.watch_local_repos:
            self._spawn(self._local_repo_watcher, "git-watch")
        if self.options.from_cluster:
            self._spawn(self._cluster_apps_loader, "cluster-apps")
        if self.options.watch:
            self._spawn(
                lambda: watch_files(
                    self.clusters.files,
                    self.reload_kubeconfig,
                    self._stopped,
                    self.kubeconfig_watched,
                ),
                "kubeconfig",
            )
        if self.options.app_paths and self.options.watch:
            self._spawn(
                lambda: watch_files(
                    self.options.app_paths,
                    self.reload_app_files,
                    self._stopped,
                    self.app_files_watched,
                ),
                "app-files",
            )
        for name in list(self._states):
            self._schedule(name, render=True, fetch=True)
        self._mark_dirty()
        return self

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def close(self, *, wait_for_operations: bool = False) -> None:
        """Stop every thread and pool; running operations stop after their current step
        (``wait_for_operations``: return only then). Quiet: work cut short logs nothing."""
        self._stopped.set()
        self._dirty.set()
        self._custom.close()
        with self._lock:
            for state in self._states.values():
                if state.cancel is not None:
                    state.cancel.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._dry_runs.shutdown(wait=False, cancel_futures=True)
        self._sync_pool.shutdown(wait=wait_for_operations, cancel_futures=True)
        self.clusters.close()
        self.history_store.close()

    @property
    def read_only(self) -> bool:
        return self._read_only

    def wait_until_compared(
        self, timeout: float = 120.0, apps: Iterable[str] | None = None
    ) -> bool:
        """Block until every (named) app has been compared at least once since start."""
        deadline = time.monotonic() + timeout
        while self.uncompared(apps) or not self._cluster_apps_read.is_set():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def uncompared(self, apps: Iterable[str] | None = None) -> list[str]:
        """The (named, else processed) apps not compared yet, or being compared now;
        with --from-cluster, also named apps not read from the cluster yet."""
        only = self.options.only_apps
        names = set(apps) if apps is not None else (set(only) if only is not None else None)
        with self._lock:
            pending = {
                n
                for n, s in self._states.items()
                if (names is None or n in names) and (s.compared_at == 0.0 or s.running)
            }
            if names is not None and not self._cluster_apps_read.is_set():
                pending |= names - set(self._states)
        return sorted(pending)

    # ------------------------------------------------------------------ subscriptions
    def subscribe(self, callback: Callable[[FleetSnapshot], None]) -> Unsubscribe:
        with self._lock:
            self._subscribers.append(callback)
            latest = self._latest

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        if latest.generation:
            callback(latest)
        return unsubscribe

    def snapshot(self) -> FleetSnapshot:
        """The latest state; built now if something changed since the last publication."""
        if self._dirty.is_set():
            return self._build_fleet()
        with self._lock:
            return self._latest

    def _mark_dirty(self) -> None:
        self._dirty.set()

    def _publisher(self) -> None:
        while not self._stopped.is_set():
            self._dirty.wait()
            if self._stopped.is_set():
                return
            time.sleep(PUBLISH_BATCH_S)
            self._dirty.clear()
            snap = self._build_fleet()
            for callback in list(self._subscribers):
                try:
                    callback(snap)
                except Exception:
                    log.exception("snapshot subscriber failed")

    def _build_fleet(self) -> FleetSnapshot:
        with self._lock:
            self._generation += 1
            self._rebuild_stale_parents()
            apps = [s.snapshot or self._app_snapshot(s) for s in self._states.values()]
            with self._cluster_lock:
                clusters = tuple(
                    ClusterState(
                        c.name,
                        c.server,
                        c.name not in self._cluster_errors and c.cache.reachable,
                        self._cluster_errors.get(c.name) or c.cache.unreachable_reason,
                    )
                    for c in self.clusters.connections()
                )
            snap = FleetSnapshot.build(
                self._generation, apps, read_only=self._read_only, clusters=clusters
            )
            self._latest = snap
            return snap

    def _rebuild_stale_parents(self) -> None:
        """Rebuild each App of Apps parent whose snapshot shows a child's old health
        (the lock is held). A child's verdict changes after its parent was built; one
        pass per nesting level settles grandparents too."""

        def current(name: str) -> HealthStatus | None:
            # as _child_nodes shows it: Unknown until the child has a snapshot
            child = self._states.get(name)
            if child is None or child.snapshot is None:
                return HealthStatus.UNKNOWN
            return child.snapshot.health

        for _ in range(64):
            stale = [
                s
                for s in self._states.values()
                if s.snapshot is not None and children_changed(s.shown_child_health, current)
            ]
            if not stale:
                return
            for state in stale:
                comparing = state.snapshot.comparing if state.snapshot else False
                state.snapshot = self._app_snapshot(state, comparing=comparing)

    # ------------------------------------------------------------------ scheduling
    def _schedule(
        self, name: str, *, render: bool = False, fetch: bool = False, hard: bool = False
    ) -> None:
        only = self.options.only_apps
        if self._stopped.is_set() or (only is not None and name not in only):
            return  # one-shot commands process only the apps they name
        with self._lock:
            state = self._states.get(name)
            if state is None:
                return
            state.need_render |= render or fetch or hard
            state.fetch |= fetch or hard
            state.hard |= hard
            if state.running:
                state.again = True
                return
            state.running = True
        try:
            self._pool.submit(self._process, name)
        except RuntimeError:  # pool shut down
            with self._lock:
                state.running = False

    def refresh(self, app: str | None = None, *, hard: bool = False) -> None:
        """Re-fetch Git and re-compare (``hard``: also re-render). Never blocks."""
        names = [app] if app else list(self._states)
        if hard:
            for name in names:
                self.manifests.drop_app(name)
            if self.options.app_paths:
                self._spawn(self.reload_app_files, "app-files-reload")
        if app:
            self._schedule(app, render=True, fetch=True, hard=hard)
        else:
            self._fetch_then_render(names, hard=hard)

    def reload_kubeconfig(self) -> None:
        """The kubeconfig changed: reconnect the contexts whose entry changed."""
        changed = self.clusters.reload()
        if not changed or self._stopped.is_set():
            return
        log.info("kubeconfig changed for %s: reconnecting", ", ".join(sorted(changed)))
        with self._cluster_lock:
            self._cluster_ready -= changed
            for context in changed:
                self._cluster_errors.pop(context, None)
        for name in list(self._states):
            # a destination may also resolve differently now (a server moved contexts)
            self._schedule(name)

    def reload_app_files(self) -> None:
        """Re-read the ``--apps`` files: new apps appear, edited ones re-render, removed go."""
        if not self.options.app_paths or self._stopped.is_set():
            return
        first, problems = group_by_name(load_application_files(list(self.options.app_paths)))
        changed: list[str] = []
        with self._lock:
            for name, app in first.items():
                state = self._states.get(name)
                if state is None:
                    state = self._states[name] = _AppState(app=app)
                    state.last_sync = self._last_sync_from_history(name)
                    changed.append(name)
                elif name not in self._file_apps:
                    continue  # a child or cluster app of that name keeps it
                elif state.app != app:
                    state.app = app
                    changed.append(name)
                if state.load_problems != problems.get(name, []):
                    state.load_problems = list(problems.get(name, []))
                    state.snapshot = self._app_snapshot(state)
                self._file_apps.add(name)
            removed = sorted(self._file_apps - set(first))
            for name in removed:
                self._file_apps.discard(name)
                self._states.pop(name, None)
                self.automation.forget(name)
                self._index_desired(name, "", [])
                self._desired_by_app.pop(name, None)
        if changed or removed:
            self._apps_changed.set()
        for name in changed:
            if self.options.only_apps is None or name in self.options.only_apps:
                self._schedule(name, render=True, fetch=True)
        self._mark_dirty()

    def _fetch_then_render(self, names: list[str], *, hard: bool = False) -> None:
        """Fetch each repository of ``names`` once, then re-render them without fetching.

        A refresh of many apps sharing a repository must not fetch it once per app.
        Runs on its own thread; a failed fetch shows on the apps (last manifests kept).
        """

        def run() -> None:
            urls: set[str] = set()
            with self._lock:
                for name in names:
                    state = self._states.get(name)
                    if state is not None and isinstance(state.app, Application):
                        urls.update(source.repo_url for source in state.app.sources)
            for url in sorted(urls):
                if self._stopped.is_set():
                    return
                # a failure is kept as the repository's last fetch error, shown per app
                with contextlib.suppress(RepoError):
                    self.repos.resolve(url, "HEAD", refresh=True)
            for name in names:
                self._schedule(name, render=True, hard=hard)

        self._spawn(run, "git-fetch")

    def _process(self, name: str) -> None:
        while not self._stopped.is_set():
            with self._lock:
                state = self._states.get(name)
                if state is None:
                    return
                render, fetch, hard = state.need_render, state.fetch, state.hard
                state.need_render = state.fetch = state.hard = state.again = False
                state.snapshot = self._app_snapshot(state, comparing=True)
            self._mark_dirty()
            try:
                if render and isinstance(state.app, Application):
                    self._render(state, fetch=fetch, hard=hard)
                if isinstance(state.app, Application):
                    self._compare(state)
                process_error = None
            except KubeApiError as exc:
                # the cluster went away mid-compare: keep the last comparison, say why
                process_error = Condition(ConditionType.CLUSTER_UNREACHABLE, redact_text(str(exc)))
            except Exception as exc:  # keep the worker alive; show the failure on the app
                if self._stopped.is_set():
                    # closing: the pools refuse new work and cancel what is queued
                    log.debug("processing %s stopped by close: %r", name, exc)
                    return
                log.exception("processing %s failed", name)
                process_error = Condition(
                    ConditionType.COMPARISON_ERROR, redact_text(f"{type(exc).__name__}: {exc}")
                )
            with self._lock:
                state.process_error = process_error
                state.compared_at = time.time()
                state.snapshot = self._app_snapshot(state)
                if not state.again:
                    state.running = False
                    self._mark_dirty()
                    break
            self._mark_dirty()
        self._after_compare(name)

    # ------------------------------------------------------------------ git + render
    def _generate(self, app: Application, revisions: tuple[str, ...]) -> Generated:
        """Render ``app``: the config's policy, limited to its project's sourceRepos."""
        project = self._projects.get(app.project) if self._projects_known else None
        repos = project.source_repos if project is not None else None
        policy = dataclasses.replace(self.options.render_policy, source_repos=repos)
        return generate(
            app,
            self.repos,
            self.manifests,
            revisions=revisions,
            policy=policy,
            limits=self.options.limits,
        )

    def _render(self, state: _AppState, *, fetch: bool, hard: bool) -> None:
        app = state.app
        assert isinstance(app, Application)
        try:
            revisions = resolve_revisions(app, self.repos, refresh=fetch)
        except SourceError as exc:
            with self._lock:
                # keep the last known manifests; say why they may be stale
                state.source_error = exc
            return
        stale = self._last_fetch_problem(app) if not fetch else None
        try:
            generated = self._generate(app, revisions)
        except SourceError as exc:
            with self._lock:
                state.source_error = exc
                state.generated = None
                state.desired = []
            return
        with self._lock:
            state.generated = generated
            state.source_error = stale

    def _last_fetch_problem(self, app: Application) -> SourceError | None:
        """The failed last fetch of one of the app's repositories (manifests may be stale)."""
        for source in app.sources:
            error = self.repos.last_fetch_error(source.repo_url)
            if error:
                return SourceError(
                    "repo", without_credentials(f"{source.repo_url}: {error}", source.repo_url)
                )
        return None

    # ------------------------------------------------------------------ clusters
    def _connection_for(self, state: _AppState) -> ClusterConnection | None:
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
        if resolved.context in self._cluster_ready:
            return conn
        with self._cluster_lock:
            if resolved.context in self._cluster_ready:
                return conn
            try:
                conn.start(watch=self.options.watch)
            except KubeApiError as exc:
                self._cluster_errors[resolved.context] = redact_text(str(exc))
                threading.Timer(
                    CLUSTER_RETRY_S, self._retry_cluster, args=(resolved.context,)
                ).start()
                return None
            self._cluster_errors.pop(resolved.context, None)
            self._cluster_ready.add(resolved.context)
            conn.cache.add_listener(self._live_listener(conn))
        return conn

    def _retry_cluster(self, context: str) -> None:
        if self._stopped.is_set():
            return
        for name, state in list(self._states.items()):
            if state.context == context or state.context is None:
                self._schedule(name)

    def _live_listener(
        self, conn: ClusterConnection
    ) -> Callable[[ResourceKey, Manifest | None, Manifest | None], None]:
        def on_change(key: ResourceKey, old: Manifest | None, new: Manifest | None) -> None:
            if self._custom.observe(conn.name, key, new):  # argocd-cm: recompare every app
                for name in list(self._states):
                    self._schedule(name)
            if not key.kind:  # reachability changed
                for name, state in list(self._states.items()):
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
                owner = claimed_app(root, self.options.tracking)
                if owner:
                    affected.add(owner)
            with self._lock:
                affected |= self._desired_index.get((conn.name, key), set())
            for name in affected:
                self._schedule(name)

        return on_change

    # ------------------------------------------------------------------ compare
    def _compare(self, state: _AppState) -> None:
        app = state.app
        assert isinstance(app, Application)
        conn = self._connection_for(state)
        if conn is None:
            with self._lock:
                state.comparison = None
            return
        if self._custom.seed(conn):  # argocd-cm read: apps compared before must recompare
            for name in list(self._states):
                self._schedule(name)
        generated = state.generated
        if generated is None:
            return
        if self._projects_known:
            problems = app_violations(app, self._projects.get(app.project))
            if problems:
                with self._lock:
                    state.project_problems = problems
                    state.comparison = None
                return
        state.project_problems = []
        others, child_docs = split_children(generated.manifests)
        # without the Application CRD, child apps live only in gitops-tui (not in the cluster)
        has_crd = conn.discovery.lookup(APPLICATION_GROUP, APPLICATION_KIND) is not None
        desired, unknown = prepare_desired(
            list(generated.manifests) if has_crd else others,
            conn,
            app=app.name,
            namespace=app.destination.namespace,
            tracking=self.options.tracking,
        )
        refused: list[str] = []
        if self._projects_known:
            desired, refused = self._permitted(app, conn, desired)
        kinds = {(ResourceKey.of(o).group, ResourceKey.of(o).kind) for o in desired}
        if self.options.watch:
            conn.cache.watch_kinds(kinds)
        else:
            conn.cache.load_namespace(kinds | set(BASELINE_KINDS), app.destination.namespace)
        with self._lock:
            self._index_desired(app.name, conn.name, desired)
            state.desired = desired
            state.unknown_kinds = unknown
            state.child_docs = child_docs
            state.refused_kinds = refused
        if child_docs and not state.children_restored:
            state.children_restored = True
            self._restore_children(state)
        signature = (
            self._compare_signature(app, conn, desired, unknown) if self.options.watch else None
        )
        if (
            signature is not None
            and state.comparison is not None
            and signature == state.compare_signature
        ):
            return  # nothing the verdict depends on changed: keep the last comparison
        rules = _ignore_rules(app)
        comparison = compare_app(
            app=app.name,
            desired=desired,
            conn=conn,
            rules=rules,
            predictions=self.predictions,
            claimed_elsewhere=lambda key: self._claimed_elsewhere(conn.name, key, app.name),
            executor=self._dry_runs,
            unknown_kinds=unknown,
            tracking=self.options.tracking,
            # read-only (flag, config or this context): not even a dry-run PATCH
            dry_run=not self.read_only_policy.covers(conn.name),
            application_health=self.options.application_health,
        )
        with self._lock:
            state.comparison = comparison
            state.compare_signature = signature

    def _compare_signature(
        self, app: Application, conn: ClusterConnection, desired: list[Manifest], unknown: list[str]
    ) -> str:
        """What a comparison depends on: desired objects, the live objects' versions (the
        desired ones, the app's tracked extras, their children), claims of other apps and
        the cluster's reachability. Equal signatures give equal comparisons."""
        live_versions: list[str] = []
        keys = sorted(
            {ResourceKey.of(o) for o in desired}
            | {ResourceKey.of(o) for o in conn.cache.tracked_by(app.name)}
        )
        for key in keys:
            live = conn.cache.get(key)
            meta = (live or {}).get("metadata") or {}
            live_versions.append(f"{key}@{meta.get('resourceVersion', '-')}")
            for child in conn.cache.children_of(str(meta.get("uid") or "")):
                child_meta = child.get("metadata") or {}
                live_versions.append(
                    f"  {child_meta.get('name')}@{child_meta.get('resourceVersion')}"
                )
            live_versions.append(f"claim:{self._claimed_elsewhere(conn.name, key, app.name)}")
        material = json.dumps(
            [
                desired,
                live_versions,
                unknown,
                app.ignore_differences,
                conn.cache.reachable,
                self.read_only_policy.covers(conn.name),
                self._custom.fingerprint,
            ],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha1(material.encode(), usedforsecurity=False).hexdigest()

    def _permitted(
        self, app: Application, conn: ClusterConnection, desired: list[Manifest]
    ) -> tuple[list[Manifest], list[str]]:
        """Split off objects whose kind the app's project does not permit."""
        project = self._projects.get(app.project)
        kept: list[Manifest] = []
        refused: list[str] = []
        for obj in desired:
            key = ResourceKey.of(obj)
            res = conn.discovery.lookup(key.group, key.kind)
            namespaced = res.namespaced if res is not None else bool(key.namespace)
            if kind_permitted(project, key.group, key.kind, namespaced=namespaced):
                kept.append(obj)
            else:
                refused.append(
                    f"{key.display}: kind {key.kind} is not permitted in project {app.project!r}"
                )
        return kept, refused

    # ------------------------------------------------------------------ App of Apps
    def _register_children(self, parent: str, docs: list[Manifest], *, prune: bool) -> None:
        """Register, update and (with prune) remove the child apps ``parent`` declares."""

        def owner_of(name: str) -> str | None:
            found = self._states.get(name)
            if found is None:
                return ""
            return found.parent

        def parent_of(name: str) -> str | None:
            found = self._states.get(name)
            return found.parent if found else None

        changed: list[str] = []
        with self._lock:
            pstate = self._states.get(parent)
            if pstate is None:
                return
            plan = plan_children(
                parent,
                docs,
                existing_children=pstate.children,
                owner_of=owner_of,
                parent_of=parent_of,
                prune=prune,
            )
            by_name = {str((d.get("metadata") or {}).get("name")): d for d in docs}
            for name in (*plan.add, *plan.update):
                parsed = parse_application(by_name[name], f"app:{parent}")
                current = self._states.get(name)
                if current is None:
                    self._states[name] = _AppState(app=parsed, parent=parent)
                    self._states[name].last_sync = self._last_sync_from_history(name)
                    changed.append(name)
                elif current.app != parsed:
                    current.app = parsed
                    changed.append(name)
                pstate.children.add(name)
            for name in plan.remove:
                removed = self._states.pop(name, None)
                pstate.children.discard(name)
                if removed is not None:
                    for key in self._desired_by_app.pop(name, set()):
                        owners = self._desired_index.get(key)
                        if owners is not None:
                            owners.discard(name)
            pstate.child_problems = [*plan.cycles, *plan.conflicts]
            pstate.snapshot = self._app_snapshot(pstate)
        if changed or plan.remove:
            self._apps_changed.set()
        for name in changed:
            self._schedule(name, render=True, fetch=True)
        self._mark_dirty()

    def _restore_children(self, state: _AppState) -> None:
        """At start-up, re-register the children of a parent's last successful sync."""
        last = state.last_sync
        app = state.app
        if (
            last is None
            or last.phase != OperationPhase.SUCCEEDED
            or not isinstance(app, Application)
        ):
            return
        docs = state.child_docs
        if state.generated is None or last.revision != state.generated.revision:
            try:
                revisions = resolve_revisions(
                    app, self.repos, refresh=False, override=last.revision
                )
                docs = split_children(self._generate(app, revisions).manifests)[1]
            except SourceError:
                return
        self._register_children(app.name, list(docs), prune=False)

    def _child_nodes(self, state: _AppState) -> tuple[list[ResourceNode], bool]:
        """Tree nodes for child apps kept outside the cluster; True if any is out of sync."""
        nodes: list[ResourceNode] = []
        out_of_sync = False
        for doc in state.child_docs:
            name = str((doc.get("metadata") or {}).get("name") or "")
            child = self._states.get(name)
            registered = child is not None and child.parent == state.app.name
            same = (
                registered
                and child is not None
                and (
                    not isinstance(child.app, Application)
                    or child.app.raw.get("spec") == doc.get("spec")
                )
            )
            status = SyncStatus.SYNCED if same else SyncStatus.OUT_OF_SYNC
            out_of_sync |= not same
            snap = child.snapshot if (registered and child is not None) else None
            nodes.append(
                ResourceNode(
                    key=ResourceKey(
                        APPLICATION_GROUP,
                        APPLICATION_KIND,
                        str((doc.get("metadata") or {}).get("namespace") or ""),
                        name,
                    ),
                    version=str(doc.get("apiVersion", "")),
                    status=status,
                    health=(
                        snap.health
                        if snap
                        else (HealthStatus.UNKNOWN if registered else HealthStatus.MISSING)
                    ),
                    health_message=(
                        "child app" if registered else "not registered yet: sync the parent"
                    ),
                    exists=registered,
                )
            )
        for name in sorted(
            state.children - {str((d.get("metadata") or {}).get("name")) for d in state.child_docs}
        ):
            nodes.append(
                ResourceNode(
                    key=ResourceKey(APPLICATION_GROUP, APPLICATION_KIND, "", name),
                    version="argoproj.io/v1alpha1",
                    status=SyncStatus.OUT_OF_SYNC,
                    health=None,
                    requires_pruning=True,
                    health_message="no longer in Git: sync with prune removes it",
                )
            )
            out_of_sync = True
        return nodes, out_of_sync

    def _index_desired(self, app: str, cluster: str, desired: list[Manifest]) -> None:
        """Remember which app wants which object (shared-resource checks, event routing)."""
        keys = {(cluster, ResourceKey.of(obj)) for obj in desired}
        for stale in self._desired_by_app.get(app, set()) - keys:
            owners = self._desired_index.get(stale)
            if owners is not None:
                owners.discard(app)
                if not owners:
                    del self._desired_index[stale]
        for key in keys:
            self._desired_index.setdefault(key, set()).add(app)
        self._desired_by_app[app] = keys

    def _claimed_elsewhere(self, cluster: str, key: ResourceKey, app: str) -> str | None:
        with self._lock:
            others = sorted(self._desired_index.get((cluster, key), set()) - {app})
        return others[0] if others else None

    # ------------------------------------------------------------------ snapshots
    def _app_snapshot(self, state: _AppState, *, comparing: bool = False) -> AppSnapshot:
        app = state.app
        state.shown_child_health = {}
        if isinstance(app, InvalidApplication):
            return AppSnapshot(
                name=app.name,
                project="",
                sync=SyncStatus.UNKNOWN,
                health=HealthStatus.UNKNOWN,
                health_message="invalid Application",
                revision="",
                target_revision="",
                repo_url="",
                path="",
                destination=Destination("", "", ""),
                conditions=app.conditions,
                origin=app.origin,
                last_sync=state.last_sync,
                compared_at=state.compared_at,
            )
        conditions: list[Condition] = []
        if state.destination_error:
            conditions.append(Condition(ConditionType.CLUSTER_UNREACHABLE, state.destination_error))
        elif state.context and state.context in self._cluster_errors:
            conditions.append(
                Condition(
                    ConditionType.CLUSTER_UNREACHABLE,
                    f"cluster {state.context} unreachable: {self._cluster_errors[state.context]}",
                )
            )
        if state.source_error is not None:
            kind = (
                ConditionType.REPO_ERROR
                if state.source_error.kind == "repo"
                else ConditionType.COMPARISON_ERROR
            )
            stale = (
                " (showing the last known manifests)"
                if state.generated is not None and kind == ConditionType.REPO_ERROR
                else ""
            )
            conditions.append(Condition(kind, f"{state.source_error}{stale}"))
        conditions.extend(state.load_problems)
        if state.process_error is not None:
            conditions.append(state.process_error)
        conditions.extend(self.automation.conditions(app.name))
        conditions.extend(
            Condition(ConditionType.INVALID_SPEC, p)
            for p in (*state.project_problems, *state.refused_kinds)
        )
        if state.generated is not None and state.generated.duplicates:
            conditions.append(
                Condition(
                    ConditionType.REPEATED_RESOURCE,
                    "the same object appears more than once (the last one is used): "
                    + ", ".join(state.generated.duplicates),
                )
            )
        comparison = state.comparison
        conn = (
            self.clusters.connection(state.context)
            if state.context in self._cluster_ready
            else None
        )
        if conn is not None and not conn.cache.reachable:
            conditions.append(
                Condition(
                    ConditionType.CLUSTER_UNREACHABLE,
                    f"cluster {conn.name} unreachable: {conn.cache.unreachable_reason}",
                )
            )
        if comparison is not None:
            conditions.extend(comparison.conditions)
        usable = (
            comparison is not None
            and state.generated is not None
            and not (state.source_error is not None and state.source_error.kind != "repo")
            and not state.destination_error
            and state.process_error is None
            and not (conn is not None and not conn.cache.reachable)
        )
        sync = comparison.sync if (usable and comparison is not None) else SyncStatus.UNKNOWN
        health = comparison.health if (usable and comparison is not None) else HealthStatus.UNKNOWN
        health_message = comparison.health_message if (usable and comparison is not None) else ""
        resources = resource_tree(comparison, conn) if comparison is not None else ()
        if state.child_docs or state.children:
            child_nodes, children_out_of_sync = self._child_nodes(state)
            resources = resources + tuple(child_nodes)
            if children_out_of_sync and sync == SyncStatus.SYNCED:
                sync = SyncStatus.OUT_OF_SYNC
            children = [
                ChildHealth(n.key.name, n.exists, n.health)
                for n in child_nodes
                if not n.requires_pruning
            ]
            # what this snapshot shows; _rebuild_stale_parents compares it with the children
            state.shown_child_health = {c.name: c.health for c in children if c.registered}
            if usable and comparison is not None:
                health, health_message = parent_health(
                    comparison.health_items, health_message, children
                )
        conditions.extend(
            Condition(ConditionType.COMPARISON_ERROR, problem) for problem in state.child_problems
        )
        return AppSnapshot(
            name=app.name,
            project=app.project,
            sync=sync,
            health=health,
            health_message=health_message,
            revision=state.generated.revision if state.generated else "",
            target_revision=app.source.target_revision,
            repo_url=redact_url(app.source.repo_url),
            path=app.source.path or app.source.chart,
            destination=Destination(
                app.destination.server,
                app.destination.name,
                app.destination.namespace,
                "" if state.destination_error else (state.context or ""),  # resolved now
            ),
            automated=app.sync_policy.automated,
            auto_prune=app.sync_policy.prune,
            self_heal=app.sync_policy.self_heal,
            conditions=tuple(conditions),
            resources=resources,
            operation=state.operation,
            last_sync=state.last_sync,
            origin=app.origin,
            compared_at=state.compared_at,
            comparing=comparing,
            parent=state.parent,
            read_only=self.read_only_policy.covers(self._context_of(state)),
            sync_options=tuple(f"{k}={v}" for k, v in app.sync_policy.options.items()),
            automation=self.automation.status(app.name),
        )

    # ------------------------------------------------------------------ diffs
    def diffs(self, app: str, *, context: int = 3) -> list[ResourceDiff]:
        with self._lock:
            state = self._states.get(app)
            if state is None:
                raise EngineError(f"no app named {app!r}")
            comparison = state.comparison
            rules = _ignore_rules(state.app) if isinstance(state.app, Application) else []
        if comparison is None:
            return []
        out: list[ResourceDiff] = []
        for r in comparison.resources:
            if r.hook:
                continue
            if context == 3:
                out.append(r.diff)
            else:
                out.append(
                    diff_resource(
                        r.key,
                        r.predicted if r.live is not None else r.desired,
                        r.live,
                        rules=rules,
                        context=context,
                    )
                    if r.desired is not None
                    else diff_resource(r.key, None, r.live, rules=rules, context=context)
                )
        return out

    def contexts(self) -> list[str]:
        return [c.name for c in self.clusters.contexts]

    @property
    def default_context(self) -> str | None:
        return self.clusters.default_context

    def set_default_context(self, name: str) -> None:
        """``:ctx NAME``: in-cluster destinations now mean ``name``; every app re-compares."""
        try:
            self.clusters.set_default_context(name)
        except DestinationError as exc:
            raise EngineError(str(exc)) from None
        for app in list(self._states):
            self._schedule(app)

    def app_names(self) -> list[str]:
        with self._lock:
            return sorted(self._states)

    # ------------------------------------------------------------------ sync
    def _require_app(self, name: str) -> _AppState:
        with self._lock:
            state = self._states.get(name)
        if state is None:
            raise EngineError(f"no app named {name!r}")
        if isinstance(state.app, InvalidApplication):
            raise EngineError(f"app {name!r} is invalid: " + "; ".join(state.app.messages))
        if state.project_problems:
            raise EngineError(
                f"app {name!r} is not permitted: " + "; ".join(state.project_problems)
            )
        return state

    def _require_connection(self, state: _AppState) -> ClusterConnection:
        conn = self._connection_for(state)
        if conn is None:
            raise EngineError(
                state.destination_error or f"the cluster of {state.app.name} is unreachable"
            )
        return conn

    def _plan_for(
        self, state: _AppState, request: SyncRequest
    ) -> tuple[SyncPlan, str, ClusterConnection]:
        app = state.app
        assert isinstance(app, Application)
        conn = self._require_connection(state)
        comparison: Comparison | None
        if request.revision:
            revisions = resolve_revisions(app, self.repos, refresh=False, override=request.revision)
            generated = self._generate(app, revisions)
            desired, _unknown = prepare_desired(
                list(generated.manifests),
                conn,
                app=app.name,
                namespace=app.destination.namespace,
                tracking=self.options.tracking,
            )
            comparison = compare_app(
                app=app.name,
                desired=desired,
                conn=conn,
                rules=_ignore_rules(app),
                predictions=self.predictions,
                claimed_elsewhere=lambda key: self._claimed_elsewhere(conn.name, key, app.name),
                executor=self._dry_runs,
                tracking=self.options.tracking,
                dry_run=not self.read_only_policy.covers(conn.name),
            )
            revision = generated.revision
        else:
            with self._lock:
                comparison = state.comparison
                desired = list(state.desired)
                revision = state.generated.revision if state.generated else ""
                source_error = state.source_error
            if source_error is not None and source_error.kind != "repo":
                raise EngineError(f"cannot sync {app.name}: {source_error}")
            if comparison is None:
                raise EngineError(
                    f"{app.name} has not been compared yet (Git or cluster unavailable)"
                )
            if not revision:  # a failed fetch keeps the last manifests, a failed checkout none
                raise EngineError(f"cannot sync {app.name}: {source_error or 'no manifests'}")
        by_key = comparison.by_key()
        live = {k: r.live for k, r in by_key.items() if r.live is not None}
        modified = {k: r.modified for k, r in by_key.items()}
        candidates = [
            r.live for r in comparison.resources if r.requires_pruning and r.live is not None
        ]
        options = dict(app.sync_policy.options)
        if request.apply_out_of_sync_only:
            options["ApplyOutOfSyncOnly"] = "true"
        plan = build_plan(
            desired,
            live,
            modified,
            candidates,
            app_options=options,
            selected=request.resources,
            prune=request.prune,
        )
        plan = with_takeovers(
            plan,
            {k: (r.live, r.predicted) for k, r in by_key.items()},
            options,
            force=request.force,
            default=request.force_conflicts and self.options.force_conflicts,
        )
        plan = with_namespace_cascades(plan, conn, app.name, self.options.tracking)
        return plan, revision, conn

    def preview(self, request: SyncRequest) -> SyncPreview:
        state = self._require_app(request.app)
        try:
            plan, revision, _conn = self._plan_for(state, request)
        except GitOpsError as exc:
            raise EngineError(redact_text(str(exc))) from None
        return SyncPreview(request=request, plan=plan, revision=revision, errors=tuple(plan.errors))

    def fleet_preview(
        self, apps: Iterable[str] | None = None, *, prune: bool = False
    ) -> dict[str, SyncPreview | str]:
        """The plan of a sync of each named app (default: every OutOfSync app).

        Values are previews, or an error message for apps that cannot be planned.
        Plans run concurrently on the engine's pool; nothing is applied.
        """
        if apps is None:
            names = [a.name for a in self.snapshot().apps if a.sync == SyncStatus.OUT_OF_SYNC]
        else:
            names = list(apps)

        def one(name: str) -> SyncPreview | str:
            try:
                return self.preview(SyncRequest(app=name, prune=prune))
            except EngineError as exc:
                return str(exc)

        with ThreadPoolExecutor(max_workers=max(1, min(8, len(names)))) as pool:
            return dict(zip(names, pool.map(one, names), strict=True))

    def _context_of(self, state: _AppState) -> str | None:
        """The kubeconfig context the app's destination means now (no network)."""
        if not isinstance(state.app, Application):
            return state.context
        try:
            return self.clusters.resolve(state.app.destination).context
        except DestinationError:
            return state.context

    def _refuse_if_read_only(self, action: str, name: str) -> None:
        """ReadOnlyError naming the flag or the config key when ``name`` may not change."""
        if self._read_only:
            self.read_only_policy.check(action, None)
        with self._lock:
            state = self._states.get(name)
        if state is not None:
            self.read_only_policy.check(f"{action} of {name}", self._context_of(state))

    def sync(self, request: SyncRequest) -> str:
        self._refuse_if_read_only("sync" if not request.prune else "sync with prune", request.app)
        state = self._require_app(request.app)
        app = state.app
        assert isinstance(app, Application)
        with self._lock:
            if state.operation is not None and not state.operation.phase.done:
                raise EngineError(f"an operation is already running on {app.name}")
            # reserve the slot before planning so two requests cannot both start
            op_id = uuid.uuid4().hex[:12]
            state.operation = OperationState(
                id=op_id,
                app=app.name,
                phase=OperationPhase.RUNNING,
                message="planning",
                revision="",
                started_at=time.time(),
                initiated_by=request.initiated_by,
                dry_run=request.dry_run,
                prune=request.prune,
            )
            state.cancel = threading.Event()
            state.snapshot = self._app_snapshot(state)
        self._mark_dirty()
        try:
            plan, revision, conn = self._plan_for(state, request)
        except GitOpsError as exc:  # whatever fails, the operation ends (never left "planning")
            self._finish_operation(
                state,
                None,
                replace(
                    state.operation,
                    phase=OperationPhase.ERROR,
                    message=redact_text(str(exc)),
                    finished_at=time.time(),
                ),
            )
            raise EngineError(redact_text(str(exc))) from None
        operation = replace(state.operation, revision=revision, message="starting")
        entry_id = None
        if not request.dry_run:
            entry_id = self.history_store.begin(
                app.name,
                revision=revision,
                repo_url=redact_url(app.source.repo_url),
                path=app.source.path,
                operation=operation,
            )
        from gitops_tui.engine.sync.run import (
            SyncSettings,
            run_sync,
        )  # the executor loads on first sync

        settings = SyncSettings(
            app=app.name,
            revision=revision,
            destination_namespace=app.destination.namespace,
            app_options=dict(app.sync_policy.options),
            dry_run=request.dry_run,
            force=request.force,
            force_conflicts=request.force_conflicts and self.options.force_conflicts,
            prune=request.prune,
            initiated_by=request.initiated_by,
            tracking=self.options.tracking,
            wave_timeout_s=self.options.wave_timeout_s,
            application_health=self.options.application_health,
        )
        cancel = state.cancel or threading.Event()

        def progress(op: OperationState) -> None:
            with self._lock:
                state.operation = op
                state.snapshot = self._app_snapshot(state)
            self._mark_dirty()
            if entry_id is not None:
                try:
                    self.history_store.update(entry_id, op)
                except Exception:
                    log.exception("history update failed")

        def run() -> None:
            try:
                final = run_sync(
                    conn, plan, settings, operation_id=op_id, on_progress=progress, cancel=cancel
                )
            except Exception as exc:  # run_sync reports its own errors; this is a last resort
                final = replace(
                    operation,
                    phase=OperationPhase.ERROR,
                    message=f"{type(exc).__name__}: {exc}",
                    finished_at=time.time(),
                )
            self._finish_operation(state, entry_id, final)

        with self._lock:
            state.operation = operation
        self._sync_pool.submit(run)
        return op_id

    def _finish_operation(
        self, state: _AppState, entry_id: int | None, final: OperationState
    ) -> None:
        app = state.app
        if entry_id is not None:
            try:
                self.history_store.update(entry_id, final)
                if isinstance(app, Application):
                    self.history_store.trim(app.name, app.revision_history_limit)
            except Exception:
                log.exception("history update failed")
        if (
            final.phase == OperationPhase.SUCCEEDED
            and not final.dry_run
            and isinstance(app, Application)
            and final.initiated_by != "rollback-children"
        ):
            with self._lock:
                docs = list(state.child_docs)
            if docs or state.children:
                self._register_children(app.name, docs, prune=final.prune)
        with self._lock:
            state.operation = final
            if not final.dry_run:
                state.last_sync = final
            state.cancel = None
            state.snapshot = self._app_snapshot(state)
        self._mark_dirty()
        self._schedule(app.name)

    def wait_for_operation(
        self, app: str, op_id: str, timeout: float = 600.0
    ) -> OperationState | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                op = self._states[app].operation
            if op is not None and op.id == op_id and op.phase.done:
                return op
            time.sleep(0.05)
        return None

    def terminate(self, app: str) -> bool:
        self._refuse_if_read_only("terminate", app)
        with self._lock:
            state = self._states.get(app)
            if (
                state is None
                or state.cancel is None
                or state.operation is None
                or state.operation.phase.done
            ):
                return False
            state.cancel.set()
            state.operation = replace(
                state.operation, phase=OperationPhase.TERMINATING, message="terminating"
            )
            state.snapshot = self._app_snapshot(state)
        self._mark_dirty()
        return True

    def history(self, app: str) -> list[HistoryEntry]:
        return self.history_store.entries(app)

    def _last_sync_from_history(self, app: str) -> OperationState | None:
        try:
            last = self.history_store.last(app)
        except Exception:
            return None
        return last.operation if last else None

    def rollback(self, app: str, history_id: int) -> str:
        self._refuse_if_read_only("rollback", app)
        entry = self.history_store.get(history_id)
        if entry is None or entry.app != app:
            raise EngineError(f"no history entry {history_id} for app {app!r}")
        state = self._require_app(app)
        current = state.app
        assert isinstance(current, Application)
        if current.sync_policy.automated:
            policy = replace(current.sync_policy, automated=False)
            with self._lock:
                state.app = replace(current, sync_policy=policy)
            self.automation.clear(app)
            log.warning("automated sync turned off for %s before rollback", app)
        return self.sync(
            SyncRequest(app=app, prune=False, revision=entry.revision, initiated_by="rollback")
        )

    # ------------------------------------------------------------------ automation
    def _after_compare(self, name: str) -> None:
        if self._read_only or not self.options.automation or self._stopped.is_set():
            return
        with self._lock:
            state = self._states.get(name)
            if state is None or not isinstance(state.app, Application):
                return
            app = state.app
            snapshot = state.snapshot
            generated = state.generated
            busy = state.operation is not None and not state.operation.phase.done
            # an App of Apps parent may hold nothing but child apps
            empty = not state.desired and not state.child_docs
        if not app.sync_policy.automated:
            if self.automation.status(name) is not None:
                self.automation.clear(name)
                self._refresh_snapshot(state)
            return
        if (
            snapshot is None
            or state.comparison is None
            or generated is None
            or busy
            or state.source_error is not None
            or snapshot.sync == SyncStatus.UNKNOWN
        ):
            return
        if self.read_only_policy.covers(self._context_of(state)):
            return  # automation is off wherever read-only applies
        before = self.automation.status(name)
        decision = self.automation.decide(
            name,
            app.sync_policy,
            revision=generated.revision,
            # the snapshot's verdict counts child apps (kept outside the cluster) too
            out_of_sync=snapshot.sync == SyncStatus.OUT_OF_SYNC,
            empty=empty,
            last=state.last_sync,
        )
        if decision.status != before:
            self._refresh_snapshot(state)
        if not decision.starts_sync:
            return
        try:
            # selfHeal means Git wins over live edits: take fields back from other managers
            self.sync(
                SyncRequest(
                    app=name,
                    prune=app.sync_policy.prune,
                    force=app.sync_policy.self_heal,
                    initiated_by="automated",
                )
            )
        except GitOpsError as exc:
            log.info("automated sync of %s not started: %s", name, exc)

    def _refresh_snapshot(self, state: _AppState) -> None:
        with self._lock:
            state.snapshot = self._app_snapshot(state)
        self._mark_dirty()

    def _automation_loop(self) -> None:
        """Re-check automated apps periodically (self-heal and retry backoffs expire)."""
        while not self._stopped.wait(AUTOMATION_PERIOD_S):
            for name, state in list(self._states.items()):
                app = state.app
                if isinstance(app, Application) and app.sync_policy.automated and not state.running:
                    self._after_compare(name)
            self.automation.note_pass()

    # ------------------------------------------------------------------ git watching
    def _repo_apps(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        with self._lock:
            for name, state in self._states.items():
                if isinstance(state.app, Application):
                    for source in state.app.sources:
                        out.setdefault(source.repo_url, []).append(name)
        return out

    def _poller(self) -> None:
        interval = self.options.repo_poll_interval_s
        while not self._stopped.wait(interval + random.uniform(0, interval / 10)):
            for url, names in self._repo_apps().items():
                if self.repos.local_path(url) is not None and self.options.watch_local_repos:
                    continue  # watched by the file watcher
                self._fetch_then_render(names)

    def _local_repo_watcher(self) -> None:
        """Watch the local repositories of the apps; start over when the set of apps
        changes (app files re-read, child apps registered), so new apps are watched."""
        stop = _EitherEvent(self._stopped, self._apps_changed)
        while not self._stopped.is_set():
            self._apps_changed.clear()
            self.local_repos_watched.clear()
            if not self._watch_local_repos_once(stop):
                stop.wait()

    def _watch_local_repos_once(self, stop: _EitherEvent) -> bool:
        from watchfiles import watch

        paths: dict[Path, list[str]] = {}
        for url, names in self._repo_apps().items():
            if self.repos.local_path(url) is None:
                continue
            for path in self.repos.watch_paths(url):
                paths.setdefault(path, []).extend(names)
        if not paths:
            return False
        try:
            for changes in watch(
                *paths,
                stop_event=stop,
                debounce=50,
                step=20,
                rust_timeout=200,
                watch_filter=None,  # the default filter ignores .git, which is all we watch
                yield_on_timeout=True,
                raise_interrupt=False,
            ):
                self.local_repos_watched.set()
                touched: set[str] = set()
                for _change, changed in changes:
                    for root, names in paths.items():
                        if changed.startswith(str(root)):
                            touched.update(names)
                if touched:
                    self._fetch_then_render(sorted(touched))
        except Exception:
            log.exception("local repository watcher stopped")
            self._stopped.wait()
        return True

    # ------------------------------------------------------------------ Application objects in a cluster
    def _cluster_apps_loader(self) -> None:
        try:
            self._load_cluster_apps()
        finally:
            self._cluster_apps_read.set()  # read (or given up): one-shot commands go on

    def _load_cluster_apps(self) -> None:
        namespace = self.options.from_cluster or "argocd"
        try:
            context = self.clusters.default_context
            if context is None:
                return
            conn = self.clusters.connection(context)
            conn.start()
            with self._cluster_lock:
                if context not in self._cluster_ready:
                    self._cluster_ready.add(context)
                    conn.cache.add_listener(self._live_listener(conn))
        except KubeApiError as exc:
            log.warning("cannot read Applications from the cluster: %s", exc)
            return
        if conn.discovery.lookup("argoproj.io", "Application") is None:
            log.warning("the cluster has no Application CRD; --from-cluster ignored")
            return

        conn.cache.watch_kinds(
            [(APPLICATION_GROUP, APPLICATION_KIND), (APPLICATION_GROUP, "AppProject")]
        )

        def sync_apps() -> None:
            found: dict[str, Application | InvalidApplication] = {}
            projects: dict[str, Project] = {}
            for obj in conn.cache.objects():
                key = ResourceKey.of(obj)
                if key.group != APPLICATION_GROUP or key.namespace != namespace:
                    continue
                if key.kind == APPLICATION_KIND:
                    parsed = parse_application(obj, f"cluster:{namespace}")
                    found[parsed.name] = parsed
                elif key.kind == "AppProject":
                    projects[key.name] = project_from_object(obj)
            changed: list[str] = []
            with self._lock:
                projects_changed = projects != self._projects
                self._projects = projects
                self._projects_known = True
                for name, parsed in found.items():
                    current = self._states.get(name)
                    if current is None:
                        self._states[name] = _AppState(app=parsed)
                        changed.append(name)
                    elif current.app.origin.startswith("cluster:") and current.app != parsed:
                        current.app = parsed
                        changed.append(name)
                gone = [
                    n
                    for n, st in self._states.items()
                    if st.app.origin == f"cluster:{namespace}" and n not in found
                ]
                for name in gone:
                    del self._states[name]
                if projects_changed:
                    changed = sorted(set(changed) | set(self._states))
            if changed or gone:
                self._apps_changed.set()
            for name in changed:
                self._schedule(name, render=True)
            self._mark_dirty()

        def on_change(key: ResourceKey, old: Manifest | None, new: Manifest | None) -> None:
            if (
                key.group == APPLICATION_GROUP
                and key.namespace == namespace
                and key.kind
                in (
                    APPLICATION_KIND,
                    "AppProject",
                )
            ):
                sync_apps()

        conn.cache.add_listener(on_change)
        sync_apps()


def _ignore_rules(app: Application | InvalidApplication) -> list[IgnoreRule]:
    if not isinstance(app, Application):
        return []
    rules = system_ignore_rules(active_customizations())  # argocd-cm, config file
    for spec in app.ignore_differences:
        try:
            rules.append(IgnoreRule.from_spec(spec))
        except ValueError:
            continue
    return rules


class _EitherEvent:
    """``is_set`` when either event is (a stop signal for watchfiles)."""

    def __init__(self, first: threading.Event, second: threading.Event) -> None:
        self._events = (first, second)

    def is_set(self) -> bool:
        return any(e.is_set() for e in self._events)

    def wait(self, step: float = 0.2) -> None:
        while not self.is_set():
            self._events[0].wait(step)
