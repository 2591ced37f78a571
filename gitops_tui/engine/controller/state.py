"""The engine's mutable record of each app, and the table holding them under one lock.

``AppTable`` owns what every part of the controller shares: the apps by name, which
app wants which object (shared-resource checks, live-event routing) and, with
``--from-cluster``, the AppProjects read from the cluster.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from gitops_tui.engine.app.application import Application, InvalidApplication
from gitops_tui.engine.app.projects import Project
from gitops_tui.engine.diff.compare import Comparison
from gitops_tui.engine.model import Condition, HealthStatus, Manifest, ResourceKey
from gitops_tui.engine.snapshot import AppSnapshot, OperationState
from gitops_tui.engine.source.sources import Generated, SourceError
from gitops_tui.engine.sync.history import HistoryStore


@dataclass
class AppState:
    """The engine's mutable record of one app (guarded by ``AppTable.lock``)."""

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


def recorded_last_sync(history: HistoryStore, app: str) -> OperationState | None:
    """The last sync of ``app`` the history store holds (None if it cannot be read)."""
    try:
        last = history.last(app)
    except Exception:
        return None
    return last.operation if last else None


class AppTable:
    """Every app's state by name, the desired-object index and the AppProjects."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.states: dict[str, AppState] = {}
        self.projects: dict[str, Project] = {}
        self.projects_known = False  # only with --from-cluster are AppProjects read
        self._desired_index: dict[tuple[str, ResourceKey], set[str]] = {}
        self._desired_by_app: dict[str, set[tuple[str, ResourceKey]]] = {}

    def index_desired(self, app: str, cluster: str, desired: list[Manifest]) -> None:
        """Remember which app wants which object (the lock is held)."""
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

    def forget_desired(self, app: str) -> None:
        """``app`` is gone: it wants nothing any more (the lock is held)."""
        self.index_desired(app, "", [])
        self._desired_by_app.pop(app, None)

    def wanting(self, cluster: str, key: ResourceKey) -> set[str]:
        """The apps whose desired state holds ``key`` on ``cluster``."""
        with self.lock:
            return set(self._desired_index.get((cluster, key), set()))

    def claimed_elsewhere(self, cluster: str, key: ResourceKey, app: str) -> str | None:
        """Another app that wants the same object, if any (the first by name)."""
        others = sorted(self.wanting(cluster, key) - {app})
        return others[0] if others else None
