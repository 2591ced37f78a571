"""``--from-cluster``: Application and AppProject objects read (and watched) in a
namespace of the default context become the engine's apps and projects.

ApplicationSets there are Argo CD's ApplicationSet controller's: the engine shows them as
that controller reports them (status conditions, the Applications it owns: their parent
is the set) and generates nothing for them (``controller_status``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from gitops_tui.engine.app.application import Application, InvalidApplication
from gitops_tui.engine.app.applicationset.controller_status import (
    appset_owner,
    appset_snapshot,
    controller_preview,
)
from gitops_tui.engine.app.applicationset.preview import AppSetPreview
from gitops_tui.engine.app.parse import parse_application
from gitops_tui.engine.app.projects import Project, project_from_object
from gitops_tui.engine.cache.cluster import ClusterConnection
from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.controller.cluster_links import ClusterLinks
from gitops_tui.engine.controller.publisher import Publisher
from gitops_tui.engine.controller.state import AppState, AppTable
from gitops_tui.engine.model import (
    APPLICATION_GROUP,
    APPLICATION_KIND,
    PROJECT_KIND,
    Manifest,
    ResourceKey,
)
from gitops_tui.engine.snapshot import AppSetSnapshot

log = logging.getLogger(__name__)

APPSET_KIND = "ApplicationSet"


class ClusterApps:
    """Keeps the table in step with the Applications and AppProjects of one namespace."""

    def __init__(
        self,
        namespace: str,
        table: AppTable,
        links: ClusterLinks,
        publisher: Publisher,
        render: Callable[[str], None],
        apps_changed: threading.Event,
    ) -> None:
        self._namespace = namespace
        self._table = table
        self._links = links
        self._publisher = publisher
        self._render = render  # schedule a render of a (new or changed) app
        self._apps_changed = apps_changed
        self.read = threading.Event()  # the first read is done (or given up)
        self._sets: dict[str, Manifest] = {}  # ApplicationSets (guarded by the table lock)
        self._app_objs: list[Manifest] = []

    def appsets(self) -> tuple[AppSetSnapshot, ...]:
        """The namespace's ApplicationSets as their controller reports them."""
        with self._table.lock:
            sets, apps = list(self._sets.values()), list(self._app_objs)
        origin = f"cluster:{self._namespace}"
        return tuple(appset_snapshot(o, apps, self._namespace, origin) for o in sets)

    def preview(self, name: str) -> AppSetPreview | None:
        """Set ``name``'s controller status as a preview (None: no such set here)."""
        with self._table.lock:
            obj, apps = self._sets.get(name), list(self._app_objs)
        return controller_preview(obj, apps) if obj is not None else None

    def load(self) -> None:
        """The loader thread: read once, then follow the watch."""
        try:
            self._load()
        finally:
            self.read.set()  # read (or given up): one-shot commands go on

    def _load(self) -> None:
        clusters = self._links.clusters
        try:
            context = clusters.default_context
            if context is None:
                return
            conn = clusters.connection(context)
            conn.start()
            self._links.listen(conn)
        except KubeApiError as exc:
            log.warning("cannot read Applications from the cluster: %s", exc)
            return
        if conn.discovery.lookup(APPLICATION_GROUP, APPLICATION_KIND) is None:
            log.warning("the cluster has no Application CRD; --from-cluster ignored")
            return
        kinds = [(APPLICATION_GROUP, APPLICATION_KIND), (APPLICATION_GROUP, PROJECT_KIND)]
        if conn.discovery.lookup(APPLICATION_GROUP, APPSET_KIND) is not None:
            kinds.append((APPLICATION_GROUP, APPSET_KIND))
        conn.cache.watch_kinds(kinds)

        def on_change(key: ResourceKey, old: Manifest | None, new: Manifest | None) -> None:
            if (
                key.group == APPLICATION_GROUP
                and key.namespace == self._namespace
                and key.kind in (APPLICATION_KIND, PROJECT_KIND, APPSET_KIND)
            ):
                self._sync(conn)

        conn.cache.add_listener(on_change)
        self._sync(conn)

    def _sync(self, conn: ClusterConnection) -> None:
        namespace = self._namespace
        found: dict[str, Application | InvalidApplication] = {}
        owners: dict[str, str] = {}
        projects: dict[str, Project] = {}
        sets: dict[str, Manifest] = {}
        app_objs: list[Manifest] = []
        for obj in conn.cache.objects():
            key = ResourceKey.of(obj)
            if key.group != APPLICATION_GROUP or key.namespace != namespace:
                continue
            if key.kind == APPLICATION_KIND:
                parsed = parse_application(obj, f"cluster:{namespace}")
                found[parsed.name] = parsed
                app_objs.append(obj)
                owner = appset_owner(obj)
                if owner is not None:
                    owners[parsed.name] = owner
            elif key.kind == PROJECT_KIND:
                projects[key.name] = project_from_object(obj)
            elif key.kind == APPSET_KIND:
                sets[key.name] = obj
        changed: list[str] = []
        table = self._table
        with table.lock:
            projects_changed = projects != table.projects
            table.projects = projects
            table.projects_known = True
            self._sets, self._app_objs = sets, app_objs
            for name, parsed in found.items():
                current = table.states.get(name)
                if current is None:
                    current = table.states[name] = AppState(app=parsed)
                    changed.append(name)
                elif current.app.origin.startswith("cluster:") and current.app != parsed:
                    current.app = parsed
                    changed.append(name)
                if name in owners:  # generated by Argo CD's ApplicationSet controller
                    current.parent, current.parent_kind = owners[name], APPSET_KIND
                elif current.parent_kind == APPSET_KIND:
                    current.parent, current.parent_kind = None, APPLICATION_KIND
            gone = [
                n
                for n, st in table.states.items()
                if st.app.origin == f"cluster:{namespace}" and n not in found
            ]
            for name in gone:
                del table.states[name]
                table.forget_desired(name)  # it wants nothing now (shared-resource checks)
            if projects_changed:
                changed = sorted(set(changed) | set(table.states))
        if changed or gone:
            self._apps_changed.set()
        for name in changed:
            self._render(name)
        self._publisher.mark_dirty()
