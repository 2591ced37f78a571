"""Issue 15, local engine: ctrl+d in the list deletes the app's resources (the Application
stays in Git). The dialog lists the engine's plan (what goes with its wave, what stays
and why, bounded, names made printable), wants the typed name, then says what was done;
read-only refuses before the dialog opens; ``gitops-tui delete-app`` prints the same plan.
Snapshots at 80x24 and 200x50."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any

import pytest
from fake_engine import FakeEngine
from test_ui_snapshots import SIZES
from test_ui_snapshots import utc as utc  # the fixture: local times in UTC
from textual.pilot import Pilot
from textual.widgets import Input
from uitest import screen_text, settles, wait_for

from gitops_tui.delete_app_cli import cmd_delete_app
from gitops_tui.engine.api import (
    AppDeletePlan,
    EngineError,
    KeptResource,
    PlannedDeletion,
    ReadOnlyError,
)
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.snapshot import OperationPhase, OperationState
from gitops_tui.headless import EXIT_ERROR, EXIT_OK
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.app_cells import last_sync_text
from gitops_tui.ui.modals.delete_app import DeleteAppModal
from gitops_tui.ui.modals.delete_app_resources import DeleteAppResourcesModal
from gitops_tui.ui.symbols import ASCII

SIZE = (100, 30)


def sample_plan(app: str = "guestbook", extra: int = 0) -> AppDeletePlan:
    goes = [
        PlannedDeletion(ResourceKey("batch", "Job", "guestbook", "smoke-test"), "u1", 5),
        PlannedDeletion(ResourceKey("apps", "Deployment", "guestbook", "guestbook-ui"), "u2", 0),
        PlannedDeletion(ResourceKey("", "Service", "guestbook", "guestbook-ui"), "u3", 0),
        PlannedDeletion(
            ResourceKey("", "ConfigMap", "guestbook", "flags"),
            "u4",
            -1,
            note="Prune=false does not keep it (only Delete=false does)",
        ),
    ]
    goes += [
        PlannedDeletion(ResourceKey("", "ConfigMap", "guestbook", f"extra-{i:03}"), f"x{i}", -2)
        for i in range(extra)
    ]
    kept = (
        KeptResource(
            ResourceKey("", "PersistentVolumeClaim", "guestbook", "data"),
            "Delete=false (argocd.argoproj.io/sync-options)",
        ),
        KeptResource(
            ResourceKey("", "ConfigMap", "guestbook", "shared-settings"),
            "shared: app 'helm-app' also has it in Git",
        ),
        KeptResource(
            ResourceKey("", "Namespace", "", "guestbook"),
            "created by CreateNamespace=true: Argo CD leaves it too",
        ),
    )
    return AppDeletePlan(app, "in-cluster", tuple(goes), kept, planned_at=0.0)


async def open_dialog(pilot: Pilot[Any], app: GitOpsApp) -> DeleteAppResourcesModal:
    await pilot.press("j", "ctrl+d")  # guestbook
    await wait_for(pilot, lambda: isinstance(app.screen, DeleteAppResourcesModal))
    assert isinstance(app.screen, DeleteAppResourcesModal)
    await wait_for(pilot, lambda: "Type the app name (guestbook)" in screen_text(app))
    return app.screen


async def test_ctrl_d_lists_the_plan_and_deletes_it_after_the_typed_name(
    engine: FakeEngine,
) -> None:
    engine.delete_plans["guestbook"] = sample_plan()
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        modal = await open_dialog(pilot, app)
        text = screen_text(app)
        assert not isinstance(app.screen, DeleteAppModal)  # no cascade choice: no Application
        assert "The Application stays in Git" in text
        assert "To delete (4), highest sync wave first:" in text
        assert text.index("Job guestbook/smoke-test  (wave 5)") < text.index(
            "ConfigMap guestbook/flags  (wave -1)"
        )
        assert "PersistentVolumeClaim guestbook/data: Delete=false" in text
        assert "shared: app 'helm-app' also has it in Git" in text
        assert "Namespace guestbook: created by CreateNamespace=true" in text
        async with settles(pilot):
            await pilot.press(*"guestboo", "enter")  # not the name
        assert engine.names("delete_app_resources") == []
        assert app.screen is modal
        await pilot.press(*"guestbook", "enter")
        await wait_for(pilot, lambda: app.screen is not modal)
        assert engine.names("delete_app_resources") == [("guestbook", "foreground", 4)]
        assert engine.names("delete_app") == []
        assert any(
            "Deleted 4 resources of guestbook" in t and "sync recreates them" in t
            for _, t in app.notices
        )


async def test_a_long_plan_is_bounded_and_scrolls(engine: FakeEngine) -> None:
    engine.delete_plans["guestbook"] = sample_plan(extra=250)
    app = GitOpsApp(engine)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        modal = await open_dialog(pilot, app)
        lines = str(modal.query_one("#delete-resources-lines").render())
        assert "... and 54 more" in lines  # 254 to delete, 200 listed
        assert "extra-195" in lines and "extra-196" not in lines


async def test_an_engine_refusal_is_said_in_words(engine: FakeEngine) -> None:
    engine.fail["plan_app_delete"] = EngineError("the cluster of guestbook is unreachable")
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("j", "ctrl+d")
        await wait_for(
            pilot,
            lambda: "Not deleted: the cluster of guestbook is unreachable" in screen_text(app),
        )
        assert not app.screen.query_one(Input).display
        assert engine.names("delete_app_resources") == []


async def test_names_from_the_cluster_are_made_printable(engine: FakeEngine) -> None:
    hostile = "evil\x1b]52;c;aGk=\x07\x1b[2J"
    engine.delete_plans["guestbook"] = AppDeletePlan(
        "guestbook",
        "in-cluster",
        (PlannedDeletion(ResourceKey("", "ConfigMap", "guestbook", hostile), "u", 0),),
        (KeptResource(ResourceKey("", "Secret", "guestbook", "s"), f"tracked by app {hostile}"),),
    )
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        modal = await open_dialog(pilot, app)
        lines = str(modal.query_one("#delete-resources-lines").render())
        assert "\x1b" not in lines and "\x07" not in lines
        assert "ConfigMap guestbook/evil" in lines


async def test_read_only_refuses_before_the_dialog_opens() -> None:
    engine = FakeEngine(read_only=True)
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        async with settles(pilot):
            await pilot.press("j", "ctrl+d")
        assert not isinstance(app.screen, DeleteAppResourcesModal)
        assert ("warning", "read-only mode: delete is disabled.") in app.notices
        assert engine.names("plan_app_delete") == []
        assert engine.names("delete_app_resources") == []


def test_the_command_prints_the_plan_and_deletes_only_when_confirmed(
    engine: FakeEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    engine.delete_plans["guestbook"] = sample_plan()
    out = io.StringIO()
    code = cmd_delete_app(engine, "guestbook", None, out=out, interactive=False)
    assert code == EXIT_ERROR and engine.names("delete_app_resources") == []
    assert "confirm with --yes" in capsys.readouterr().err
    assert "Job guestbook/smoke-test  (wave 5)" in out.getvalue()
    assert "the Application stays in Git" in out.getvalue()
    code = cmd_delete_app(engine, "guestbook", None, ask=lambda _: "nope", interactive=True)
    assert code == EXIT_ERROR and engine.names("delete_app_resources") == []
    with pytest.raises(EngineError, match="orphan deletes nothing with the local engine"):
        cmd_delete_app(engine, "guestbook", "orphan", yes=True, out=io.StringIO())
    out = io.StringIO()
    code = cmd_delete_app(engine, "guestbook", "background", yes=True, out=out, output="json")
    assert code == EXIT_OK
    payload = json.loads(out.getvalue())
    assert [d["name"] for d in payload["plan"]["delete"]][0] == "smoke-test"
    assert payload["plan"]["keep"][0]["reason"].startswith("Delete=false")
    assert payload["deleted"] is True and "sync recreates them" in payload["result"]
    assert engine.names("delete_app_resources") == [("guestbook", "background", 4)]


def test_the_command_refuses_in_read_only_before_planning() -> None:
    engine = FakeEngine(read_only=True)
    with pytest.raises(ReadOnlyError, match="read-only mode: delete the resources of guestbook"):
        cmd_delete_app(engine, "guestbook", None, yes=True, out=io.StringIO())
    assert engine.names("delete_app_resources") == []


@pytest.fixture(params=list(SIZES))
def size(request: pytest.FixtureRequest) -> tuple[int, int]:
    return SIZES[request.param]


def test_delete_resources_dialog(snap_compare: Any, size: tuple[int, int]) -> None:
    engine = FakeEngine()
    engine.delete_plans["guestbook"] = sample_plan(extra=30)

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await pilot.pause()
        await pilot.press("j", "ctrl+d")  # guestbook
        await wait_for(pilot, lambda: "Type the app name (guestbook)" in screen_text(app))
        for box in app.screen.query(Input):
            box.cursor_blink = False
        await pilot.pause()

    app = GitOpsApp(engine, ascii_symbols=False)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_last_sync_says_when_the_last_operation_deleted_the_resources(engine: FakeEngine) -> None:
    snapshot = engine.apps["guestbook"].snapshot
    deleted = OperationState(
        "op", "guestbook", OperationPhase.SUCCEEDED, "deleted 3", "abc", 1.0, 2.0, kind="delete"
    )
    text = last_sync_text(replace(snapshot, operation=deleted), ASCII).plain
    assert text.endswith("Succeeded (resources deleted)")
    synced = replace(deleted, kind="sync")
    assert last_sync_text(replace(snapshot, operation=synced), ASCII).plain.endswith(" Succeeded")
