"""Apps asked to refresh at once share one fetch: a fetch that began after the
refresh was asked for serves every app asked before it, never one asked after.

Real repositories, real git, a real RepoCache and the real Reconciler.render; the
only hook counts git commands. The cluster side is not used (render only).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import git
import pytest
from gitrepo import CommandCounter, commit, make_repo
from helpers import application, cm, dump_all

from gitops_tui.engine.app.application import Application
from gitops_tui.engine.app.parse import parse_application
from gitops_tui.engine.controller.options import EngineOptions
from gitops_tui.engine.controller.reconcile import Reconciler
from gitops_tui.engine.controller.scheduler import Scheduler
from gitops_tui.engine.controller.state import AppState, AppTable
from gitops_tui.engine.source.repo import RepoCache
from gitops_tui.engine.source.sources import ManifestCache

NAMES = [f"app-{i}" for i in range(16)]


@pytest.fixture
def src(tmp_path: Path) -> git.Repo:
    files = {f"apps/{n}/cm.yaml": dump_all([cm(n)]) for n in NAMES}
    return make_repo(tmp_path / "src", files, "first")


def counted(root: Path) -> tuple[RepoCache, CommandCounter]:
    cache = RepoCache(root, fetch_timeout=30)
    runner = CommandCounter(cache._git)
    cache._git = runner
    return cache, runner


def test_a_fetch_begun_after_the_request_serves_it(tmp_path: Path, src: git.Repo) -> None:
    cache, runner = counted(tmp_path / "cache")
    url = f"file://{src.working_tree_dir}"
    asked = time.monotonic()
    first = cache.resolve(url, "HEAD", refresh=True)  # its fetch began after ``asked``
    runner.counts.clear()
    assert cache.resolve(url, "HEAD", refresh=True, since=asked) == first
    assert runner.counts["fetch"] == 0
    second = commit(src, {"README.md": "two\n"}, "second")
    later = time.monotonic()  # asked after the last fetch began: must fetch
    assert cache.resolve(url, "HEAD", refresh=True, since=later) == second
    assert runner.counts["fetch"] == 1
    assert cache.resolve(url, "HEAD", refresh=True) == second  # no since: this call's time
    assert runner.counts["fetch"] == 2
    with pytest.raises(Exception, match="revision not found"):
        cache.resolve(url, "no-such-branch", refresh=True, since=asked)  # served, not found
    assert runner.counts["fetch"] == 2


def test_apps_scheduled_together_render_from_one_fetch(tmp_path: Path, src: git.Repo) -> None:
    cache, runner = counted(tmp_path / "cache")
    url = f"file://{src.working_tree_dir}"
    cache.resolve(url, "HEAD", refresh=True)  # the mirror exists
    table = AppTable()
    for name in NAMES:  # created (asked to fetch) now, as at the engine's start
        app = parse_application(application(name, url, f"apps/{name}", "prod"), "test")
        assert isinstance(app, Application)
        table.states[name] = AppState(app=app)
    second = commit(src, {f"apps/{NAMES[0]}/cm.yaml": dump_all([cm(NAMES[0], "2")])}, "two")
    runner.counts.clear()
    reconciler = Reconciler(
        EngineOptions(),
        None,  # type: ignore[arg-type]  # render uses no policy, links, children or predictions
        table,
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        cache,
        ManifestCache(),
        None,  # type: ignore[arg-type]
    )
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:  # the scheduler's workers
            list(pool.map(lambda s: reconciler.render(s, fetch=True), table.states.values()))
    finally:
        reconciler.dry_runs.shutdown(wait=False)
    assert runner.counts["fetch"] == 1  # not one per app nor per wave of workers
    for state in table.states.values():
        assert state.source_error is None
        assert state.generated is not None and state.generated.revisions == (second,)


def test_a_refresh_asked_after_a_fetch_began_fetches_again(tmp_path: Path, src: git.Repo) -> None:
    cache, runner = counted(tmp_path / "cache")
    url = f"file://{src.working_tree_dir}"
    table = AppTable()
    name = NAMES[0]
    app = parse_application(application(name, url, f"apps/{name}", "prod"), "test")
    assert isinstance(app, Application)
    state = table.states[name] = AppState(app=app)  # asked to fetch at creation
    first = cache.resolve(url, "HEAD", refresh=True)  # began after that
    second = commit(src, {f"apps/{name}/cm.yaml": dump_all([cm(name, "2")])}, "two")
    scheduler = Scheduler(
        table,
        None,  # type: ignore[arg-type]  # nothing is published: the app is marked only
        cache,
        threading.Event(),
        workers=1,
        only_apps=None,
        work=lambda *_: None,
        after=lambda _name: None,
    )
    state.running = True  # a worker holds the app: schedule marks it, submits nothing
    scheduler.schedule(name, render=True, fetch=True)  # the user's refresh, after the fetch
    state.running = False
    scheduler.close()
    reconciler = Reconciler(
        EngineOptions(),
        None,  # type: ignore[arg-type]
        table,
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        cache,
        ManifestCache(),
        None,  # type: ignore[arg-type]
    )
    runner.counts.clear()
    try:
        reconciler.render(state, fetch=True)
    finally:
        reconciler.dry_runs.shutdown(wait=False)
    assert runner.counts["fetch"] == 1  # the earlier fetch does not answer a later refresh
    assert state.generated is not None and state.generated.revisions == (second,) != (first,)
