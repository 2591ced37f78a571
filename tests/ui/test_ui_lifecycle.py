"""Threads and shutdown: snapshots from engine threads, slow engine calls, immediate quit."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from fake_engine import FakeEngine
from textual.worker import get_current_worker
from uitest import wait_for

from gitops_tui.ui import workers as ui_workers
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.modals.sync import SyncModal
from gitops_tui.ui.screens.app_list import AppTable
from gitops_tui.ui.screens.app_view import AppViewScreen
from gitops_tui.ui.workers import Cancelled, call_blocking

SIZE = (80, 24)


def test_quit_is_immediate_while_engine_calls_hang() -> None:
    engine = FakeEngine()
    engine.update_app("frontend", operation=None)  # no sync runs: q quits without asking
    engine.gate = threading.Event()  # diffs, preview and close block for up to 60 s

    async def scenario() -> GitOpsApp:
        app = GitOpsApp(engine)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("j", "enter")
            await wait_for(pilot, lambda: engine.names("diffs"))
            await pilot.press("s")
            await wait_for(
                pilot, lambda: isinstance(app.screen, SyncModal) and engine.names("preview")
            )
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
            quit_pressed.append(time.monotonic())
            await pilot.press("q")
            await pilot.pause()
        return app

    quit_pressed: list[float] = []
    try:
        app = asyncio.run(scenario())
        # From q to the app gone, not the whole scenario (start-up is slow under load);
        # the hung calls would hold it for 60 s.
        elapsed = time.monotonic() - quit_pressed[0]
        assert elapsed < 10, f"quitting took {elapsed:.1f}s"
        assert not app.is_running
        deadline = time.monotonic() + 2
        while not engine.names("close") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert engine.names("close") == [None]  # asked to close, on its own thread
        assert not engine.closed.is_set()  # ... and nobody waited for it
        assert engine.subscribers == []
    finally:
        engine.gate.set()
    assert engine.closed.wait(5)


async def test_a_burst_of_snapshots_from_an_engine_thread(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()

        def burst() -> None:
            for _ in range(200):
                engine.publish(wait=False)

        thread = threading.Thread(target=burst)
        thread.start()
        thread.join(10)
        await wait_for(pilot, lambda: app.fleet.generation == engine.generation)
        assert len(app.screen.query_one(AppTable).keys) == 5


async def test_closing_the_view_cancels_its_worker(
    engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The diff worker of a closed view gives up; the late result is never delivered."""
    outcomes: list[str] = []

    def recording(fn: Any, *args: Any, **kwargs: Any) -> Any:
        if get_current_worker().group != "diffs":  # the other workers' calls are not watched
            return call_blocking(fn, *args, **kwargs)
        try:
            result = call_blocking(fn, *args, **kwargs)
        except Cancelled:
            outcomes.append("cancelled")
            raise
        outcomes.append("returned")
        return result

    monkeypatch.setattr(ui_workers, "call_blocking", recording)
    engine.gate = threading.Event()
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j", "enter")
        await wait_for(pilot, lambda: engine.names("diffs"))
        view = app.screen
        assert isinstance(view, AppViewScreen)
        workers = [w for w in app.workers if w.group == "diffs"]
        assert len(workers) == 1 and not workers[0].is_finished
        await pilot.press("escape")
        await wait_for(pilot, lambda: workers[0].is_cancelled)
        assert not isinstance(app.screen, AppViewScreen)
        engine.gate.set()  # the engine call now returns; the worker must drop the result
        await wait_for(pilot, lambda: outcomes)
        assert outcomes == ["cancelled"]
        await pilot.pause()
        assert view.diffs is None
