"""The sync dialog: preview first, one-key toggles that re-preview, confirm, progress, terminate."""

from __future__ import annotations

import threading
from dataclasses import replace

from fake_engine import FakeEngine
from uitest import screen_text, settles, wait_for

from gitops_tui.engine.api import EngineError, ReadOnlyError, SyncRequest
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.snapshot import OperationPhase, ResourceResult, ResultCode
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.messages import PreviewReady
from gitops_tui.ui.modals.sync import SyncModal
from gitops_tui.ui.screens.app_view import AppViewScreen
from gitops_tui.ui.widgets.tables import KeyedTable

SIZE = (80, 24)
DEPLOYMENT = ResourceKey("apps", "Deployment", "guestbook", "guestbook-ui")
CONFIG = ResourceKey("", "ConfigMap", "guestbook", "guestbook-config")


async def open_sync(pilot, app: GitOpsApp) -> SyncModal:  # type: ignore[no-untyped-def]
    await pilot.press("j", "s")  # guestbook
    await wait_for(pilot, lambda: isinstance(app.screen, SyncModal) and app.screen.ready)
    assert isinstance(app.screen, SyncModal)
    return app.screen


async def test_preview_before_anything_happens(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_sync(pilot, app)
        assert engine.names("preview") == [SyncRequest("guestbook")]
        assert engine.names("sync") == []
        plan = modal.query_one("#sync-plan", KeyedTable)
        rows = [plan.cells(key) for key in plan.keys]
        assert rows[0][1] == "PreSync -1" and rows[0][3] == "Job guestbook/db-migrate"
        assert [r[2].plain for r in rows if r[3] == "ConfigMap guestbook/old-config"] == [
            "· PruneSkipped"
        ]
        assert "revision 4f2c9a1" in screen_text(app)


async def test_toggles_re_preview_and_confirm_sends_the_request(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_sync(pilot, app)
        for key in ("p", "d", "o", "f"):
            await pilot.press(key)
            await wait_for(pilot, lambda: modal.ready)
        expected = SyncRequest(
            "guestbook", prune=True, dry_run=True, apply_out_of_sync_only=True, force=True
        )
        assert engine.names("preview")[-1] == expected
        assert len(engine.names("preview")) == 5
        plan = modal.query_one("#sync-plan", KeyedTable)
        actions = {plan.cells(k)[3]: plan.cells(k)[2].plain for k in plan.keys}
        assert actions["ConfigMap guestbook/old-config"] == "- Prune"
        assert actions["Service guestbook/guestbook-ui"] == "= Unchanged (skip)"
        await pilot.press("p")  # prune back off
        await wait_for(pilot, lambda: modal.ready)
        await pilot.press("y")
        await wait_for(pilot, lambda: engine.names("sync"))
        assert engine.names("sync") == [replace(expected, prune=False)]


async def test_enter_confirms_too(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_sync(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: engine.names("sync"))
        assert engine.names("sync") == [SyncRequest("guestbook")]


async def test_escape_cancels_without_syncing(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_sync(pilot, app)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SyncModal)
        assert engine.names("sync") == []


async def test_confirm_is_impossible_while_the_plan_is_computing(engine: FakeEngine) -> None:
    engine.gate = threading.Event()
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j", "s")
        await wait_for(pilot, lambda: isinstance(app.screen, SyncModal) and engine.names("preview"))
        async with settles(pilot):
            await pilot.press("y", "enter")
        assert engine.names("sync") == []
        assert "computing the plan" in screen_text(app)
        engine.gate.set()
        await wait_for(pilot, lambda: app.screen.ready)


async def test_stale_preview_is_dropped(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_sync(pilot, app)
        shown = modal.preview
        old = engine.preview(SyncRequest("guestbook", prune=True, force=True))
        async with settles(pilot):
            modal.post_message(PreviewReady(old.request, old))
        assert modal.preview is shown
        await pilot.press("y")
        await wait_for(pilot, lambda: engine.names("sync"))
        assert engine.names("sync") == [SyncRequest("guestbook")]


async def test_selected_resources_from_the_tree(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
        view = app.screen
        assert isinstance(view, AppViewScreen)
        view.marked.update({DEPLOYMENT, CONFIG})
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SyncModal) and app.screen.ready)
        modal = app.screen
        assert isinstance(modal, SyncModal)
        assert engine.names("preview")[-1].resources == {DEPLOYMENT, CONFIG}
        plan = modal.query_one("#sync-plan", KeyedTable)
        assert sorted(plan.cells(k)[3] for k in plan.keys) == [
            "ConfigMap guestbook/guestbook-config",
            "Deployment guestbook/guestbook-ui",
        ]
        await pilot.press("m")  # back to the whole app
        await wait_for(pilot, lambda: modal.ready and modal.request.resources is None)
        assert engine.names("preview")[-1].resources is None
        await pilot.press("m", "y")
        await wait_for(pilot, lambda: engine.names("sync"))
        assert engine.names("sync")[0].resources == {DEPLOYMENT, CONFIG}


async def test_m_without_marks_explains(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_sync(pilot, app)
        await pilot.press("m")
        await pilot.pause()
        assert modal.request.resources is None
        assert any("No resources marked" in text for _, text in app.notices)


async def test_progress_is_live_and_t_terminates(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        modal = await open_sync(pilot, app)
        await pilot.press("y")
        await wait_for(pilot, lambda: modal.operation_id is not None)
        op_id = modal.operation_id
        await wait_for(pilot, lambda: "⟳ Running" in screen_text(app))
        running = engine.apps["guestbook"].snapshot.operation
        assert running is not None and running.id == op_id
        engine.update_app(
            "guestbook",
            operation=replace(
                running, results=(ResourceResult(DEPLOYMENT, ResultCode.RUNNING, "rolling out"),)
            ),
        )
        results = modal.query_one("#operation-results", KeyedTable)
        await wait_for(
            pilot, lambda: [results.cells(k)[2] for k in results.keys] == ["rolling out"]
        )
        await pilot.press("t")
        await wait_for(pilot, lambda: engine.names("terminate"))
        assert engine.names("terminate") == ["guestbook"]
        engine.operations_end.set()  # the engine ends the operation: Failed, terminated
        await wait_for(pilot, lambda: "✗ Failed" in screen_text(app))
        assert "terminated by user" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SyncModal)
        assert any(f"Sync of guestbook started ({op_id})" in t for _, t in app.notices)


async def test_engine_refusal_is_a_notification(engine: FakeEngine) -> None:
    engine.fail["sync"] = ReadOnlyError("sync")
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_sync(pilot, app)
        await pilot.press("y")
        await wait_for(pilot, lambda: any("read-only mode" in t for _, t in app.notices))
        assert ("warning", str(ReadOnlyError("sync"))) in app.notices
        assert modal.operation_id is None and not modal.starting


async def test_preview_errors_block_the_sync(engine: FakeEngine) -> None:
    engine.fail["preview"] = EngineError("cannot render: kustomize failed")
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j", "s")
        await wait_for(pilot, lambda: "Preview failed" in screen_text(app))
        async with settles(pilot):
            await pilot.press("y")
        assert engine.names("sync") == []
        assert ("error", "preview: cannot render: kustomize failed") in app.notices


async def test_after_a_failed_sync_an_option_change_plans_again_and_can_retry(
    engine: FakeEngine,
) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        modal = await open_sync(pilot, app)
        await pilot.press("y")
        await wait_for(pilot, lambda: modal.operation_id is not None)
        failed = replace(
            engine.apps["frontend"].snapshot.operation,
            id=modal.operation_id,
            app="guestbook",
            phase=OperationPhase.FAILED,
            finished_at=1.0,
            message='field ownership conflict: .spec.replicas (managed by "kubectl")',
        )
        engine.update_app("guestbook", operation=failed, last_sync=failed)
        await wait_for(pilot, lambda: modal.finished)
        assert "plan again" in screen_text(app)
        await pilot.press("f")  # retry with force: back to a fresh plan
        await wait_for(pilot, lambda: modal.ready)
        assert not modal.finished and modal.operation_id is None
        await pilot.press("y")
        await wait_for(pilot, lambda: len(engine.names("sync")) == 2)
        assert engine.names("sync")[-1] == SyncRequest("guestbook", force=True)
