"""Issue 15 defect 8a: in read-only mode every refused key says why, as ``:sync`` does,
and ``space`` marks no resource in the app view."""

from __future__ import annotations

from fake_engine import FakeEngine
from uitest import settles, wait_for

from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.screens.app_list import AppListScreen
from gitops_tui.ui.screens.app_view import AppViewScreen

SIZE = (80, 24)


async def test_refused_keys_say_why_like_the_command_line() -> None:
    engine = FakeEngine(read_only=True)
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.run_command_line("sync guestbook")
        await wait_for(pilot, lambda: app.notices)
        assert app.notices[-1] == ("warning", "read-only mode: sync is disabled.")
        for key, verb in (("s", "sync"), ("p", "prune"), ("t", "terminate")):
            app.notices.clear()
            async with settles(pilot):
                await pilot.press(key)
            assert list(app.notices) == [("warning", f"read-only mode: {verb} is disabled.")], key
            assert isinstance(app.screen, AppListScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
        view = app.screen
        assert isinstance(view, AppViewScreen)
        view.resource_tree.focus()
        await pilot.press("j")
        app.notices.clear()
        async with settles(pilot):
            await pilot.press("space", "s")
        assert view.marked == set()
        assert list(app.notices) == [
            ("warning", "read-only mode: marking is disabled."),
            ("warning", "read-only mode: sync is disabled."),
        ]
    called = {name for name, _ in engine.calls}
    assert called.isdisjoint({"preview", "sync", "terminate"})
