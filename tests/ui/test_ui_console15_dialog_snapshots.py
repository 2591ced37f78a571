"""SVG snapshots at 80x24 and 200x50 of the dialogs issue 15 added last: deleting the
Application (Argo CD mode, cascade chosen, what goes listed, the name to type) and the
sync dialog of an app whose cluster cannot be reached (see tests/ui/test_ui_snapshots.py
for how to update them)."""

from __future__ import annotations

from typing import Any

import pytest
from fake_engine import FakeEngine
from test_ui_snapshots import SIZES
from test_ui_snapshots import utc as utc  # the fixture: local times in UTC
from textual.pilot import Pilot
from textual.widgets import Input
from uitest import screen_text, wait_for

from gitops_tui.engine.snapshot import ClusterState
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.modals.delete_app import DeleteAppModal
from gitops_tui.ui.modals.sync import SyncModal

T_DOWN = 1_700_000_000.0  # 22:13:20 UTC


@pytest.fixture(params=list(SIZES))
def size(request: pytest.FixtureRequest) -> tuple[int, int]:
    return SIZES[request.param]


def test_delete_application_dialog(snap_compare: Any, size: tuple[int, int]) -> None:
    engine = FakeEngine()
    for name in list(engine.apps):
        engine.update_app(name, origin="argocd:argocd")

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await pilot.pause()
        await pilot.press("j", "ctrl+d")  # guestbook
        await wait_for(pilot, lambda: isinstance(app.screen, DeleteAppModal))
        await pilot.press("f")
        await wait_for(pilot, lambda: "Type the app name (guestbook)" in screen_text(app))
        for box in app.screen.query(Input):
            box.cursor_blink = False
        await pilot.pause()

    app = GitOpsApp(engine, ascii_symbols=False)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_sync_dialog_with_the_cluster_unreachable(snap_compare: Any, size: tuple[int, int]) -> None:
    engine = FakeEngine()
    engine.clusters = (
        ClusterState("in-cluster", "https://kubernetes.default.svc", True),
        ClusterState(
            "edge-1", "https://edge-1.example.com:6443", False, "connection refused", T_DOWN
        ),
    )
    engine.publish()

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, GitOpsApp)
        await pilot.pause()
        app.open_sync("legacy-batch")  # destination: edge-1
        await wait_for(pilot, lambda: isinstance(app.screen, SyncModal))
        await wait_for(pilot, lambda: "cannot be dry-run" in " ".join(screen_text(app).split()))
        await pilot.pause()

    app = GitOpsApp(engine, ascii_symbols=False)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
