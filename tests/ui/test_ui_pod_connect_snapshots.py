"""SVG snapshots of the shell and port-forward dialogs at 80x24 and 200x50 (see
tests/ui/test_ui_snapshots.py for how to update them)."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from test_ui_snapshots import SIZES, open_guestbook, shot
from test_ui_snapshots import utc as utc  # the fixture: local times in UTC
from textual.pilot import Pilot
from textual.widgets import Input
from uitest import wait_for

from gitops_tui.engine.model import ResourceKey
from gitops_tui.ui import pod_connect
from gitops_tui.ui.pod_connect import ExecModal, PortForwardModal
from gitops_tui.ui.port_forwards import PortForwardsModal

POD = ResourceKey("", "Pod", "guestbook", "guestbook-ui-7d9f8-fghij")  # two containers


@pytest.fixture(params=list(SIZES))
def size(request: pytest.FixtureRequest) -> tuple[int, int]:
    return SIZES[request.param]


@pytest.fixture(autouse=True)
def kubectl_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Some kubectl on PATH (the dialogs open only then); nothing runs it here."""
    script = tmp_path / "kubectl"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(pod_connect, "free_local_port", lambda: 18080)


async def steady_cursor(pilot: Pilot[Any]) -> None:
    """The inputs' cursor shown, not blinking: the same picture whenever it is taken."""
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False
    await pilot.pause()


def test_exec_dialog(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        await open_guestbook(pilot, POD)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ExecModal), timeout=15)
        await steady_cursor(pilot)

    assert shot(snap_compare, size, script)


def test_port_forward_dialog(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        await open_guestbook(pilot, POD)
        await pilot.press("F")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, PortForwardModal), timeout=15)
        await steady_cursor(pilot)

    assert shot(snap_compare, size, script)


def test_port_forward_list(snap_compare: Any, size: tuple[int, int]) -> None:
    async def script(pilot: Pilot[Any]) -> None:
        await open_guestbook(pilot, POD)
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, PortForwardsModal))

    assert shot(snap_compare, size, script)
