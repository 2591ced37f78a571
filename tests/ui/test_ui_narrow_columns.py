"""80 columns (issue 15): the CONDITIONS cell is a short form that fits, the status row
has the condition in full; the events' MESSAGE column gets the rest of the line."""

from __future__ import annotations

from dataclasses import replace

from fake_engine import FakeEngine
from fake_inspect import sample_events
from uitest import screen_text, wait_for

from gitops_tui.engine.model import Condition
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.screens.app_list import AppListScreen
from gitops_tui.ui.screens.events import EventsScreen

SIZE = (80, 24)
LONG = (
    "Back-off restarting failed container web in pod guestbook-ui-7d9f8-abcde_guestbook "
    "(exit code 137: OOMKilled)"
)


def words(app: GitOpsApp) -> str:
    """The screen's text with its line breaks and runs of spaces as one space (wrapped rows)."""
    return " ".join(screen_text(app).split())


def row(app: GitOpsApp, name: str) -> str:
    return next(line for line in screen_text(app).splitlines() if f" {name} " in line)


async def test_conditions_fit_at_80_columns_and_the_status_row_has_them_whole(
    engine: FakeEngine,
) -> None:
    engine.update_app(
        "monitoring",
        conditions=(
            Condition("SharedResourceWarning", "ConfigMap x is also managed by app y"),
            Condition("OrphanedResourceWarning", "2 orphaned resources"),
            Condition("RepeatedResourceWarning", "ConfigMap z appears twice"),
        ),
    )
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert row(app, "legacy-batch").rstrip().endswith("▲ Compare")
        assert row(app, "payments").rstrip().endswith("▲ Sync")
        assert row(app, "monitoring").rstrip().endswith("▲ Shared +2")
        screen = app.screen
        assert isinstance(screen, AppListScreen)
        screen.table.move_to_key("legacy-batch")
        await wait_for(pilot, lambda: "legacy-batch: ComparisonError" in screen_text(app))
        assert "ComparisonError: cluster edge-1 is unreachable: connection refused" in words(app)
        screen.table.move_to_key("monitoring")
        await wait_for(pilot, lambda: "(+2 more)" in words(app))
        assert "monitoring: SharedResourceWarning: ConfigMap x is also managed" in words(app)


async def test_the_events_message_gets_the_rest_of_the_line_at_80_columns(
    engine: FakeEngine,
) -> None:
    events = sample_events("guestbook", "guestbook")
    engine.inspection.events_by_app["guestbook"] = [replace(events[1], message=LONG)]
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(EventsScreen("guestbook", None))
        await wait_for(pilot, lambda: getattr(app.screen, "loaded", False))
        line = row(app, "BackOff")
        shown = line[line.index("Back-off") :].rstrip()
        assert len(shown) >= 28, line  # was "Back-off" and a letter or two
        assert "ui-7d9f8-abcde" in line  # the object's distinguishing suffix
        assert "2 times" in screen_text(app)  # the count, below the table
        await pilot.resize_terminal(160, 30)
        await wait_for(pilot, lambda: "TYPE" in screen_text(app))
        assert "▲ Warning" in screen_text(app)
