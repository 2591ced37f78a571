"""Live YAML / describe and events, from the app view's resource tree (FakeEngine)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fake_engine import FakeEngine, _node
from fake_inspect import T0
from test_ui_app_view import move_to, open_app
from test_ui_terminal_safety import check
from uitest import screen_text, settles, wait_for

from gitops_tui.engine.api import ClusterEvent, EngineError
from gitops_tui.engine.model import ResourceKey, SyncStatus
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.screens import events as events_screen
from gitops_tui.ui.screens.app_view import AppViewScreen
from gitops_tui.ui.screens.events import EventsScreen
from gitops_tui.ui.screens.live_object import LiveObjectScreen, ManifestText
from gitops_tui.ui.widgets.tables import KeyedTable

SIZE = (80, 24)
WIDE = (160, 40)  # every events column (at 80 columns TYPE and # go: test_ui_narrow_columns.py)
DEPLOYMENT = ResourceKey("apps", "Deployment", "guestbook", "guestbook-ui")
SECRET_VALUE = "hunter2-c2VjcmV0"


def text_of(screen: LiveObjectScreen, which: str) -> str:
    return screen.query_one(f"#{which}-yaml", ManifestText).text


async def open_object(pilot, app: GitOpsApp, label: str) -> LiveObjectScreen:  # type: ignore[no-untyped-def]
    screen = await open_app(pilot, app, "guestbook")
    await move_to(pilot, screen, label)
    await pilot.press("y")
    await wait_for(
        pilot, lambda: isinstance(app.screen, LiveObjectScreen) and app.screen.obj is not None
    )
    shown = app.screen
    assert isinstance(shown, LiveObjectScreen)
    return shown


async def test_live_yaml_beside_the_desired_manifest_managed_fields_folded(
    engine: FakeEngine,
) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_object(pilot, app, "Deployment")
        assert engine.names("live_object") == [("guestbook", DEPLOYMENT)]
        live, desired = text_of(screen, "live"), text_of(screen, "desired")
        assert "replicas: 1" in live and "guestbook:1.1" in live
        assert "replicas: 3" in desired and "guestbook:1.2" in desired
        assert "managedFields" not in live and "fieldsV1" not in live
        shown = screen_text(app)
        assert "managedFields folded: 2 (gitops-tui, kube-controller-manager)" in shown
        # 80 columns: the live manifest alone; D: side by side, then the desired alone
        assert screen.layout_mode == "live"
        assert screen.query_one("#desired-pane").display is False
        await pilot.press("D")
        assert screen.layout_mode == "both"
        assert screen.query_one("#desired-pane").display and screen.query_one("#live-pane").display
        await wait_for(pilot, lambda: "DESIRED (Git)" in screen_text(app))
        await pilot.press("D")
        assert screen.layout_mode == "desired"
        assert screen.query_one("#live-pane").display is False
        await wait_for(pilot, lambda: "guestbook:1.2" in screen_text(app))
        await pilot.press("D")
        await pilot.press("m")
        await wait_for(pilot, lambda: "kube-controller-manager (Update /status" in screen_text(app))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))


async def test_search_inside_the_manifest_with_slash_n_and_N(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_object(pilot, app, "Deployment")
        area = screen.query_one("#live-yaml", ManifestText)
        lines = area.text.split("\n")
        hits = [n for n, line in enumerate(lines) if "guestbook-ui" in line]
        assert len(hits) >= 3
        await pilot.press("slash")
        await pilot.press(*"GUESTBOOK-UI", "enter")  # case-insensitive
        assert area.selected_text == "guestbook-ui" and area.selection.start[0] == hits[0]
        assert area.has_focus
        await pilot.press("n")
        assert area.selection.start[0] == hits[1]
        await pilot.press("N")
        assert area.selection.start[0] == hits[0]
        await pilot.press("N")  # wraps around to the last match
        assert area.selection.start[0] == hits[-1]
        await pilot.press("slash", *"no-such-text", "enter")
        await wait_for(pilot, lambda: "Not found: no-such-text" in screen_text(app))
        # Esc closes an open search box first, then the screen
        await pilot.press("slash")
        await pilot.press("escape")
        assert isinstance(app.screen, LiveObjectScreen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))


async def test_a_pod_is_described_with_its_status_and_has_no_desired_manifest(
    engine: FakeEngine,
) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_object(
            pilot, app, "9f8-abcde"
        )  # the label keeps the suffix at 80 columns
        shown = screen_text(app)
        assert "phase Running" in shown and "Ready=True" in shown
        assert "container guestbook-ui: ready, restarts 2" in shown
        assert "phase: Running" in text_of(screen, "live")
        assert "no desired manifest" in text_of(screen, "desired")


async def test_secret_values_never_reach_the_screen(engine: FakeEngine) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "guestbook"},
        "data": {"password": SECRET_VALUE},
    }
    fake = engine.apps["guestbook"]
    fake.desired.append(secret)
    fake.live.append({**secret, "data": {"password": SECRET_VALUE + "x"}})
    fake.snapshot = replace(
        fake.snapshot,
        resources=(*fake.snapshot.resources, _node(secret, SyncStatus.OUT_OF_SYNC, None)),
    )
    engine.publish()
    app = GitOpsApp(engine)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_object(pilot, app, "Secret db")
        assert screen.layout_mode == "both"
        live, desired = text_of(screen, "live"), text_of(screen, "desired")
        assert "  password: ++++++++++++\n" in live and "  password: ++++++++\n" in desired
        for where in (live, desired, screen_text(app)):
            assert "hunter2" not in where


async def test_an_engine_error_is_shown_in_words(engine: FakeEngine) -> None:
    engine.fail["live_object"] = EngineError("guestbook: its cluster (kind) is unreachable")
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_app(pilot, app, "guestbook")
        await move_to(pilot, screen, "Deployment")
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: (
                "Could not read Deployment guestbook/guestbook-ui: guestbook: its cluster"
                in screen_text(app)
            ),
        )


async def test_live_yaml_needs_a_resource_not_the_app_root(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_app(pilot, app, "guestbook")
        async with settles(pilot):
            await pilot.press("y")
        assert isinstance(app.screen, AppViewScreen)
        assert "Select a resource in the tree" in screen_text(app)
        assert engine.names("live_object") == []


# --------------------------------------------------------------------------- events


def rows(app: GitOpsApp) -> list[tuple[str, ...]]:
    table = app.screen.query_one(KeyedTable)
    return [tuple(str(c) for c in table.cells(key) or ()) for key in table.keys]


async def open_events(pilot, app: GitOpsApp, label: str | None) -> EventsScreen:  # type: ignore[no-untyped-def]
    screen = await open_app(pilot, app, "guestbook")
    if label is not None:
        await move_to(pilot, screen, label)
    await pilot.press("e")
    await wait_for(pilot, lambda: isinstance(app.screen, EventsScreen) and app.screen.loaded)
    shown = app.screen
    assert isinstance(shown, EventsScreen)
    return shown


async def test_app_events_newest_first_warnings_highlighted_and_filtered(
    engine: FakeEngine,
) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_events(pilot, app, None)
        assert engine.names("events") == [("guestbook", None)]
        assert [r[2] for r in rows(app)] == ["ScalingReplicaSet", "BackOff", "Updated"]
        warning = rows(app)[1]
        assert warning[1] == f"{app.glyphs.warning} Warning"
        cell = screen.query_one(KeyedTable).cells(screen.query_one(KeyedTable).keys[1])
        assert cell is not None and "yellow" in str(cell[1].style)
        shown = screen_text(app)
        assert "every object of guestbook, newest first: 3, 1 warning" in shown
        assert "Deployment guestbook/guestbook-ui  from deployment-controller" in shown
        await pilot.press("j")
        await wait_for(pilot, lambda: "Back-off restarting" in screen_text(app))
        await pilot.press("w")
        assert [r[2] for r in rows(app)] == ["BackOff"]
        await pilot.press("w")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))


async def test_events_of_one_resource(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=WIDE) as pilot:
        await open_events(pilot, app, "Deployment")
        assert engine.names("events") == [("guestbook", DEPLOYMENT)]
        assert [r[2] for r in rows(app)] == ["ScalingReplicaSet"]
        assert "Events of Deployment guestbook/guestbook-ui" in screen_text(app)


async def test_events_refresh_live_and_on_r(
    engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events_screen, "REFRESH_SECONDS", 0.2)
    app = GitOpsApp(engine)
    async with app.run_test(size=WIDE) as pilot:
        await open_events(pilot, app, None)
        newer = ClusterEvent(
            "new", DEPLOYMENT, "Warning", "ProgressDeadlineExceeded", "stuck", 1, T0
        )
        engine.inspection.events_by_app["guestbook"].append(newer)
        # no key pressed: the periodic reload shows it, on top
        await wait_for(pilot, lambda: rows(app)[0][2] == "ProgressDeadlineExceeded")
        calls = len(engine.names("events"))
        await pilot.press("r")
        await wait_for(pilot, lambda: len(engine.names("events")) > calls)


async def test_no_events_says_so(engine: FakeEngine) -> None:
    engine.inspection.events_by_app.clear()
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_events(pilot, app, None)
        assert "No events about every object of guestbook" in screen_text(app)


# --------------------------------------------------------------------------- safety

EVIL = "\x1b]0;pwned\x07\x1b[2J\x9b6n[blink]m[/]"


async def test_hostile_strings_in_manifests_and_events_are_escaped(engine: FakeEngine) -> None:
    fake = engine.apps["guestbook"]
    for obj in fake.live:
        obj["metadata"]["annotations"] = {"note": EVIL}
    engine.inspection.events_by_app["guestbook"] = [
        ClusterEvent("evil", DEPLOYMENT, "Warning", "Evil" + EVIL, "msg " + EVIL, 1, T0)
    ]
    app = GitOpsApp(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_object(pilot, app, "Deployment")
        assert "\x1b" not in text_of(screen, "live")
        area = screen.query_one("#live-yaml", ManifestText)
        shown = area.text
        area.load_text("raw \x1b[2J")  # the widget's own gate, whatever it is given
        assert area.text == "raw \\x1b[2J"
        area.load_text(shown)
        await check(pilot, "\\e]0;pwned\\a\\e[2J\\x9B6n[blink]m[/]")  # YAML's escapes
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, EventsScreen) and app.screen.loaded)
        await check(pilot, "Evil\\x1b]0;pwned", "msg \\x1b]0;pwned")


async def test_read_only_console_offers_both_views() -> None:
    engine = FakeEngine(read_only=True)
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_object(pilot, app, "Deployment")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, EventsScreen) and app.screen.loaded)
        assert engine.names("events") == [("guestbook", DEPLOYMENT)]
