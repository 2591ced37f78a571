"""Issue 15 defect 10: a sync with prune on deletes objects only after the app's name is
typed, the same rule as the prune dialog (``p``)."""

from __future__ import annotations

from fake_engine import FakeEngine
from uitest import screen_text, settles, wait_for

from gitops_tui.engine.api import SyncRequest
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.modals.sync import SyncModal

SIZE = (100, 30)


async def test_s_p_y_deletes_only_after_the_name_is_typed(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j", "s")  # guestbook: old-config would be pruned
        await wait_for(pilot, lambda: isinstance(app.screen, SyncModal) and app.screen.ready)
        await pilot.press("p")
        await wait_for(pilot, lambda: app.screen.ready and app.screen.request.prune)
        async with settles(pilot):
            await pilot.press("y")
        assert engine.names("sync") == []  # asked, not sent
        assert "Type the app name (guestbook) and press enter to delete 1 object(s)" in (
            screen_text(app)
        )
        async with settles(pilot):
            await pilot.press(*"guestboo", "enter")
        assert engine.names("sync") == []
        box = app.screen.query_one("#sync-force-local")
        box.value = ""  # type: ignore[attr-defined]
        await pilot.press(*"guestbook", "enter")
        await wait_for(pilot, lambda: engine.names("sync"))
        assert engine.names("sync") == [SyncRequest("guestbook", prune=True)]


async def test_a_prune_dry_run_needs_no_typing(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j", "s")
        await wait_for(pilot, lambda: isinstance(app.screen, SyncModal) and app.screen.ready)
        await pilot.press("p", "d")
        await wait_for(pilot, lambda: app.screen.ready and app.screen.request.dry_run)
        await pilot.press("y")
        await wait_for(pilot, lambda: engine.names("sync"))
        assert engine.names("sync") == [SyncRequest("guestbook", prune=True, dry_run=True)]
