"""The app view tells the engine which app's resource tree it shows (``follow_tree``, an
optional backend method: the Argo CD API server backend follows that app's tree stream
only while the view is open) and lets go when it closes; an engine without the method
is left alone."""

from __future__ import annotations

from collections.abc import Callable

from fake_engine import FakeEngine
from uitest import wait_for

from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.screens.app_view import AppViewScreen


class FollowingEngine(FakeEngine):
    def __init__(self) -> None:
        super().__init__()
        self.followed: list[str] = []

    def follow_tree(self, app: str) -> Callable[[], None]:
        self.followed.append(app)
        return lambda: self.followed.remove(app)


async def test_the_open_app_is_followed_while_shown() -> None:
    engine = FollowingEngine()
    app = GitOpsApp(engine)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: bool(app.fleet.apps))
        assert engine.followed == []  # the list needs no tree
        app.open_app("guestbook")
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
        assert engine.followed == ["guestbook"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, AppViewScreen))
        await wait_for(pilot, lambda: engine.followed == [])


async def test_an_engine_without_follow_tree_opens_apps_as_before(engine: FakeEngine) -> None:
    assert not hasattr(engine, "follow_tree")
    app = GitOpsApp(engine)
    async with app.run_test(size=(120, 30)) as pilot:
        app.open_app("guestbook")
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, AppViewScreen))
