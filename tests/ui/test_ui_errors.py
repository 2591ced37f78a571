"""How engine errors read in the console's notifications."""

from __future__ import annotations

from fake_engine import FakeEngine
from uitest import wait_for

from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.source.repo import RepoError
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.workers import describe_error


def test_any_engine_error_reads_as_its_message_without_a_class_name() -> None:
    # every GitOpsError carries a message meant for the user: no "(RepoError)" in front
    assert describe_error(
        "refresh guestbook", RepoError("https://git.example/repo: not found")
    ) == (
        "refresh guestbook: https://git.example/repo: not found",
        "error",
    )
    text, severity = describe_error("sync web", KubeApiError(403, "Forbidden", "no access"))
    assert (text, severity) == ("sync web: Forbidden: no access", "error")


async def test_an_engine_error_notification_is_titled_by_its_kind(engine: FakeEngine) -> None:
    engine.fail["diffs"] = RepoError("https://git.example/repo: not found")
    app = GitOpsApp(engine)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        app.open_app("guestbook")
        await wait_for(pilot, lambda: any("git.example" in text for _, text in app.notices))
        assert ("error", "diff: https://git.example/repo: not found") in app.notices
        assert [n.title for n in app._notifications] == ["Git error"]
