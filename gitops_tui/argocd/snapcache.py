"""Memoised app snapshots for the Argo CD backend: rebuild only the apps that changed.

Building an ``AppSnapshot`` from an ``Application`` object (``status.app_snapshot``)
costs a parse of its spec and status. With thousands of apps and a publication
after every watch event, rebuilding every app per publication was the console's
main cost (issue 13: 2,000 apps, 9 publications in two minutes). An app's snapshot
depends on exactly three inputs, besides the backend's constants (origin, context,
read-only):

* the ``Application`` object: identified by ``metadata.resourceVersion`` (the API
  server changes it on every write), or by the object's identity when it has none;
* whether its project exists (``projects`` is ``None`` until the AppProjects are
  listed);
* the live view's entries for the app's own resources (health and children of the
  ``status.resources`` keys of the kinds ``tree`` reads).

The cache keeps, per app, those inputs and the snapshot built from them; a build
with the same inputs returns the kept snapshot. ``builds`` counts real builds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gitops_tui.argocd.status import app_snapshot, name
from gitops_tui.argocd.tree import LiveView, live_keys
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.snapshot import AppSnapshot


def _version(obj: Manifest) -> str:
    meta = obj.get("metadata") or {}
    return str(meta.get("resourceVersion") or "") if isinstance(meta, Mapping) else ""


def app_live_keys(obj: Manifest) -> tuple[ResourceKey, ...]:
    """The keys of the app's ``status.resources`` that the live tree reads."""
    status = obj.get("status") or {}
    resources = status.get("resources") if isinstance(status, Mapping) else None
    if not isinstance(resources, list):
        return ()
    return tuple(live_keys(r for r in resources if isinstance(r, dict)))


def tree_inputs(obj: Manifest) -> tuple[Any, ...]:
    """What, when it changes in an app, wakes the live tree before its period: the app's
    live-read resources, or its operation moving on (a sync creates children). Plain
    status writes (sync, health, ``reconciledAt``) do not: at 2,000 apps under churn
    they made the tree a continuous poll."""
    status = obj.get("status") or {}
    op = status.get("operationState") if isinstance(status, Mapping) else None
    op = op if isinstance(op, Mapping) else {}
    return app_live_keys(obj), op.get("phase"), op.get("finishedAt")


def _project(obj: Manifest) -> str:
    spec = obj.get("spec") or {}
    return (name(spec.get("project")) if isinstance(spec, Mapping) else "") or "default"


@dataclass(frozen=True, slots=True)
class _Entry:
    obj: Manifest  # kept: identity stands for the version when there is none
    version: str
    keys: tuple[ResourceKey, ...]
    project_known: bool | None
    live: tuple[Any, ...]
    snapshot: AppSnapshot

    def same_object(self, obj: Manifest, version: str) -> bool:
        return obj is self.obj or (bool(version) and version == self.version)


class SnapshotCache:
    """App snapshots by app name, rebuilt only when their inputs changed."""

    def __init__(self, *, origin: str, in_cluster_context: str, read_only: bool) -> None:
        self._origin = origin
        self._context = in_cluster_context
        self._read_only = read_only
        self._entries: dict[str, _Entry] = {}
        self._seen: tuple[LiveView, frozenset[str] | None] | None = None
        self.builds = 0

    def keys_of(self, app: str, obj: Manifest) -> tuple[ResourceKey, ...]:
        """The app's live keys, from the cache when this object was seen already."""
        entry = self._entries.get(app)
        if entry is not None and entry.same_object(obj, _version(obj)):
            return entry.keys
        return app_live_keys(obj)

    def snapshots(
        self, objs: Mapping[str, Manifest], projects: frozenset[str] | None, live: LiveView
    ) -> list[AppSnapshot]:
        """One snapshot per object (by app name); apps no longer present are forgotten."""
        out: list[AppSnapshot] = []
        entries: dict[str, _Entry] = {}
        # the same live view and projects as last time: an app whose object is the very
        # same is not looked at again (most apps, on most publications)
        seen = self._seen
        same = seen is not None and seen[0] is live and seen[1] == projects
        for app, obj in objs.items():
            old = self._entries.get(app) if same else None
            entry = (
                old if old is not None and old.obj is obj else self._entry(app, obj, projects, live)
            )
            entries[app] = entry
            out.append(entry.snapshot)
        self._entries = entries
        self._seen = (live, projects)
        return out

    def _entry(
        self, app: str, obj: Manifest, projects: frozenset[str] | None, live: LiveView
    ) -> _Entry:
        version = _version(obj)
        old = self._entries.get(app)
        same = old is not None and old.same_object(obj, version)
        keys = old.keys if old is not None and same else app_live_keys(obj)
        project_known = None if projects is None else _project(obj) in projects
        live_part = tuple((live.health.get(k), live.children.get(k)) for k in keys)
        if (
            old is not None
            and same
            and old.project_known == project_known
            and old.live == live_part
        ):
            return old
        self.builds += 1
        snapshot = app_snapshot(
            obj,
            origin=self._origin,
            in_cluster_context=self._context,
            read_only=self._read_only,
            projects=projects,
            live_health=live.health,
            children=live.children,
        )
        return _Entry(obj, version, keys, project_known, live_part, snapshot)
