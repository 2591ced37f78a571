"""The app view's modes tell the truth (issue 15, defect 4): the diff mode label after a
resize, z zooms the diff, the footer names what esc does, j/k after :diff."""

from __future__ import annotations

from fake_engine import FakeEngine
from uitest import screen_text, wait_for

from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.screens.app_view import AppViewScreen
from gitops_tui.ui.widgets.diff_view import DiffView
from gitops_tui.ui.widgets.resource_tree import ResourceTree


async def opened(pilot, app: GitOpsApp) -> AppViewScreen:  # type: ignore[no-untyped-def]
    await wait_for(
        pilot, lambda: isinstance(app.screen, AppViewScreen) and app.screen.diffs is not None
    )
    screen = app.screen
    assert isinstance(screen, AppViewScreen)
    return screen


def footer(app: GitOpsApp) -> str:
    return screen_text(app).splitlines()[-1]


async def test_the_mode_label_follows_a_resize(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_app("guestbook")
        screen = await opened(pilot, app)
        view = screen.query_one(DiffView)
        assert not view.split and "[compact, unified]" in screen_text(app)
        await pilot.resize_terminal(240, 40)
        await wait_for(pilot, lambda: view.split)
        await wait_for(pilot, lambda: "[compact, split]" in screen_text(app))
        await pilot.resize_terminal(100, 30)
        await wait_for(pilot, lambda: not view.split)
        await wait_for(pilot, lambda: "[compact, unified]" in screen_text(app))


async def test_z_zooms_the_diff_even_with_the_tree_focused(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=(200, 40)) as pilot:
        app.open_app("guestbook")
        screen = await opened(pilot, app)
        assert isinstance(screen.focused, ResourceTree)
        await pilot.press("z")
        await wait_for(pilot, lambda: screen.maximized is not None)
        assert isinstance(screen.maximized, DiffView)
        assert "Unzoom" in footer(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen.maximized is None)


async def test_the_footer_names_what_escape_does(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_app("guestbook")
        screen = await opened(pilot, app)
        assert "esc Back" in footer(app)
        await pilot.press("d")  # the diff viewer
        await wait_for(pilot, lambda: isinstance(screen.focused, DiffView))
        await wait_for(pilot, lambda: "esc Tree" in footer(app))
        assert "esc Back" not in footer(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(screen.focused, ResourceTree))
        await wait_for(pilot, lambda: "esc Back" in footer(app))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, AppViewScreen))


async def test_j_after_diff_walks_the_resources_when_the_diff_fits(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.run_command_line("diff frontend")
        screen = await opened(pilot, app)
        view = screen.query_one(DiffView)
        await wait_for(pilot, lambda: isinstance(screen.focused, DiffView))
        assert view.max_scroll_y == 0  # frontend's diff fits on the screen
        tree = screen.query_one(ResourceTree)
        before = tree.cursor_line
        await pilot.press("j")
        await wait_for(pilot, lambda: tree.cursor_line == before + 1)
        assert isinstance(screen.focused, DiffView)
        await pilot.press("k")
        await wait_for(pilot, lambda: tree.cursor_line == before)
