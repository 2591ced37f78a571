"""Prune (type the name to confirm) and history with rollback."""

from __future__ import annotations

from dataclasses import replace

from fake_engine import FakeEngine
from textual.widgets import Static
from uitest import screen_text, settles, wait_for

from gitops_tui.engine.api import SyncPreview, SyncRequest
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.sync.plan import NamespaceCascade
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.modals.confirm import ConfirmModal
from gitops_tui.ui.modals.prune import PruneModal
from gitops_tui.ui.screens.app_list import AppListScreen
from gitops_tui.ui.screens.history import HistoryScreen, HistoryTable
from gitops_tui.ui.widgets.tables import KeyedTable

SIZE = (80, 24)
T0_PLUS = 1_700_000_600.0  # after the sample fleet's syncs
OLD_CONFIG = ResourceKey("", "ConfigMap", "guestbook", "old-config")


async def open_prune(pilot, app: GitOpsApp) -> PruneModal:  # type: ignore[no-untyped-def]
    await pilot.press("j", "p")  # guestbook
    await wait_for(
        pilot, lambda: isinstance(app.screen, PruneModal) and app.screen.preview is not None
    )
    assert isinstance(app.screen, PruneModal)
    return app.screen


async def test_prune_lists_exactly_what_would_be_deleted(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_prune(pilot, app)
        assert engine.names("preview") == [SyncRequest("guestbook", prune=True)]
        table = modal.query_one(KeyedTable)
        rows = {table.cells(k)[2]: table.cells(k)[1].plain for k in table.keys}
        assert rows == {
            "ConfigMap guestbook/old-config": "- Prune",
            "ConfigMap guestbook/keep-me": "· PruneSkipped",
        }
        assert "1 object(s) will be DELETED" in screen_text(app)


async def test_wrong_name_refuses(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_prune(pilot, app)
        async with settles(pilot):
            await pilot.press(*"guestbok", "enter")
        assert engine.names("sync") == []
        assert isinstance(app.screen, PruneModal)
        assert ("error", "The name does not match 'guestbook': nothing was pruned.") in app.notices
        assert modal.query_one("#prune-confirm").value == ""


async def test_right_name_prunes_only_the_listed_objects(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_prune(pilot, app)
        await pilot.press(*"guestbook", "enter")
        await wait_for(pilot, lambda: engine.names("sync"))
        assert engine.names("sync") == [
            SyncRequest("guestbook", prune=True, resources=frozenset({OLD_CONFIG}))
        ]
        await wait_for(pilot, lambda: isinstance(app.screen, AppListScreen))
        assert any("Prune of guestbook started" in t for _, t in app.notices)


async def test_nothing_to_prune_cannot_be_confirmed(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j", "j", "j", "p")  # monitoring
        await wait_for(
            pilot, lambda: isinstance(app.screen, PruneModal) and app.screen.preview is not None
        )
        assert "Nothing to prune" in screen_text(app)
        assert app.screen.query_one("#prune-confirm").disabled
        await pilot.press(*"monitoring", "enter", "escape")
        await pilot.pause()
        assert engine.names("sync") == []
        assert isinstance(app.screen, AppListScreen)


async def open_history(pilot, app: GitOpsApp) -> HistoryScreen:  # type: ignore[no-untyped-def]
    await pilot.press("j", "H")
    await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.loaded)
    assert isinstance(app.screen, HistoryScreen)
    return app.screen


async def test_history_newest_first(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(pilot, app)
        table = screen.query_one(HistoryTable)
        assert table.keys == ["41", "40"]
        assert table.cells("41")[1] == "4f2c9a1" and table.cells("41")[2].plain == "✓ Succeeded"
        assert table.cells("41")[3] == "2023-11-14 21:13:20Z"


async def test_rollback_asks_first_and_can_be_declined(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot, app)
        await pilot.press("j", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "history #40" in screen_text(app)
        async with settles(pilot):
            await pilot.press("n")
        assert isinstance(app.screen, HistoryScreen)
        assert engine.names("rollback") == []


async def test_rollback_confirmed(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot, app)
        await pilot.press("j", "R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_for(pilot, lambda: engine.names("rollback"))
        assert engine.names("rollback") == [("guestbook", 40)]
        await wait_for(pilot, lambda: any("Rollback of guestbook" in t for _, t in app.notices))
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AppListScreen)


async def test_the_confirmation_names_what_goes_with_a_pruned_namespace(  # type: ignore[no-untyped-def]
    engine: FakeEngine, monkeypatch
) -> None:
    real = engine.preview

    def preview(request: SyncRequest) -> SyncPreview:
        found = real(request)
        cascade = NamespaceCascade("guestbook", 1, 3, (("ConfigMap", 3),))
        return replace(found, plan=replace(found.plan, cascades=(cascade,)))

    monkeypatch.setattr(engine, "preview", preview)
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_prune(pilot, app)
        ask = str(modal.query_one("#prune-ask", Static).render())
        assert ask == (
            "Type the app name (guestbook) and press enter to delete 1 object(s) AND, with "
            "Namespace guestbook, 4 more object(s) inside it (3 NOT managed by this app):"
        )


async def test_the_rollbacks_entry_appears_when_it_ends_without_r(engine: FakeEngine) -> None:
    """Issue 15, defect 5: the new entry showed only after r."""
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_history(pilot, app)
        await pilot.press("j", "R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_for(pilot, lambda: engine.names("rollback"))
        loads = len(engine.names("history"))
        # the engine runs the rollback, records it and publishes its end
        old = engine.apps["guestbook"].history[0]
        done = replace(old.operation, id="op-101", started_at=T0_PLUS, finished_at=T0_PLUS + 5)
        engine.apps["guestbook"].history.append(replace(old, id=42, operation=done))
        engine.update_app("guestbook", last_sync=done, operation=None)
        await wait_for(pilot, lambda: len(engine.names("history")) > loads)
        await wait_for(pilot, lambda: "42" in screen.entries)
        assert screen.query_one(HistoryTable).keys[0] == "42"  # newest first
