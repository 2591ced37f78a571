"""Terminal safety of the console: hostile strings from Git or the cluster never reach the
terminal as control sequences or markup.

A fleet whose every string of outside origin (app, project, revision, repo URL,
path, destination, conditions, resource kinds/names, health messages, changed
paths, diff content, operation and result messages, initiator, history, plan
notes and errors, engine errors, cluster names) carries C0/C1 controls, an OSC 0
title sequence, ``ESC[2J``, a C1 CSI, a bidi override and Rich markup is shown
on every screen and dialog. For each, what Textual would write to the terminal
is produced the way the real driver produces it (the compositor's full update
rendered by a terminal console: ``CompositorUpdate.render_segments``) and
checked:

* the only escape sequences in it are Textual's own: SGR styling (``ESC[...m``,
  never blink) and cursor positioning (``ESC[y;xH``); no other control character;
* the payload's own text (``]0;pwned``, ``[2J``) never follows a real ESC;
* the screen shows the escaped form (``\\x1b]0;pwned``) and the markup literally,
  so the check is not passing because the data is simply not shown.
"""

from __future__ import annotations

import ast
import io
import re
import time
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Any

from hostile_fleet import EVIL_APP, MARKUP, SHOWN, HostileEngine, evil
from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from uitest import screen_text
from uitest import wait_for as _wait_for

from gitops_tui.engine.api import EngineError
from gitops_tui.engine.snapshot import OperationPhase
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.modals.fleet_sync import FleetPlanTable, FleetSyncModal
from gitops_tui.ui.modals.prune import PruneModal
from gitops_tui.ui.modals.sync import SyncModal
from gitops_tui.ui.safe import SafeStatic
from gitops_tui.ui.screens.app_view import AppViewScreen
from gitops_tui.ui.screens.history import HistoryScreen

SIZE = (240, 70)
PATIENCE = 15.0
"""Seconds to wait for a screen (only a failing test waits that long; the machine may be busy)."""


async def wait_for(pilot: Pilot[Any], condition: Any, timeout: float = PATIENCE) -> None:
    await _wait_for(pilot, condition, timeout)


# --------------------------------------------------------------------------- the check

ALLOWED = re.compile(r"\x1b\[[0-9;]*m|\x1b\[[0-9]+;[0-9]+H|\n(?=\x1b\[[0-9]+;1H)")
"""Textual's own output: SGR styling, cursor positioning, the newline ending a screen line."""
SGR = re.compile(r"\x1b\[([0-9;]*)m")


def terminal_output(app: GitOpsApp) -> str:
    """What the real driver writes for a full repaint of the current screen."""
    console = Console(
        width=app.size.width,
        height=app.size.height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
        safe_box=False,
    )
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    output: str = update.render_segments(console)
    return output


def assert_terminal_safe(app: GitOpsApp, *shown: str) -> str:
    """Check the terminal output of the current screen; return its visible text."""
    output = terminal_output(app)
    visible = ALLOWED.sub("", output)
    bad = sorted(
        {
            f"U+{ord(c):04X}"
            for c in visible
            if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")
        }
    )
    assert bad == [], f"control characters reach the terminal: {bad}"
    assert not re.search(r"\x1b(\]0;pwned|\[2J)", output)
    for match in SGR.finditer(output):
        params = match.group(1).split(";")
        # 5/6: blink; a 38/48 colour's own numbers are not attributes
        attributes, index = [], 0
        while index < len(params):
            if params[index] in ("38", "48"):
                index += 5 if params[index + 1 : index + 2] == ["2"] else 3
                continue
            attributes.append(params[index])
            index += 1
        assert not {"5", "6"} & set(attributes), f"blink from the data: {match.group()!r}"
    assert "\x1b]8;" not in output, "a link from the data"
    missing = [text for text in shown if text not in visible]
    assert not missing, f"not on the screen: {missing}\n{screen_text(app)}"
    return visible


async def check(pilot: Pilot[Any], *shown: str, timeout: float = PATIENCE) -> str:
    """Wait until the screen shows ``shown`` (escaped), then check it."""
    app = pilot.app
    assert isinstance(app, GitOpsApp)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # then the check below says what is wrong
        visible = ALLOWED.sub("", terminal_output(app))
        if all(text in visible for text in shown):
            break
        await pilot.pause(0.1)  # rendering the whole screen is costly: poll gently
    await pilot.pause()
    return assert_terminal_safe(app, *shown)


# --------------------------------------------------------------------------- the screens


