"""The sync dialog over an app an Argo CD controller reconciles: a local sync only
after the app's name is typed (it is then sent with ``force_local``)."""

from __future__ import annotations

from fake_engine import FakeEngine
from uitest import screen_text, settles, wait_for

from gitops_tui.engine.api import SyncRequest
from gitops_tui.engine.model import Condition, ConditionType
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.modals.sync import SyncModal

SIZE = (100, 30)
MANAGED = Condition(
    ConditionType.MANAGED_BY_ARGOCD,
    "Argo CD reconciles this app (Application argocd/guestbook on sandbox)",
)


async def test_a_reconciled_app_syncs_locally_only_after_its_name_is_typed(
    engine: FakeEngine,
) -> None:
    guestbook = engine.apps["guestbook"].snapshot
    engine.update_app("guestbook", conditions=(*guestbook.conditions, MANAGED))
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j", "s")
        await wait_for(pilot, lambda: isinstance(app.screen, SyncModal) and app.screen.ready)
        async with settles(pilot):
            await pilot.press("y")
        assert engine.names("sync") == []  # asked, not sent
        assert "Argo CD reconciles guestbook" in screen_text(app)
        async with settles(pilot):
            await pilot.press(*"guestboo", "enter")  # a wrong name: nothing
        assert engine.names("sync") == []
        box = app.screen.query_one("#sync-force-local")
        box.value = ""  # type: ignore[attr-defined]
        await pilot.press(*"guestbook", "enter")
        await wait_for(pilot, lambda: engine.names("sync"))
        assert engine.names("sync") == [SyncRequest("guestbook", force_local=True)]


async def test_a_dry_run_of_a_reconciled_app_needs_no_typing(engine: FakeEngine) -> None:
    guestbook = engine.apps["guestbook"].snapshot
    engine.update_app("guestbook", conditions=(*guestbook.conditions, MANAGED))
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j", "s")
        await wait_for(pilot, lambda: isinstance(app.screen, SyncModal) and app.screen.ready)
        await pilot.press("d")
        await wait_for(pilot, lambda: app.screen.ready)
        await pilot.press("y")
        await wait_for(pilot, lambda: engine.names("sync"))
        assert engine.names("sync") == [SyncRequest("guestbook", dry_run=True)]
