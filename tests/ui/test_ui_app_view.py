"""The application view: resource tree, diff viewer, conditions, operation, marks."""

from __future__ import annotations

from dataclasses import replace

from fake_engine import FakeEngine
from uitest import screen_text, wait_for

from gitops_tui.engine.model import HealthStatus, ResourceKey
from gitops_tui.engine.snapshot import OperationPhase, ResourceResult, ResultCode
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.screens.app_view import AppViewScreen
from gitops_tui.ui.widgets.diff_view import DiffView
from gitops_tui.ui.widgets.resource_tree import ResourceTree
from gitops_tui.ui.widgets.tables import KeyedTable

SIZE = (80, 24)
DEPLOYMENT = ResourceKey("apps", "Deployment", "guestbook", "guestbook-ui")


async def open_app(pilot, app: GitOpsApp, name: str) -> AppViewScreen:  # type: ignore[no-untyped-def]
    app.open_app(name)
    await wait_for(
        pilot, lambda: isinstance(app.screen, AppViewScreen) and app.screen.diffs is not None
    )
    screen = app.screen
    assert isinstance(screen, AppViewScreen)
    return screen


def diff_text(screen: AppViewScreen) -> str:
    return screen.query_one(DiffView).text


async def move_to(pilot, screen: AppViewScreen, label_part: str) -> None:  # type: ignore[no-untyped-def]
    tree = screen.query_one(ResourceTree)
    tree.focus()
    for _ in range(20):
        node = tree.cursor_node
        if node is not None and label_part in str(node.label):
            return
        await pilot.press("j")
    raise AssertionError(f"no tree node with {label_part!r}: {tree.labels()}")


