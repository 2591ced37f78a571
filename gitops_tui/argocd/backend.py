"""``ArgoCDBackend``: ``EngineAPI`` over an installed Argo CD, through the Kubernetes API.

Daemon threads list and watch the ``Application``, ``ApplicationSet`` and ``AppProject``
objects of the Argo CD namespace; one re-reads the live children and health of the
managed workloads (``tree``) from shared watches of their kinds (``tree_watch``) when
they change (kinds it may not watch: listed every ``tree_interval_s``). A
fourth publishes: after a change it builds a ``FleetSnapshot`` from the objects
(``status``) and hands it to the subscribers, coalescing bursts.

Actions (``actions``) write what Argo CD's API server writes (``operations``). Read-only holds
twice: every action is checked against the ``ReadOnlyPolicy`` (a message naming
where read-only came from) and the connection itself refuses any request but GET
(``KubeTarget.read_only``), so a forgotten check cannot send a write. A refresh in
read-only re-reads the objects instead of annotating them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops_tui.argocd import operations as ops
from gitops_tui.argocd.actions import AppActions
from gitops_tui.argocd.app_delete import DELETE_UNAVAILABLE, delete_over_kube
from gitops_tui.argocd.fleet_holder import FleetHolder
from gitops_tui.argocd.inspect import ArgoCDInspector
from gitops_tui.argocd.snapcache import SnapshotCache, app_live_keys, tree_inputs
from gitops_tui.argocd.status import destination, history_entries, is_in_cluster, text
from gitops_tui.argocd.tree import LiveTree, LiveView
from gitops_tui.argocd.watch import Watcher
from gitops_tui.engine.api import (
    AppSetApplied,
    AppSetPreview,
    ClusterState,
    EngineError,
    FleetSnapshot,
    HistoryEntry,
    SyncPreview,
    SyncRequest,
)
from gitops_tui.engine.app.applicationset.controller_status import (
    appset_snapshot,
    controller_preview,
)
from gitops_tui.engine.cache.kubeclient import (
    KubeApiError,
    KubeClient,
    KubeTarget,
    list_contexts,
    path_segment,
)
from gitops_tui.engine.cache.readonly import ReadOnlyPolicy
from gitops_tui.engine.diff.resource_diff import ResourceDiff
from gitops_tui.engine.health.actions import ActionOutcome, ResourceAction
from gitops_tui.engine.inspection import MAX_EVENTS, ClusterEvent, LiveObject
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.podlogs import LogOptions, LogStream

if TYPE_CHECKING:
    from gitops_tui.headless import HeadlessEngine

log = logging.getLogger(__name__)

GROUP_VERSION = "/apis/argoproj.io/v1alpha1"
MIN_TREE_INTERVAL_S = 0.25
WATCHED_TREE_PERIOD_S = 60.0  # every kind watched: re-read from the watches' cache only
MAX_APPS = 20000  # Application objects kept; more are left out with a warning
DIFF_UNAVAILABLE = (
    "diff needs repository access or the API server: the Argo CD backend over the "
    "Kubernetes API shows Argo CD's verdicts (status per resource in the tree), not "
    "its rendered manifests"
)


DiffProvider = Callable[[str, int], list[ResourceDiff]]


@dataclass(frozen=True)
class ArgoCDOptions:
    namespace: str = "argocd"
    kubeconfig: Path | None = None
    context: str | None = None
    read_only_policy: ReadOnlyPolicy = field(default_factory=ReadOnlyPolicy)
    username: str = "gitops-tui"
    tree_interval_s: float = 5.0
    publish_interval_s: float = 0.1
    diff_provider: DiffProvider | None = None
    """(app, context lines) -> diffs rendered locally (``argocd_cli`` passes one that runs
    gitops-tui's own engine read-only over the same Application); None: no diff."""


ACTIONS_UNAVAILABLE = (
    "resource actions over Argo CD run in Argo CD's API server, which this backend does "
    "not use yet: run them with `argocd app actions run`, or open the app with the local engine"
)


class ArgoCDBackend(FleetHolder):
    """The console's engine when Argo CD does the work."""

    def __init__(self, options: ArgoCDOptions) -> None:
        self.options = options
        contexts, current = list_contexts(options.kubeconfig)
        self._contexts = [c.name for c in contexts]
        self._context = options.context or current
        self._read_only = options.read_only_policy.covers(self._context)
        self._client = KubeClient(
            KubeTarget(options.kubeconfig, options.context, read_only=self._read_only)
        )
        self._inspector = ArgoCDInspector(self._client)
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._dirty = threading.Event()
        self._publish_interval_s = options.publish_interval_s
        self._tree_wake = threading.Event()
        self._tree = LiveTree(self._client, on_change=self._tree_wake.set)
        self._apps: dict[str, Manifest] = {}
        self._projects: set[str] = set()
        self._sets: dict[str, Manifest] = {}  # ApplicationSets (Argo CD's controller's view)
        self._projects_listed = False
        self._live = LiveView()
        self._cluster_error = ""
        self._generation = 0
        self._fleet = FleetSnapshot.build(0, [], read_only=self._read_only)
        self._cache = SnapshotCache(  # only the apps whose inputs changed are rebuilt
            origin=f"argocd:{options.namespace}",
            in_cluster_context=self._context or "",
            read_only=self._read_only,
        )
        self._subscribers: list[Callable[[FleetSnapshot], None]] = []
        self._threads: list[threading.Thread] = []
        ns = path_segment("namespace", options.namespace)
        self._apps_path = f"{GROUP_VERSION}/namespaces/{ns}/applications"
        self._actions = AppActions(
            self._client,
            self._apps_path,
            namespace=options.namespace,
            username=options.username,
            stop=self._stop,
        )
        self._watchers = [
            Watcher(
                self._client,
                self._apps_path,
                "Application",
                on_list=self._apps_listed,
                on_event=self._app_event,
                on_error=self._watch_failed,
                stop=self._stop,
            ),
            Watcher(
                self._client,
                f"{GROUP_VERSION}/namespaces/{ns}/applicationsets",
                "ApplicationSet",
                on_list=self._sets_listed,
                on_event=self._set_event,
                # no ApplicationSet CRD (an older or trimmed install): no sets, quietly
                on_error=lambda message: log.debug("ApplicationSets: %s", message),
                stop=self._stop,
            ),
            Watcher(
                self._client,
                f"{GROUP_VERSION}/namespaces/{ns}/appprojects",
                "AppProject",
                on_list=self._projects_listed_cb,
                on_event=self._project_event,
                on_error=self._watch_failed,
                stop=self._stop,
            ),
        ]

    # -- lifecycle ------------------------------------------------------------------

    @property
    def backend_label(self) -> str:
        """What the header shows: which backend and cluster."""
        return f"Argo CD {self.options.namespace} @ {self._context or 'current context'}"

    def probe(self) -> None:
        """One GET of the Application list: a clear error now instead of a console that
        waits for objects that cannot be read (no Argo CD there, no permission, no cluster)."""
        try:
            self._client.request("GET", self._apps_path, query={"limit": 1})
        except KubeApiError as exc:
            where = (
                f"namespace {self.options.namespace} of {self._context or 'the current context'}"
            )
            if exc.status == 404:
                raise EngineError(
                    f"no Argo CD Applications can be read in {where}: the CRD "
                    "applications.argoproj.io is not installed (is Argo CD installed in this "
                    "cluster?)",
                    title="Argo CD not found",
                ) from None
            if exc.status in (401, 403):
                raise EngineError(
                    f"not allowed to list Applications in {where}: {text(exc.message, 300)}",
                    title="Permission denied",
                ) from None
            raise EngineError(
                f"cannot read Applications in {where}: {text(str(exc), 300)}"
            ) from None

    def start(self) -> ArgoCDBackend:
        for watcher in self._watchers:
            self._spawn(watcher.run, f"argocd-watch-{watcher.kind}")
        self._spawn(self._tree_loop, "argocd-tree")
        self._spawn(self._publish_loop, "argocd-publish")
        return self

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def close(self, *, wait_for_operations: bool = False) -> None:
        """Stop watching. Operations are Argo CD's: they run on without us."""
        del wait_for_operations
        self._stop.set()
        self._dirty.set()
        self._tree_wake.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=0.5)
        self._tree.close()
        self._client.close()

    # -- watch callbacks ------------------------------------------------------------

    def _apps_listed(self, items: list[Manifest]) -> None:
        with self._lock:
            self._apps = {str(o["metadata"]["name"]): o for o in items[:MAX_APPS] if _named(o)}
            self._cluster_error = ""
        self._changed(tree=True)

    def _app_event(self, kind: str, obj: Manifest) -> None:
        if not _named(obj):
            return
        app = str(obj["metadata"]["name"])
        with self._lock:
            old = self._apps.get(app)
            if kind == "DELETED":
                self._apps.pop(app, None)
            elif app in self._apps or len(self._apps) < MAX_APPS:
                self._apps[app] = obj
            self._cluster_error = ""
        # the tree is re-read on its period; an event wakes it only when what it reads for
        # the app may have changed (``tree_inputs``), not on every status write
        # (an app gone or new: the kinds the tree watches may change)
        moved = old is None or kind == "DELETED" or tree_inputs(old) != tree_inputs(obj)
        self._changed(tree=moved)

    def _sets_listed(self, items: list[Manifest]) -> None:
        with self._lock:
            self._sets = {str(o["metadata"]["name"]): o for o in items[:MAX_APPS] if _named(o)}
        self._changed()

    def _set_event(self, kind: str, obj: Manifest) -> None:
        if not _named(obj):
            return
        with self._lock:
            if kind == "DELETED":
                self._sets.pop(str(obj["metadata"]["name"]), None)
            elif len(self._sets) < MAX_APPS:
                self._sets[str(obj["metadata"]["name"])] = obj
        self._changed()

    def _projects_listed_cb(self, items: list[Manifest]) -> None:
        with self._lock:
            self._projects = {str(o["metadata"]["name"]) for o in items if _named(o)}
            self._projects_listed = True
        self._changed()

    def _project_event(self, kind: str, obj: Manifest) -> None:
        if not _named(obj):
            return
        with self._lock:
            if kind == "DELETED":
                self._projects.discard(str(obj["metadata"]["name"]))
            else:
                self._projects.add(str(obj["metadata"]["name"]))
        self._changed()

    def _watch_failed(self, message: str) -> None:
        with self._lock:
            self._cluster_error = text(message, 500)
        self._changed()

    def _changed(self, *, tree: bool = False) -> None:
        self._dirty.set()
        if tree:
            self._tree_wake.set()

    # -- live tree ------------------------------------------------------------------

    def _tree_loop(self) -> None:
        while not self._stop.is_set():
            period = self.options.tree_interval_s if self._tree.polls() else WATCHED_TREE_PERIOD_S
            self._tree_wake.wait(period)
            self._tree_wake.clear()
            if self._stop.is_set():
                return
            try:
                self._read_tree()
            except Exception:  # a bug here must not end the loop: log and go on
                log.exception("reading the live resource tree failed")
            self._stop.wait(MIN_TREE_INTERVAL_S)  # a burst of events: one read per 0.25 s

    def _read_tree(self) -> None:
        with self._lock:
            objs = list(self._apps.values())
        wanted: list[ResourceKey] = []
        for obj in objs:
            spec = obj.get("spec") or {}
            dest = spec.get("destination") or {}
            if not is_in_cluster(destination({"destination": dest}, "")):
                continue  # another cluster: Argo CD's cluster secret, not our kubeconfig
            wanted += app_live_keys(obj)
        view = self._tree.read(wanted)
        with self._lock:
            changed = view != self._live
            if changed:  # the same object while nothing changed (``SnapshotCache`` checks it)
                self._live = view
        if changed:
            self._dirty.set()

    # -- publishing (the loop is the shared ``FleetHolder._publish_loop``) -----------

    def _build(self) -> FleetSnapshot:
        with self._lock:
            by_name = dict(self._apps)
            sets = list(self._sets.values())
            projects = frozenset(self._projects) if self._projects_listed else None
            live = self._live
            error = self._cluster_error
            self._generation += 1
            generation = self._generation
        objs = list(by_name.values())
        apps = self._cache.snapshots(by_name, projects, live)
        cluster = ClusterState(
            name=self._context or "current context",
            server=self._client.server,
            reachable=not error,
            message=error,
        )
        namespace = self.options.namespace
        return FleetSnapshot.build(
            generation,
            apps,
            read_only=self._read_only,
            clusters=(cluster,),
            appsets=tuple(appset_snapshot(o, objs, namespace) for o in sets),
        )

    # -- EngineAPI: reading ---------------------------------------------------------

    @property
    def read_only(self) -> bool:
        return self._read_only

    def app_names(self) -> list[str]:
        with self._lock:
            return sorted(self._apps)

    def _has_listed(self) -> bool:
        return self._watchers[0].listed.is_set()

    def history(self, app: str) -> list[HistoryEntry]:
        return history_entries(app, self._get_cached(app))

    def diffs(self, app: str, *, context: int = 3) -> list[ResourceDiff]:
        """Blocking here (unlike the local engine): the desired state is rendered locally
        by the diff provider, when there is one and the repository is reachable."""
        self._get_cached(app)
        if self.options.diff_provider is None:
            raise EngineError(DIFF_UNAVAILABLE, title="Diff unavailable")
        return self.options.diff_provider(app, context)

    def preview(self, request: SyncRequest) -> SyncPreview:
        self._get_cached(request.app)
        obj = self._actions.get(request.app)
        revision = str(((obj.get("status") or {}).get("sync") or {}).get("revision") or "")
        return SyncPreview(request=request, plan=ops.preview_plan(obj, request), revision=revision)

    def fleet_preview(
        self, apps: Iterable[str] | None = None, *, prune: bool = False
    ) -> dict[str, SyncPreview | str]:
        fleet = self.snapshot()
        names = (
            list(apps)
            if apps is not None
            else [a.name for a in fleet.apps if a.sync.value == "OutOfSync"]
        )
        out: dict[str, SyncPreview | str] = {}
        for app_name in names:
            try:
                out[app_name] = self.preview(SyncRequest(app=app_name, prune=prune))
            except EngineError as exc:
                out[app_name] = str(exc)
        return out

    # -- inspection and resource actions ---------------------------------------------------

    def live_object(self, app: str, key: ResourceKey) -> LiveObject:
        """Blocking: a GET of one object of the app's tree (see ``argocd/inspect.py``)."""
        return self._inspector.live_object(self.snapshot(), app, key)

    def events(
        self, app: str, key: ResourceKey | None = None, *, limit: int = MAX_EVENTS
    ) -> list[ClusterEvent]:
        """Blocking: the Events about the app's objects, newest first."""
        return self._inspector.events(self.snapshot(), app, key, limit=limit)

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
        """Blocking until connected: a container's log of a Pod of the app's tree."""
        options = LogOptions(container, follow, previous, since_seconds, tail_lines)
        return self._inspector.logs(self.snapshot(), app, pod, options)

    def actions(self, app: str, key: ResourceKey) -> list[ResourceAction]:
        """Argo CD runs resource actions in its API server; this backend talks to the
        Kubernetes API only, so it offers none (say so instead of an empty menu)."""
        self._get_cached(app)
        raise EngineError(ACTIONS_UNAVAILABLE, title="Actions unavailable")

    def run_action(self, app: str, key: ResourceKey, name: str) -> ActionOutcome:
        self._get_cached(app)
        raise EngineError(ACTIONS_UNAVAILABLE, title="Actions unavailable")

    def delete_resource(self, app: str, key: ResourceKey) -> str:
        self._check(f"delete {key.kind[:64]} of {app}")
        self._get_cached(app)
        raise EngineError(DELETE_UNAVAILABLE, title="Delete unavailable")

    def delete_app(self, app: str, cascade: str) -> str:
        self._check(f"delete of Application {app}")
        uid = str((self._get_cached(app).get("metadata") or {}).get("uid") or "")
        return delete_over_kube(self._actions, app, uid, cascade)

    def contexts(self) -> list[str]:
        return list(self._contexts)

    @property
    def default_context(self) -> str | None:
        return self._context

    def set_default_context(self, name: str) -> None:
        raise EngineError(
            f"the Argo CD backend reads one cluster ({self._context}): restart with "
            f"--context {name} --argocd {self.options.namespace} to show another"
        )

    # -- ApplicationSets: Argo CD's controller generates and applies them ------------

    def _set(self, name: str) -> tuple[Manifest, list[Manifest]]:
        with self._lock:
            obj = self._sets.get(name)
            apps = list(self._apps.values())
        if obj is None:
            raise EngineError(
                f"no ApplicationSet named {name!r} in namespace {self.options.namespace}"
            )
        return obj, apps

    def appset_preview(self, name: str) -> AppSetPreview:
        """The set as Argo CD's ApplicationSet controller reports it (no local generation)."""
        return controller_preview(*self._set(name))

    def appset_apply(self, name: str) -> AppSetApplied:
        self._check(f"appset apply {name}")
        self._set(name)
        raise EngineError(
            f"Argo CD's ApplicationSet controller applies ApplicationSet {name!r} itself: "
            "change the set (in Git or in the cluster) and the controller follows; "
            "gitops-tui does not write its Applications over the Argo CD backend"
        )

    # -- EngineAPI: actions ---------------------------------------------------------

    def _check(self, action: str) -> None:
        self.options.read_only_policy.check(action, self._context)

    def refresh(self, app: str | None = None, *, hard: bool = False) -> None:
        """Annotate the app(s) for Argo CD to refresh (Argo CD removes the annotation once
        done); in read-only nothing is written: the live tree is re-read."""
        if self._read_only:  # the objects are watched live: re-read the live tree only
            self._tree_wake.set()
            self._dirty.set()
            return
        names = [app] if app is not None else self.app_names()
        threading.Thread(
            target=self._actions.annotate_refresh,
            args=(names, hard),
            name="argocd-refresh",
            daemon=True,
        ).start()

    def sync(self, request: SyncRequest) -> str:
        self._check(f"sync of {request.app}")
        self._get_cached(request.app)
        return self._actions.sync(request)

    def rollback(self, app: str, history_id: int) -> str:
        """Turn automated sync off (Argo CD refuses a rollback otherwise), then sync the
        history entry's revision and source."""
        self._check(f"rollback of {app}")
        self._get_cached(app)
        return self._actions.rollback(app, history_id)

    def terminate(self, app: str) -> bool:
        self._check(f"terminate of {app}'s operation")
        self._get_cached(app)
        return self._actions.terminate(app)

    # -- requests -------------------------------------------------------------------

    def _get_cached(self, app: str) -> Manifest:
        with self._lock:
            obj = self._apps.get(app)
        if obj is None:
            known = ", ".join(self.app_names()[:20]) or "none"
            raise EngineError(
                f"no app named {app!r} in Argo CD namespace "
                f"{self.options.namespace} (known: {known})"
            )
        return obj


def _named(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance((obj.get("metadata") or {}).get("name"), str)


if TYPE_CHECKING:

    def _conforms(backend: ArgoCDBackend) -> HeadlessEngine:
        """mypy checks here that the backend implements ``HeadlessEngine``."""
        return backend
