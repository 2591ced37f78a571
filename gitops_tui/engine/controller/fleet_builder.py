"""The fleet snapshot built incrementally: only the app snapshots that changed cost work.

``FleetSnapshot.build`` sorts every app, maps every name and counts every status: O(apps)
Python work per publication, every 100 ms for as long as anything changes (a first sync
of N apps lasts O(N), so the whole sync paid O(N^2)). The engine reuses an app's
``AppSnapshot`` object while nothing about the app changed, so when the set of apps is
the one of the last build, the changed apps are those whose snapshot is not the same
object as last time: the sorted tuple, the by-name map and the counts are patched at
their places. The result is equal in content to ``FleetSnapshot.build`` over the same
apps (a new immutable snapshot; the last one is never changed).
"""

from __future__ import annotations

import operator
from itertools import compress
from types import MappingProxyType

from gitops_tui.engine.snapshot import AppSetSnapshot, AppSnapshot, ClusterState, FleetSnapshot


class FleetBuilder:
    """Builds fleet snapshots from (names, app snapshots) against the last build.

    Not thread-safe: one caller at a time (the publisher serialises its builds)."""

    def __init__(self) -> None:
        self._names: list[str] = []  # the table's names, in the table's order
        self._snaps: list[AppSnapshot] = []  # their snapshots, same order
        self._ordered: tuple[AppSnapshot, ...] = ()  # sorted by name
        self._position: dict[str, int] = {}  # name -> index in ``_ordered``
        self._names_map: dict[str, AppSnapshot] = {}  # what ``_by_name`` shows (never changed)
        self._by_name: MappingProxyType[str, AppSnapshot] = MappingProxyType({})
        self._totals_map: dict[str, int] = {}
        self._totals: MappingProxyType[str, int] = MappingProxyType({})
        self.full_builds = 0  # how many builds were full (tests, measurements)

    def build(
        self,
        generation: int,
        names: list[str],
        snaps: list[AppSnapshot],
        *,
        read_only: bool,
        clusters: tuple[ClusterState, ...] = (),
        appsets: tuple[AppSetSnapshot, ...] = (),
    ) -> FleetSnapshot:
        """The fleet of ``snaps`` (``names[i]`` is the table's key of ``snaps[i]``). The
        lists become the builder's: the caller does not change them afterwards."""
        if not self._patch(names, snaps):
            self._full(names, snaps)
        return FleetSnapshot(
            generation=generation,
            apps=self._ordered,
            read_only=read_only,
            clusters=clusters,
            by_name=self._by_name,
            appsets=tuple(sorted(appsets, key=lambda s: s.name)),
            totals=self._totals,
        )

    def _full(self, names: list[str], snaps: list[AppSnapshot]) -> None:
        full = FleetSnapshot.build(0, snaps, read_only=False)
        assert full.totals is not None
        self.full_builds += 1
        self._names = names
        self._snaps = snaps
        self._ordered = full.apps
        by_name = dict(full.by_name)
        # a name given twice (it never is: names are the table's keys) keeps full build's
        # last-wins map; positions would be ambiguous, so such a fleet is never patched
        self._position = (
            {a.name: i for i, a in enumerate(full.apps)} if len(by_name) == len(snaps) else {}
        )
        self._names_map = by_name
        self._by_name = MappingProxyType(by_name)
        self._totals_map = dict(full.totals)
        self._totals = MappingProxyType(self._totals_map)

    def _patch(self, names: list[str], snaps: list[AppSnapshot]) -> bool:
        """Patch the last build for the snapshots that changed; False when it cannot be
        patched (other apps, a snapshot under another name) and a full build is due.
        What stays O(apps) here are C-level passes (list comparison, identity map, copies
        of the tuple and the dict), no Python code per app."""
        if names != self._names or len(snaps) != len(self._snaps) or not self._position:
            return False
        changed = list(compress(range(len(snaps)), map(operator.is_not, snaps, self._snaps)))
        if not changed:
            return True
        old = [self._snaps[i] for i in changed]
        new = [snaps[i] for i in changed]
        if any(o.name != n.name for o, n in zip(old, new, strict=True)):
            return False  # the sort order could change: build it all
        ordered = list(self._ordered)
        by_name = self._names_map.copy()
        totals = self._totals_map.copy()
        for before, after in zip(old, new, strict=True):
            ordered[self._position[after.name]] = after
            by_name[after.name] = after
            for value in (before.sync.value, before.health.value):
                totals[value] -= 1
            for value in (after.sync.value, after.health.value):
                totals[value] = totals.get(value, 0) + 1
        self._snaps = snaps
        self._ordered = tuple(ordered)
        self._names_map = by_name
        self._by_name = MappingProxyType(by_name)
        self._totals_map = {k: n for k, n in totals.items() if n}
        self._totals = MappingProxyType(self._totals_map)
        return True


def same_content(a: FleetSnapshot, b: FleetSnapshot) -> bool:
    """Equal apps (in order), map, counts, clusters, sets and flags (not the generation)."""
    return (
        a.apps == b.apps
        and dict(a.by_name) == dict(b.by_name)
        and a.counts() == b.counts()
        and a.clusters == b.clusters
        and a.appsets == b.appsets
        and a.read_only == b.read_only
    )
