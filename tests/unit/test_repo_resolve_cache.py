"""Revision lookups are remembered per fetch generation; URL parsing is memoised.

Real repositories and real git; the only hook counts the git runs that look
revisions up (``git rev-parse`` and ``git for-each-ref``).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import git
import pytest

from gitops_tui.engine.source import repo_url
from gitops_tui.engine.source.repo import RepoCache
from gitops_tui.engine.source.repo_git import GitRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the git helpers
from gitrepo import commit, make_repo

FILES = {"apps/web/deploy.yaml": "kind: Deployment\nmetadata:\n  name: web\n"}


class CountingRunner(GitRunner):
    """A real GitRunner that counts lookups (``rev-parse``, ``for-each-ref``)."""

    def __init__(self, inner: GitRunner) -> None:
        super().__init__(inner.root, local_timeout=inner.local_timeout)
        self.rev_parses = 0
        self._count_lock = threading.Lock()

    def run_local(self, git_dir: Path, args: Sequence[str]) -> tuple[int, str, str, bool]:
        if args[:1] in (["rev-parse"], ["for-each-ref"]):
            with self._count_lock:
                self.rev_parses += 1
        return super().run_local(git_dir, args)


@pytest.fixture
def src(tmp_path: Path) -> git.Repo:
    return make_repo(tmp_path / "src", FILES, "first")


def counting_cache(root: Path) -> tuple[RepoCache, CountingRunner]:
    cache = RepoCache(root, fetch_timeout=30)
    runner = CountingRunner(cache._git)
    cache._git = runner
    return cache, runner


def test_one_rev_parse_per_fetch_generation(tmp_path: Path, src: git.Repo) -> None:
    cache, runner = counting_cache(tmp_path / "cache")
    url = f"file://{src.working_tree_dir}"
    first = cache.resolve(url, "HEAD", refresh=True)  # fetch: generation 1
    cache.checkout(url, first)  # extracted: (verifying the SHA is one more lookup)
    before = runner.rev_parses
    for _ in range(200):  # 200 apps of one repository resolving HEAD in one refresh
        assert cache.resolve(url, "HEAD") == first
        assert cache.checkout(url, first).is_dir()
    assert runner.rev_parses == before  # remembered from the lookup after the fetch

    second = commit(src, {"apps/web/deploy.yaml": "kind: Deployment\n"}, "second")
    assert cache.resolve(url, "HEAD") == first  # no fetch: the last fetched commit
    assert cache.resolve(url, "HEAD", refresh=True) == second  # a new generation
    after_fetch = runner.rev_parses
    for _ in range(50):
        assert cache.resolve(url, "HEAD") == second
    assert runner.rev_parses == after_fetch


def test_a_lookup_racing_a_fetch_is_not_kept(tmp_path: Path, src: git.Repo) -> None:
    """A lookup that began before a fetch must not outlive it in the cache."""
    cache, _runner = counting_cache(tmp_path / "cache")
    url = f"file://{src.working_tree_dir}"
    first = cache.resolve(url, "main", refresh=True)
    state = cache._state(url)
    stale_generation = state.generation
    second = commit(src, {"apps/web/deploy.yaml": "kind: Deployment\n"}, "second")
    cache.resolve(url, "HEAD", refresh=True)  # bumps the generation
    state.remember_revision(stale_generation, "main", first)  # the late, stale result
    assert cache.resolve(url, "main") == second


def test_a_failed_fetch_starts_a_new_generation(tmp_path: Path, src: git.Repo) -> None:
    cache, runner = counting_cache(tmp_path / "cache")
    url = f"file://{src.working_tree_dir}"
    cache.resolve(url, "HEAD", refresh=True)
    generation = cache._state(url).generation
    with pytest.raises(Exception, match="revision not found"):
        cache.resolve(url, "no-such-branch")  # unknown: fetches once, then gives up
    assert cache._state(url).generation > generation
    counted = runner.rev_parses
    with pytest.raises(Exception, match="revision not found"):
        cache.resolve(url, "no-such-branch", refresh=False)
    assert runner.rev_parses > counted  # the miss fetched and looked again


def test_url_parsing_resolves_a_local_path_once(
    tmp_path: Path, src: git.Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = (tmp_path / "memo-src").resolve()
    calls: list[Path] = []
    real = Path.resolve

    def counting_resolve(self: Path, strict: bool = False) -> Path:
        calls.append(self)
        return real(self, strict=strict)

    monkeypatch.setattr(Path, "resolve", counting_resolve)
    url = f"file://{tmp_path}/memo-src"  # a spelling no other test parsed
    for _ in range(100):
        assert repo_url.parse_repo_url(url).local == expected
    assert len([c for c in calls if c.name == "memo-src"]) == 1
    with pytest.raises(Exception, match="absolute path"):
        repo_url.parse_repo_url("relative/path")
