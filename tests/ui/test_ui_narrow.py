"""80x24 (issue 15, defect 7): NAME pinned, low-priority columns dropped first, pod names
show their distinguishing suffix, the header and the app's header on at most 2 lines,
the unreachable-cluster marker whole, the status row not cut."""

from __future__ import annotations

from fake_engine import FakeEngine
from uitest import screen_text, wait_for

from gitops_tui.ui.ages import age_text
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.screens.app_list import AppTable
from gitops_tui.ui.screens.app_view import AppViewScreen
from gitops_tui.ui.widgets.resource_tree import ResourceTree, fit_name

SIZE = (80, 24)


async def test_the_list_at_80_columns_shows_destination_and_conditions(
    engine: FakeEngine,
) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert "▲ edge-1 unreachable" in lines[0]
        columns = lines[1].split()
        assert columns[:3] == ["NAME", "SYNC", "HEALTH"]
        assert "DESTINATION" in columns and "CONDITIONS" in columns
        assert "in-cluster/guestbook" in screen_text(app)


async def test_name_stays_when_scrolling_right(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.screen.query_one(AppTable)
        table.scroll_to(x=table.max_scroll_x, animate=False)
        await pilot.pause()
        text = screen_text(app)
        assert "NAME" in text.splitlines()[1]
        assert "payments" in text and "frontend" in text


async def test_wide_terminals_keep_every_column(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        header = screen_text(app).splitlines()[1].split()
        assert {"PROJECT", "REV", "AUTO", "DESTINATION"} <= set(header)
        assert "2 OutOfSync" in screen_text(app).splitlines()[0]
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: "PROJECT" not in screen_text(app).splitlines()[1])
        assert "DESTINATION" in screen_text(app).splitlines()[1]


async def test_pod_names_show_their_suffix_and_the_app_header_fits(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        app.open_app("guestbook")
        await wait_for(
            pilot, lambda: isinstance(app.screen, AppViewScreen) and app.screen.diffs is not None
        )
        await pilot.pause()
        pods = [label for label in app.screen.query_one(ResourceTree).labels() if "Pod " in label]
        assert len(pods) == 2
        assert pods[0].endswith("abcde") and pods[1].endswith("fghij"), pods
        lines = screen_text(app).splitlines()
        assert lines[0].rstrip().endswith("▲ edge-1 unreachable")
        assert lines[1].lstrip().startswith("↻ OutOfSync")
        assert lines[2].lstrip().startswith("project default")
        assert "guestbook" in lines[3]  # the tree's root: the app header took 2 lines


async def test_the_status_row_is_not_cut(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.run_command_line("filter no-app-has-this-name")
        await wait_for(pilot, lambda: "no app matches" in screen_text(app))
        assert "(esc clears it)" in screen_text(app)


def test_fit_name_keeps_the_end() -> None:
    assert fit_name("guestbook-ui-7d9f8-abcde", 30) == "guestbook-ui-7d9f8-abcde"
    short = fit_name("guestbook-ui-7d9f8-abcde", 14)
    assert len(short) == 14 and short.endswith("abcde") and "…" in short


async def test_last_sync_shows_an_age_that_moves_on(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)  # the clock is pinned at T0 + 1h (conftest)
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(AppTable)
        cells = table.cells("monitoring")
        assert cells is not None and str(cells[6]) == "✓ Succeeded 1h"
        now = app.clock()
        app.clock = lambda: now + 2 * 86400
        app.screen._ages_moved_on()  # what the list's timer calls  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: str(table.cells("monitoring")[6]) == "✓ Succeeded 2d")  # type: ignore[index]
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: "✓ 2d" in screen_text(app))


def test_age_text() -> None:
    assert [age_text(s) for s in (-5, 0, 59, 60, 3599, 3600, 86400 * 3, 86400 * 400)] == [
        "0s",
        "0s",
        "59s",
        "1m",
        "59m",
        "1h",
        "3d",
        "1y",
    ]


async def test_the_header_names_backend_context_and_cluster(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, lambda: app.default_context == "kind-dev")
        await wait_for(pilot, lambda: "local · ctx kind-dev" in screen_text(app).splitlines()[0])
        app.open_app("payments")
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
        await wait_for(
            pilot, lambda: "local · ctx kind-dev · prod" in screen_text(app).splitlines()[0]
        )
        # 80 columns: what does not fit goes (backend, cluster, then the context); one line
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: "· prod" not in screen_text(app).splitlines()[0])
        first = screen_text(app).splitlines()[0]
        assert first.rstrip().endswith("▲ edge-1 unreachable")
