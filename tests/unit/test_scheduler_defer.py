"""A live event for an app whose own sync runs does not compare it before the sync ends."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

from gitops_tui.engine.app.application import Application, Destination, Source
from gitops_tui.engine.controller.scheduler import Scheduler
from gitops_tui.engine.controller.state import AppState, AppTable
from gitops_tui.engine.snapshot import OperationPhase, OperationState


class _Publisher:
    def app_snapshot(self, state: AppState, comparing: bool = False) -> None:
        return None

    def mark_dirty(self) -> None:
        pass


def test_a_compare_waits_for_the_apps_own_sync(tmp_path: Any) -> None:
    table = AppTable()
    app = Application(
        name="a",
        namespace="argocd",
        project="default",
        sources=(Source(repo_url="file:///nowhere", path="p"),),
        destination=Destination(server="https://x", namespace="n"),
    )
    running = OperationState("op", "a", OperationPhase.RUNNING, "applying", "sha", time.time())
    table.states["a"] = AppState(app=app, operation=running, need_render=False, fetch=False)
    worked = threading.Event()

    def work(state: AppState, render: bool, fetch: bool, hard: bool) -> None:
        worked.set()

    scheduler = Scheduler(
        table,
        _Publisher(),  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        threading.Event(),
        workers=1,
        only_apps=None,
        work=work,
        after=lambda name: None,
    )
    try:
        scheduler.schedule("a")  # a live event during the sync
        assert not table.states["a"].running
        scheduler.pool.shutdown(wait=True)  # anything submitted has run
        assert not worked.is_set()
        scheduler.pool = type(scheduler.pool)(max_workers=1)
        scheduler.schedule("a", render=True)  # a new commit is not deferred
        assert worked.wait(10)
        worked.clear()
        table.states["a"].operation = replace(running, phase=OperationPhase.SUCCEEDED)
        while table.states["a"].running:
            time.sleep(0.01)
        scheduler.schedule("a")  # the operation's end: compared
        assert worked.wait(10)
    finally:
        scheduler.close()
