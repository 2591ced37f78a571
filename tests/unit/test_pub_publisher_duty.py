"""The fleet publisher's bounded duty cycle (a slow build delays the next one) and its
short hold of the table's lock (the fleet is built outside it); the subscriber gets the
newest state after the last change."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

from gitops_tui.engine.app.application import Application, Destination, Source
from gitops_tui.engine.cache.readonly import ReadOnlyPolicy
from gitops_tui.engine.controller.fleet_builder import FleetBuilder
from gitops_tui.engine.controller.publisher import (
    PUBLISH_BATCH_S,
    PUBLISH_DELAY_MAX_S,
    PUBLISH_DUTY,
    Publisher,
)
from gitops_tui.engine.controller.state import AppState, AppTable
from gitops_tui.engine.model import HealthStatus, SyncStatus
from gitops_tui.engine.snapshot import AppSetSnapshot, AppSnapshot, FleetSnapshot
from gitops_tui.engine.snapshot import Destination as SnapDestination


def _state(name: str) -> AppState:
    app = Application(
        name=name,
        namespace="argocd",
        project="default",
        sources=(Source(repo_url="file:///nowhere", path=name),),
        destination=Destination(server="https://x", namespace="n"),
    )
    snap = AppSnapshot(
        name=name,
        project="default",
        sync=SyncStatus.SYNCED,
        health=HealthStatus.HEALTHY,
        health_message="",
        revision="",
        target_revision="main",
        repo_url="file:///nowhere",
        path=name,
        destination=SnapDestination("https://x", "", "n"),
    )
    return AppState(app=app, snapshot=snap)


NO_AUTOMATION: Any = None  # every app has its snapshot: the publisher never asks it


def _links() -> Any:
    # our own collaborator's surface only: no cluster is connected in these tests
    return SimpleNamespace(
        lock=threading.RLock(),
        clusters=SimpleNamespace(connections=lambda: []),
        errors={},
    )


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_slow_build_delays_the_next_by_duty_times_its_duration() -> None:
    table = AppTable()
    for i in range(3):
        table.states[f"a{i}"] = _state(f"a{i}")
    stopped = threading.Event()
    clock = _Clock()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            stopped.set()

    pub = Publisher(
        table, _links(), NO_AUTOMATION, ReadOnlyPolicy(), stopped, clock=clock, sleep=sleep
    )
    build_s = [0.3, 0.01]

    def appsets() -> tuple[AppSetSnapshot, ...]:  # called while a build is timed
        clock.now += build_s.pop(0) if build_s else 0.0
        return ()

    pub.appsets = appsets
    got: list[FleetSnapshot] = []

    def subscriber(snap: FleetSnapshot) -> None:
        got.append(snap)
        pub.mark_dirty()  # something changed again

    pub.subscribe(subscriber)
    pub.mark_dirty()
    pub.run()
    assert waits[0] == PUBLISH_BATCH_S  # nothing built yet: the batch
    assert waits[1] >= PUBLISH_DUTY * 0.3 - 1e-9  # after a 0.3 s build
    assert waits[2] == PUBLISH_BATCH_S  # a fast build: back to the batch
    assert len(got) == 2 and [a.name for a in got[-1].apps] == ["a0", "a1", "a2"]


def test_the_fleet_is_built_outside_the_table_lock(monkeypatch: Any) -> None:
    table = AppTable()
    for i in range(3):
        table.states[f"a{i}"] = _state(f"a{i}")
    pub = Publisher(table, _links(), NO_AUTOMATION, ReadOnlyPolicy(), threading.Event())
    taken: list[bool] = []
    real_build = FleetSnapshot.build

    def build(*args: Any, **kwargs: Any) -> FleetSnapshot:
        # another thread (a worker) can take the table's lock while the fleet is built
        result: list[bool] = []

        def other() -> None:
            ok = table.lock.acquire(timeout=5)
            if ok:
                table.lock.release()
            result.append(ok)

        t = threading.Thread(target=other)
        t.start()
        t.join()
        taken.append(result[0])
        return real_build(*args, **kwargs)

    monkeypatch.setattr(FleetBuilder, "build", _wrap(build), raising=True)
    snap = pub.build_fleet()
    assert taken == [True]
    assert [a.name for a in snap.apps] == ["a0", "a1", "a2"]
    assert pub.snapshot() is snap


def _wrap(build: Any) -> Any:
    def method(self: Any, generation: int, names: Any, apps: Any, **kw: Any) -> FleetSnapshot:
        return build(generation, apps, **kw)  # type: ignore[no-any-return]

    return method


def test_the_newest_state_after_the_last_change_is_published() -> None:
    table = AppTable()
    table.states["a"] = _state("a")
    stopped = threading.Event()
    pub = Publisher(table, _links(), NO_AUTOMATION, ReadOnlyPolicy(), stopped)
    seen: list[FleetSnapshot] = []
    final = threading.Event()

    def subscriber(snap: FleetSnapshot) -> None:
        seen.append(snap)
        if snap.by_name["a"].health == HealthStatus.DEGRADED:
            final.set()

    pub.subscribe(subscriber)
    thread = threading.Thread(target=pub.run, daemon=True)
    thread.start()
    try:
        for health in (HealthStatus.PROGRESSING, HealthStatus.MISSING, HealthStatus.DEGRADED):
            with table.lock:
                old = table.states["a"].snapshot
                assert old is not None
                table.states["a"].snapshot = _replace_health(old, health)
            pub.mark_dirty()
        assert final.wait(30)  # the last change reaches the subscriber
        assert seen[-1].counts() == {"Synced": 1, "Degraded": 1}
    finally:
        stopped.set()
        pub.mark_dirty()
        thread.join(30)


def _replace_health(snap: AppSnapshot, health: HealthStatus) -> AppSnapshot:
    from dataclasses import replace

    return replace(snap, health=health)


def test_one_slow_build_holds_the_next_publication_at_most_the_cap() -> None:
    """A build slowed by a pause (GC, a loaded machine) of 1 s would otherwise hold the
    next publication for 5 s: the list would lag that long behind the cluster."""
    pub = Publisher(AppTable(), _links(), NO_AUTOMATION, ReadOnlyPolicy(), threading.Event())
    pub.last_build_s = 1.0
    assert pub.batch_delay() == PUBLISH_DELAY_MAX_S < PUBLISH_DUTY * 1.0
    pub.last_build_s = 0.01
    assert pub.batch_delay() == PUBLISH_BATCH_S