async def test_tree_nests_children_by_owner(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_app(pilot, app, "guestbook")
        labels = [line.rstrip() for line in screen.query_one(ResourceTree).labels()]
        assert labels[0].startswith("guestbook")
        deployment = next(i for i, line in enumerate(labels) if "Deployment guestbook-ui" in line)
        assert (
            labels[deployment + 1].startswith("    ")
            and "ReplicaSet guestbook-ui-7d9f8" in labels[deployment + 1]
        )
        assert (
            labels[deployment + 2].startswith("      ")
            and "Pod guestbook-ui-7d9f8-abcde" in labels[deployment + 2]
        )
        assert any("old-config (prune)" in line for line in labels)
        assert "↻ ♥ Deployment" in labels[deployment]


async def test_whole_app_diff_then_one_resource(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_app(pilot, app, "guestbook")
        whole = diff_text(screen)
        assert "+  GREETING: hello" in whole and "+  replicas: 3" in whole
        assert engine.names("diffs") == [("guestbook", 3)]
        await move_to(pilot, screen, "Deployment")
        one = diff_text(screen)
        assert "+  replicas: 3" in one and "GREETING" not in one
        assert "changed: spec.replicas" in screen_text(app)
        await move_to(pilot, screen, "ReplicaSet")
        assert "owned by a managed resource" in diff_text(screen)
        await move_to(pilot, screen, "Pod")
        assert "owned by a managed resource" in diff_text(screen)


async def test_context_toggle_asks_for_the_full_file(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_app(pilot, app, "guestbook")
        await move_to(pilot, screen, "Deployment")
        compact = diff_text(screen)
        await pilot.press("c")
        await wait_for(pilot, lambda: ("guestbook", -1) in engine.names("diffs"))
        await wait_for(pilot, lambda: diff_text(screen) != compact)
        full = diff_text(screen)
        assert "apiVersion: apps/v1" in full and "apiVersion" not in compact
        assert "[full, unified]" in screen_text(app)
        await pilot.press("c")
        await wait_for(pilot, lambda: diff_text(screen) == compact)


async def test_side_by_side_when_wide_and_toggle(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=(220, 40)) as pilot:
        screen = await open_app(pilot, app, "guestbook")
        await move_to(pilot, screen, "Deployment")
        view = screen.query_one(DiffView)
        await pilot.pause()
        assert view.split
        lines = view.text.splitlines()
        assert "  live |   desired" in lines
        assert "-   replicas: 1 | +   replicas: 3" in lines
        assert "    kind: Deployment |     kind: Deployment" not in lines  # compact: folded away
        await pilot.press("v")
        await pilot.pause()
        assert not view.split
        assert "+  replicas: 3" in view.text


async def test_narrow_terminal_is_unified(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_app(pilot, app, "guestbook")
        assert not screen.query_one(DiffView).split


async def test_conditions_and_health_message_are_shown(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_app(pilot, app, "payments")
        text = screen_text(app)
        assert "SyncError: Deployment payments-api: progress deadline exceeded" in text
        assert "0/2 replicas available" in text


async def test_operation_pane_shows_last_sync_then_live_progress(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_app(pilot, app, "guestbook")
        await pilot.press("o")
        await pilot.pause()
        text = screen_text(app)
        assert "Last sync op-41" in text and "✓ Succeeded" in text
        results = screen.query_one("#operation-results", KeyedTable)
        messages = [results.cells(key)[2] for key in results.keys]
        assert messages == [
            "service/guestbook-ui unchanged",
            "deployment.apps/guestbook-ui configured",
        ]
        last = engine.apps["guestbook"].snapshot.last_sync
        assert last is not None
        running = replace(
            last,
            id="op-200",
            phase=OperationPhase.RUNNING,
            finished_at=None,
            results=(ResourceResult(DEPLOYMENT, ResultCode.RUNNING, "applying"),),
        )
        engine.update_app("guestbook", operation=running)
        await wait_for(pilot, lambda: "Operation op-200" in screen_text(app))
        assert "⟳ Running" in screen_text(app)
        assert [results.cells(key)[2] for key in results.keys] == ["applying"]
        done = replace(
            running,
            phase=OperationPhase.FAILED,
            finished_at=running.started_at + 5,
            message="apply failed",
        )
        engine.update_app("guestbook", operation=None, last_sync=done)
        await wait_for(pilot, lambda: "apply failed" in screen_text(app))
        assert screen.pane == "operation"


async def test_live_update_keeps_tree_cursor(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_app(pilot, app, "guestbook")
        await move_to(pilot, screen, "Service")
        tree = screen.query_one(ResourceTree)
        resources = engine.apps["guestbook"].snapshot.resources
        service = next(r for r in resources if r.key.kind == "Service")
        new_node = replace(resources[0], key=ResourceKey("", "ConfigMap", "guestbook", "aaa-first"))
        changed = (
            new_node,
            *[replace(r, health=HealthStatus.DEGRADED) if r is service else r for r in resources],
        )
        engine.update_app("guestbook", resources=changed)
        await wait_for(pilot, lambda: any("aaa-first" in line for line in tree.labels()))
        assert "Service guestbook-ui" in str(tree.cursor_node.label)
        assert "✗" in str(tree.cursor_node.label)


async def test_space_marks_managed_resources_only(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_app(pilot, app, "guestbook")
        await move_to(pilot, screen, "Deployment")
        await pilot.press("space")
        assert screen.marked == {DEPLOYMENT}
        assert "●" in str(screen.query_one(ResourceTree).cursor_node.label)
        await move_to(pilot, screen, "ReplicaSet")
        await pilot.press("space")
        assert screen.marked == {DEPLOYMENT}
        assert any("Only managed resources" in text for _, text in app.notices)
        await pilot.press("k", "space")  # Deployment again: unmark
        assert screen.marked == set()


async def test_diff_from_the_list_focuses_the_viewer_and_escape_steps_back(
    engine: FakeEngine,
) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j", "d")
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
        screen = app.screen
        assert isinstance(screen.focused, DiffView)
        await pilot.press("z")  # zoom the diff
        assert screen.maximized is screen.focused
        await pilot.press("escape")  # un-zoom
        assert screen.maximized is None and isinstance(screen.focused, DiffView)
        await pilot.press("escape")  # diff -> tree
        assert isinstance(screen.focused, ResourceTree)
        await pilot.press("escape")  # out
        assert not isinstance(app.screen, AppViewScreen)


async def test_diff_failure_is_a_notification_not_a_traceback(engine: FakeEngine) -> None:
    engine.fail["diffs"] = RuntimeError("repo server exploded")
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        app.open_app("guestbook")
        await wait_for(pilot, lambda: any("repo server exploded" in t for _, t in app.notices))
        assert any(
            t.startswith("Internal error in diff: RuntimeError: repo server exploded (the trace")
            for _, t in app.notices
        )
        assert "Could not load the diff" in screen_text(app)
        assert isinstance(app.screen, AppViewScreen)


async def test_an_app_never_compared_says_so(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_app(pilot, app, "legacy-batch")
        assert "has not been compared" in diff_text(screen)
        assert "ComparisonError: cluster edge-1 is unreachable" in screen_text(app)
