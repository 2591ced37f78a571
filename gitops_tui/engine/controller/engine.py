"""The engine: keeps every app compared as Git and the cluster change, and publishes snapshots.

``Engine`` is the facade front ends use (``EngineAPI``): it starts and stops the
collaborators and hands each request to the one that owns it.

- ``state``: the apps' records and the desired-object index (``AppTable``);
- ``scheduler``: the refresh queue, one job per app at a time on a worker pool;
- ``reconcile``: render from Git, compare with the cluster;
- ``publisher`` / ``snapshots``: app and fleet snapshots, batched to subscribers;
- ``operations``: sync, dry run, preview, terminate, rollback (refused in read-only
  mode before anything reaches the cluster);
- ``auto_sync`` / ``automation``: automated sync, when and whether;
- ``cluster_links``: connections, unreachable clusters, live events routed to apps;
- ``watchers``, ``appfiles``, ``cluster_apps``: what makes the engine look again;
- ``child_apps`` / ``app_of_apps``: App of Apps; ``application_sets``: ApplicationSets;
- ``inspect``: an object's live manifest beside the desired one, events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from gitops_tui.engine.api import (
    AppSetSnapshot,
    EngineError,
    HistoryEntry,
    SyncPreview,
    SyncRequest,
    Unsubscribe,
)
from gitops_tui.engine.app.application import Application, InvalidApplication
from gitops_tui.engine.app.loading import load_application_files, may_hold_applicationsets
from gitops_tui.engine.cache.destinations import ClusterRegistry, DestinationError
from gitops_tui.engine.cache.readonly import ReadOnlyPolicy
from gitops_tui.engine.controller.appfiles import AppFiles, group_by_name, watch_files
from gitops_tui.engine.controller.argocd_guard import ArgoCDGuard
from gitops_tui.engine.controller.auto_sync import AUTOMATION_PERIOD_S, AutoSync
from gitops_tui.engine.controller.automation import Automation
from gitops_tui.engine.controller.child_apps import ChildApps
from gitops_tui.engine.controller.cluster_links import ClusterLinks
from gitops_tui.engine.controller.customization_watch import CustomizationSources
from gitops_tui.engine.controller.operations import Operations
from gitops_tui.engine.controller.options import EngineOptions
from gitops_tui.engine.controller.publisher import Publisher
from gitops_tui.engine.controller.reconcile import Reconciler, resource_diffs
from gitops_tui.engine.controller.scheduler import Scheduler, spawn
from gitops_tui.engine.controller.state import AppState, AppTable, recorded_last_sync
from gitops_tui.engine.controller.watchers import RepoWatch, reload_kubeconfig
from gitops_tui.engine.diff.compare import PredictionCache
from gitops_tui.engine.diff.prediction_disk import DiskPredictions
from gitops_tui.engine.diff.resource_diff import ResourceDiff
from gitops_tui.engine.inspection import MAX_EVENTS, ClusterEvent, LiveObject
from gitops_tui.engine.model import Manifest, ResourceKey, SyncStatus
from gitops_tui.engine.snapshot import FleetSnapshot, OperationState
from gitops_tui.engine.source.repo import RepoCache
from gitops_tui.engine.source.sources import ManifestCache
from gitops_tui.engine.sync.app_delete import AppDeletePlan
from gitops_tui.engine.sync.history import HistoryStore

if TYPE_CHECKING:  # features made on first use: a one-shot diff loads none of them
    from gitops_tui.engine.api import ActionOutcome, AppSetApplied, AppSetPreview, ResourceAction
    from gitops_tui.engine.controller.actions import ResourceActions
    from gitops_tui.engine.controller.app_delete import AppResourcesDeleter
    from gitops_tui.engine.controller.application_sets import ApplicationSets
    from gitops_tui.engine.controller.cluster_apps import ClusterApps
    from gitops_tui.engine.controller.inspect import Inspector
    from gitops_tui.engine.controller.resource_delete import ResourceDeleter
    from gitops_tui.engine.podconnect import PodConnection
    from gitops_tui.engine.podlogs import LogStream

__all__ = ["AUTOMATION_PERIOD_S", "Engine", "EngineOptions"]

log = logging.getLogger(__name__)
logging.getLogger("watchfiles").setLevel(logging.WARNING)


class Engine:
    """Implements ``EngineAPI``: load apps, compare continuously, sync on request."""

    def __init__(
        self,
        options: EngineOptions,
        *,
        apps: Iterable[Application | InvalidApplication] | None = None,
    ) -> None:
        self.options = options
        policy = self.read_only_policy = options.read_only_policy or ReadOnlyPolicy(
            flag=options.read_only, contexts=options.read_only_contexts
        )
        self._stopped = threading.Event()
        apps_changed = threading.Event()  # the local-repository watch starts over
        self.repos = RepoCache(options.repo_cache_dir)
        self.manifests = ManifestCache()
        disk = options.prediction_cache_dir
        self.predictions = PredictionCache(disk=DiskPredictions(disk) if disk else None)
        self.clusters = ClusterRegistry(
            options.kubeconfig, options.context, tracking=options.tracking, read_only=policy.covers
        )
        self.history_store = HistoryStore(options.history_path)
        self.automation = Automation()
        self.table = table = AppTable()
        self._custom = CustomizationSources(
            options.customizations,
            namespace=options.argocd_namespace,
            read_cluster=options.argocd_config_map,
            default_context=lambda: self.clusters.default_context,
        )
        self.links = ClusterLinks(
            self.clusters,
            table,
            self._schedule,
            self._stopped,
            tracking=options.tracking,
            watch=options.watch,
            customizations=self._custom,
        )
        self.publisher = Publisher(table, self.links, self.automation, policy, self._stopped)
        children = ChildApps(
            table, self.publisher, self.history_store, self._fetch_and_render, apps_changed
        )
        self.reconciler = Reconciler(
            options,
            policy,
            table,
            self.links,
            children,
            self.repos,
            self.manifests,
            self.predictions,
        )
        self.operations = Operations(
            options,
            policy,
            table,
            self.links,
            self.reconciler,
            children,
            self.publisher,
            self.history_store,
            self.automation,
            self._schedule,
            self.predictions,
        )
        self.argocd_guard = ArgoCDGuard(
            self.links,
            table,
            self.publisher.refresh,
            self._stopped,
            namespace=options.argocd_namespace,
            window_s=options.argocd_reconcile_window_s,
            watch=options.watch,
        )
        self.operations.guard = self.argocd_guard
        self._features_lock = threading.Lock()  # the features made on first use
        self._resource_actions: ResourceActions | None = None
        self._resource_deleter: ResourceDeleter | None = None
        self._app_deleter: AppResourcesDeleter | None = None
        self._inspector: Inspector | None = None
        self._application_sets: ApplicationSets | None = None
        self._apps_changed = apps_changed
        self.auto_sync = AutoSync(
            table,
            self.automation,
            self.operations,
            self.publisher,
            self.links,
            policy,
            self._stopped,
            enabled=options.automation,
        )
        self.scheduler = Scheduler(
            table,
            self.publisher,
            self.repos,
            self._stopped,
            workers=options.workers,
            only_apps=options.only_apps,
            work=self.reconciler.reconcile,
            after=self.auto_sync.after_compare,
        )
        self.repo_watch = RepoWatch(
            table,
            self.repos,
            self.scheduler.fetch_then_render,
            self._stopped,
            apps_changed,
            poll_interval_s=options.repo_poll_interval_s,
            watch_local=options.watch_local_repos,
        )
        self.app_files = AppFiles(
            options.app_paths,
            table,
            self.publisher,
            self.history_store,
            self.automation,
            self._fetch_and_render,
            apps_changed,
            self._stopped,
        )
        self.publisher.appsets = self._appsets
        children.register_sets = self._register_sets
        self.app_files.after_reload = self._reconcile_sets
        self.cluster_apps: ClusterApps | None = None
        if options.from_cluster:
            from gitops_tui.engine.controller.cluster_apps import ClusterApps

            self.cluster_apps = ClusterApps(
                options.from_cluster,
                table,
                self.links,
                self.publisher,
                lambda name: self.scheduler.schedule(name, render=True),
                apps_changed,
            )
        self.kubeconfig_watched = threading.Event()  # set once the kubeconfig watch is
        loaded = list(apps) if apps is not None else load_application_files(list(options.app_paths))
        # a second definition of a name never replaces the first: it is reported on it
        first, problems = group_by_name(loaded)
        for name, app in first.items():
            table.states[name] = AppState(
                app=app,
                load_problems=list(problems.get(name, [])),
                last_sync=recorded_last_sync(self.history_store, name),
            )
        if apps is None:  # apps read from --apps files (re-read when they change)
            self.app_files.names = set(first)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Engine:
        options = self.options
        spawn(self.publisher.run, "publisher")
        spawn(self.repo_watch.poll, "git-poller")
        spawn(self.auto_sync.run, "automation")
        if options.watch_local_repos:
            spawn(self.repo_watch.watch_local, "git-watch")
        if self.cluster_apps is not None:
            spawn(self.cluster_apps.load, "cluster-apps")
        spawn(self.argocd_guard.run, "argocd-guard")
        if options.watch:
            spawn(self._watch_kubeconfig, "kubeconfig")
        if options.app_paths and options.watch:
            spawn(self.app_files.watch, "app-files")
        if options.watch:  # sets of files and sets parent apps render
            spawn(self._poll_sets, "appset-poller")
        self._reconcile_sets()  # generated apps are there from the start
        for name in list(self.table.states):
            self._fetch_and_render(name)
        self.publisher.mark_dirty()
        return self

    def close(self, *, wait_for_operations: bool = False) -> None:
        """Stop every thread and pool; running operations stop after their current step
        (``wait_for_operations``: return only then). Quiet: work cut short logs nothing."""
        self._stopped.set()
        self.publisher.mark_dirty()
        self._custom.close()
        self.scheduler.close()
        self.reconciler.dry_runs.shutdown(wait=False, cancel_futures=True)
        self.operations.close(wait=wait_for_operations)
        self.clusters.close()
        self.history_store.close()

    @property
    def read_only(self) -> bool:
        return self.read_only_policy.everywhere

    def wait_until_compared(
        self, timeout: float = 120.0, apps: Iterable[str] | None = None
    ) -> bool:
        """Block until every (named) app has been compared at least once since start."""
        deadline = time.monotonic() + timeout
        while self.uncompared(apps) or not self._all_read():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def uncompared(self, apps: Iterable[str] | None = None) -> list[str]:
        """The (named, else processed) apps not compared yet, or being compared now;
        with --from-cluster, also named apps not read from the cluster yet."""
        only = self.options.only_apps
        names = set(apps) if apps is not None else (set(only) if only is not None else None)
        return self.scheduler.uncompared(names, all_read=self._all_read())

    def _all_read(self) -> bool:
        # one-shot commands (list) show the ManagedByArgoCD condition of their first look
        guard_read = self.options.watch or self.argocd_guard.read.is_set()
        return guard_read and (self.cluster_apps is None or self.cluster_apps.read.is_set())

    # ------------------------------------------------------------------ snapshots
    def subscribe(self, callback: Callable[[FleetSnapshot], None]) -> Unsubscribe:
        return self.publisher.subscribe(callback)

    def snapshot(self) -> FleetSnapshot:
        """The latest state; built now if something changed since the last publication."""
        return self.publisher.snapshot()

    def app_names(self) -> list[str]:
        with self.table.lock:
            return sorted(self.table.states)

    def diffs(self, app: str, *, context: int = 3) -> list[ResourceDiff]:
        with self.table.lock:
            state = self.table.states.get(app)
            if state is None:
                raise EngineError(f"no app named {app!r}")
            comparison, source = state.comparison, state.app
        return resource_diffs(comparison, source, context=context) if comparison is not None else []

    # ------------------------------------------------------------------ refresh
    def refresh(self, app: str | None = None, *, hard: bool = False) -> None:
        """Re-fetch Git and re-compare (``hard``: also re-render). Never blocks."""
        names = [app] if app else list(self.table.states)
        if hard:
            for name in names:
                self.manifests.drop_app(name)
            if self.options.app_paths:
                spawn(self.app_files.reload, "app-files-reload")
        if app:
            self.scheduler.schedule(app, render=True, fetch=True, hard=hard)
        else:
            spawn(lambda: self._reconcile_sets(fetch=True), "appset-refresh")
            self.scheduler.fetch_then_render(names, hard=hard)

    def _schedule(self, name: str) -> None:
        self.scheduler.schedule(name)

    def _fetch_and_render(self, name: str) -> None:
        self.scheduler.schedule(name, render=True, fetch=True)

    def _watch_kubeconfig(self) -> None:
        def reload() -> None:
            reload_kubeconfig(self.clusters, self.links, self.table, self._schedule, self._stopped)

        watch_files(self.clusters.files, reload, self._stopped, self.kubeconfig_watched)

    @property
    def app_files_watched(self) -> threading.Event:
        return self.app_files.watched

    @property
    def local_repos_watched(self) -> threading.Event:
        return self.repo_watch.local_repos_watched

    # ------------------------------------------------------------------ clusters
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
        for conn in self.clusters.connections():  # in-cluster exclusions follow the default
            conn.refilter()
        self.scheduler.schedule_all()

    # ------------------------------------------------------------------ operations
    def preview(self, request: SyncRequest) -> SyncPreview:
        return self.operations.preview(request)

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
        return self.operations.fleet_preview(names, prune=prune)

    def sync(self, request: SyncRequest) -> str:
        return self.operations.sync(request)

    def wait_for_operation(
        self, app: str, op_id: str, timeout: float = 600.0
    ) -> OperationState | None:
        return self.operations.wait_for_operation(app, op_id, timeout)

    def terminate(self, app: str) -> bool:
        return self.operations.terminate(app)

    def history(self, app: str) -> list[HistoryEntry]:
        return self.operations.history(app)

    def rollback(self, app: str, history_id: int) -> str:
        return self.operations.rollback(app, history_id)

    # ------------------------------------------------------------------ features on first use
    @property
    def application_sets(self) -> ApplicationSets:
        """The ApplicationSet engine, made (and imported) when a set is first met."""
        with self._features_lock:
            if self._application_sets is None:
                from gitops_tui.engine.controller.application_sets import ApplicationSets

                options = self.options
                self._application_sets = ApplicationSets(
                    options.app_paths,
                    self.table,
                    self.publisher,
                    self.history_store,
                    self.automation,
                    self.clusters,
                    self.repos,
                    self._fetch_and_render,
                    self._apps_changed,
                    self._stopped,
                    poll_interval_s=options.repo_poll_interval_s,
                    argocd_namespace=options.argocd_namespace if options.from_cluster else None,
                )
            return self._application_sets

    def _reconcile_sets(self, *, fetch: bool = False) -> None:
        """Generate the sets, when there can be any: files without ``ApplicationSet``
        (and no set seen before) need not load the set engine."""
        if self._application_sets is None and not may_hold_applicationsets(self.options.app_paths):
            return
        self.application_sets.reconcile(fetch=fetch)

    def _poll_sets(self) -> None:
        while not self._stopped.wait(self.options.repo_poll_interval_s):
            self._reconcile_sets(fetch=True)

    def _register_sets(self, parent: str, docs: list[Manifest], prune: bool) -> list[str]:
        if self._application_sets is None and not docs:
            return []  # a parent that renders no set, and none was ever registered
        return self.application_sets.register_from_app(parent, docs, prune)

    @property
    def resource_actions(self) -> ResourceActions:
        with self._features_lock:
            if self._resource_actions is None:
                from gitops_tui.engine.controller.actions import ResourceActions

                self._resource_actions = ResourceActions(
                    self.operations, self.links, self._schedule
                )
            return self._resource_actions

    @property
    def resource_deleter(self) -> ResourceDeleter:
        with self._features_lock:
            if self._resource_deleter is None:
                from gitops_tui.engine.controller.resource_delete import ResourceDeleter

                self._resource_deleter = ResourceDeleter(
                    self.operations, self.links, self._schedule, self.options.tracking
                )
            return self._resource_deleter

    @property
    def app_deleter(self) -> AppResourcesDeleter:
        with self._features_lock:
            if self._app_deleter is None:
                from gitops_tui.engine.controller.app_delete import AppResourcesDeleter

                self._app_deleter = AppResourcesDeleter(
                    self.operations,
                    self.table,
                    self.links,
                    self.publisher,
                    self.history_store,
                    self._schedule,
                    tracking=self.options.tracking,
                    wave_timeout_s=self.options.wave_timeout_s,
                )
            return self._app_deleter

    @property
    def inspector(self) -> Inspector:
        with self._features_lock:
            if self._inspector is None:
                from gitops_tui.engine.controller.inspect import Inspector

                self._inspector = Inspector(self.table, self.links, self.publisher.snapshot)
            return self._inspector

    # ------------------------------------------------------------------ ApplicationSets
    def _appsets(self) -> tuple[AppSetSnapshot, ...]:
        """The sets of ``--apps`` (generated here) and, with ``--from-cluster``, those of
        the cluster (as Argo CD's ApplicationSet controller reports them)."""
        sets = self._application_sets
        own = sets.snapshots() if sets is not None else ()
        if self.cluster_apps is None:
            return own
        names = {s.name for s in own}
        return (*own, *(s for s in self.cluster_apps.appsets() if s.name not in names))

    def _cluster_set(self, name: str) -> AppSetPreview | None:
        sets = self._application_sets
        if self.cluster_apps is None or (sets is not None and name in sets.sets):
            return None
        return self.cluster_apps.preview(name)

    def appset_preview(self, name: str) -> AppSetPreview:
        preview = self._cluster_set(name)
        return preview if preview is not None else self.application_sets.preview(name)

    def appset_apply(self, name: str) -> AppSetApplied:
        self.read_only_policy.check(f"appset apply {name}", None)
        if self._cluster_set(name) is not None:
            raise EngineError(
                f"ApplicationSet {name!r} is in the cluster: Argo CD's ApplicationSet "
                "controller applies it (to act as that controller once from its file: "
                f"gitops-tui appset apply {name} FILE --from-cluster)"
            )
        return self.application_sets.apply(name)

    # ------------------------------------------------------------------ inspection
    def live_object(self, app: str, key: ResourceKey) -> LiveObject:
        return self.inspector.live_object(app, key)

    def events(
        self, app: str, key: ResourceKey | None = None, *, limit: int = MAX_EVENTS
    ) -> list[ClusterEvent]:
        return self.inspector.events(app, key, limit=limit)

    def logs(
        self,
        app: str,
        pod: ResourceKey,
        container: str | None = None,
        *,
        follow: bool = False,
        previous: bool = False,
        since_seconds: int | None = None,
        tail_lines: int | None = None,
    ) -> LogStream:
        from gitops_tui.engine.podlogs import LogOptions

        options = LogOptions(container, follow, previous, since_seconds, tail_lines)
        return self.inspector.logs(app, pod, options)

    def pod_connection(self, app: str, pod: ResourceKey) -> PodConnection:
        return self.inspector.pod_connection(app, pod, self.read_only_policy)

    def actions(self, app: str, key: ResourceKey) -> list[ResourceAction]:
        return self.resource_actions.actions(app, key)

    def run_action(self, app: str, key: ResourceKey, name: str) -> ActionOutcome:
        return self.resource_actions.run_action(app, key, name)

    def delete_resource(self, app: str, key: ResourceKey) -> str:
        return self.resource_deleter.delete_resource(app, key)

    def delete_app(self, app: str, cascade: str) -> str:
        """The local engine deletes the app's resources (the Application stays in Git)."""
        return self.app_deleter.delete_app(app, cascade)

    def plan_app_delete(self, app: str) -> AppDeletePlan:
        return self.app_deleter.plan(app)

    def delete_app_resources(self, plan: AppDeletePlan, cascade: str = "foreground") -> str:
        return self.app_deleter.delete(plan, cascade)
