"""The console in a real terminal (tmux) over the FakeEngine: keys arrive in bursts.

Over SSH several keys often arrive in one read; ``pilot.press`` sends them one by
one, so these tests type through tmux (``send-keys -l``: one write) instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tmux_terminal import Terminal, fake_console

FILTER_PLACEHOLDER = "sync:OutOfSync  health:Degraded"


@pytest.fixture
def term() -> Iterator[Terminal]:
    terminal = fake_console((80, 24))
    try:
        terminal.wait_for("payments")
        yield terminal
    finally:
        terminal.close()


def _console_pid(term: Terminal) -> int:
    shell = term.pid()
    children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
    return int(children[0]) if children else shell


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def wait_idle(pid: int, timeout: float = 15.0) -> None:
    """Wait until the console uses (almost) no CPU over half a second: it settled."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = _cpu_seconds(pid)
        time.sleep(0.5)  # a measuring window, not a synchronisation
        if _cpu_seconds(pid) - before < 0.1:
            return
    raise AssertionError(f"the console still busy after {timeout} s (a loop?)")


def filter_line(screen: str) -> str:
    return screen.splitlines()[1]


def test_filter_keys_in_one_read_are_typed_in_order(term: Terminal) -> None:
    term.keys("/")
    term.wait_for(FILTER_PLACEHOLDER)
    term.burst("gu")  # one write: two keys in one read
    for key in "est":
        term.keys(key)
    screen = term.wait_for("filter: guest")
    assert filter_line(screen).strip() == "guest", screen
    assert "guestbook" in screen and "payments" not in screen
    pid = _console_pid(term)
    wait_idle(pid)
    assert filter_line(term.screen()).strip() == "guest"


def test_a_whole_word_in_one_read_then_escape_clears_it_for_good(term: Terminal) -> None:
    term.keys("/")
    term.wait_for(FILTER_PLACEHOLDER)
    term.burst("payments")
    screen = term.wait_for("filter: payments")
    assert filter_line(screen).strip() == "payments", screen
    term.burst("!")  # typing on: the cursor is at the end
    term.wait_for("filter: payments!")
    term.keys("BSpace")
    term.wait_until(
        lambda s: "filter: payments" in s and "payments!" not in s, "backspace erased the '!'"
    )
    term.keys("Escape")
    screen = term.wait_gone("filter:")
    wait_idle(_console_pid(term))
    screen = term.screen()
    assert "filter:" not in screen, screen
    assert all(name in screen for name in ("frontend", "guestbook", "payments")), screen


def test_a_wide_real_terminal_gets_every_column_and_80_the_narrow_ones() -> None:
    """A real terminal reports its size after the first layout: the list must still
    pick its columns for it (the screen gets no Resize then)."""
    wide = fake_console((120, 24))
    try:
        screen = wide.wait_until(
            lambda s: "payments" in s and "PROJECT" in s.splitlines()[1],
            "every column at 120",
            timeout=15,
        )
        assert "OutOfSync" in screen
    finally:
        wide.close()
    narrow = fake_console((80, 24))
    try:
        screen = narrow.wait_until(
            lambda s: "payments" in s and "DESTINATION" in s.splitlines()[1],
            "narrow columns at 80",
            timeout=15,
        )
        header = screen.splitlines()[1]
        assert "PROJECT" not in header and "DESTINATION" in header
    finally:
        narrow.close()
