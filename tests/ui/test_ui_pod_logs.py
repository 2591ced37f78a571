"""Container logs from the app view's tree (``l``), over the FakeEngine.

The fake streams go through the engine's own ``LogStream`` (split, sanitized,
bounded); ``engine.pod_logs.emit`` writes to followed logs as a container would.
"""

from __future__ import annotations

import pytest
from fake_engine import FakeEngine
from test_ui_app_view import move_to, open_app
from test_ui_terminal_safety import check
from uitest import screen_text, wait_for

from gitops_tui.engine.api import EngineError
from gitops_tui.engine.model import ResourceKey
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.screens.app_view import AppViewScreen
from gitops_tui.ui.screens.pod_logs import CAPACITY, ChoiceModal, PodLogsScreen
from gitops_tui.ui.widgets.log_view import LogView

SIZE = (80, 24)
POD = "guestbook-ui-7d9f8-abcde"
SIDECAR_POD = "guestbook-ui-7d9f8-fghij"
PATIENCE = 15.0


def view_of(app: GitOpsApp) -> LogView:
    screen = app.screen
    assert isinstance(screen, PodLogsScreen)
    return screen.view


async def open_logs(pilot, app: GitOpsApp, label: str = "9f8-abcde") -> PodLogsScreen:  # type: ignore[no-untyped-def]
    screen = await open_app(pilot, app, "guestbook")
    await move_to(pilot, screen, label)
    await pilot.press("l")
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, PodLogsScreen) and app.screen.view.line_count >= 40,
        timeout=PATIENCE,
    )
    shown = app.screen
    assert isinstance(shown, PodLogsScreen)
    return shown


async def test_a_pods_log_follows_searches_wraps_and_pauses(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_logs(pilot, app)
        pod = ResourceKey("", "Pod", "guestbook", POD)
        (call,) = [args for name, args in engine.calls if name == "logs"]
        assert call[:2] == ("guestbook", pod)
        assert call[2].follow and call[2].tail_lines == 1000
        await wait_for(pilot, lambda: "following" in screen_text(app), timeout=PATIENCE)
        shown = screen_text(app)
        assert f"Pod {POD}  container guestbook-ui" in shown
        assert "line 40: GET /ok 200" in shown  # the newest line, at the bottom
        # follow: a line the container writes now appears at the bottom
        engine.pod_logs.emit(POD, ["a brand new line"])
        await wait_for(pilot, lambda: "a brand new line" in screen_text(app), timeout=PATIENCE)
        view = screen.view
        assert view.line_count == 41
        # search: / ERROR enter, then n and N move between matching lines
        await pilot.press("slash", *"error", "enter")
        first = view.current
        assert first is not None and "ERROR" in view.lines[first - view.first]
        await pilot.press("n")
        second = view.current
        assert second is not None and second > first
        await pilot.press("N")
        assert view.current == first
        await pilot.press("slash", *"no such text", "enter")
        await wait_for(pilot, lambda: "Not found: no such text" in screen_text(app))
        # wrap: long lines fold at the width
        engine.pod_logs.emit(POD, ["long " + "x" * 150 + " END"])
        await wait_for(pilot, lambda: view.line_count == 42, timeout=PATIENCE)
        assert view.virtual_size.height == 42
        await pilot.press("w")
        assert view.wrap and view.virtual_size.height > 42
        await pilot.press("w")
        # pause: new lines wait (counted), resume shows them
        await pilot.press("space")
        engine.pod_logs.emit(POD, ["written while paused"])
        await wait_for(pilot, lambda: "paused: 1 new" in screen_text(app), timeout=PATIENCE)
        assert "written while paused" not in "\n".join(view.lines)
        await pilot.press("space")
        await wait_for(pilot, lambda: "written while paused" in screen_text(app), timeout=PATIENCE)
        # tail / since / follow off start a new read with those options
        await pilot.press("t", "s", "f")
        await wait_for(pilot, lambda: "end of log" in screen_text(app), timeout=PATIENCE)
        last = [args for name, args in engine.calls if name == "logs"][-1][2]
        assert (last.follow, last.tail_lines, last.since_seconds) == (False, 10_000, 60)
        assert "follow off  tail 10000  since 1m" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
        assert all(s.closed.is_set() for s in engine.pod_logs.open_sources), "streams closed"


async def test_a_deployment_picks_a_pod_and_the_pod_a_container(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_app(pilot, app, "guestbook")
        await move_to(pilot, screen, "Deployment")
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceModal))
        assert POD in screen_text(app) and SIDECAR_POD in screen_text(app)
        assert "all 2 pods, each line prefixed" in screen_text(app)
        await pilot.press("down", "down", "enter")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, PodLogsScreen) and app.screen.view.line_count >= 40,
            timeout=PATIENCE,
        )
        logs = app.screen
        assert isinstance(logs, PodLogsScreen) and logs.pod.name == SIDECAR_POD
        await wait_for(pilot, lambda: "(of 2: c)" in screen_text(app), timeout=PATIENCE)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceModal))
        await pilot.press("down", "enter")
        await wait_for(
            pilot,
            lambda: (
                "container log-shipper" in screen_text(app)
                and any("log-shipper line" in line for line in view_of(app).lines)
            ),
            timeout=PATIENCE,
        )
        last = [args for name, args in engine.calls if name == "logs"][-1][2]
        assert last.container == "log-shipper"


