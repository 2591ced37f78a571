"""The application list: rows, counts, filter, sort, live updates by key, stale snapshots."""

from __future__ import annotations

from dataclasses import replace

from fake_engine import FakeEngine, monitoring
from uitest import screen_text, settles, wait_for

from gitops_tui.engine.model import HealthStatus, SyncStatus
from gitops_tui.engine.snapshot import FleetSnapshot
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.screens.app_list import AppListScreen, AppTable
from gitops_tui.ui.screens.app_view import AppViewScreen

SIZE = (80, 24)
WIDE = (160, 30)  # every column, status words (80 columns: glyphs only)


def table(app: GitOpsApp) -> AppTable:
    return app.screen.query_one(AppTable)


async def test_list_shows_every_app_with_status_words_and_counts(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    # wide: every column, words with the glyphs (80 columns: glyphs only, test_ui_narrow)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, AppListScreen)
        assert table(app).keys == [
            "frontend",
            "guestbook",
            "legacy-batch",
            "monitoring",
            "payments",
        ]
        text = screen_text(app)
        assert "5 apps" in text
        assert "✓ 2 Synced" in text and "↻ 2 OutOfSync" in text and "✗ 1 Degraded" in text
        assert "↻ OutOfSync" in text and "◐ Progressing" in text
        assert table(app).cells("frontend")[6].plain == "⟳ Running 1h"  # the pinned clock
        assert "READ-ONLY" not in text
        assert app.animation_level == "none"


async def test_ascii_symbols(engine: FakeEngine) -> None:
    app = GitOpsApp(engine, ascii_symbols=True)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "! OutOfSync" in text and "x Degraded" in text and "= Synced" in text
        assert "↻" not in text and "✓" not in text


async def test_filter_by_name_and_terms(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"sync:OutOfSync")
        await pilot.pause()
        assert table(app).keys == ["frontend", "guestbook"]
        assert "2/5 apps" in screen_text(app)
        await pilot.press("enter")  # back to the list, filter kept
        assert app.screen.focused is table(app)
        await pilot.press("slash", *(["backspace"] * 14), *"health:Degraded")
        await pilot.pause()
        assert table(app).keys == ["payments"]
        await pilot.press("escape")
        await pilot.pause()
        assert len(table(app).keys) == 5
        await pilot.press("slash", *"mon")
        await pilot.pause()
        assert table(app).keys == ["monitoring"]


async def test_bad_filter_keeps_the_last_good_one(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"project:fin")
        await wait_for(pilot, lambda: table(app).keys == ["payments"])
        await pilot.press("space", *"pay:x")  # "pay" still matches, "pay:" does not parse
        await wait_for(pilot, lambda: "unknown filter key 'pay'" in screen_text(app))
        assert table(app).keys == ["payments"]


async def test_sort_cycles_columns_and_reverses(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("S")  # name -> sync
        await pilot.pause()
        assert table(app).keys[:2] == ["frontend", "guestbook"]
        assert "sort: Sync" in screen_text(app)
        await pilot.press("S")  # -> health: worst first
        await pilot.pause()
        assert table(app).keys[0] == "payments"
        await pilot.press("I")
        await pilot.pause()
        assert table(app).keys[-1] == "payments"


async def test_live_update_changes_cells_by_key_and_keeps_the_cursor(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("j", "j", "j")  # monitoring
        await pilot.pause()
        assert table(app).cursor_key() == "monitoring"
        engine.update_app("payments", health=HealthStatus.HEALTHY, conditions=())
        new = replace(
            monitoring().snapshot, name="aaa-new", sync=SyncStatus.OUT_OF_SYNC, parent=None
        )
        engine.apps["aaa-new"] = type(engine.apps["monitoring"])(new)
        del engine.apps["legacy-batch"]
        snapshot = engine.publish()
        await wait_for(pilot, lambda: app.fleet.generation == snapshot.generation)
        t = table(app)
        assert t.keys == ["aaa-new", "frontend", "guestbook", "monitoring", "payments"]
        assert t.cursor_key() == "monitoring"
        assert t.cells("payments")[2].plain == "♥ Healthy"
        # the counts alone changed: the header draws them within a second (churn throttle)
        await wait_for(pilot, lambda: "✗ 0 Degraded" in screen_text(app))


async def test_stale_snapshot_is_dropped(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        current = engine.snapshot()
        newer = replace(current, generation=10)
        older = FleetSnapshot.build(5, [], read_only=False)
        engine.publish(newer)
        engine.publish(older)
        async with settles(pilot):
            await wait_for(pilot, lambda: app.fleet.generation == 10)
        assert app.fleet.generation == 10
        assert app.dropped_snapshots >= 1
        assert len(table(app).keys) == 5


async def test_enter_opens_the_app_and_escape_comes_back(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j", "enter")
        await pilot.pause()
        assert isinstance(app.screen, AppViewScreen)
        assert app.screen.app_name == "guestbook"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AppListScreen)
        assert table(app).cursor_key() == "guestbook"


async def test_refresh_keys_call_the_engine(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j", "r", "R", "ctrl+r")
        await wait_for(pilot, lambda: len(engine.names("refresh")) == 3)
        assert sorted(engine.names("refresh"), key=str) == sorted(
            [("guestbook", False), ("guestbook", True), (None, False)], key=str
        )


async def test_thousands_of_apps(engine: FakeEngine) -> None:
    base = monitoring().snapshot
    many = FakeEngine(
        apps=[
            type(engine.apps["monitoring"])(replace(base, name=f"app-{i:04}")) for i in range(3000)
        ]
    )
    app = GitOpsApp(many)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert len(table(app).keys) == 3000
        await pilot.press("slash", *"app-29")
        await pilot.pause()
        assert len(table(app).keys) == 100
        await pilot.press("escape")
        await pilot.pause()
        assert len(table(app).keys) == 3000
