"""Y copies to the local clipboard over OSC 52, :clipboard off shows the text instead."""

from __future__ import annotations

from fake_engine import FakeEngine
from tmux_terminal import fake_console
from uitest import wait_for

from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.clipboard import MAX_COPY_BYTES, copy_text
from gitops_tui.ui.screens.app_view import AppViewScreen
from gitops_tui.ui.widgets.diff_view import DiffView

SIZE = (100, 30)


async def test_y_copies_the_app_name(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j", "Y")  # guestbook
        await wait_for(pilot, lambda: app.clipboard == "guestbook")
        assert any("Copied app name guestbook" in text for _, text in app.notices)


async def test_capital_y_in_the_diff_viewer_copies_the_diff(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        app.open_app("guestbook", diff=True)
        await wait_for(
            pilot, lambda: isinstance(app.screen, AppViewScreen) and app.screen.diffs is not None
        )
        view = app.screen.query_one(DiffView)
        await wait_for(pilot, lambda: app.screen.focused is view)
        await pilot.press("Y")
        await wait_for(pilot, lambda: app.clipboard == view.text)
        assert "+  replicas: 3" in app.clipboard


async def test_clipboard_off_shows_the_text_and_sends_nothing(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        app.run_command_line("clipboard off")
        await pilot.press("j", "Y")
        await wait_for(pilot, lambda: any("clipboard off" in t for _, t in app.notices))
        assert app.clipboard == ""
        assert any(t.endswith("\nguestbook") for _, t in app.notices)
        app.run_command_line("clipboard on")
        await pilot.press("Y")
        await wait_for(pilot, lambda: app.clipboard == "guestbook")


async def test_copied_text_has_no_control_sequences_and_is_bounded(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert copy_text(app, "a\x1b]52;c;ZXZpbA==\x07b\nc", "x")
        assert "\x1b" not in app.clipboard and "\x07" not in app.clipboard
        assert app.clipboard.endswith("\nc")  # newlines stay (YAML, diffs)
        before = app.clipboard
        assert not copy_text(app, "x" * (MAX_COPY_BYTES + 1), "big")
        assert app.clipboard == before


def test_osc52_reaches_a_real_terminal() -> None:
    """tmux (set-clipboard on) takes OSC 52 into its paste buffer: what a terminal gets."""
    term = fake_console((100, 30))
    try:
        term.run("set-option", "-s", "set-clipboard", "on")
        term.wait_for("payments")
        term.keys("j")
        term.keys("Y")
        term.wait_for("Copied app name guestbook")
        assert term.run("show-buffer") == "guestbook"
    finally:
        term.close()
