"""The app list's filter language and sort orders (pure: no Textual).

Filter text is whitespace-separated terms, all of which must match:

* ``web``: the app name contains ``web`` (case-insensitive);
* ``sync:OutOfSync``, ``health:Degraded``: the status starts with the value
  (``sync:out`` works too);
* ``project:x``, ``cluster:x``: the project / destination cluster contains
  ``x``: its name, server, ``in-cluster`` for Argo CD's in-cluster address, or
  the kubeconfig context the destination resolved to (however it was named);
  ``ns:x`` the destination namespace;
* ``!term`` negates a term.

Several terms with the same key are alternatives (``health:Degraded
health:Missing``); terms with different keys must all hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from gitops_tui.engine.api import IN_CLUSTER, AppSnapshot, Destination, OperationPhase
from gitops_tui.engine.model import HealthStatus, SyncStatus

FILTER_KEYS = ("name", "sync", "health", "project", "cluster", "ns")
_ALIASES = {"namespace": "ns", "proj": "project", "dest": "cluster", "app": "name"}


def cluster_label(dest: Destination) -> str:
    """The destination's cluster: its name, ``in-cluster (context)`` for the in-cluster
    address, or the server."""
    if dest.name:
        return dest.name
    return dest.in_cluster_label if dest.server.rstrip("/") == IN_CLUSTER else dest.server


class FilterError(ValueError):
    """The filter text names an unknown key or an empty value."""


@dataclass(frozen=True)
class Term:
    key: str
    value: str
    negate: bool = False

    def matches(self, app: AppSnapshot) -> bool:
        return _term_matches(self.key, self.value.lower(), app) != self.negate


def _term_matches(key: str, value: str, app: AppSnapshot) -> bool:
    if key == "name":
        return value in app.name.lower()
    if key == "sync":
        return app.sync.value.lower().startswith(value)
    if key == "health":
        return app.health.value.lower().startswith(value)
    if key == "project":
        return value in app.project.lower()
    if key == "cluster":
        dest = app.destination
        return (
            value in dest.name.lower()
            or value in dest.server.lower()
            or value in cluster_label(dest).lower()
            or value in dest.context.lower()
        )
    if key == "ns":
        return value in app.destination.namespace.lower()
    raise FilterError(f"unknown filter key {key!r}")


@dataclass(frozen=True)
class AppFilter:
    """A parsed filter; the empty filter matches everything."""

    text: str = ""
    terms: tuple[Term, ...] = ()

    @classmethod
    def parse(cls, text: str) -> AppFilter:
        terms: list[Term] = []
        for raw in text.split():
            negate = raw.startswith("!")
            body = raw[1:] if negate else raw
            key, sep, value = body.partition(":")
            if sep:
                key = _ALIASES.get(key.lower(), key.lower())
                if key not in FILTER_KEYS:
                    raise FilterError(
                        f"unknown filter key {key!r} (use {', '.join(k + ':' for k in FILTER_KEYS)})"
                    )
                if not value:
                    raise FilterError(f"filter term {raw!r} has no value")
            else:
                key, value = "name", body
            if value:
                terms.append(Term(key, value, negate))
        return cls(text=text.strip(), terms=tuple(terms))

    @property
    def active(self) -> bool:
        return bool(self.terms)

    def matches(self, app: AppSnapshot) -> bool:
        by_key: dict[tuple[str, bool], list[Term]] = {}
        for term in self.terms:
            by_key.setdefault((term.key, term.negate), []).append(term)
        for (_, negate), group in by_key.items():
            if negate:
                if not all(t.matches(app) for t in group):
                    return False
            elif not any(t.matches(app) for t in group):
                return False
        return True

    def apply(self, apps: Iterable[AppSnapshot]) -> list[AppSnapshot]:
        return [app for app in apps if self.matches(app)]


# -- sorting -----------------------------------------------------------------------------

_SYNC_RANK = {SyncStatus.OUT_OF_SYNC: 0, SyncStatus.UNKNOWN: 1, SyncStatus.SYNCED: 2}
_PHASE_RANK = {
    OperationPhase.ERROR: 0,
    OperationPhase.FAILED: 1,
    OperationPhase.TERMINATING: 2,
    OperationPhase.RUNNING: 3,
    OperationPhase.SUCCEEDED: 4,
}


def _last_phase_rank(app: AppSnapshot) -> int:
    op = app.operation or app.last_sync
    return _PHASE_RANK[op.phase] if op is not None else len(_PHASE_RANK)


def _health_rank(status: HealthStatus) -> int:
    return -status.severity  # worst first


SortKey = Callable[[AppSnapshot], Any]

SORTS: dict[str, tuple[str, SortKey]] = {
    "name": ("Name", lambda a: a.name),
    "sync": ("Sync", lambda a: (_SYNC_RANK[a.sync], a.name)),
    "health": ("Health", lambda a: (_health_rank(a.health), a.name)),
    "project": ("Project", lambda a: (a.project, a.name)),
    "cluster": ("Cluster", lambda a: (cluster_label(a.destination), a.name)),
    "revision": ("Revision", lambda a: (a.revision, a.name)),
    "last_sync": ("Last sync", lambda a: (_last_phase_rank(a), a.name)),
    "destination": ("Destination", lambda a: (a.destination.label, a.name)),
}
"""Sort id -> (label, key). Status sorts put problems first; the name breaks ties."""

SORT_ORDER: tuple[str, ...] = tuple(SORTS)


def next_sort(current: str) -> str:
    """The sort after ``current`` in ``SORT_ORDER`` (wrapping around)."""
    index = SORT_ORDER.index(current) if current in SORT_ORDER else -1
    return SORT_ORDER[(index + 1) % len(SORT_ORDER)]
