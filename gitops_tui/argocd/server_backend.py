"""``ArgoCDServerBackend``: ``EngineAPI`` over Argo CD's API server (``--argocd-server``).

The Application JSON the API server sends is the same object the Kubernetes API
holds, so the snapshot mapping is ``status.app_snapshot`` (shared with the
Kubernetes-API backend); the server also fills per-resource health from its
cache. Threads:

- the watcher lists ``/api/v1/applications`` then follows
  ``/api/v1/stream/applications`` (newline-delimited JSON); a dropped or silent
  stream lists again; failures retry with a growing pause (at most
  ``MAX_BACKOFF_S``). While the server cannot be reached every app is shown
  Unknown with a ``ServerUnreachable`` condition (what was last seen is not
  trusted); the first successful list clears it;
- resource trees (the children of managed objects) only for the apps that need one:
  an app open in the console (``follow_tree``) follows Argo CD's tree stream, a
  blocking call that needs a tree reads it once (``argocd/server_trees.py``); the
  list needs none;
- the publisher builds ``FleetSnapshot``s, coalescing bursts.

Actions are the API server's own calls: sync (``POST .../sync``, our operation id
in ``infos``), terminate (``DELETE .../operation``), rollback (automated sync
turned off by a merge PATCH first, then ``POST .../rollback``), refresh (``GET
...?refresh=normal|hard``), resource actions. Argo CD checks its RBAC; a refusal
becomes a message naming the action and the app (``server_client.describe``).

Read-only holds twice: each action checks the ``ReadOnlyPolicy``, and the client
of a read-only session refuses every method but GET and any ``refresh`` (a GET
that makes the server annotate the app), so nothing mutating is sent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from gitops_tui.argocd import operations as ops
from gitops_tui.argocd.app_delete import delete_over_server
from gitops_tui.argocd.fleet_holder import FleetHolder
from gitops_tui.argocd.server_actions import ServerActions
from gitops_tui.argocd.server_appsets import server_appset_apply, server_appset_preview
from gitops_tui.argocd.server_client import (
    ServerApiError,
    ServerClient,
    describe,
)
from gitops_tui.argocd.server_config import ServerTarget
from gitops_tui.argocd.server_logs import open_server_logs
from gitops_tui.argocd.server_trees import MAX_STREAMS, TreeFollower
from gitops_tui.argocd.server_views import ServerViews, TreeView
from gitops_tui.argocd.status import app_snapshot, history_entries, text
from gitops_tui.engine.api import (
    AppSetApplied,
    AppSetPreview,
    AppSnapshot,
    ClusterState,
    EngineError,
    FleetSnapshot,
    HistoryEntry,
    SyncPreview,
    SyncRequest,
)
from gitops_tui.engine.cache.readonly import ReadOnlyPolicy
from gitops_tui.engine.diff.resource_diff import ResourceDiff
from gitops_tui.engine.health.actions import ActionOutcome, ResourceAction
from gitops_tui.engine.inspection import MAX_EVENTS, ClusterEvent, LiveObject
from gitops_tui.engine.model import Condition, HealthStatus, Manifest, ResourceKey, SyncStatus
from gitops_tui.engine.podlogs import LogOptions, LogStream

if TYPE_CHECKING:
    from gitops_tui.headless import HeadlessEngine

log = logging.getLogger(__name__)

MAX_APPS = 20000
MAX_BACKOFF_S = 10.0
UNREACHABLE = "ServerUnreachable"


@dataclass(frozen=True)
class ServerOptions:
    target: ServerTarget
    read_only_policy: ReadOnlyPolicy = field(default_factory=ReadOnlyPolicy)
    tree_refresh_s: float = 300.0  # a followed app's tree without a stream: GET this often
    max_tree_streams: int = MAX_STREAMS  # tree streams open at once
    publish_interval_s: float = 0.1
    stream_idle_s: float = 300.0


class ArgoCDServerBackend(FleetHolder):
    """The console's engine when Argo CD's API server is the way in."""

    def __init__(self, options: ServerOptions) -> None:
        self.options = options
        self._read_only = options.read_only_policy.everywhere
        self._client = ServerClient(options.target, read_only=self._read_only)
        self._views = ServerViews(self._client)
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._dirty = threading.Event()
        self._publish_interval_s = options.publish_interval_s
        self._listed = threading.Event()
        self._apps: dict[str, Manifest] = {}
        self._trees = TreeFollower(
            self._client,
            self._managed_of,
            self._dirty.set,
            max_streams=options.max_tree_streams,
            idle_s=options.stream_idle_s,
            refresh_s=options.tree_refresh_s,
        )
        self._server_error = ""
        self._down_since = 0.0
        self._generation = 0
        self._fleet = FleetSnapshot.build(0, [], read_only=self._read_only)
        self._subscribers: list[Callable[[FleetSnapshot], None]] = []
        self._actions = ServerActions(self._client, self._stop)
        self._threads: list[threading.Thread] = []

    # -- lifecycle ------------------------------------------------------------------

    @property
    def backend_label(self) -> str:
        return f"Argo CD API {self.options.target.server}"

    def probe(self) -> None:
        """One list: a clear error now (unreachable, not logged in, not Argo CD)."""
        try:
            self._client.request(
                "GET", "/api/v1/applications", query={"fields": "items.metadata.name"}
            )
        except ServerApiError as exc:
            target = self.options.target
            hint = (
                f" (token from {target.token_source})"
                if target.token
                else (" (no token: give --auth-token, set ARGOCD_AUTH_TOKEN or run `argocd login`)")
            )
            error = describe(exc, f"list the Applications of {target.server}")
            raise EngineError(
                f"{error}{hint if exc.unauthenticated else ''}", title=error.title
            ) from None

    def start(self) -> ArgoCDServerBackend:
        for target, name in (
            (self._watch_loop, "argocd-server-watch"),
            (self._publish_loop, "argocd-server-publish"),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def close(self, *, wait_for_operations: bool = False) -> None:
        """Stop watching. Operations are Argo CD's: they run on without us."""
        del wait_for_operations
        self._stop.set()
        self._dirty.set()
        self._trees.close()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=0.5)
        self._client.close()

    # -- watching -------------------------------------------------------------------

    def _watch_loop(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                self._list()
                backoff = 0.5
                for event in self._client.stream(
                    "/api/v1/stream/applications", idle_s=self.options.stream_idle_s
                ):
                    if self._stop.is_set():
                        return
                    self._event(event)
            except ServerApiError as exc:
                if self._stop.is_set():
                    return
                self._failed(describe(exc, "watch the Applications of", self.options.target.server))
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
            except Exception:  # a bug must not end the watch: log, pause, list again
                log.exception("watching the Argo CD API server failed")
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    def _list(self) -> None:
        body = self._client.request("GET", "/api/v1/applications")
        items = body.get("items") if isinstance(body, dict) else None
        apps = {
            str(o["metadata"]["name"]): o
            for o in (items if isinstance(items, list) else [])[:MAX_APPS]
            if _named(o)
        }
        with self._lock:
            self._apps = apps
            self._server_error = ""
            self._down_since = 0.0
        self._listed.set()
        for app in self._trees.views():  # the open apps' managed objects may have changed
            self._trees.managed_changed(app)
        self._changed()

    def _event(self, event: Any) -> None:
        kind = str(event.get("type") or "")
        obj = event.get("application")
        if not _named(obj):
            return
        app = str(obj["metadata"]["name"])
        with self._lock:
            old = self._apps.get(app)
            if kind == "DELETED":
                self._apps.pop(app, None)
            elif old is not None or len(self._apps) < MAX_APPS:
                self._apps[app] = obj
        if old is None or _managed_keys(old) != _managed_keys(obj):
            self._trees.managed_changed(app)
        self._changed()

    def _failed(self, error: EngineError) -> None:
        with self._lock:
            self._server_error = text(str(error), 500)
            if not self._down_since:
                self._down_since = time.time()
        self._changed()

    def _changed(self) -> None:
        self._dirty.set()

    # -- resource trees (``server_trees``) --------------------------------------------

    def _managed_of(self, app: str) -> list[ResourceKey]:
        with self._lock:
            obj = self._apps.get(app)
        return _managed_keys(obj) if obj is not None else []

    def follow_tree(self, app: str) -> Callable[[], None]:
        """Keep ``app``'s resource tree in the snapshots, current through Argo CD's tree
        stream, until the returned function is called (the console's app view)."""
        return self._trees.follow(app)

    def wait_tree(self, app: str, timeout: float = 30.0) -> bool:
        """Blocking: until a snapshot holds the followed ``app``'s tree."""
        if not self._trees.wait_read(app, timeout):
            return False
        with self._lock:
            built = self._generation
            self._dirty.set()
            return self._lock.wait_for(lambda: self._fleet.generation > built, timeout)

    # -- publishing (the loop is the shared ``FleetHolder._publish_loop``) -----------

    def _build(self) -> FleetSnapshot:
        with self._lock:
            objs = list(self._apps.values())
            error, since = self._server_error, self._down_since
            self._generation += 1
            generation = self._generation
        trees = self._trees.views()  # read after the generation is taken (``wait_tree``)
        server = self.options.target.server
        apps = []
        for obj in objs:
            app = str(obj["metadata"]["name"])
            tree = trees.get(app, TreeView())
            snap = app_snapshot(
                obj,
                origin=f"argocd-server:{server}",
                in_cluster_context="",
                read_only=self._read_only,
                live_health=tree.health,
                children=tree.children,
            )
            snap = self._actions.claim(snap)
            if error:
                snap = _unknown(snap, error, since)
            apps.append(snap)
        cluster = ClusterState(
            server, self.options.target.base_url, not error, error, since if error else 0.0
        )
        return FleetSnapshot.build(generation, apps, read_only=self._read_only, clusters=(cluster,))

    # -- EngineAPI: reading ---------------------------------------------------------

    @property
    def read_only(self) -> bool:
        return self._read_only

    def app_names(self) -> list[str]:
        with self._lock:
            return sorted(self._apps)

    def _has_listed(self) -> bool:
        return self._listed.is_set()

    def history(self, app: str) -> list[HistoryEntry]:
        return history_entries(app, self._cached(app))

    def diffs(self, app: str, *, context: int = 3) -> list[ResourceDiff]:
        """Blocking: Argo CD's managed resources (its normalised live and target states)."""
        self._cached(app)
        return self._views.diffs(app, context=context)

    def preview(self, request: SyncRequest) -> SyncPreview:
        obj = self._cached(request.app)
        revision = str(((obj.get("status") or {}).get("sync") or {}).get("revision") or "")
        return SyncPreview(request=request, plan=ops.preview_plan(obj, request), revision=revision)

    def fleet_preview(
        self, apps: Iterable[str] | None = None, *, prune: bool = False
    ) -> dict[str, SyncPreview | str]:
        fleet = self.snapshot()
        names = (
            list(apps)
            if apps is not None
            else [a.name for a in fleet.apps if a.sync == SyncStatus.OUT_OF_SYNC]
        )
        out: dict[str, SyncPreview | str] = {}
        for name in names:
            try:
                out[name] = self.preview(SyncRequest(app=name, prune=prune))
            except EngineError as exc:
                out[name] = str(exc)
        return out

    def _tree_of(self, app: str) -> TreeView:
        """Blocking: the followed tree, else one GET; none when denied or gone."""
        self._cached(app)
        try:
            return self._trees.read(app)
        except ServerApiError as exc:
            if exc.unreachable or exc.unauthenticated:
                raise describe(exc, "read the resource tree of", app) from None
            return TreeView()

    def _known(self, app: str, key: ResourceKey) -> tuple[str, bool]:
        """(API version, managed?) of one of the app's objects; EngineError if not in its tree."""
        obj = self._cached(app)
        for entry in (obj.get("status") or {}).get("resources") or []:
            if isinstance(entry, dict) and _key(entry) == key:
                return str(entry.get("version") or ""), True
        tree = self._tree_of(app)
        if key in tree.versions:
            return tree.versions[key], False
        raise EngineError(f"{key.display} is not one of {app}'s resources")

    def live_object(self, app: str, key: ResourceKey) -> LiveObject:
        version, managed = self._known(app, key)
        return self._views.live_object(app, key, version, managed)

    def events(
        self, app: str, key: ResourceKey | None = None, *, limit: int = MAX_EVENTS
    ) -> list[ClusterEvent]:
        """Blocking: the Application's own events and its objects' (by uid, from the tree)."""
        self._cached(app)
        tree = self._tree_of(app)
        if key is not None:
            self._known(app, key)
            uid = tree.uids.get(key)
            if not uid:
                return []  # not live (or the tree not read yet): no events to ask for
            return self._views.events(app, {key: uid}, include_app=False, limit=limit)
        managed = _managed_keys(self._cached(app))
        targets = {k: tree.uids[k] for k in managed if k in tree.uids}
        return self._views.events(app, targets, include_app=True, limit=limit)

    def actions(self, app: str, key: ResourceKey) -> list[ResourceAction]:
        version, _ = self._known(app, key)
        return self._views.actions(app, key, version)

    def run_action(self, app: str, key: ResourceKey, name: str) -> ActionOutcome:
        self._check(f"action {name} on {key.display} of {app}")
        version, _ = self._known(app, key)
        self._views.run_action(app, key, version, name)
        self.refresh(app)
        return ActionOutcome(app=app, key=key, action=name, changes=(f"{name}: run by Argo CD",))

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
        """Blocking until sent: a container's log of a Pod of the app's tree, streamed by
        Argo CD's API server (``argocd/server_logs.py``)."""
        self._known(app, pod)
        options = LogOptions(container, follow, previous, since_seconds, tail_lines)
        return open_server_logs(self._client, app, pod, options)

    def appset_preview(self, name: str) -> AppSetPreview:
        with self._lock:
            apps = list(self._apps.values())
        return server_appset_preview(self._client, name, apps)

    def appset_apply(self, name: str) -> AppSetApplied:
        self._check(f"appset apply {name}")
        return server_appset_apply(name)

    def delete_resource(self, app: str, key: ResourceKey) -> str:
        """Argo CD's ``DELETE .../resource`` of one object of the app's tree (the server
        checks the tree again); read-only refuses before anything is sent."""
        self._check(f"delete {key.display} of {app}")
        version, _ = self._known(app, key)
        done = self._actions.delete_resource(app, key, version)
        self._changed()
        return done

    def delete_app(self, app: str, cascade: str) -> str:
        """Argo CD's ``DELETE .../applications/{name}`` with the cascade choice; read-only
        refuses before anything is sent."""
        self._check(f"delete of Application {app}")
        self._cached(app)
        done = delete_over_server(self._client, app, cascade)
        self._changed()
        return done

    def contexts(self) -> list[str]:
        return []

    @property
    def default_context(self) -> str | None:
        return None

    def set_default_context(self, name: str) -> None:
        raise EngineError(
            f"the Argo CD API server backend shows what {self.options.target.server} manages: "
            "its clusters are Argo CD's, not kubeconfig contexts"
        )

    # -- EngineAPI: actions ---------------------------------------------------------

    def _check(self, action: str) -> None:
        self.options.read_only_policy.check(action, None)

    def refresh(self, app: str | None = None, *, hard: bool = False) -> None:
        """``GET ...?refresh=normal|hard`` in the background; in read-only the followed
        trees are re-read instead (a refresh makes the server write the refresh annotation)."""
        if self._read_only:
            self._trees.reread()
            return
        names = [app] if app is not None else self.app_names()
        threading.Thread(
            target=self._actions.refresh,
            args=(names, hard),
            name="argocd-server-refresh",
            daemon=True,
        ).start()

    def sync(self, request: SyncRequest) -> str:
        self._check(f"sync of {request.app}")
        op_id = self._actions.sync(self._cached(request.app), request)
        self._changed()
        return op_id

    def rollback(self, app: str, history_id: int) -> str:
        """Automated sync off (the server refuses a rollback otherwise), then the
        server's rollback to the history entry."""
        self._check(f"rollback of {app}")
        return self._actions.rollback(self._cached(app), app, history_id)

    def terminate(self, app: str) -> bool:
        self._check(f"terminate of {app}'s operation")
        self._cached(app)
        return self._actions.terminate(app)

    # -- helpers --------------------------------------------------------------------

    def _cached(self, app: str) -> Manifest:
        with self._lock:
            obj = self._apps.get(app)
        if obj is None:
            known = ", ".join(self.app_names()[:20]) or "none"
            raise EngineError(
                f"no app named {app!r} on Argo CD server {self.options.target.server} "
                f"(known: {known})"
            )
        return obj


def _named(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance((obj.get("metadata") or {}).get("name"), str)


def _key(entry: Any) -> ResourceKey:
    from gitops_tui.argocd.status import resource_key

    return resource_key(entry)


def _managed_keys(obj: Manifest) -> list[ResourceKey]:
    resources = (obj.get("status") or {}).get("resources")
    return (
        [_key(r) for r in resources if isinstance(r, dict)] if isinstance(resources, list) else []
    )


def _unknown(snap: AppSnapshot, error: str, since: float) -> AppSnapshot:
    when = time.strftime("%H:%M:%S", time.localtime(since)) if since else "now"
    condition = Condition(
        type=UNREACHABLE,
        message=f"since {when}: {error}; state unknown until the server answers again",
    )
    return replace(
        snap,
        sync=SyncStatus.UNKNOWN,
        health=HealthStatus.UNKNOWN,
        health_message="the Argo CD API server is unreachable",
        conditions=(condition, *snap.conditions),
    )


if TYPE_CHECKING:

    def _conforms(backend: ArgoCDServerBackend) -> HeadlessEngine:
        """mypy checks here that the backend implements ``HeadlessEngine``."""
        return backend