async def test_the_app_root_shows_all_its_pods_each_line_prefixed(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_app(pilot, app, "guestbook")
        await pilot.press("l")  # on the app's root
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, PodLogsScreen) and app.screen.view.line_count >= 80,
            timeout=PATIENCE,
        )
        lines = list(view_of(app).lines)
        assert "[abcde] guestbook-ui-7d9f8-abcde/guestbook-ui line 1: GET /ok 200" in lines
        assert "[fghij] guestbook-ui-7d9f8-fghij/guestbook-ui line 1: GET /ok 200" in lines
        await wait_for(pilot, lambda: "2 pods of guestbook" in screen_text(app), timeout=PATIENCE)
        engine.pod_logs.emit(SIDECAR_POD, ["only in one pod"])
        await wait_for(
            pilot, lambda: "[fghij] only in one pod" in screen_text(app), timeout=PATIENCE
        )
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
        assert all(s.closed.is_set() for s in engine.pod_logs.open_sources), "streams closed"


async def test_no_pods_and_no_selection_say_so(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_app(pilot, app, "guestbook")
        await move_to(pilot, screen, "ConfigMap")
        await pilot.press("l")
        await wait_for(pilot, lambda: "No pods under ConfigMap" in screen_text(app))
        assert isinstance(app.screen, AppViewScreen)


async def test_errors_are_shown_in_words(engine: FakeEngine) -> None:
    engine.fail["logs"] = EngineError("guestbook: its cluster (prod) is unreachable: refused")
    app = GitOpsApp(engine)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_app(pilot, app, "guestbook")
        await move_to(pilot, screen, "9f8-abcde")
        await pilot.press("l")
        await wait_for(
            pilot, lambda: "its cluster (prod) is unreachable" in screen_text(app), timeout=PATIENCE
        )
        del engine.fail["logs"]
        await pilot.press("p")  # no previous run of the container: the cluster's answer
        await wait_for(
            pilot,
            lambda: (
                "previous terminated container" in screen_text(app)
                and "'guestbook-ui' not found" in screen_text(app)
            ),
            timeout=PATIENCE,
        )


async def test_endless_streams_keep_a_bounded_ring_buffer(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_logs(pilot, app)
        engine.pod_logs.emit(POD, [f"flood {n}" for n in range(CAPACITY + 2_000)])
        await wait_for(
            pilot,
            lambda: screen.view.lines and screen.view.lines[-1] == f"flood {CAPACITY + 1_999}",
            timeout=PATIENCE,
        )
        assert screen.view.line_count == CAPACITY
        assert screen.view.lines[0] == "flood 2000"
        # the buffer is ahead of the screen until the next refresh: wait for the paint
        await wait_for(
            pilot, lambda: f"flood {CAPACITY + 1_999}" in screen_text(app), timeout=PATIENCE
        )


async def test_hostile_bytes_in_a_log_never_reach_the_terminal(engine: FakeEngine) -> None:
    engine.pod_logs.add(
        POD, "guestbook-ui", [b"evil \x1b]0;pwned\x07\x1b[2J\xc2\x9b6n\xe2\x80\xae[blink]m[/]"]
    )
    app = GitOpsApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_logs(pilot, app)
        assert any("evil" in line for line in screen.view.lines)
        screen.view.append(["raw \x1b[2J"])  # the widget's own gate, whatever it is given
        assert screen.view.lines[-1] == "raw \\x1b[2J"
        # the view follows the end on its next refresh (under load it may not have yet)
        await wait_for(pilot, lambda: "raw \\x1b[2J" in screen_text(app), timeout=PATIENCE)
        await check(pilot, "evil \\x1b]0;pwned\\x07\\x1b[2J\\x9b6n\\u202e[blink]m[/]")


@pytest.mark.parametrize("read_only", [True])
async def test_read_only_console_shows_logs(read_only: bool) -> None:
    engine = FakeEngine(read_only=read_only)
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_logs(pilot, app)
