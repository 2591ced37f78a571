"""SVG snapshots of the main screens at 100x30 over the fixed sample fleet.

Update after an intended visual change with ``pytest tests/ui/test_ui_snapshots.py
--snapshot-update`` and review the SVGs in ``tests/ui/__snapshots__``.
"""

from __future__ import annotations

from typing import Any

from fake_engine import FakeEngine
from textual.pilot import Pilot
from uitest import wait_for

from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.modals.prune import PruneModal
from gitops_tui.ui.modals.sync import SyncModal
from gitops_tui.ui.screens.app_view import AppViewScreen
from gitops_tui.ui.screens.help import HelpScreen

SIZE = (100, 30)


def make_app() -> GitOpsApp:
    return GitOpsApp(FakeEngine(), ascii_symbols=False)


def test_app_list(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE)


def test_app_view_with_diff(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        app = pilot.app
        await pilot.press("j", "enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, AppViewScreen) and app.screen.diffs is not None
        )
        await pilot.press(*"jjjjj")  # the Deployment

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_sync_dialog(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        app = pilot.app
        await pilot.press("j", "s")
        await wait_for(pilot, lambda: isinstance(app.screen, SyncModal) and app.screen.ready)
        await pilot.press("p")
        await wait_for(pilot, lambda: app.screen.ready)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_prune_dialog(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        app = pilot.app
        await pilot.press("j", "p")
        await wait_for(
            pilot, lambda: isinstance(app.screen, PruneModal) and app.screen.preview is not None
        )
        await pilot.press(*"guest")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


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
            ),
            timeout=15,
        )
        await pilot.press("slash", *"error", "enter")
        if wrap:
            await pilot.press("w")
        await pilot.pause()

    return run_before


def test_pod_logs_80x24(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_pod_logs_run_before(False))


def test_pod_logs_200x50(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=(200, 50), run_before=_pod_logs_run_before(True))
