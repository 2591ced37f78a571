"""Branches, tags and HEAD are read by one ``git for-each-ref`` per fetch generation.

Real repositories and real git; the only hook counts the git commands run.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import git
import pytest

from gitops_tui.engine.source import repo_refs
from gitops_tui.engine.source.repo import RepoCache, RepoError, RepoErrorKind

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the git helpers
from gitrepo import CommandCounter, branch, commit, make_repo, tag

FILES = {"apps/web/deploy.yaml": "kind: Deployment\nmetadata:\n  name: web\n"}


@pytest.fixture
def src(tmp_path: Path) -> git.Repo:
    return make_repo(tmp_path / "src", FILES, "first")


def counted(root: Path) -> tuple[RepoCache, CommandCounter]:
    cache = RepoCache(root, fetch_timeout=30)
    runner = CommandCounter(cache._git)
    cache._git = runner
    return cache, runner


def url_of(repo: git.Repo) -> str:
    return f"file://{repo.working_tree_dir}"


def test_many_branches_and_tags_resolve_with_one_git_run(tmp_path: Path, src: git.Repo) -> None:
    first = src.head.commit.hexsha
    names = []
    for i in range(20):
        branch(src, f"br-{i}")
        tag(src, f"v{i}", annotated=bool(i % 2))
        names += [f"br-{i}", f"v{i}", f"refs/heads/br-{i}", f"refs/tags/v{i}"]
    cache, runner = counted(tmp_path / "cache")
    url = url_of(src)
    cache.resolve(url, "HEAD", refresh=True)  # creates the mirror
    runner.counts.clear()
    assert cache.resolve(url, "HEAD", refresh=True) == first
    for name in names:  # 80 apps each naming another branch or tag, one fetch generation
        assert cache.resolve(url, name) == first
    assert runner.counts == {"fetch": 1, "for-each-ref": 1}  # no rev-parse per name


def test_concurrent_lookups_after_a_fetch_read_the_refs_once(tmp_path: Path, src: git.Repo) -> None:
    cache, runner = counted(tmp_path / "cache")
    url = url_of(src)
    head = cache.resolve(url, "HEAD", refresh=True)
    branch(src, "other")
    cache._fetch(cache._state(url), time.monotonic())  # a new generation, nothing read yet
    runner.counts.clear()
    start = threading.Barrier(8)
    results: list[str] = []

    def worker() -> None:
        start.wait(timeout=30)
        results.append(cache.resolve(url, "other"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == [head] * 8
    assert runner.counts == {"for-each-ref": 1}  # the others waited for the one reader


def test_annotated_and_nested_tags_are_peeled_trees_are_not_revisions(
    tmp_path: Path, src: git.Repo
) -> None:
    first = src.head.commit.hexsha
    tag(src, "annotated", annotated=True)
    src.git.tag("-a", "-m", "nested", "nested", "annotated")  # a tag of a tag
    tree = src.head.commit.tree.hexsha
    src.git.tag("tree-tag", tree)  # lightweight tag of a tree
    src.git.tag("-a", "-m", "tree", "tree-annotated", tree)  # annotated tag of a tree
    blob = src.head.commit.tree["apps/web/deploy.yaml"].hexsha
    src.git.tag("blob-tag", blob)
    cache, runner = counted(tmp_path / "cache")
    url = url_of(src)
    cache.resolve(url, "HEAD", refresh=True)
    assert cache.resolve(url, "annotated") == first
    assert cache.resolve(url, "refs/tags/annotated") == first
    assert cache.resolve(url, "nested") == first
    for name in ("tree-tag", "tree-annotated", "blob-tag", "refs/tags/tree-tag"):
        with pytest.raises(RepoError) as err:
            cache.resolve(url, name)  # ``<ref>^{commit}`` does not resolve either
        assert err.value.kind is RepoErrorKind.REVISION


def test_branch_wins_over_a_tag_of_the_same_name(tmp_path: Path, src: git.Repo) -> None:
    first = src.head.commit.hexsha
    branch(src, "release")
    second = commit(src, {"README.md": "two\n"}, "second")
    tag(src, "release", annotated=True)  # the tag names the newer commit
    cache, _runner = counted(tmp_path / "cache")
    url = url_of(src)
    assert cache.resolve(url, "release", refresh=True) == first
    assert cache.resolve(url, "refs/heads/release") == first
    assert cache.resolve(url, "refs/tags/release") == second
    assert cache.resolve(url, "HEAD") == second


def test_a_ref_moved_after_the_fetch_is_seen_at_the_next_fetch(
    tmp_path: Path, src: git.Repo
) -> None:
    first = src.head.commit.hexsha
    branch(src, "feature")
    tag(src, "moving")
    cache, _runner = counted(tmp_path / "cache")
    url = url_of(src)
    assert cache.resolve(url, "feature", refresh=True) == first
    second = commit(src, {"README.md": "two\n"}, "second")
    src.git.branch("-f", "feature", second)
    src.git.tag("-f", "moving", second)
    assert cache.resolve(url, "feature") == first  # no fetch: the last fetched refs
    assert cache.resolve(url, "moving") == first
    assert cache.resolve(url, "HEAD") == first
    cache.resolve(url, "HEAD", refresh=True)
    assert cache.resolve(url, "feature") == second
    assert cache.resolve(url, "moving") == second
    assert cache.resolve(url, "HEAD") == second


def test_too_many_refs_fall_back_to_one_lookup_per_name(
    tmp_path: Path, src: git.Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = src.head.commit.hexsha
    for i in range(5):
        tag(src, f"v{i}", annotated=True)
    monkeypatch.setattr(repo_refs, "MAX_TABLE_REFS", 3)  # untrusted repositories: bounded
    cache, runner = counted(tmp_path / "cache")
    url = url_of(src)
    cache.resolve(url, "HEAD", refresh=True)
    assert cache._state(url).refs is None  # no table kept
    assert cache.resolve(url, "v3") == first
    assert runner.counts["rev-parse"] >= 1


def test_mirror_presence_is_checked_once_per_generation(
    tmp_path: Path, src: git.Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, _runner = counted(tmp_path / "cache")
    url = url_of(src)
    sha = cache.resolve(url, "HEAD", refresh=True)
    cache.tree_index(url, sha)
    checks: list[Path] = []
    real = Path.is_file

    def counting_is_file(self: Path) -> bool:
        checks.append(self)
        return real(self)

    monkeypatch.setattr(Path, "is_file", counting_is_file)
    for _ in range(100):  # every app's content key of one commit
        cache.tree_index(url, sha)
    assert [c for c in checks if c.name == "HEAD"] == []
    cache.resolve(url, "HEAD", refresh=True)  # a fetch: looked at again
    cache.tree_index(url, sha)
    assert [c for c in checks if c.name == "HEAD" and c.parent.name == "mirror.git"]
