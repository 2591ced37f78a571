"""How engine errors read in the console's notifications."""

from __future__ import annotations

from gitops_tui.engine.kubeclient import KubeApiError
from gitops_tui.engine.repo import RepoError
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
