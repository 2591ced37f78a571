"""Rendered manifests keyed by the app path's Git tree: a commit re-renders only what changed.

Real repositories, real git, real kustomize. Safety cases: anything that may read
outside the app path (a symlink, Kustomize, Helm) is keyed by the commit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gitrepo import Symlink, commit, make_repo
from helpers import app_for, cm, dump_all

from gitops_tui.engine.app.application import Application
from gitops_tui.engine.source.repo import RepoCache
from gitops_tui.engine.source.repo_tree_index import normal_path
from gitops_tui.engine.source.sources import ManifestCache, generate, resolve_revisions


def rendered(repos: RepoCache, cache: ManifestCache, app: Application) -> list[Any]:
    revisions = resolve_revisions(app, repos, refresh=True)
    return list(generate(app, repos, cache, revisions=revisions).manifests)


def data_of(manifests: list[Any]) -> dict[str, str]:
    return {m["metadata"]["name"]: m["data"]["v"] for m in manifests}


@pytest.fixture
def repos(tmp_path: Path) -> RepoCache:
    return RepoCache(tmp_path / "cache")


def test_a_commit_re_renders_only_the_app_whose_files_changed(
    tmp_path: Path, repos: RepoCache
) -> None:
    files = {f"apps/a{i}/cm.yaml": dump_all([cm(f"a{i}")]) for i in range(5)}
    repo = make_repo(tmp_path / "repo", files)
    apps = [app_for(repo, f"apps/a{i}", f"a{i}") for i in range(5)]
    cache = ManifestCache()
    for app in apps:
        rendered(repos, cache, app)
    assert cache.renders == 5
    commit(repo, {"apps/a2/cm.yaml": dump_all([cm("a2", "2")])}, "change a2")
    results = {app.name: data_of(rendered(repos, cache, app)) for app in apps}
    assert cache.renders == 6  # only a2 rendered again
    assert results["a2"] == {"a2": "2"} and results["a0"] == {"a0": "1"}


def test_a_symlink_below_the_path_keys_by_the_commit(tmp_path: Path, repos: RepoCache) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "shared/cm.yaml": dump_all([cm("shared")]),
            "apps/x/link.yaml": Symlink("../../shared/cm.yaml"),
        },
    )
    app = app_for(repo, "apps/x", "x")
    cache = ManifestCache()
    assert data_of(rendered(repos, cache, app)) == {"shared": "1"}
    commit(repo, {"shared/cm.yaml": dump_all([cm("shared", "2")])}, "change the target")
    assert data_of(rendered(repos, cache, app)) == {"shared": "2"}  # the link's target changed
    assert cache.renders == 2


def test_kustomize_reading_outside_its_path_keys_by_the_commit(
    tmp_path: Path, repos: RepoCache
) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "base/cm.yaml": dump_all([cm("base")]),
            "base/kustomization.yaml": "resources:\n- cm.yaml\n",
            "overlay/kustomization.yaml": "resources:\n- ../base\n",
        },
    )
    app = app_for(repo, "overlay", "overlay")
    cache = ManifestCache()
    assert data_of(rendered(repos, cache, app)) == {"base": "1"}
    commit(repo, {"base/cm.yaml": dump_all([cm("base", "2")])}, "change the base")
    assert data_of(rendered(repos, cache, app)) == {"base": "2"}
    assert cache.renders == 2


def test_a_helm_chart_keys_by_the_commit(tmp_path: Path, repos: RepoCache) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
            "chart/templates/cm.yaml": dump_all([cm("c")]),
            "other/readme.txt": "x\n",
        },
    )
    app = app_for(repo, "chart", "c")
    cache = ManifestCache()
    rendered(repos, cache, app)
    commit(repo, {"other/readme.txt": "y\n"}, "unrelated")
    rendered(repos, cache, app)
    assert cache.renders == 2  # conservative: Helm may read value files elsewhere


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("apps/x", "apps/x"),
        ("./apps/x/", "apps/x"),
        (".", None),
        ("", None),
        ("../x", None),
        ("/abs", None),
        ("a/../..", None),
    ],
)
def test_normal_path(path: str, expected: str | None) -> None:
    assert normal_path(path) == expected
