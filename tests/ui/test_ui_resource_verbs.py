"""Resource actions (``a``) and the delete of one resource (``ctrl+d``) in the app view."""

from __future__ import annotations

from dataclasses import replace

from fake_engine import FakeEngine
from test_ui_app_view import DEPLOYMENT, open_app
from textual.widgets import OptionList
from uitest import screen_text, settles, wait_for

from gitops_tui.engine.api import EngineError, ResourceAction
from gitops_tui.engine.model import ResourceKey
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.modals.actions import ActionMenuModal
from gitops_tui.ui.modals.confirm import ConfirmModal
from gitops_tui.ui.modals.delete_resource import DeleteResourceModal
from gitops_tui.ui.screens.app_view import AppViewScreen

SIZE = (80, 24)
OLD_CONFIG = ResourceKey("", "ConfigMap", "guestbook", "old-config")
POD = ResourceKey("", "Pod", "guestbook", "guestbook-ui-7d9f8-abcde")


async def move_to(pilot, screen: AppViewScreen, key: ResourceKey) -> None:  # type: ignore[no-untyped-def]
    tree = screen.resource_tree
    tree.focus()
    for _ in range(20):
        data = tree.cursor_data
        if data is not None and data.node is not None and data.node.key == key:
            return
        await pilot.press("j")
    raise AssertionError(f"no tree node for {key}: {tree.labels()}")


async def open_menu(pilot, app: GitOpsApp, key: ResourceKey) -> ActionMenuModal:  # type: ignore[no-untyped-def]
    screen = await open_app(pilot, app, "guestbook")
    await move_to(pilot, screen, key)
    await pilot.press("a")
    await wait_for(
        pilot, lambda: isinstance(app.screen, ActionMenuModal) and app.screen.actions is not None
    )
    menu = app.screen
    assert isinstance(menu, ActionMenuModal)
    return menu


async def test_a_lists_actions_confirms_naming_both_and_runs_in_a_worker(
    engine: FakeEngine,
) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        menu = await open_menu(pilot, app, DEPLOYMENT)
        assert engine.names("actions") == [("guestbook", DEPLOYMENT)]
        text = screen_text(app)
        assert "Actions on Deployment guestbook/guestbook-ui" in text
        assert "restart" in text and "delete" in text
        assert menu.query_one(OptionList).highlighted == 0  # the first action, not delete
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        text = screen_text(app)
        assert "Run restart on Deployment guestbook/guestbook-ui?" in text
        assert engine.names("run_action") == []  # nothing runs before the answer
        await pilot.press("y")
        await wait_for(pilot, lambda: any("restart on" in t for _, t in app.notices))
        assert engine.names("run_action") == [("guestbook", DEPLOYMENT, "restart")]
        assert (
            "information",
            "restart on Deployment guestbook/guestbook-ui: patched Deployment "
            "guestbook/guestbook-ui.",
        ) in app.notices
        assert isinstance(app.screen, AppViewScreen)


async def test_disabled_actions_are_greyed_with_why_and_cannot_be_chosen(
    engine: FakeEngine,
) -> None:
    engine.offered_actions = [
        ResourceAction("pause", disabled=True, origin="argocd-cm"),
        ResourceAction("resume", origin="argocd-cm"),
    ]
    app = GitOpsApp(engine)
    async with app.run_test(size=(120, 30)) as pilot:
        menu = await open_menu(pilot, app, DEPLOYMENT)
        options = menu.query_one(OptionList)
        assert options.get_option_at_index(0).disabled
        assert "disabled by its discovery script" in str(options.get_option_at_index(0).prompt)
        assert "2 action(s), 1 disabled" in screen_text(app)
        assert options.highlighted == 1  # the first enabled one
        await pilot.press("k")  # the disabled one is skipped (wraps to delete)
        assert options.highlighted == 2
        await pilot.press("j")  # ... and skipped again, wrapping down
        assert options.highlighted == 1
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "Run resume on" in screen_text(app)


async def test_a_listing_failure_is_said_in_words_in_the_menu(engine: FakeEngine) -> None:
    engine.fail["actions"] = EngineError(
        "resource actions over Argo CD run in Argo CD's API server, which this backend "
        "does not use yet",
        title="Actions unavailable",
    )
    app = GitOpsApp(engine)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_menu(pilot, app, DEPLOYMENT)
        await wait_for(pilot, lambda: "No actions:" in screen_text(app))
        assert "run in Argo CD's API server" in screen_text(app)
        assert not app.notices  # said once, in the menu


