"""Immutable views of the engine's state, published to subscribers (the TUI, the CLI).

A ``FleetSnapshot`` is built by the reconciler and never changed afterwards, so
the UI thread can read it while the engine builds the next one. ``generation``
grows with every publication: a consumer drops anything older than what it shows.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from gitops_tui.engine.model import Condition, HealthStatus, ResourceKey, SyncStatus

IN_CLUSTER = "https://kubernetes.default.svc"


class OperationPhase(enum.StrEnum):
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    ERROR = "Error"
    TERMINATING = "Terminating"

    @property
    def done(self) -> bool:
        return self not in (OperationPhase.RUNNING, OperationPhase.TERMINATING)


class ResultCode(enum.StrEnum):
    SYNCED = "Synced"
    SYNC_FAILED = "SyncFailed"
    PRUNED = "Pruned"
    PRUNE_SKIPPED = "PruneSkipped"
    PENDING = "Pending"
    RUNNING = "Running"
    SKIPPED = "Skipped"


@dataclass(frozen=True, slots=True)
class ResourceResult:
    """What a sync did (or is doing) to one object."""

    key: ResourceKey
    status: ResultCode
    message: str = ""
    phase: str = "Sync"
    wave: int = 0
    action: str = ""
    hook: bool = False


@dataclass(frozen=True, slots=True)
class OperationState:
    """A sync operation, running or finished (Argo CD's ``status.operationState``)."""

    id: str
    app: str
    phase: OperationPhase
    message: str
    revision: str
    started_at: float
    finished_at: float | None = None
    initiated_by: str = "user"
    dry_run: bool = False
    prune: bool = False
    results: tuple[ResourceResult, ...] = ()
    kind: str = "sync"
    """``sync`` (a sync, dry run or rollback) or ``delete`` (the app's resources deleted)."""


@dataclass(frozen=True, slots=True)
class ResourceNode:
    """One object in an app's resource tree: a managed root or an owned child."""

    key: ResourceKey
    version: str
    status: SyncStatus | None  # None for children (not compared)
    health: HealthStatus | None
    health_message: str = ""
    requires_pruning: bool = False
    sync_wave: int = 0
    hook: bool = False
    exists: bool = True
    children: tuple[ResourceNode, ...] = ()
    changed_paths: tuple[str, ...] = ()
    health_rule: str = ""
    """Which rule judged ``health``: ``built-in``, ``Lua (<source and key, or file>)``,
    ``inferred``; "" when none did (no health, or a missing object)."""


@dataclass(frozen=True, slots=True)
class Destination:
    server: str
    name: str
    namespace: str
    context: str = ""  # the kubeconfig context it resolved to ("" when unresolved)

    @property
    def label(self) -> str:
        """``in-cluster (ctx)/ns`` for Argo CD's in-cluster address, else ``name-or-server/ns``."""
        where = self.name or (
            self.in_cluster_label if self.server.rstrip("/") == IN_CLUSTER else self.server
        )
        return f"{where}/{self.namespace}" if self.namespace else where

    @property
    def in_cluster_label(self) -> str:
        """``in-cluster``, naming the kube context it means when known."""
        return f"in-cluster ({self.context})" if self.context else "in-cluster"


@dataclass(frozen=True, slots=True)
class AutomationStatus:
    """What holds an automated app back: ``kind`` is ``self-heal`` (backoff), ``retry``
    (a failed automated sync waits for its retry), ``failed`` (retries exhausted) or
    ``refused`` (allowEmpty). ``next_at`` is wall-clock seconds, or None."""

    kind: str
    message: str
    attempt: int = 0
    next_at: float | None = None


@dataclass(frozen=True, slots=True)
class AppSnapshot:
    """Everything the UI shows about one application."""

    name: str
    project: str
    sync: SyncStatus
    health: HealthStatus
    health_message: str
    revision: str  # resolved commit SHA, "" when unknown
    target_revision: str
    repo_url: str  # credentials redacted
    path: str
    destination: Destination
    automated: bool = False
    auto_prune: bool = False
    self_heal: bool = False
    conditions: tuple[Condition, ...] = ()
    resources: tuple[ResourceNode, ...] = ()
    operation: OperationState | None = None
    last_sync: OperationState | None = None
    parent: str | None = None
    parent_kind: str = "Application"  # or "ApplicationSet" (meaningful with ``parent``)
    origin: str = ""
    compared_at: float = 0.0
    comparing: bool = False
    read_only: bool = False  # the engine refuses mutations of this app (global or per context)
    sync_options: tuple[str, ...] = ()  # spec.syncPolicy.syncOptions as written
    automation: AutomationStatus | None = None  # what holds automated sync back

    @property
    def short_revision(self) -> str:
        return self.revision[:7]

    @property
    def out_of_sync_count(self) -> int:
        return sum(1 for r in self.resources if r.status == SyncStatus.OUT_OF_SYNC)


@dataclass(frozen=True, slots=True)
class AppSetSnapshot:
    """An ApplicationSet read with the apps: its generated apps (children) and conditions.

    ``conditions`` are ErrorOccurred (nothing generated now; the apps already there
    stay) and name clashes; ``skipped`` names what ``applicationsSync`` held back
    (an app no longer generated but kept, an update not made)."""

    name: str
    namespace: str
    origin: str
    policy: str  # applicationsSync ("" for a set that could not be read)
    conditions: tuple[Condition, ...] = ()
    applications: tuple[str, ...] = ()  # its apps now, sorted
    skipped: tuple[str, ...] = ()
    generated_at: float = 0.0
    parent: str = ""  # the App of Apps parent that renders it ("" for a set from a file)


@dataclass(frozen=True, slots=True)
class ClusterState:
    name: str
    server: str
    reachable: bool
    message: str = ""
    since: float = 0.0  # wall-clock seconds it has been unreachable since (0: unknown)


def _empty_map() -> Mapping[str, AppSnapshot]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class FleetSnapshot:
    """All apps at one instant. ``apps`` is sorted by name."""

    generation: int
    apps: tuple[AppSnapshot, ...] = ()
    read_only: bool = False
    clusters: tuple[ClusterState, ...] = ()
    by_name: Mapping[str, AppSnapshot] = field(default_factory=_empty_map)
    appsets: tuple[AppSetSnapshot, ...] = ()  # sorted by name
    totals: Mapping[str, int] | None = None
    """``counts()`` worked out by ``build``, on the publishing thread (not the UI's)."""

    @classmethod
    def build(
        cls,
        generation: int,
        apps: list[AppSnapshot],
        *,
        read_only: bool,
        clusters: tuple[ClusterState, ...] = (),
        appsets: tuple[AppSetSnapshot, ...] = (),
    ) -> FleetSnapshot:
        ordered = tuple(sorted(apps, key=lambda a: a.name))
        return cls(
            generation=generation,
            apps=ordered,
            read_only=read_only,
            clusters=clusters,
            by_name=MappingProxyType({a.name: a for a in ordered}),
            appsets=tuple(sorted(appsets, key=lambda s: s.name)),
            totals=MappingProxyType(_counts(ordered)),
        )

    def counts(self) -> dict[str, int]:
        """Synced / OutOfSync / Unknown and per-health counts for the header."""
        return dict(self.totals) if self.totals is not None else _counts(self.apps)


def _counts(apps: tuple[AppSnapshot, ...]) -> dict[str, int]:
    # counted by enum member, named once per status (not 2 x N ``.value`` lookups)
    out: dict[str, int] = {}
    for counted in (Counter(a.sync for a in apps), Counter(a.health for a in apps)):
        for status, n in counted.items():
            out[status.value] = out.get(status.value, 0) + n
    return out


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One recorded sync of an app (Argo CD's ``status.history`` plus results)."""

    id: int
    app: str
    revision: str
    repo_url: str
    path: str
    operation: OperationState
