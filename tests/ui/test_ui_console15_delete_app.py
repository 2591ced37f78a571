"""Issue 15: deleting the Application itself (Argo CD mode) from the app list, ctrl+d:
the cascade choice, the list of what goes, the typed name; refused in read-only. Apps
the local engine reads from Git get their resources deleted instead
(tests/ui/test_ui_del15_delete_resources.py)."""

from __future__ import annotations

import io

import pytest
from fake_engine import FakeEngine
from uitest import screen_text, settles, wait_for

from gitops_tui.delete_app_cli import cmd_delete_app
from gitops_tui.engine.api import EngineError
from gitops_tui.headless import EXIT_ERROR, EXIT_OK
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.modals.delete_app import DeleteAppModal

SIZE = (100, 30)


def argocd_mode(engine: FakeEngine) -> FakeEngine:
    for name in list(engine.apps):
        engine.update_app(name, origin="argocd:argocd")
    return engine


async def open_delete(pilot, app: GitOpsApp) -> DeleteAppModal:  # type: ignore[no-untyped-def]
    await pilot.press("j", "ctrl+d")  # guestbook
    await wait_for(pilot, lambda: isinstance(app.screen, DeleteAppModal))
    assert isinstance(app.screen, DeleteAppModal)
    return app.screen


async def test_foreground_lists_the_resources_and_needs_the_typed_name(
    engine: FakeEngine,
) -> None:
    argocd_mode(engine)
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        modal = await open_delete(pilot, app)
        await pilot.press("f")
        await wait_for(pilot, lambda: "Type the app name (guestbook)" in screen_text(app))
        text = screen_text(app)
        assert "Cascade foreground" in text
        assert "Deployment guestbook/guestbook-ui" in text
        assert "ConfigMap guestbook/guestbook-config" in text
        async with settles(pilot):
            await pilot.press(*"guestboo", "enter")  # not the name
        assert engine.names("delete_app") == []
        assert app.screen is modal
        await pilot.press(*"guestbook", "enter")
        await wait_for(pilot, lambda: app.screen is not modal)
        assert engine.names("delete_app") == [("guestbook", "foreground")]
        assert any("Application guestbook: deletion requested" in t for _, t in app.notices)


async def test_orphan_lists_nothing_but_the_application(engine: FakeEngine) -> None:
    argocd_mode(engine)
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_delete(pilot, app)
        await pilot.press("o")
        await wait_for(pilot, lambda: "Type the app name" in screen_text(app))
        text = screen_text(app)
        assert "the Application only (its resources stay)" in text
        assert "Deployment guestbook/guestbook-ui" not in text
        await pilot.press(*"guestbook", "enter")
        await wait_for(pilot, lambda: engine.names("delete_app"))
        assert engine.names("delete_app") == [("guestbook", "orphan")]


async def test_read_only_refuses_with_the_usual_notice() -> None:
    engine = argocd_mode(FakeEngine(read_only=True))
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        async with settles(pilot):
            await pilot.press("j", "ctrl+d")
        assert not isinstance(app.screen, DeleteAppModal)
        assert ("warning", "read-only mode: delete is disabled.") in app.notices
        assert engine.names("delete_app") == []


def test_the_command_lists_what_goes_and_wants_yes_or_the_typed_name(
    engine: FakeEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    argocd_mode(engine)
    out = io.StringIO()
    code = cmd_delete_app(engine, "guestbook", "background", out=out, interactive=False)
    assert code == EXIT_ERROR and engine.names("delete_app") == []
    assert "confirm with --yes" in capsys.readouterr().err
    assert "Deployment guestbook/guestbook-ui" in out.getvalue()
    code = cmd_delete_app(engine, "guestbook", "orphan", ask=lambda _: "nope", interactive=True)
    assert code == EXIT_ERROR and engine.names("delete_app") == []
    out = io.StringIO()
    code = cmd_delete_app(
        engine, "guestbook", "orphan", out=out, ask=lambda _: "guestbook", interactive=True
    )
    assert code == EXIT_OK and engine.names("delete_app") == [("guestbook", "orphan")]
    assert "the Application only" in out.getvalue()
    assert cmd_delete_app(engine, "guestbook", "foreground", yes=True, out=io.StringIO()) == 0
    with pytest.raises(EngineError, match="unknown cascade"):
        cmd_delete_app(engine, "guestbook", "sideways", yes=True, out=io.StringIO())
