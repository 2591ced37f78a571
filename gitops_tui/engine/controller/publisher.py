"""Publication of snapshots: each app's is rebuilt as its state changes, the fleet's
is batched (100 ms, or ``PUBLISH_DUTY`` times the last build's duration when that is
longer: the fleet's publication never takes more than about a sixth of a core however
many apps) and handed to subscribers from one thread; nothing here ever waits on a
subscriber. A fleet build holds the table's lock only to collect the app snapshots; the
fleet is patched where apps changed (``FleetBuilder``), outside the lock."""

from __future__ import annotations

import logging
import operator
import threading
import time
from collections.abc import Callable

from gitops_tui.engine.api import Unsubscribe
from gitops_tui.engine.cache.readonly import ReadOnlyPolicy
from gitops_tui.engine.controller.automation import Automation
from gitops_tui.engine.controller.cluster_links import ClusterLinks
from gitops_tui.engine.controller.fleet_builder import FleetBuilder
from gitops_tui.engine.controller.snapshots import (
    AppView,
    app_snapshot,
    cluster_states,
    stale_parents,
)
from gitops_tui.engine.controller.state import AppState, AppTable
from gitops_tui.engine.snapshot import AppSetSnapshot, AppSnapshot, FleetSnapshot

log = logging.getLogger(__name__)

PUBLISH_BATCH_S = 0.1
_SNAPSHOT = operator.attrgetter("snapshot")
_SHOWS_CHILDREN = operator.attrgetter("shown_child_health")
PUBLISH_DUTY = 5  # the next build waits at least this many times the last one's duration
PUBLISH_DELAY_MAX_S = 2.0  # the longest gathering between builds, however slow the last


class Publisher:
    """Builds app and fleet snapshots and delivers them to subscribers."""

    def __init__(
        self,
        table: AppTable,
        links: ClusterLinks,
        automation: Automation,
        policy: ReadOnlyPolicy,
        stopped: threading.Event,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self._table = table
        self._links = links
        self._automation = automation
        self._policy = policy
        self._stopped = stopped
        self._subscribers: list[Callable[[FleetSnapshot], None]] = []
        self._generation = 0
        self._latest = FleetSnapshot.build(0, [], read_only=policy.everywhere)
        self.dirty = threading.Event()
        self._clock = clock
        self._sleep: Callable[[float], object] = sleep or stopped.wait
        self._builder = FleetBuilder()
        self._build_lock = threading.Lock()  # one fleet build at a time (the builder's state)
        self.last_build_s = 0.0  # how long the last fleet build took (wall clock)
        self.appsets: Callable[[], tuple[AppSetSnapshot, ...]] = tuple  # the ApplicationSets

    # ------------------------------------------------------------------ apps
    def app_snapshot(self, state: AppState, *, comparing: bool = False) -> AppSnapshot:
        """The app's snapshot now (the table's lock is held); remembers which child
        health it shows."""
        name = state.app.name
        view = AppView(
            cluster_errors=self._links.errors,
            conn=self._links.connected(state.context),
            automation_conditions=self._automation.conditions(name),
            automation=self._automation.status(name),
            read_only=self._policy.covers(self._links.context_of(state)),
            comparing=comparing,
        )
        snapshot, shown = app_snapshot(state, self._table.states, view)
        state.shown_child_health = shown
        return snapshot

    def refresh(self, state: AppState) -> None:
        """Rebuild the app's snapshot and publish."""
        with self._table.lock:
            state.snapshot = self.app_snapshot(state)
        self.mark_dirty()

    # ------------------------------------------------------------------ fleet
    def mark_dirty(self) -> None:
        self.dirty.set()

    def subscribe(self, callback: Callable[[FleetSnapshot], None]) -> Unsubscribe:
        with self._table.lock:
            self._subscribers.append(callback)
            latest = self._latest

        def unsubscribe() -> None:
            with self._table.lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        if latest.generation:
            callback(latest)
        return unsubscribe

    def snapshot(self) -> FleetSnapshot:
        """The latest state; built now if something changed since the last publication."""
        if self.dirty.is_set():
            return self.build_fleet()
        with self._table.lock:
            return self._latest

    def run(self) -> None:
        """The publisher thread: batch changes, build, deliver; until stopped."""
        while not self._stopped.is_set():
            self.dirty.wait()
            if self._stopped.is_set():
                return
            self._sleep(self.batch_delay())
            if self._stopped.is_set():
                return
            self.dirty.clear()
            snap = self.build_fleet()
            for callback in list(self._subscribers):
                try:
                    callback(snap)
                except Exception:
                    log.exception("snapshot subscriber failed")

    def batch_delay(self) -> float:
        """How long changes are gathered before the next build: the batch, or
        ``PUBLISH_DUTY`` times the last build when it was slow (a bounded duty cycle),
        never more than ``PUBLISH_DELAY_MAX_S`` (one build slowed by a pause must not
        hold the next publication for long)."""
        return min(PUBLISH_DELAY_MAX_S, max(PUBLISH_BATCH_S, PUBLISH_DUTY * self.last_build_s))

    def build_fleet(self) -> FleetSnapshot:
        """Build, remember and return the fleet's snapshot now. ``last_build_s`` is the
        time spent building, not the time spent waiting for a lock."""
        with self._table.lock:  # only to collect: the fleet is built outside it
            started = self._clock()
            self._generation += 1
            generation = self._generation
            self._rebuild_stale_parents()
            states = self._table.states
            names = list(states)
            apps: list[AppSnapshot] = list(map(_SNAPSHOT, states.values()))  # C-level pass
            if not all(apps):  # an app without a snapshot yet (rare): built now
                apps = [s.snapshot or self.app_snapshot(s) for s in states.values()]
            with self._links.lock:
                clusters = cluster_states(self._links.clusters.connections(), self._links.errors)
            appsets = self.appsets()
            took = self._clock() - started
        with self._build_lock:
            started = self._clock()
            snap = self._builder.build(
                generation,
                names,
                apps,
                read_only=self._policy.everywhere,
                clusters=clusters,
                appsets=appsets,
            )
            took += self._clock() - started
        with self._table.lock:
            if snap.generation > self._latest.generation:
                self._latest = snap
        self.last_build_s = max(0.0, took)
        return snap

    def _rebuild_stale_parents(self) -> None:
        """Rebuild each App of Apps parent whose snapshot shows a child's old health
        (the lock is held). A child's verdict changes after its parent was built; one
        pass per nesting level settles grandparents too."""
        for _ in range(64):
            # only a parent shows child health: the others cannot be stale
            shown = list(filter(_SHOWS_CHILDREN, self._table.states.values()))
            if not shown:
                return
            stale = stale_parents(self._table.states, shown)
            if not stale:
                return
            for state in stale:
                comparing = state.snapshot.comparing if state.snapshot else False
                state.snapshot = self.app_snapshot(state, comparing=comparing)
