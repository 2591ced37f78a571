"""SVG snapshots of every screen and dialog at 80x24 (an SSH session's default) and
200x50 (a big terminal), over the fixed sample fleet.

Update after an intended visual change with ``pytest tests/ui/test_ui_snapshots.py
--snapshot-update`` and review the SVGs in ``tests/ui/__snapshots__``. The clock is
pinned (``tests/ui/conftest.py``) and local times are UTC here, so they do not drift.
(The logs screen's snapshots are at the end: they need its own script.)
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from fake_engine import FakeEngine
from textual.pilot import Pilot
from uitest import wait_for

from gitops_tui.engine.model import ResourceKey
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.modals.actions import ActionMenuModal
from gitops_tui.ui.modals.command_line import CommandLineModal
from gitops_tui.ui.modals.confirm import ConfirmModal
from gitops_tui.ui.modals.delete_resource import DeleteResourceModal
from gitops_tui.ui.modals.fleet_sync import FleetSyncModal
from gitops_tui.ui.modals.prune import PruneModal
from gitops_tui.ui.modals.quit import QuitModal
from gitops_tui.ui.modals.sync import SyncModal
from gitops_tui.ui.screens.app_view import AppViewScreen
from gitops_tui.ui.screens.events import EventsScreen
from gitops_tui.ui.screens.help import HelpScreen
from gitops_tui.ui.screens.history import HistoryScreen
from gitops_tui.ui.screens.live_object import LiveObjectScreen

SIZES = {"80x24": (80, 24), "200x50": (200, 50)}
DEPLOYMENT = ResourceKey("apps", "Deployment", "guestbook", "guestbook-ui")

Script = Callable[[Pilot[Any]], Awaitable[None]]


@pytest.fixture(params=list(SIZES))
def size(request: pytest.FixtureRequest) -> tuple[int, int]:
    return SIZES[request.param]


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times shown in local time (live YAML's "fetched at") read the same everywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def make_app() -> GitOpsApp:
    return GitOpsApp(FakeEngine(), ascii_symbols=False)


def shot(snap_compare: Any, size: tuple[int, int], script: Script | None = None) -> bool:
    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        if script is not None:
            await script(pilot)

    return bool(snap_compare(make_app(), terminal_size=size, run_before=run_before))


async def open_guestbook(pilot: Pilot[Any], key: ResourceKey | None = DEPLOYMENT) -> AppViewScreen:
    """The app view of guestbook, its diff loaded, the cursor on ``key`` (None: the app)."""
    app = pilot.app
    assert isinstance(app, GitOpsApp)
    app.open_app("guestbook")
    await wait_for(
        pilot, lambda: isinstance(app.screen, AppViewScreen) and app.screen.diffs is not None
    )
    screen = app.screen
    assert isinstance(screen, AppViewScreen)
    for _ in range(20):
        data = screen.resource_tree.cursor_data
        if key is None or (data is not None and data.node is not None and data.node.key == key):
            break
        await pilot.press("j")
    await pilot.pause()
    return screen


# -- screens ------------------------------------------------------------------------------


def test_app_list(snap_compare: Any, size: tuple[int, int]) -> None:
    assert shot(snap_compare, size)


def test_app_view_compact_unified_diff(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        await open_guestbook(pilot)

    assert shot(snap_compare, size, script)


def test_app_view_full_diff(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        screen = await open_guestbook(pilot)
        await pilot.press("c")
        await wait_for(pilot, lambda: screen.context == -1 and screen.diffs is not None)
        await pilot.pause()

    assert shot(snap_compare, size, script)


def test_app_view_zoomed_split_diff(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        screen = await open_guestbook(pilot)
        await pilot.press("z", "v")  # zoomed; side by side where there is room
        await wait_for(pilot, lambda: screen.maximized is not None)
        pilot.app.clear_notifications()  # "too narrow" at 80 columns: a toast, not the view
        await pilot.pause()

    assert shot(snap_compare, size, script)


def test_app_view_operation(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        await open_guestbook(pilot, None)
        await pilot.press("o")
        await pilot.pause()

    assert shot(snap_compare, size, script)


def test_history(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        await open_guestbook(pilot, None)
        await pilot.press("H")
        await wait_for(
            pilot, lambda: isinstance(pilot.app.screen, HistoryScreen) and pilot.app.screen.loaded
        )

    assert shot(snap_compare, size, script)


def test_help(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))

    assert shot(snap_compare, size, script)


def test_live_yaml(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        await open_guestbook(pilot)
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, LiveObjectScreen) and pilot.app.screen.obj is not None
            ),
        )

    assert shot(snap_compare, size, script)


def test_events(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        await open_guestbook(pilot, None)
        await pilot.press("e")
        await wait_for(
            pilot, lambda: isinstance(pilot.app.screen, EventsScreen) and pilot.app.screen.loaded
        )

    assert shot(snap_compare, size, script)


# -- dialogs ------------------------------------------------------------------------------


def test_sync_dialog(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await pilot.press("j", "s")
        await wait_for(pilot, lambda: isinstance(app.screen, SyncModal) and app.screen.ready)
        await pilot.press("p")
        await wait_for(pilot, lambda: app.screen.ready)

    assert shot(snap_compare, size, script)


def test_prune_dialog(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await pilot.press("j", "p")
        await wait_for(
            pilot, lambda: isinstance(app.screen, PruneModal) and app.screen.preview is not None
        )
        await pilot.press(*"guest")

    assert shot(snap_compare, size, script)


def test_fleet_sync_dialog(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, GitOpsApp)
        app.open_fleet_sync()  # :plan, every OutOfSync app
        await wait_for(pilot, lambda: isinstance(app.screen, FleetSyncModal) and app.screen.ready)

    assert shot(snap_compare, size, script)


def test_quit_dialog(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        await pilot.press("q")  # frontend's sync runs
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, QuitModal))

    assert shot(snap_compare, size, script)


def test_confirm_dialog(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        await pilot.press("t")  # terminate frontend's running sync: asks first
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmModal))

    assert shot(snap_compare, size, script)


def test_command_line(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        await pilot.press("colon")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandLineModal))
        await pilot.press(*"sync guestbook")

    assert shot(snap_compare, size, script)


def test_action_menu(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        await open_guestbook(pilot)
        await pilot.press("a")
        await wait_for(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, ActionMenuModal)
                and pilot.app.screen.actions is not None
            ),
        )

    assert shot(snap_compare, size, script)


def test_action_confirmation(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        await open_guestbook(pilot)
        await pilot.press("a")
        await wait_for(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, ActionMenuModal)
                and pilot.app.screen.actions is not None
            ),
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmModal))

    assert shot(snap_compare, size, script)


def test_delete_dialog(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        await open_guestbook(pilot)
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, DeleteResourceModal))
        await pilot.press(*"guestbook")

    assert shot(snap_compare, size, script)


def _pod_logs_run_before(wrap: bool):  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[Any]) -> None:
        from gitops_tui.ui.screens.pod_logs import PodLogsScreen

        await pilot.pause()
        app = pilot.app
        await pilot.press("j", "enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, AppViewScreen) and app.screen.diffs is not None
        )
        await pilot.press(*"jjjjjjj")  # the first Pod
        await pilot.press("l")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, PodLogsScreen)
                and app.screen.view.line_count >= 40
                and app.screen.state == "following"
                # the search starts from the view's top: the view must have followed the
                # end first (its scroll lands on a later refresh; the clean-clone CI's
                # shot was taken from the top)
                and app.screen.view.size.height > 0
                and app.screen.view.virtual_size.height >= 40
                and app.screen.view.is_vertical_scroll_end
            ),
            timeout=15,
        )
        await pilot.press("slash", *"error", "enter")
        await wait_for(pilot, lambda: app.screen.view.current is not None)
        if wrap:
            await pilot.press("w")
        await pilot.pause()

    return run_before


def test_pod_logs_80x24(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_pod_logs_run_before(False))


def test_pod_logs_200x50(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=(200, 50), run_before=_pod_logs_run_before(True))
