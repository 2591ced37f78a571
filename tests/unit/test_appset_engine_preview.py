"""``EngineAPI.appset_preview`` / ``appset_apply`` on the local engine (what the console's
ApplicationSet preview screen calls): the preview is exact before anything changes, the
apply does what the preview said the policy allows, read-only refuses.

A real engine on real files and Git repositories (no cluster needed: the apps the engine
knows and their specs are what is checked).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gitrepo import commit, make_repo
from test_appset_engine import CM, appset, children, engine_on, git_dirs, write

from gitops_tui.engine.api import EngineError, ReadOnlyError


@pytest.fixture()
def repo(tmp_path: Path) -> Any:
    return make_repo(tmp_path / "repo", {"apps/a/cm.yaml": CM, "apps/b/cm.yaml": CM})


def test_preview_is_exact_before_apply_and_apply_does_it(tmp_path: Path, repo: Any) -> None:
    url = f"file://{repo.working_tree_dir}"
    set_file = tmp_path / "set.yaml"
    write(set_file, appset("fleet", [git_dirs(url)], repo=url))
    with engine_on(tmp_path, set_file, repo_poll_interval_s=3600) as engine:
        assert children(engine, "fleet") == {"a", "b"}
        commit(repo, {"apps/c/cm.yaml": CM}, "add c", delete=["apps/b"])
        preview = engine.appset_preview("fleet")
        assert [(c.name, c.action, c.allowed) for c in preview.changes] == [
            ("c", "create", True),
            ("b", "delete", True),
        ]
        assert preview.unchanged == ("a",) and preview.conditions == ()
        assert "+    path: apps/c" in preview.added[0].diff
        assert children(engine, "fleet") == {"a", "b"}  # a preview changes nothing
        applied = engine.appset_apply("fleet")
        assert applied.done == ("created c", "removed b")
        assert children(engine, "fleet") == {"a", "c"}
        assert engine.appset_preview("fleet").pending == ()


def test_preview_marks_what_the_policy_keeps_back_with_a_diff(tmp_path: Path, repo: Any) -> None:
    url = f"file://{repo.working_tree_dir}"
    set_file = tmp_path / "set.yaml"
    write(set_file, appset("fleet", [git_dirs(url)], policy="create-only", repo=url))
    with engine_on(tmp_path, set_file, repo_poll_interval_s=3600) as engine:
        changed = appset("fleet", [git_dirs(url)], policy="create-only", repo=url)
        changed["spec"]["template"]["spec"]["destination"]["namespace"] = "other"
        write(set_file, changed)  # the engine does not watch files here: nothing applied yet
        preview = engine.appset_preview("fleet")
        assert [(c.name, c.action, c.allowed) for c in preview.changed] == [
            ("a", "update", False),
            ("b", "update", False),
        ]
        first = preview.changed[0]
        assert first.fields == ("spec.destination.namespace",)
        assert first.reason == "applicationsSync create-only: updates are skipped"
        assert "-    namespace: ns" in first.diff and "+    namespace: other" in first.diff
        applied = engine.appset_apply("fleet")
        assert applied.done == () and len(applied.skipped) == 2
        assert engine.snapshot().by_name["a"].destination.namespace == "ns"


def test_preview_names_apps_defined_elsewhere_and_errors(tmp_path: Path, repo: Any) -> None:
    url = f"file://{repo.working_tree_dir}"
    apps = tmp_path / "apps"
    apps.mkdir()
    write(apps / "set.yaml", appset("fleet", [git_dirs(url)], repo=url))
    with engine_on(tmp_path, apps, repo_poll_interval_s=3600) as engine:
        template = appset("x", [])["spec"]["template"]["spec"]
        write(
            apps / "b2.yaml",
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Application",
                "metadata": {"name": "c", "namespace": "argocd"},
                "spec": template | {"source": {"repoURL": url, "path": "apps/a"}},
            },
        )
        engine.app_files.reload()
        commit(repo, {"apps/c/cm.yaml": CM}, "add c")
        preview = engine.appset_preview("fleet")
        assert preview.added == ()
        [conflict] = preview.conflicts
        assert conflict.startswith("Application 'c' is already defined by ")
        write(apps / "set.yaml", appset("fleet", [git_dirs(url, "../out/*")], repo=url))
        broken = engine.appset_preview("fleet")
        assert broken.changes == () and broken.conditions
        assert "../out/*" in broken.conditions[0].message
        with pytest.raises(EngineError, match="no ApplicationSet named 'nope' \\(known: fleet\\)"):
            engine.appset_preview("nope")


def test_read_only_refuses_apply_and_changes_nothing(tmp_path: Path, repo: Any) -> None:
    url = f"file://{repo.working_tree_dir}"
    set_file = tmp_path / "set.yaml"
    write(set_file, appset("fleet", [git_dirs(url)], repo=url))
    with engine_on(tmp_path, set_file, read_only=True, repo_poll_interval_s=3600) as engine:
        commit(repo, {"apps/c/cm.yaml": CM}, "add c")
        assert [c.name for c in engine.appset_preview("fleet").added] == ["c"]
        with pytest.raises(ReadOnlyError, match="appset apply fleet refused"):
            engine.appset_apply("fleet")
        assert children(engine, "fleet") == {"a", "b"}
