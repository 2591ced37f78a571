"""A commit that touches one plain-directory app extracts that app's path, not the commit.

Real repositories and real git. The cache directory is inspected: ``trees/<sha>``
is a whole commit, ``subtrees/<key>`` one app path. Safety: symlinks, limits,
read-only files and pruning hold for the single-path checkouts too.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import git
import pytest
from gitrepo import Symlink, commit, make_repo
from helpers import app_for, cm, dump_all

from gitops_tui.engine.app.application import Application
from gitops_tui.engine.source.limits import ManifestLimits
from gitops_tui.engine.source.repo import RepoCache
from gitops_tui.engine.source.repo_subtrees import SUBTREES_PER_COMMIT
from gitops_tui.engine.source.repo_tree_index import normal_path
from gitops_tui.engine.source.sources import (
    ManifestCache,
    SourceError,
    generate,
    resolve_revisions,
)


def rendered(
    repos: RepoCache,
    cache: ManifestCache,
    app: Application,
    limits: ManifestLimits = ManifestLimits(),
) -> dict[str, str]:
    revisions = resolve_revisions(app, repos, refresh=True)
    out = generate(app, repos, cache, revisions=revisions, limits=limits).manifests
    return {m["metadata"]["name"]: m["data"]["v"] for m in out}


def entries(cache_root: Path, kind: str) -> list[Path]:
    return sorted(p for p in cache_root.glob(f"*/{kind}/*") if not p.name.startswith("."))


def files_below(top: Path) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(folder, name), top)
        for folder, _dirs, names in os.walk(top)
        for name in names
    )


@pytest.fixture
def cache_root(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def repos(cache_root: Path) -> RepoCache:
    return RepoCache(cache_root)


def five_apps(tmp_path: Path) -> tuple[git.Repo, list[Application]]:
    files = {f"apps/a{i}/cm.yaml": dump_all([cm(f"a{i}")]) for i in range(5)}
    files["README.md"] = "top-level file, not part of any app\n"
    repo = make_repo(tmp_path / "repo", files)
    return repo, [app_for(repo, f"apps/a{i}", f"a{i}") for i in range(5)]


def test_a_commit_touching_one_app_extracts_only_that_path(
    tmp_path: Path, repos: RepoCache, cache_root: Path
) -> None:
    repo, apps = five_apps(tmp_path)
    cache = ManifestCache()
    for app in apps:
        rendered(repos, cache, app)
    new_sha = commit(repo, {"apps/a2/cm.yaml": dump_all([cm("a2", "2")])}, "change a2")
    before = set(entries(cache_root, "subtrees"))
    results = {app.name: rendered(repos, cache, app) for app in apps}
    assert results["a2"] == {"a2": "2"} and results["a0"] == {"a0": "1"}
    assert cache.renders == 6  # only a2 rendered again
    assert new_sha not in {p.name for p in entries(cache_root, "trees")}  # no whole commit
    new = set(entries(cache_root, "subtrees")) - before
    assert len(new) == 1
    (subtree,) = new
    assert files_below(subtree) == ["apps/a2/cm.yaml"]  # that app's files, nothing else


def test_a_cold_start_of_many_apps_extracts_the_commit_once(
    tmp_path: Path, repos: RepoCache, cache_root: Path
) -> None:
    count = SUBTREES_PER_COMMIT + 4
    repo = make_repo(
        tmp_path / "repo", {f"apps/a{i}/cm.yaml": dump_all([cm(f"a{i}")]) for i in range(count)}
    )
    cache = ManifestCache()
    results = [rendered(repos, cache, app_for(repo, f"apps/a{i}", f"a{i}")) for i in range(count)]
    assert results == [{f"a{i}": "1"} for i in range(count)]
    assert [p.name for p in entries(cache_root, "trees")] == [repo.head.commit.hexsha]
    assert len(entries(cache_root, "subtrees")) == SUBTREES_PER_COMMIT


def test_a_symlink_out_of_the_repository_added_by_a_commit_is_refused(
    tmp_path: Path, repos: RepoCache, cache_root: Path
) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text(dump_all([cm("secret", "s")]))
    repo = make_repo(
        tmp_path / "repo",
        {"apps/x/cm.yaml": dump_all([cm("x")]), "shared/cm.yaml": dump_all([cm("shared")])},
    )
    app = app_for(repo, "apps/x", "x")
    cache = ManifestCache()
    assert rendered(repos, cache, app) == {"x": "1"}
    assert len(entries(cache_root, "subtrees")) == 1  # the plain path alone
    commit(repo, {"apps/x/link.yaml": Symlink(str(secret))}, "link out of the repository")
    with pytest.raises(SourceError, match="symlink points outside the repository"):
        rendered(repos, cache, app)
    commit(repo, {"apps/x/link.yaml": Symlink("../../shared/cm.yaml")}, "link inside")
    assert rendered(repos, cache, app) == {"x": "1", "shared": "1"}  # the whole commit


def test_an_app_path_through_a_symlinked_directory_stays_inside(
    tmp_path: Path, repos: RepoCache, cache_root: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "cm.yaml").write_text(dump_all([cm("outside")]))
    repo = make_repo(
        tmp_path / "repo",
        {"apps/real/cm.yaml": dump_all([cm("real")]), "ln": Symlink(str(outside))},
    )
    cache = ManifestCache()
    assert rendered(repos, cache, app_for(repo, "apps/real", "real")) == {"real": "1"}
    assert len(entries(cache_root, "subtrees")) == 1
    commit(repo, {"apps/real/cm.yaml": dump_all([cm("real", "2")])}, "change")
    with pytest.raises(SourceError, match="leaves the repository"):
        rendered(repos, cache, app_for(repo, "ln", "ln"))


def test_limits_apply_to_a_single_path_checkout(
    tmp_path: Path, repos: RepoCache, cache_root: Path
) -> None:
    repo, apps = five_apps(tmp_path)
    cache = ManifestCache()
    limits = ManifestLimits(max_bytes=4096)
    assert rendered(repos, cache, apps[1], limits) == {"a1": "1"}
    big = dump_all([cm("a1", "x" * 8192)])
    new_sha = commit(repo, {"apps/a1/cm.yaml": big}, "grow a1")
    with pytest.raises(SourceError, match="manifestBytesPerApp|limit"):
        rendered(repos, cache, apps[1], limits)
    assert new_sha not in {p.name for p in entries(cache_root, "trees")}


def test_a_single_path_checkout_is_read_only(
    tmp_path: Path, repos: RepoCache, cache_root: Path
) -> None:
    repo, apps = five_apps(tmp_path)
    cache = ManifestCache()
    rendered(repos, cache, apps[0])
    (subtree,) = entries(cache_root, "subtrees")
    for folder, dirs, names in os.walk(subtree):
        for name in dirs:
            assert stat.S_IMODE(os.lstat(os.path.join(folder, name)).st_mode) == 0o555
        for name in names:
            assert stat.S_IMODE(os.lstat(os.path.join(folder, name)).st_mode) == 0o444
    assert stat.S_IMODE(subtree.stat().st_mode) == 0o555


def test_single_path_checkouts_are_pruned_with_the_trees(tmp_path: Path, cache_root: Path) -> None:
    repos = RepoCache(cache_root, max_checkouts=2)
    repo, apps = five_apps(tmp_path)
    cache = ManifestCache()
    for app in apps:
        rendered(repos, cache, app)
    for n in range(3):
        commit(repo, {"apps/a3/cm.yaml": dump_all([cm("a3", str(n + 2))])}, "change a3")
        assert rendered(repos, cache, apps[3]) == {"a3": str(n + 2)}
    assert len(entries(cache_root, "subtrees")) == 2  # the newest two, of 8 made
    assert entries(cache_root, "trees") == []


def test_an_app_path_that_looks_like_an_option_is_only_a_path(
    tmp_path: Path, repos: RepoCache, cache_root: Path
) -> None:
    path = "--output=x/-v"
    repo = make_repo(tmp_path / "repo", {f"{path}/cm.yaml": dump_all([cm("odd")])})
    assert rendered(repos, ManifestCache(), app_for(repo, path, "odd")) == {"odd": "1"}
    (subtree,) = entries(cache_root, "subtrees")
    assert files_below(subtree) == [f"{path}/cm.yaml"]


def test_a_path_through_a_link_and_dot_dot_renders_what_the_renderer_opens(
    tmp_path: Path, repos: RepoCache
) -> None:
    # "lnk/../apps/x" opens deep/apps/x (the parent of the link's target), not apps/x
    repo = make_repo(
        tmp_path / "repo",
        {
            "apps/x/cm.yaml": dump_all([cm("top")]),
            "deep/apps/x/cm.yaml": dump_all([cm("deep")]),
            "deep/dir/keep.txt": "x\n",
            "lnk": Symlink("deep/dir"),
        },
    )
    app = app_for(repo, "lnk/../apps/x", "x")
    cache = ManifestCache()
    assert rendered(repos, cache, app) == {"deep": "1"}
    commit(repo, {"deep/apps/x/cm.yaml": dump_all([cm("deep", "2")])}, "change deep")
    assert rendered(repos, cache, app) == {"deep": "2"}  # not the cached render


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("apps/x", "apps/x"),
        ("./apps//x/", "apps/x"),
        ("apps/x ", "apps/x "),  # its own directory: not stripped
        ("apps/../x", None),
        ("a/..", None),
        ("x\0y", None),
    ],
)
def test_normal_path_is_exactly_the_directory_opened(path: str, expected: str | None) -> None:
    assert normal_path(path) == expected
