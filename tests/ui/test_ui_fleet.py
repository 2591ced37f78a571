"""Fleet features of the list: App of Apps tree, cluster sort, marks and the fleet sync dialog, :ctx.

The sample fleet's App of Apps: frontend registered guestbook and monitoring,
guestbook registered legacy-batch; payments is a root of its own.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import pytest
from fake_engine import FakeApp, FakeEngine, monitoring
from uitest import run_from_palette, screen_text, settles, wait_for

from gitops_tui.engine.api import EngineError, SyncRequest
from gitops_tui.engine.model import SyncStatus
from gitops_tui.engine.snapshot import (
    IN_CLUSTER,
    AppSnapshot,
    Destination,
    OperationPhase,
    OperationState,
)
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.app_tree import tree_rows
from gitops_tui.ui.commands import GitOpsCommands, parse_command_line
from gitops_tui.ui.filtering import SORTS, AppFilter
from gitops_tui.ui.messages import FleetPlanReady
from gitops_tui.ui.modals.fleet_sync import FleetPlanTable, FleetSyncModal
from gitops_tui.ui.screens.app_list import AppListScreen, AppTable
from gitops_tui.ui.screens.help import HelpScreen

SIZE = (80, 24)
TREE = ["frontend", "guestbook", "legacy-batch", "monitoring", "payments"]
FLEET_KEYS = {"space", "u"}


def table(app: GitOpsApp) -> AppTable:
    return app.screen.query_one(AppTable)


def list_screen(app: GitOpsApp) -> AppListScreen:
    screen = app.screen
    assert isinstance(screen, AppListScreen)
    return screen


def names(app: GitOpsApp) -> dict[str, str]:
    """Row key -> the NAME cell as shown."""
    t = table(app)
    out = {}
    for key in t.keys:
        cell = t.cells(key)[0]  # type: ignore[index]
        out[key] = str(getattr(cell, "plain", cell))
    return out


def bound_actions(app: GitOpsApp) -> dict[str, str]:
    return {key: active.binding.action for key, active in app.screen.active_bindings.items()}


async def palette_hits(app: GitOpsApp, query: str) -> list[str]:
    provider = GitOpsCommands(app.screen)
    return [str(getattr(hit.text, "plain", hit.text)) async for hit in provider.search(query)]


async def go_to(pilot: Any, app: GitOpsApp, name: str) -> None:
    assert table(app).move_to_key(name)
    await pilot.pause()


def operation(op_id: str, app: str, phase: OperationPhase, message: str = "") -> OperationState:
    return OperationState(
        id=op_id,
        app=app,
        phase=phase,
        message=message,
        revision="abc1234",
        started_at=1.0,
        finished_at=None if phase is OperationPhase.RUNNING else 2.0,
    )


def plan_status(modal: FleetSyncModal, name: str) -> str:
    cells = modal.query_one(FleetPlanTable).cells(f"app|{name}")
    assert cells is not None
    return str(getattr(cells[2], "plain", cells[2]))


async def open_fleet(pilot: Any, app: GitOpsApp, *marked: str) -> FleetSyncModal:
    for name in marked:
        await go_to(pilot, app, name)
        await pilot.press("space")
    await pilot.press("s")
    await wait_for(pilot, lambda: isinstance(app.screen, FleetSyncModal) and app.screen.ready)
    assert isinstance(app.screen, FleetSyncModal)
    return app.screen


# -- the tree (pure) ----------------------------------------------------------------------


def snap(name: str, parent: str | None = None, **extra: Any) -> AppSnapshot:
    return replace(monitoring().snapshot, name=name, parent=parent, **extra)


def order(apps: list[AppSnapshot], **kwargs: Any) -> list[tuple[str, int]]:
    by_name = {a.name: a for a in apps}
    return [(r.name, r.depth) for r in tree_rows(apps, by_name, SORTS["name"][1], **kwargs)]


def test_tree_rows_children_after_their_parent_recursively() -> None:
    apps = [snap("z-root"), snap("a-child", "z-root"), snap("b-grand", "a-child"), snap("m")]
    assert order(apps) == [("m", 0), ("z-root", 0), ("a-child", 1), ("b-grand", 2)]
    assert order(apps, reverse=True) == [("z-root", 0), ("a-child", 1), ("b-grand", 2), ("m", 0)]


def test_tree_rows_filtered_parents_missing_parents_and_cycles() -> None:
    root, child, grand = snap("root"), snap("child", "root"), snap("grand", "child")
    by_name = {a.name: a for a in (root, child, grand)}
    key = SORTS["name"][1]
    # the child is filtered out: the grandchild hangs under the root
    rows = tree_rows([root, grand], by_name, key)
    assert [(r.name, r.parent, r.depth) for r in rows] == [("root", None, 0), ("grand", "root", 1)]
    # a parent the fleet does not know: a root
    assert order([snap("orphan", "gone")]) == [("orphan", 0)]
    # a cycle: nobody is lost
    assert sorted(order([snap("a", "b"), snap("b", "a")])) == [("a", 0), ("b", 1)]


def test_tree_rows_collapse_counts_hidden_descendants() -> None:
    apps = [snap("p"), snap("c1", "p"), snap("c2", "p"), snap("g", "c1")]
    rows = tree_rows(apps, {a.name: a for a in apps}, SORTS["name"][1], collapsed={"p"})
    assert [(r.name, r.collapsed, r.hidden, r.children) for r in rows] == [("p", True, 3, 2)]
    rows = tree_rows(apps, {a.name: a for a in apps}, SORTS["name"][1], collapsed={"c1"})
    assert [(r.name, r.hidden) for r in rows] == [("p", 0), ("c1", 1), ("c2", 0)]


def test_cluster_sort_and_filter() -> None:
    apps = [a.snapshot for a in FakeEngine().apps.values()]
    by_cluster = [a.name for a in sorted(apps, key=SORTS["cluster"][1])]
    assert by_cluster == ["legacy-batch", "frontend", "guestbook", "monitoring", "payments"]
    assert [a.name for a in AppFilter.parse("cluster:prod").apply(apps)] == ["payments"]
    assert [a.name for a in AppFilter.parse("cluster:edge-1.example").apply(apps)] == [
        "legacy-batch"
    ]
    unnamed = snap("x", destination=Destination(IN_CLUSTER, "", "ns"))
    assert AppFilter.parse("cluster:in-cluster").matches(unnamed)
    assert AppFilter.parse("cluster:kubernetes.default").matches(unnamed)
    assert SORTS["cluster"][1](unnamed)[0] == "in-cluster"


def test_command_aliases() -> None:
    assert parse_command_line(":plan").verb == "plan"
    assert parse_command_line(":ctx prod").argument == "prod"
    assert parse_command_line("context").verb == "ctx"


# -- the tree in the list -----------------------------------------------------------------


async def test_tree_order_and_indentation(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert names(app) == {
            "frontend": "▾ frontend",
            "guestbook": "├ ▾ guestbook",
            "legacy-batch": "│ └ legacy-batch",
            "monitoring": "└ monitoring",
            "payments": "  payments",
        }
        assert table(app).keys == TREE
        text = screen_text(app)
        assert "├ ▾ guestbook" in text and "│ └ legacy-batch" in text


async def test_tree_in_ascii(engine: FakeEngine) -> None:
    app = GitOpsApp(engine, ascii_symbols=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = names(app)
        assert shown["guestbook"] == "+ v guestbook"
        assert shown["legacy-batch"] == "| ` legacy-batch"
        assert all(cell.isascii() for cell in shown.values())


async def test_a_fleet_without_app_of_apps_is_not_indented() -> None:
    engine = FakeEngine(
        apps=[FakeApp(replace(monitoring().snapshot, name=n, parent=None)) for n in "abc"]
    )
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert names(app) == {"a": "a", "b": "b", "c": "c"}


async def test_minus_collapses_and_expands(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        # under load the first fleet may land after the first pause: wait for it
        await wait_for(pilot, lambda: table(app).keys == TREE)
        await pilot.press("minus")  # cursor on frontend
        await wait_for(pilot, lambda: table(app).keys == ["frontend", "payments"])
        assert names(app)["frontend"] == "▸ frontend (3 hidden)"
        # the table is updated at once; the screen on the next refresh (later under load)
        await wait_for(pilot, lambda: "▸ frontend (3 hidden)" in screen_text(app))
        await pilot.press("minus")
        await wait_for(pilot, lambda: table(app).keys == TREE)
        # on a child: its parent collapses and the cursor goes to it
        await go_to(pilot, app, "legacy-batch")
        await pilot.press("minus")
        await wait_for(
            pilot, lambda: table(app).keys == ["frontend", "guestbook", "monitoring", "payments"]
        )
        assert table(app).cursor_key() == "guestbook"
        assert names(app)["guestbook"] == "├ ▸ guestbook (1 hidden)"
        await pilot.press("minus")  # on the collapsed parent: expands
        await wait_for(pilot, lambda: table(app).keys == TREE)
        await go_to(pilot, app, "payments")
        await pilot.press("minus")
        await wait_for(pilot, lambda: ("warning", "payments has no child apps.") in app.notices)


async def test_t_flattens_and_restores_the_tree(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("minus", "T")  # collapsed frontend, then flat: everything shows
        await pilot.pause()
        assert names(app) == {name: name for name in TREE}
        assert "flat (T: tree)" in screen_text(app)
        await pilot.press("S")  # sync: a plain sorted list, children anywhere
        await pilot.pause()
        assert table(app).keys == [
            "frontend",
            "guestbook",
            "legacy-batch",
            "monitoring",
            "payments",
        ]
        await pilot.press("I")
        await pilot.pause()
        assert table(app).keys[0] == "payments" and table(app).keys[-1] == "frontend"
        await pilot.press("minus")
        await pilot.pause()
        assert ("warning", "The list is flat: press T for the tree.") in app.notices
        await pilot.press("T")
        await pilot.pause()
        assert table(app).keys == ["payments", "frontend"]  # collapsed frontend comes back
        assert "flat" not in screen_text(app)


@pytest.mark.parametrize("sort_by", list(SORTS))
@pytest.mark.parametrize("reverse", [False, True])
async def test_children_follow_their_parent_under_every_sort(
    engine: FakeEngine, sort_by: str, reverse: bool
) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        list_screen(app).set_sort(sort_by, reverse=reverse)
        await pilot.pause()
        keys = table(app).keys
        assert sorted(keys) == sorted(TREE)
        assert keys.index("frontend") + 1 == min(keys.index("guestbook"), keys.index("monitoring"))
        assert keys.index("legacy-batch") == keys.index("guestbook") + 1
        subtree = {"frontend", "guestbook", "monitoring", "legacy-batch"}
        start = keys.index("frontend")
        assert set(keys[start : start + 4]) == subtree
        # siblings in the sort order
        fleet = app.fleet.by_name
        key = SORTS[sort_by][1]
        children = [k for k in keys if k in ("guestbook", "monitoring")]
        assert children == sorted(children, key=lambda n: key(fleet[n]), reverse=reverse)
        roots = [k for k in keys if k in ("frontend", "payments")]
        assert roots == sorted(roots, key=lambda n: key(fleet[n]), reverse=reverse)


async def test_sibling_order_and_branches_follow_the_sort(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        list_screen(app).set_sort("sync", reverse=True)
        await pilot.pause()
        assert table(app).keys == [
            "payments",
            "frontend",
            "monitoring",
            "guestbook",
            "legacy-batch",
        ]
        assert names(app)["monitoring"] == "├ monitoring"
        assert names(app)["guestbook"] == "└ ▾ guestbook"
        assert names(app)["legacy-batch"] == "  └ legacy-batch"
        await pilot.press("colon", *"sort cluster", "enter")
        await pilot.pause()
        assert list_screen(app).sort_by == "cluster"
        assert table(app).keys == TREE  # in-cluster frontend's subtree, then prod


async def test_live_updates_keep_the_cursor_and_the_rows_in_tree_mode(
    engine: FakeEngine,
) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        list_screen(app).set_sort("sync")
        await go_to(pilot, app, "legacy-batch")
        t = table(app)
        cleared: list[int] = []
        original_clear = t.clear
        t.clear = lambda *a, **k: (cleared.append(1), original_clear(*a, **k))[1]  # type: ignore[method-assign]
        engine.apps["guestbook"].snapshot = replace(
            engine.apps["guestbook"].snapshot, sync=SyncStatus.SYNCED
        )
        engine.update_app("monitoring", sync=SyncStatus.OUT_OF_SYNC)
        extra = replace(monitoring().snapshot, name="api", sync=SyncStatus.OUT_OF_SYNC)
        engine.apps["api"] = FakeApp(replace(extra, parent="guestbook"))
        snapshot = engine.publish()
        await wait_for(pilot, lambda: app.fleet.generation == snapshot.generation)
        assert t.keys == [
            "frontend",
            "monitoring",
            "guestbook",
            "api",
            "legacy-batch",
            "payments",
        ]
        assert t.cursor_key() == "legacy-batch"
        assert names(app)["api"] == "  ├ api" and names(app)["legacy-batch"] == "  └ legacy-batch"
        assert not cleared


async def test_thousands_of_apps_in_a_tree() -> None:
    base = monitoring().snapshot
    apps = []
    for p in range(30):
        apps.append(FakeApp(replace(base, name=f"p{p:02}", parent=None)))
        for c in range(99):
            apps.append(FakeApp(replace(base, name=f"p{p:02}-c{c:02}", parent=f"p{p:02}")))
    many = FakeEngine(apps=apps)
    app = GitOpsApp(many)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        keys = table(app).keys
        assert len(keys) == 3000 and keys[:2] == ["p00", "p00-c00"] and keys[100] == "p01"
        await go_to(pilot, app, "p17-c50")
        started = time.monotonic()
        snapshot = many.update_app("p17-c50", sync=SyncStatus.OUT_OF_SYNC)
        await wait_for(pilot, lambda: app.fleet.generation == snapshot.generation)
        assert time.monotonic() - started < 5
        assert table(app).cursor_key() == "p17-c50"
        await pilot.press("minus")  # collapses p17
        await pilot.pause()
        assert len(table(app).keys) == 3000 - 99
        assert table(app).cursor_key() == "p17"


# -- marks and the fleet sync dialog ------------------------------------------------------


async def test_space_marks_and_s_opens_the_fleet_dialog(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "j", "space", "j", "space", "space")  # legacy-batch: off again
        await pilot.pause()
        assert list_screen(app).marked == {"frontend", "guestbook"}
        assert names(app)["frontend"] == "▾ frontend ●"
        assert names(app)["legacy-batch"] == "│ └ legacy-batch"
        assert "2 marked" in screen_text(app)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetSyncModal) and app.screen.ready)
        modal = app.screen
        assert isinstance(modal, FleetSyncModal)
        assert engine.names("fleet_preview") == [(frozenset({"frontend", "guestbook"}), False)]
        assert engine.names("preview") == []  # not the single-app dialog
        text = screen_text(app)
        assert "Sync 2 apps" in text
        assert "2 apps:  +0 create  ~3 update  -0 prune" in text
        plan = modal.query_one(FleetPlanTable)
        assert plan.keys[0] == "app|frontend"
        assert str(plan.cells("app|guestbook")[1]) == "+0 ~2 -0 ·2 ◆1"  # type: ignore[index]
        assert "Deployment guestbook/guestbook-ui" in text


async def test_toggles_re_plan_and_confirm_sends_one_sync_per_app(engine: FakeEngine) -> None:
    engine.update_app("frontend", operation=None)  # not busy: the engine would refuse a sync
    app = GitOpsApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        modal = await open_fleet(pilot, app, "frontend", "guestbook")
        await pilot.press("p")
        await wait_for(pilot, lambda: len(engine.names("fleet_preview")) == 2 and modal.ready)
        assert engine.names("fleet_preview")[-1] == (frozenset({"frontend", "guestbook"}), True)
        plan = modal.query_one(FleetPlanTable)
        assert any(str(plan.cells(k)[1]) == "- Prune" for k in plan.keys)  # type: ignore[index]
        await pilot.press("d")  # dry run: the same plan, not planned again
        await pilot.pause()
        assert len(engine.names("fleet_preview")) == 2
        assert "[d] dry run ON" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: len(modal.operations) == 2)
        assert engine.names("sync") == [
            SyncRequest("frontend", prune=True, dry_run=True),
            SyncRequest("guestbook", prune=True, dry_run=True),
        ]
        assert "p" not in bound_actions(app) and "y" not in bound_actions(app)
        await wait_for(pilot, lambda: plan_status(modal, "guestbook") == "⟳ Running starting")
        # once confirmed: one row per app, the status column gets the room
        assert plan.keys == ["app|frontend", "app|guestbook"]
        # per-app results, live from the snapshots
        guestbook_op, frontend_op = modal.operations["guestbook"], modal.operations["frontend"]
        engine.update_app(
            "guestbook",
            operation=operation(guestbook_op, "guestbook", OperationPhase.RUNNING, "wave 0"),
        )
        await wait_for(pilot, lambda: plan_status(modal, "guestbook") == "⟳ Running wave 0")
        assert "2 syncs:" in screen_text(app)
        engine.update_app(
            "frontend",
            last_sync=operation(frontend_op, "frontend", OperationPhase.FAILED, "conflict"),
            operation=None,
        )
        done = operation(guestbook_op, "guestbook", OperationPhase.SUCCEEDED)
        engine.update_app("guestbook", operation=None, last_sync=done)
        await wait_for(pilot, lambda: modal.finished)
        assert plan_status(modal, "frontend") == "✗ Failed conflict"
        assert plan_status(modal, "guestbook") == "✓ Succeeded"
        text = screen_text(app)
        assert "every sync has ended" in text and "DRY RUN" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AppListScreen))
        # a dry run changed nothing: the marks stay, s opens the fleet dialog again
        # (issue 15, defect 5: they were cleared and s became a one-app sync)
        assert list_screen(app).marked == {"frontend", "guestbook"}
        assert (
            "information",
            "Fleet dry run: 2 dry runs started. The marks stay for the real sync.",
        ) in app.notices
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetSyncModal) and app.screen.ready)


async def test_enter_confirms_and_escape_cancels(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_fleet(pilot, app, "payments")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AppListScreen))
        assert engine.names("sync") == []
        assert list_screen(app).marked == {"payments"}  # cancelled: marks kept
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetSyncModal) and app.screen.ready)
        await pilot.press("enter")
        await wait_for(pilot, lambda: engine.names("sync"))
        assert engine.names("sync") == [SyncRequest("payments")]


async def test_one_failing_sync_does_not_stop_the_others(engine: FakeEngine) -> None:
    # frontend's operation is still running (the sample's op-88): the engine refuses it
    app = GitOpsApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        modal = await open_fleet(pilot, app, "frontend", "guestbook", "payments")
        await pilot.press("y")
        await wait_for(pilot, lambda: not modal.sending and modal.confirmed)
        assert [r.app for r in engine.names("sync")] == ["frontend", "guestbook", "payments"]
        assert set(modal.operations) == {"guestbook", "payments"}
        assert plan_status(modal, "frontend") == "▲ not started"
        failed = modal.query_one(FleetPlanTable).cells("failed|frontend")
        assert failed is not None
        assert str(failed[2]) == "sync frontend: an operation is already running on frontend"
        assert (
            "error",
            "sync frontend: an operation is already running on frontend",
        ) in app.notices
        assert "1 ▲ not started" in screen_text(app)
        engine.operations_end.set()  # the engine ends the two started operations
        await wait_for(pilot, lambda: modal.finished)
        assert plan_status(modal, "payments") == "✓ Succeeded successfully synced"
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AppListScreen))
        assert ("information", "Fleet sync: 2 syncs started.") in app.notices


async def test_apps_that_cannot_be_planned_are_shown_and_not_synced(engine: FakeEngine) -> None:
    engine.plan_errors["payments"] = "cluster prod is unreachable"
    app = GitOpsApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        modal = await open_fleet(pilot, app, "guestbook", "payments")
        plan = modal.query_one(FleetPlanTable)
        assert str(plan.cells("app|payments")[1]) == "cannot plan"  # type: ignore[index]
        assert str(plan.cells("error|payments|0")[2]) == "cluster prod is unreachable"  # type: ignore[index]
        assert "▲ 1 cannot be planned" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: not modal.sending and modal.confirmed)
        assert engine.names("sync") == [SyncRequest("guestbook")]
        assert plan_status(modal, "payments") == "not synced"


async def test_a_read_only_context_app_is_not_marked_nor_synced(engine: FakeEngine) -> None:
    engine.update_app("payments", read_only=True)
    app = GitOpsApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.fleet.by_name["payments"].read_only)
        await go_to(pilot, app, "payments")
        await pilot.press("space")
        await pilot.pause()
        assert list_screen(app).marked == set()
        assert any("read-only context" in text for _, text in app.notices)
        # :plan of every app (payments included by name): shown, never synced
        app.run_command_line("plan guestbook payments")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetSyncModal) and app.screen.ready)
        modal = app.screen
        assert isinstance(modal, FleetSyncModal)
        assert plan_status(modal, "payments") == "read-only context: not synced"
        await pilot.press("y")
        await wait_for(pilot, lambda: not modal.sending and modal.confirmed)
        assert engine.names("sync") == [SyncRequest("guestbook")]


async def test_a_stale_plan_is_dropped_and_confirm_waits_for_the_plan(engine: FakeEngine) -> None:
    engine.gate = threading.Event()
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "s")
        await wait_for(
            pilot, lambda: isinstance(app.screen, FleetSyncModal) and engine.names("fleet_preview")
        )
        modal = app.screen
        assert isinstance(modal, FleetSyncModal)
        async with settles(pilot):
            await pilot.press("y", "enter")
        assert engine.names("sync") == [] and "computing the plan" in screen_text(app)
        engine.gate.set()
        await wait_for(pilot, lambda: modal.ready)
        shown = modal.previews
        async with settles(pilot):
            modal.post_message(FleetPlanReady(modal.plan_token - 1, {"frontend": "stale"}))
        assert modal.previews is shown


async def test_a_failing_plan_is_shown_and_blocks_the_sync(engine: FakeEngine) -> None:
    engine.fail["fleet_preview"] = EngineError("the engine is shutting down")
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "s")
        await wait_for(pilot, lambda: "Plan failed" in screen_text(app))
        async with settles(pilot):
            await pilot.press("y")
        assert engine.names("sync") == []
        assert ("error", "plan: the engine is shutting down") in app.notices


async def test_plan_command_previews_every_out_of_sync_app(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon", *"plan", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetSyncModal) and app.screen.ready)
        modal = app.screen
        assert isinstance(modal, FleetSyncModal)
        assert engine.names("fleet_preview") == [(None, False)]
        assert set(modal.previews or {}) == {"frontend", "guestbook"}
        assert "Plan and sync every OutOfSync app" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: len(engine.names("sync")) == 2)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AppListScreen))
        # the palette entry opens the same dialog
        assert "Plan: every OutOfSync app" in await palette_hits(app, "plan")
        await run_from_palette(pilot, "plan: every", "Plan: every OutOfSync app")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetSyncModal))
        await wait_for(pilot, lambda: len(engine.names("fleet_preview")) == 2)
        assert engine.names("fleet_preview")[-1] == (None, False)


async def test_nothing_out_of_sync(engine: FakeEngine) -> None:
    for name in ("frontend", "guestbook"):
        engine.apps[name].snapshot = replace(engine.apps[name].snapshot, sync=SyncStatus.SYNCED)
    engine.publish()
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        app.run_command_line("plan")
        await wait_for(pilot, lambda: "Nothing to sync" in screen_text(app))
        async with settles(pilot):
            await pilot.press("y")
        assert engine.names("sync") == []


async def test_u_and_escape_clear_the_marks(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "j", "space", "u")
        await pilot.pause()
        assert list_screen(app).marked == set()
        await pilot.press("space", "slash", *"guest", "enter", "escape")
        await pilot.pause()
        assert list_screen(app).marked == set()  # first escape: the marks
        assert list_screen(app).app_filter.active
        await pilot.press("escape")  # then the filter
        await pilot.pause()
        assert not list_screen(app).app_filter.active
        assert table(app).keys == TREE


async def test_read_only_hides_marks_and_the_fleet_dialog() -> None:
    engine = FakeEngine(read_only=True)
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        actions = bound_actions(app)
        assert FLEET_KEYS.isdisjoint(actions) and "s" not in actions
        assert {"minus", "T"} <= set(actions)  # the tree is not a mutation
        async with settles(pilot):
            await pilot.press("space", "s", "u")
        assert list_screen(app).marked == set()
        async with settles(pilot):
            app.run_command_line("plan")
        assert isinstance(app.screen, AppListScreen)
        assert ("warning", "read-only mode: fleet sync is disabled.") in app.notices
        assert not any(h.startswith("Plan") for h in await palette_hits(app, "plan"))
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        described = {row[2] for row in app.screen.rows}
        assert "Tree / flat list" in described
        assert not any(str(d).startswith(("Mark", "Clear marks")) for d in described)
    called = {name for name, _ in engine.calls}
    assert called.isdisjoint({"fleet_preview", "preview", "sync"})


async def test_help_lists_the_fleet_keys(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        keys = {row[2]: row[0] for row in app.screen.rows}
        assert keys["Mark / unmark for a fleet sync (s)"] == "space"
        assert keys["Collapse / expand child apps"] == "-"
        assert keys["Tree / flat list"] == "T"
        await pilot.press("escape")
        await open_fleet(pilot, app, "payments")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert {"Prune", "Dry run", "Sync these apps", "Close"} <= {
            row[2] for row in app.screen.rows
        }
        assert "fleet sync dialog" in screen_text(app)


# -- :ctx ---------------------------------------------------------------------------------


async def test_ctx_shows_and_sets_the_default_context(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", *"ctx", "enter")
        await wait_for(pilot, lambda: any(t.startswith("Context:") for _, t in app.notices))
        assert (
            "information",
            "Context: kind-dev (known: kind-dev, prod, edge-1)",
        ) in app.notices
        await pilot.press("colon", *"ctx prod", "enter")
        await wait_for(pilot, lambda: engine.default_context == "prod")
        await wait_for(pilot, lambda: app.default_context == "prod")
        assert engine.names("set_default_context") == ["prod"]
        assert any(t.startswith("Context: prod (in-cluster") for _, t in app.notices)
        async with settles(pilot):
            await pilot.press("colon", *"ctx nope", "enter")
        assert (
            "error",
            "ctx: unknown context 'nope' (known: kind-dev, prod, edge-1)",
        ) in app.notices
        # the console did not switch (nor claim to) on a refusal
        assert not any(t.startswith("Context: nope") for _, t in app.notices)
        assert app.default_context == "prod"


async def test_palette_offers_one_entry_per_context(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.contexts)
        hits = await palette_hits(app, "context")
        assert {"Context: kind-dev", "Context: prod", "Context: edge-1"} <= set(hits)
        await run_from_palette(pilot, "context: edge-1", "Context: edge-1")
        await wait_for(pilot, lambda: engine.names("set_default_context"))
        assert engine.names("set_default_context") == ["edge-1"]
