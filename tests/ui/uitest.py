"""Helpers for driving ``GitOpsApp`` in tests."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from textual.app import App
from textual.pilot import Pilot


async def wait_for(pilot: Pilot[Any], condition: Callable[[], Any], timeout: float = 5.0) -> None:
    """Let the app run until ``condition()`` is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await pilot.pause(0.02)
    await pilot.pause()


async def settle(pilot: Pilot[Any], seconds: float = 0.05) -> None:
    await pilot.pause(seconds)
    await asyncio.sleep(0)
    await pilot.pause()


def screen_text(app: App[Any]) -> str:
    """What the terminal shows right now, as text (same composition as ``export_screenshot``)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system=None,
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    update = app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens, simplify=True
    )
    console.print(update)
    return console.export_text()
