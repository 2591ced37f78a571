"""ApplicationSets in the console: a parent row with its apps, the preview screen, apply."""

from __future__ import annotations

import threading
from typing import Any

from fake_appsets import BROKEN, ESCAPE, SAMPLE_APPSETS, SET, appset_apps, sample_previews
from fake_engine import FakeEngine, sample_apps
from textual.pilot import Pilot
from uitest import screen_text, settles, wait_for

from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.app_tree import set_key
from gitops_tui.ui.modals.confirm import ConfirmModal
from gitops_tui.ui.screens.app_list import AppListScreen
from gitops_tui.ui.screens.appset_preview import AppSetPreviewScreen

SIZE = (100, 30)


def make_engine(*, read_only: bool = False) -> FakeEngine:
    return FakeEngine(
        sample_apps() + appset_apps(),
        appsets=SAMPLE_APPSETS,
        appset_previews=sample_previews(),
        read_only=read_only,
    )


def list_keys(app: GitOpsApp) -> list[str]:
    screen = app.screen
    assert isinstance(screen, AppListScreen)
    return list(screen.table.keys)


async def open_preview(
    pilot: Pilot[Any], app: GitOpsApp, key: str = "enter"
) -> AppSetPreviewScreen:
    screen = app.screen
    assert isinstance(screen, AppListScreen)
    screen.table.move_to_key(set_key(SET))
    await pilot.press(key)
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, AppSetPreviewScreen) and app.screen.preview is not None,
    )
    assert isinstance(app.screen, AppSetPreviewScreen)
    return app.screen


async def test_a_set_is_a_parent_row_of_its_generated_apps() -> None:
    app = GitOpsApp(make_engine())
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: set_key(SET) in list_keys(app))
        keys = list_keys(app)
        # the sets first (by name), each followed by its apps; then the app roots
        assert keys[:4] == [set_key(BROKEN), set_key(SET), "edge-a", "edge-b"]
        screen = app.screen
        assert isinstance(screen, AppListScreen)
        assert screen.shown_rows["edge-a"].parent == set_key(SET)
        assert screen.shown_rows[set_key(SET)].children == 2
        await wait_for(pilot, lambda: "ApplicationSet/edge-fleet" in screen_text(app))
        text = screen_text(app)
        assert "2 apps 1↻" in text  # one of its apps is OutOfSync
        broken = next(line for line in text.splitlines() if "broken-set" in line)
        assert "policy create-only" in broken and "▲ ErrorOccurred" in broken
        # collapsing the set hides its apps
        screen.table.move_to_key(set_key(SET))
        await pilot.press("minus")
        await wait_for(pilot, lambda: "edge-a" not in list_keys(app))
        assert "(2 hidden)" in screen_text(app)


async def test_app_verbs_on_a_set_row_say_what_it_is() -> None:
    engine = make_engine()
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: set_key(SET) in list_keys(app))
        screen = app.screen
        assert isinstance(screen, AppListScreen)
        screen.table.move_to_key(set_key(SET))
        async with settles(pilot):
            await pilot.press("s")
        assert engine.names("preview") == []
        assert (
            "warning",
            "ApplicationSet edge-fleet is not an app: enter or P previews it.",
        ) in app.notices


async def test_preview_shows_added_changed_removed_and_conditions_in_words() -> None:
    engine = make_engine()
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: set_key(SET) in list_keys(app))
        await open_preview(pilot, app)
        text = screen_text(app)
        assert "apply would: add 1 · change 1 · remove 1 · unchanged 1" in text
        assert "+ add    edge-c" in text
        assert "~ change edge-b  spec.source.path" in text
        assert "-    path: edge/b" in text and "+    path: edge/b-v2" in text
        assert "- remove edge-old  its resources are deleted too" in text
        # P on one of the set's apps opens the set's preview too; a broken set explains itself
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AppListScreen))
        screen = app.screen
        assert isinstance(screen, AppListScreen)
        screen.table.move_to_key(set_key(BROKEN))
        await pilot.press("P")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, AppSetPreviewScreen)
                and app.screen.preview is not None
                and app.screen.appset == BROKEN
            ),
        )
        text = screen_text(app)
        assert "generates nothing now; its apps stay as they are" in text
        assert "ErrorOccurred: " + ESCAPE[:40] in text
        assert "apply would: nothing" in text


async def test_p_on_a_generated_app_previews_its_set() -> None:
    engine = make_engine()
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "edge-b" in list_keys(app))
        screen = app.screen
        assert isinstance(screen, AppListScreen)
        screen.table.move_to_key("edge-b")
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, AppSetPreviewScreen))
        assert engine.names("appset_preview") == [SET]


async def test_apply_asks_then_goes_through_the_engine_off_the_ui_thread() -> None:
    engine = make_engine()
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: set_key(SET) in list_keys(app))
        await open_preview(pilot, app)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert engine.names("appset_apply") == []  # nothing before the answer
        assert "apply would: add 1 · change 1 · remove 1" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: engine.names("appset_apply") == [SET])
        await wait_for(
            pilot,
            lambda: any(
                "created edge-c, updated edge-b, removed edge-old" in t for _, t in app.notices
            ),
        )
        ui_thread = threading.main_thread().name
        assert engine.appset_threads and ui_thread not in engine.appset_threads
        # after the apply the preview is asked again
        await wait_for(pilot, lambda: len(engine.names("appset_preview")) == 2)


async def test_declining_applies_nothing_and_read_only_refuses() -> None:
    engine = make_engine()
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: set_key(SET) in list_keys(app))
        await open_preview(pilot, app)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        async with settles(pilot):
            await pilot.press("n")
        assert engine.names("appset_apply") == []

    engine = make_engine(read_only=True)
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: set_key(SET) in list_keys(app))
        await open_preview(pilot, app)
        async with settles(pilot):
            await pilot.press("a")
        assert not isinstance(app.screen, ConfirmModal)
        assert engine.names("appset_apply") == []
        assert ("warning", "read-only mode: appset apply is disabled.") in app.notices


async def test_a_failed_preview_is_shown_on_the_screen() -> None:
    engine = make_engine()
    engine.appset_previews.pop(SET)
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: set_key(SET) in list_keys(app))
        screen = app.screen
        assert isinstance(screen, AppListScreen)
        screen.table.move_to_key(set_key(SET))
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, AppSetPreviewScreen) and app.screen.error
        )
        assert "no ApplicationSet named 'edge-fleet'" in screen_text(app)


def _preview_snapshot(snap_compare: Any, size: tuple[int, int]) -> bool:
    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        app = pilot.app
        assert isinstance(app, GitOpsApp)
        await wait_for(pilot, lambda: set_key(SET) in list_keys(app))
        await open_preview(pilot, app)

    app = GitOpsApp(make_engine(), ascii_symbols=False)
    return bool(snap_compare(app, terminal_size=size, run_before=run_before))


def test_preview_screen_80x24(snap_compare: Any) -> None:
    assert _preview_snapshot(snap_compare, (80, 24))


def test_preview_screen_200x50(snap_compare: Any) -> None:
    assert _preview_snapshot(snap_compare, (200, 50))
