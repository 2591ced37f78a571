"""Read-only mode, help generated from bindings, the command palette and ':' commands."""

from __future__ import annotations

from fake_engine import FakeEngine
from uitest import run_from_palette, screen_text, settles, wait_for

from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.commands import GitOpsCommands
from gitops_tui.ui.messages import EngineCallFailed
from gitops_tui.ui.modals.sync import SyncModal
from gitops_tui.ui.screens.app_list import AppListScreen, AppTable
from gitops_tui.ui.screens.app_view import AppViewScreen
from gitops_tui.ui.screens.help import HelpScreen
from gitops_tui.ui.screens.history import HistoryScreen

SIZE = (80, 24)
MUTATING_KEYS = {"s", "p", "t"}


def bound_actions(app: GitOpsApp) -> dict[str, str]:
    return {key: active.binding.action for key, active in app.screen.active_bindings.items()}


async def palette_hits(app: GitOpsApp, query: str) -> list[str]:
    provider = GitOpsCommands(app.screen)
    return [str(getattr(hit.text, "plain", hit.text)) async for hit in provider.search(query)]


# -- read-only ----------------------------------------------------------------------------


async def test_read_only_hides_mutations_everywhere_and_never_calls_the_engine() -> None:
    engine = FakeEngine(read_only=True)
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "READ-ONLY" in screen_text(app)
        actions = bound_actions(app)
        assert MUTATING_KEYS.isdisjoint(actions)
        assert {"d", "slash", "H", "r", "R"} <= set(actions)
        async with settles(pilot):
            await pilot.press("j", *MUTATING_KEYS)
        assert isinstance(app.screen, AppListScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
        assert MUTATING_KEYS.isdisjoint(bound_actions(app))
        assert "READ-ONLY" in screen_text(app)
        async with settles(pilot):
            await pilot.press(*MUTATING_KEYS)
        assert isinstance(app.screen, AppViewScreen)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        descriptions = {row[2] for row in app.screen.rows}
        assert {"Sync", "Prune", "Terminate sync"}.isdisjoint(descriptions)
        assert "Diff" in descriptions
        await pilot.press("escape", "H")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.loaded)
        assert "rollback" not in bound_actions(app).values()
        async with settles(pilot):
            await pilot.press("enter", "R")
        assert isinstance(app.screen, HistoryScreen)
        hits = await palette_hits(app, "guestbook")
        assert hits and not any(h.startswith(("Sync", "Prune", "Terminate")) for h in hits)
        app.run_command_line("sync guestbook")
        await pilot.pause()
        assert not isinstance(app.screen, SyncModal)
    called = {name for name, _ in engine.calls}
    assert called.isdisjoint({"preview", "sync", "terminate", "rollback"})


async def test_read_only_refusal_from_the_engine_is_a_notification(engine: FakeEngine) -> None:
    from gitops_tui.engine.api import ReadOnlyError

    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        app.screen.post_message(EngineCallFailed("sync", ReadOnlyError("sync")))
        await wait_for(pilot, lambda: app.notices)
        severity, text = app.notices[-1]
        assert severity == "warning" and text.startswith("read-only mode: sync refused")


# -- help ---------------------------------------------------------------------------------


async def test_help_lists_every_binding_of_the_screen(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        rows = help_screen.rows
        described = {(row[2], row[1]) for row in rows}
        for binding in AppListScreen.BINDINGS:
            assert (binding.description, "this screen") in described, binding  # type: ignore[union-attr]
        assert ("Open", "app list") in described  # the focused table's own keys
        assert ("Cursor down", "app list") in described and ("Help", "global") in described
        keys = {row[2]: row[0] for row in rows if row[1] == "app list"}
        assert set(keys["Cursor down"].split(" / ")) == {"↓", "j"}
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("j", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        described = {(row[2], row[1]) for row in app.screen.rows}
        for binding in AppViewScreen.BINDINGS:
            if binding.action in ("unzoom", "to_tree"):  # type: ignore[union-attr]
                continue  # esc's other meanings: listed when they apply (zoomed, pane focused)
            assert (binding.description, "this screen") in described, binding  # type: ignore[union-attr]
        assert ("Mark for sync", "resource tree") in described


async def test_help_inside_the_sync_dialog(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j", "s")
        await wait_for(pilot, lambda: isinstance(app.screen, SyncModal) and app.screen.ready)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        described = {row[2] for row in app.screen.rows}
        assert {
            "Prune",
            "Dry run",
            "Out-of-sync only",
            "Force",
            "Selected only",
            "Sync",
        } <= described
        assert "Terminate" not in described  # only while a sync runs


# -- palette and command line -------------------------------------------------------------


async def test_palette_offers_verbs_for_every_app(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        hits = await palette_hits(app, "sync guestbook")
        assert "Sync guestbook" in hits
        await run_from_palette(pilot, "sync guestbook", "Sync guestbook")
        await wait_for(pilot, lambda: isinstance(app.screen, SyncModal))
        assert app.screen.app_name == "guestbook"


async def test_command_line(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", *"filter health:Degraded", "enter")
        await wait_for(pilot, lambda: app.screen.query_one(AppTable).keys == ["payments"])
        await pilot.press("colon", *"open guestbook", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
        await pilot.press("colon", *"sync", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SyncModal))
        assert app.screen.app_name == "guestbook"
        await pilot.press("escape", "colon", *"refresh!", "enter")
        await wait_for(pilot, lambda: engine.names("refresh"))
        assert engine.names("refresh") == [("guestbook", True)]
        await pilot.press("colon", *"bogus", "enter")
        await wait_for(
            pilot, lambda: ("error", "unknown command :bogus (try :help)") in app.notices
        )
        await pilot.press("colon", *"sort health", "enter")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, AppListScreen) and app.screen.sort_by == "health",
        )
        await pilot.press("colon", "q", "enter")
        await pilot.pause()
    assert engine.closed.wait(2)
