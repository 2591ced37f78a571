"""Issue 15 defect 9, the small ones: what the whole-app detail line counts."""

from __future__ import annotations

from gitops_tui.engine.api import ResourceDiff
from gitops_tui.engine.model import ResourceKey
from gitops_tui.ui.widgets.diff_view import whole_app_summary


def diff(name: str, desired: str, live: str) -> ResourceDiff:
    key = ResourceKey("", "ConfigMap", "ns", name)
    return ResourceDiff(key, desired != live, desired, live, "", ())


def test_whole_app_says_missing_and_to_prune_not_modified() -> None:
    missing = [diff(f"m{i}", "a: 1\n", "") for i in range(3)]
    assert whole_app_summary(missing) == "Whole app: 3 missing"
    assert whole_app_summary([diff("old", "", "a: 1\n")]) == "Whole app: 1 to prune"
    both = [diff("c", "a: 2\n", "a: 1\n"), diff("s", "a: 1\n", "a: 1\n"), *missing[:1]]
    assert whole_app_summary(both) == "Whole app: 1 modified, 1 missing"
    assert whole_app_summary([diff("s", "a: 1\n", "a: 1\n")]) == "Whole app: no differences"


async def test_help_lists_no_framework_noise() -> None:
    from fake_engine import FakeEngine
    from uitest import wait_for

    from gitops_tui.ui.app import GitOpsApp
    from gitops_tui.ui.screens.help import HelpScreen

    app = GitOpsApp(FakeEngine())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        described = {str(row[2]) for row in app.screen.rows}
        assert {"Copy selected text", "Scroll Home", "Scroll End"}.isdisjoint(described)
        assert {"Help", "Diff"} <= described


def test_the_app_header_hides_empty_fields_and_says_automation_in_words() -> None:
    from dataclasses import replace

    from fake_engine import payments

    from gitops_tui.engine.api import Destination
    from gitops_tui.ui.screens.app_view import app_summary
    from gitops_tui.ui.symbols import UNICODE

    pay = payments().snapshot
    invalid = replace(
        pay,
        project="",
        revision="",
        target_revision="",
        destination=Destination("", "", ""),
        automated=False,
        auto_prune=False,
        self_heal=False,
    )
    text = app_summary(invalid, UNICODE).plain
    assert "rev" not in text and "→" not in text and "project" not in text
    assert "---" not in text and "auto sync: off" in text
    full = app_summary(pay, UNICODE).plain
    assert f"project {pay.project}" in full and "auto sync: on (prune, self-heal)" in full
    assert (
        "auto sync: on"
        in app_summary(replace(pay, auto_prune=False, self_heal=False), UNICODE).plain
    )


async def test_the_prune_dialog_footer_shows_its_own_keys() -> None:
    from fake_engine import FakeEngine
    from uitest import screen_text, wait_for

    from gitops_tui.ui.app import GitOpsApp
    from gitops_tui.ui.modals.prune import PruneModal

    app = GitOpsApp(FakeEngine())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("j", "p")
        await wait_for(
            pilot, lambda: isinstance(app.screen, PruneModal) and app.screen.preview is not None
        )
        footer = screen_text(app).splitlines()[-1]
        assert "Cancel" in footer and "Sync" not in footer, footer
