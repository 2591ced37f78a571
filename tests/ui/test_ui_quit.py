"""Quitting and terminating never cut a running sync short without asking (issue 15, defect 2)."""

from __future__ import annotations

from dataclasses import replace

from fake_engine import FakeEngine
from uitest import screen_text, wait_for

from gitops_tui.engine.api import OperationPhase
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.modals.confirm import ConfirmModal
from gitops_tui.ui.modals.quit import QuitModal

SIZE = (100, 30)


def end_frontend_sync(engine: FakeEngine, phase: OperationPhase) -> None:
    """The engine ends the sample fleet's running operation (frontend's op-88)."""
    op = engine.apps["frontend"].snapshot.operation
    assert op is not None
    engine.update_app("frontend", operation=replace(op, phase=phase, finished_at=op.started_at))


async def test_q_with_a_sync_running_asks_and_esc_stays(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitModal))
        text = screen_text(app)
        assert "Syncs are running" in text and "frontend" in text
        assert "w: wait for them" in text and "t: terminate them" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, QuitModal))
        assert app.is_running and engine.names("close") == []
        assert engine.names("terminate") == []


async def test_q_then_w_waits_for_the_sync_then_quits(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitModal))
        await pilot.press("w")
        await wait_for(pilot, lambda: "Waiting for 1 sync(s)" in screen_text(app))
        assert engine.names("close") == [] and engine.names("terminate") == []
        end_frontend_sync(engine, OperationPhase.SUCCEEDED)
        await wait_for(pilot, lambda: engine.names("close"))
    assert not app.is_running
    assert engine.names("terminate") == []


async def test_q_then_t_terminates_cleanly_then_quits(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitModal))
        await pilot.press("t")
        await wait_for(pilot, lambda: engine.names("terminate") == ["frontend"])
        await wait_for(pilot, lambda: "Terminating 1 sync(s)" in screen_text(app))
        assert engine.names("close") == []  # not before the sync stopped
        end_frontend_sync(engine, OperationPhase.FAILED)
        await wait_for(pilot, lambda: engine.names("close"))
    assert not app.is_running


async def test_q_in_read_only_offers_no_terminate() -> None:
    engine = FakeEngine(read_only=True)
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitModal))
        assert "t: terminate" not in screen_text(app)
        await pilot.press("t")
        await pilot.pause()
        assert engine.names("terminate") == []


async def test_t_in_the_list_asks_before_terminating(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("t")  # the cursor is on frontend, whose sync runs
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "Terminate the sync of frontend?" in screen_text(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmModal))
        assert engine.names("terminate") == []
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_for(pilot, lambda: engine.names("terminate") == ["frontend"])