async def test_a_failed_action_is_reported_in_words(engine: FakeEngine) -> None:
    engine.fail["run_action"] = EngineError("Deployment web: the object changed (409)")
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await open_menu(pilot, app, DEPLOYMENT)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_for(pilot, lambda: any(s == "error" for s, _ in app.notices))
        severity, text = next(n for n in app.notices if n[0] == "error")
        assert text == (
            "action restart on Deployment guestbook/guestbook-ui: "
            "Deployment web: the object changed (409)"
        )


async def test_read_only_refuses_actions_and_delete_saying_why() -> None:
    engine = FakeEngine(read_only=True)
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_app(pilot, app, "guestbook")
        await move_to(pilot, screen, DEPLOYMENT)
        async with settles(pilot):
            await pilot.press("a", "ctrl+d")
        assert isinstance(app.screen, AppViewScreen)
        assert ("warning", "read-only mode: running an action is disabled.") in app.notices
        assert ("warning", "read-only mode: delete is disabled.") in app.notices
    called = {name for name, _ in engine.calls}
    assert called.isdisjoint({"actions", "run_action", "delete_resource"})


async def test_delete_needs_the_typed_name_and_lists_what_goes(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_app(pilot, app, "guestbook")
        await move_to(pilot, screen, DEPLOYMENT)
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, DeleteResourceModal))
        text = screen_text(app)
        assert "Delete Deployment guestbook/guestbook-ui of guestbook" in text
        assert "ReplicaSet guestbook/guestbook-ui-7d9f8" in text
        assert "Pod guestbook/guestbook-ui-7d9f8-abcde" in text
        assert "Git still has it" in text
        async with settles(pilot):
            await pilot.press(*"guestbook", "enter")  # the app's name is not the resource's
        assert isinstance(app.screen, DeleteResourceModal)
        assert engine.names("delete_resource") == []
        await pilot.press(*"guestbook-ui", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
        assert engine.names("delete_resource") == [("guestbook", DEPLOYMENT)]
        assert ("information", "Deleted Deployment guestbook/guestbook-ui.") in app.notices


async def test_delete_from_the_menu_and_the_engines_refusal_stays_in_the_dialog(
    engine: FakeEngine,
) -> None:
    engine.fail["delete_resource"] = EngineError(
        "ConfigMap guestbook/old-config is not deleted: app guestbook does not own it"
    )
    app = GitOpsApp(engine)
    async with app.run_test(size=(120, 30)) as pilot:
        menu = await open_menu(pilot, app, OLD_CONFIG)
        assert "No actions are offered" in screen_text(app)
        assert menu.query_one(OptionList).highlighted == 0  # delete, the only entry
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DeleteResourceModal))
        assert "Git still has it" not in screen_text(app)  # it is to be pruned anyway
        await pilot.press(*"old-config", "enter")
        await wait_for(pilot, lambda: "Not deleted:" in screen_text(app))
        assert "does not own it" in screen_text(app)
        assert isinstance(app.screen, DeleteResourceModal)
        assert engine.names("delete_resource") == [("guestbook", OLD_CONFIG)]


async def test_a_missing_resource_is_not_offered_for_deletion(engine: FakeEngine) -> None:
    fake = engine.apps["guestbook"].snapshot
    engine.update_app(
        "guestbook",
        resources=tuple(
            replace(r, exists=False) if r.key == DEPLOYMENT else r for r in fake.resources
        ),
    )
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_app(pilot, app, "guestbook")
        await move_to(pilot, screen, DEPLOYMENT)
        async with settles(pilot):
            await pilot.press("ctrl+d")
        assert isinstance(app.screen, AppViewScreen)
        assert (
            "warning",
            "Deployment guestbook/guestbook-ui is not in the cluster (missing): nothing to delete.",
        ) in app.notices


async def test_hostile_action_names_from_argocd_cm_reach_the_menu_escaped(
    engine: FakeEngine,
) -> None:
    evil = "\x1b]0;pwned\x07\x1b[2J[blink]x[/]"
    engine.offered_actions = [ResourceAction("go" + evil, display_name="Go" + evil)]
    app = GitOpsApp(engine)
    async with app.run_test(size=(120, 30)) as pilot:
        menu = await open_menu(pilot, app, DEPLOYMENT)
        prompt = menu.query_one(OptionList).get_option_at_index(0).prompt
        plain = getattr(prompt, "plain", str(prompt))
        assert "\x1b" not in plain and "\x07" not in plain
        assert "[blink]x[/]" in plain  # shown as typed, never parsed as markup
        assert "\x1b" not in screen_text(app)