async def test_app_list_tree_and_flat_are_terminal_safe() -> None:
    app = GitOpsApp(HostileEngine(), close_engine=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        visible = await check(pilot, SHOWN, "\\x1b[2J", "\\x9b6n", "\\u202e", MARKUP)
        assert "\\x1b]0;pwned" in visible.split("\n")[0], "header: the unreachable cluster"
        await pilot.press("T")
        await check(pilot, SHOWN, MARKUP)
        app.screen.table.move_to_key(EVIL_APP)  # type: ignore[attr-defined]
        await pilot.press("space")  # marked: the name cell becomes styled Text
        await check(pilot, SHOWN, MARKUP)


async def test_app_view_panes_are_terminal_safe() -> None:
    app = GitOpsApp(HostileEngine(), close_engine=False, initial_app=EVIL_APP)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
        screen = app.screen
        assert isinstance(screen, AppViewScreen)
        await wait_for(pilot, lambda: screen.diffs is not None)
        # whole app: summary, conditions, tree, header crumb, diff (auto split: wide)
        await check(pilot, "helm fail\\x1b]0;pwned", "ComparisonError\\x1b]0;pwned", MARKUP)
        screen.diff_view.set_split(False)
        await check(pilot, "cm\\x1b]0;pwned", MARKUP)
        # one resource: its detail line and diff
        await pilot.press("down")
        await check(pilot, "data.KEY\\x1b]0;pwned", MARKUP)
        await pilot.press("down")
        await check(pilot, "nodehealth\\x1b]0;pwned", MARKUP)
        # the operation pane
        await pilot.press("o")
        await check(
            pilot, "opmessage\\x1b]0;pwned", "SyncFailed  ConfigMap ns\\x1b]0;pwned", MARKUP
        )


async def test_history_and_rollback_confirm_are_terminal_safe() -> None:
    app = GitOpsApp(HostileEngine(), close_engine=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.open_history(EVIL_APP)
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.loaded)
        await check(pilot, "https://repo\\x1b]0;pwned", "by\\x1b]0;pwned", MARKUP)
        await pilot.press("R")
        await check(pilot, "Roll back")
        title = app.screen.query_one(".dialog-title", SafeStatic).content
        assert isinstance(title, Text) and "Roll back app\\x1b]0;pwned" in title.plain


async def test_sync_dialog_plan_and_progress_are_terminal_safe() -> None:
    engine = HostileEngine()
    app = GitOpsApp(engine, close_engine=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.open_sync(EVIL_APP)
        await wait_for(pilot, lambda: isinstance(app.screen, SyncModal) and app.screen.preview)
        await check(pilot, "preview error\\x1b]0;pwned", "cm\\x1b]0;pwned", MARKUP)
        # the progress view of a started operation with hostile results
        modal = app.screen
        assert isinstance(modal, SyncModal)
        hostile = engine.apps[EVIL_APP].snapshot.last_sync
        assert hostile is not None
        modal.operation_id = hostile.id
        modal.query_one("#sync-body").current = "sync-progress"  # type: ignore[attr-defined]
        engine.update_app(EVIL_APP, operation=replace(hostile, phase=OperationPhase.RUNNING))
        await check(
            pilot, "Operation op\\x1b]0;pwned", "SyncFailed  ConfigMap ns\\x1b]0;pwned", MARKUP
        )


async def test_prune_dialog_is_terminal_safe() -> None:
    app = GitOpsApp(HostileEngine(), close_engine=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.open_prune(EVIL_APP)
        await wait_for(pilot, lambda: isinstance(app.screen, PruneModal) and app.screen.preview)
        await check(pilot, "Prune app\\x1b]0;pwned", "old\\x1b]0;pwned", MARKUP)


async def test_fleet_sync_dialog_is_terminal_safe() -> None:
    engine = HostileEngine()
    engine.plan_errors["payments"] = evil("fleet plan error")
    engine.fail_sync["guestbook"] = EngineError(evil("sync refused"))
    app = GitOpsApp(engine, close_engine=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.open_fleet_sync([EVIL_APP])
        await wait_for(
            pilot, lambda: isinstance(app.screen, FleetSyncModal) and app.screen.previews
        )
        await check(pilot, "app\\x1b]0;pwned", "cm\\x1b]0;pwned", MARKUP)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, FleetSyncModal))
        # short names: the error column is on the screen
        app.open_fleet_sync(["payments", "guestbook"])
        await wait_for(
            pilot, lambda: isinstance(app.screen, FleetSyncModal) and app.screen.previews
        )
        modal = app.screen
        assert isinstance(modal, FleetSyncModal) and modal.apps == ("guestbook", "payments")
        await check(pilot, "fleet plan error\\x1b]0;pwned", MARKUP)
        await pilot.press("y")
        await wait_for(pilot, lambda: "guestbook" in modal.failed)
        await check(pilot, MARKUP)
        # the failure's row (its column may not be refitted yet on a busy machine)
        cell = modal.query_one(FleetPlanTable).get_cell("failed|guestbook", "status")
        assert isinstance(cell, Text) and "sync refused\\x1b]0;pwned" in cell.plain


async def test_notifications_are_terminal_safe() -> None:
    engine = HostileEngine()
    engine.fail["history"] = EngineError(evil("history failed"))
    app = GitOpsApp(engine, close_engine=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.open_history(EVIL_APP)
        await check(pilot, "failed\\x1b]0;pwned", "[link=https://evil.example]k[/link]")
        app.notify(evil("direct"), title=evil("title"))
        await check(pilot, "direct\\x1b]0;pwned", "title\\x1b]0;pwned")
    app = GitOpsApp(engine, close_engine=False, initial_app=EVIL_APP)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
        del engine.apps[EVIL_APP]
        engine.publish()
        await check(pilot, "app\\x1b]0;pwned", "disappeared")


async def test_command_palette_is_terminal_safe() -> None:
    app = GitOpsApp(HostileEngine(), close_engine=False, initial_app=EVIL_APP)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
        await pilot.press("ctrl+p")
        await check(pilot, "Open app\\x1b]0;pwned")
        await pilot.press(*"sync app")
        await check(pilot, "Sync app\\x1b]0;pwned")


def test_payload_is_hostile_without_the_gates() -> None:
    """The check itself: the same payload in a bare Rich Text does reach the terminal raw."""
    console = Console(file=io.StringIO(), force_terminal=True, color_system="truecolor")
    console.print(Text(evil("x")))
    raw = console.file.getvalue()  # type: ignore[attr-defined]
    assert re.search(r"\x1b\]0;pwned", raw) and "\x1b[2J" in raw and "\x9b" in raw


# --------------------------------------------------------------------------- the gates stay

UI_PACKAGE = Path(__file__).resolve().parents[2] / "gitops_tui" / "ui"
GATED_ELSEWHERE = {
    ("safe.py", "Static"): "SafeStatic is the console's Static",
    ("widgets/tables.py", "DataTable"): "KeyedTable: cells through display_cell",
    ("widgets/resource_tree.py", "Tree"): "ResourceTree.process_label",
    ("screens/app_list.py", "DataTable"): "its RowSelected event only",
    ("screens/app_view.py", "Tree"): "its NodeHighlighted event only",
    ("modals/command_line.py", "Label"): "the constant ':' prompt",
    ("screens/live_object.py", "TextArea"): "ManifestText.load_text",
    ("screens/pod_logs.py", "OptionList"): "ChoiceModal: labels are printable Text",
    ("modals/actions.py", "OptionList"): "prompts from action_prompt (plain_text, safe_text)",
    ("modals/delete_app.py", "OptionList"): "the constant cascade words, as plain_text",
    ("pod_connect.py", "OptionList"): "ExecModal: container names, DNS labels, printable Text",
    ("port_forwards.py", "OptionList"): "PortForwardsModal: rows as printable Text",
}
"""Textual widgets that show text, allowed only where a gate covers them."""
TEXT_WIDGETS = {
    "Static",
    "Label",
    "DataTable",
    "Tree",
    "DirectoryTree",
    "Log",
    "RichLog",
    "Markdown",
    "MarkdownViewer",
    "Pretty",
    "OptionList",
    "SelectionList",
    "ListItem",
    "Select",
    "RadioButton",
    "Checkbox",
    "Button",
    "Link",
    "Digits",
    "Collapsible",
    "TabbedContent",
    "TabPane",
    "Tab",
    "Tabs",
    "TextArea",
}


def ungated_widgets(relative: str, source: str) -> list[str]:
    """Text widgets imported from textual by a module without a gate for them."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("textual.widgets"):
            for alias in node.names:
                if alias.name in TEXT_WIDGETS and (relative, alias.name) not in GATED_ELSEWHERE:
                    found.append(f"{relative}: {alias.name}")
    return found


def test_every_text_widget_of_the_console_goes_through_a_gate() -> None:
    """A new Static, Label, table or log in the console must use a gate of ui/safe.py."""
    found = []
    for path in sorted(UI_PACKAGE.rglob("*.py")):
        relative = path.relative_to(UI_PACKAGE).as_posix()
        found += ungated_widgets(relative, path.read_text(encoding="utf-8"))
    assert found == []
    # the scan finds what it looks for
    assert ungated_widgets("screens/x.py", "from textual.widgets import Footer, Static") == [
        "screens/x.py: Static"
    ]
