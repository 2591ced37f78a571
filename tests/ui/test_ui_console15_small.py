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
