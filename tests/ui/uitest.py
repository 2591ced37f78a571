"""Helpers for driving ``GitOpsApp`` in tests."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
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


@asynccontextmanager
async def settles(pilot: Pilot[Any], timeout: float = 5.0) -> AsyncIterator[None]:
    """Run the block, then wait until everything it set off is over.

    For negative checks ("the key did nothing"): instead of sleeping and hoping, wait
    until every worker started since the block began has finished and every message
    it posted has been handled, twice in a row (a handled message may start a worker).
    Workers already running before the block (e.g. one held by a test's gate) are not
    waited for.
    """
    app = pilot.app
    before = set(app.workers)
    yield
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:
        await pilot.pause()
        busy = [w for w in app.workers if w not in before and not w.is_finished]
        quiet = 0 if busy else quiet + 1
        if busy and time.monotonic() > deadline:
            raise AssertionError(f"workers still running after {timeout}s: {busy}")
        if busy:
            await asyncio.sleep(0.01)


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


async def run_from_palette(pilot: Pilot[Any], query: str, expect: str) -> None:
    """Open the command palette, type ``query``, wait for ``expect`` to be the
    highlighted hit (the search has run to its end), and choose it."""
    from textual.command import CommandList, CommandPalette

    app = pilot.app
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
    palette = app.screen
    async with settles(pilot):
        await pilot.press(*query)
    hits = palette.query_one(CommandList)

    def chosen() -> bool:
        index = hits.highlighted
        return index is not None and expect in str(hits.get_option_at_index(index).prompt)

    await wait_for(pilot, chosen)
    await pilot.press("enter")
