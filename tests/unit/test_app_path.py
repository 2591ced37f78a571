"""An app path removed by a commit, or emptied of manifests, with real Git and real files.

Argo CD: a path that does not exist at the revision is a ComparisonError naming the
path (``<path>: app path does not exist``); a path that exists but holds no manifests
is a valid, empty app. Here the message names the revision too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import git
import pytest
from gitrepo import commit, make_repo
from helpers import application, dump_all

from gitops_tui.engine.app.application import Application
from gitops_tui.engine.app.parse import parse_application
from gitops_tui.engine.source.repo import RepoCache
from gitops_tui.engine.source.sources import (
    Generated,
    ManifestCache,
    SourceError,
    generate,
    resolve_revisions,
)


def cm(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {}}


def app_for(repo: git.Repo, path: str, revision: str = "HEAD", name: str = "") -> Application:
    url = f"file://{repo.working_tree_dir}"
    doc = application(name or path, url, path, "prod", revision=revision)
    app = parse_application(doc, "test")
    assert isinstance(app, Application)
    return app


def render(repos: RepoCache, app: Application) -> Generated:
    revisions = resolve_revisions(app, repos, refresh=True)
    return generate(app, repos, ManifestCache(), revisions=revisions)


def failure(repos: RepoCache, app: Application) -> SourceError:
    with pytest.raises(SourceError) as error:
        render(repos, app)
    return error.value


@pytest.fixture
def repo(tmp_path: Path) -> git.Repo:
    return make_repo(
        tmp_path / "repo", {"a/cm.yaml": dump_all([cm("a")]), "b/cm.yaml": dump_all([cm("b")])}
    )


def test_a_removed_app_path_names_the_path_and_the_revision(tmp_path: Path, repo: git.Repo) -> None:
    repos = RepoCache(tmp_path / "cache")
    a, b = app_for(repo, "a"), app_for(repo, "b")
    assert [m["metadata"]["name"] for m in render(repos, a).manifests] == ["a"]

    gone = commit(repo, {}, "remove a", delete=["a"])
    error = failure(repos, a)
    assert error.kind == "render"
    assert str(error) == f"a: app path does not exist at revision {gone[:12]}"
    # the other app of the same repository carries on
    assert [m["metadata"]["name"] for m in render(repos, b).manifests] == ["b"]

    back = commit(repo, {"a/cm.yaml": dump_all([cm("a2")])}, "a is back")
    generated = render(repos, a)
    assert generated.revision == back
    assert [m["metadata"]["name"] for m in generated.manifests] == ["a2"]


def test_a_commit_removing_every_file_is_a_missing_path_not_a_repo_error(
    tmp_path: Path, repo: git.Repo
) -> None:
    repos = RepoCache(tmp_path / "cache")
    a, pinned = app_for(repo, "a"), app_for(repo, "b", revision=repo.head.commit.hexsha)
    render(repos, a)
    emptied = commit(repo, {}, "remove everything", delete=["a", "b"])
    error = failure(repos, a)
    assert error.kind == "render", str(error)
    assert str(error) == f"a: app path does not exist at revision {emptied[:12]}"
    assert "end of file header" not in str(error)
    # an app of the same repository at another revision carries on
    assert [m["metadata"]["name"] for m in render(repos, pinned).manifests] == ["b"]
    # the repository root of an empty commit is an empty app, not an error
    root = app_for(repo, ".", name="root")
    assert render(repos, root).manifests == ()


def test_an_app_path_without_manifests_is_a_valid_empty_app(tmp_path: Path, repo: git.Repo) -> None:
    repos = RepoCache(tmp_path / "cache")
    a = app_for(repo, "a")
    commit(repo, {"a/README.md": "nothing to deploy\n"}, "empty a", delete=["a/cm.yaml"])
    generated = render(repos, a)
    assert generated.manifests == ()


def test_an_app_path_that_is_a_file_says_so(tmp_path: Path, repo: git.Repo) -> None:
    repos = RepoCache(tmp_path / "cache")
    sha = commit(repo, {"c": "a file\n"}, "c is a file")
    error = failure(repos, app_for(repo, "c"))
    assert str(error) == f"c: app path is not a directory at revision {sha[:12]}"
