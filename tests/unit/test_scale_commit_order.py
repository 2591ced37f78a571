"""After a commit, the apps whose path changed are processed first (scaling, round 4).

Real repositories, real git and a real RepoCache; only the scheduler's publisher is a
stub (``changed_first`` does not publish).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import git
from gitrepo import commit, make_repo
from helpers import application, cm, dump_all

from gitops_tui.engine.app.application import Application
from gitops_tui.engine.app.parse import parse_application
from gitops_tui.engine.controller.scheduler import Scheduler
from gitops_tui.engine.controller.state import AppState, AppTable
from gitops_tui.engine.source.repo import RepoCache
from gitops_tui.engine.source.sources import (
    ManifestCache,
    content_changed,
    generate,
    resolve_revisions,
)

NAMES = [f"app-{i}" for i in range(6)]


def fleet(tmp_path: Path) -> tuple[git.Repo, RepoCache, AppTable, Scheduler]:
    files = {f"apps/{n}/cm.yaml": dump_all([cm(n)]) for n in NAMES}
    files["charts/c/Chart.yaml"] = "apiVersion: v2\nname: c\nversion: 0.1.0\n"
    repo = make_repo(tmp_path / "src", files, "first")
    repos = RepoCache(tmp_path / "cache", fetch_timeout=30)
    table = AppTable()
    url = f"file://{repo.working_tree_dir}"
    for name in NAMES:
        app = parse_application(application(name, url, f"apps/{name}", "prod"), "test")
        assert isinstance(app, Application)
        revisions = resolve_revisions(app, repos, refresh=True)
        generated = generate(app, repos, ManifestCache(), revisions=revisions)
        table.states[name] = AppState(app=app, generated=generated)
    scheduler = Scheduler(
        table,
        None,  # type: ignore[arg-type]
        repos,
        threading.Event(),
        workers=1,
        only_apps=None,
        work=lambda *_: None,
        after=lambda name: None,
    )
    return repo, repos, table, scheduler


def test_the_app_whose_path_changed_goes_first(tmp_path: Path) -> None:
    repo, repos, table, scheduler = fleet(tmp_path)
    url = f"file://{repo.working_tree_dir}"
    commit(repo, {"apps/app-4/cm.yaml": dump_all([cm("app-4", "2")])}, "change app-4")
    repos.resolve(url, "HEAD", refresh=True)
    assert scheduler.changed_first(list(NAMES)) == [
        "app-4",
        "app-0",
        "app-1",
        "app-2",
        "app-3",
        "app-5",
    ]
    scheduler.close()


def test_unknown_or_never_rendered_apps_count_as_changed(tmp_path: Path) -> None:
    repo, repos, table, scheduler = fleet(tmp_path)
    url = f"file://{repo.working_tree_dir}"
    table.states["app-3"].generated = None  # never rendered
    commit(repo, {"apps/app-1/cm.yaml": dump_all([cm("app-1", "2")])}, "change app-1")
    repos.resolve(url, "HEAD", refresh=True)
    order = scheduler.changed_first(["app-0", "gone", "app-1", "app-3"])
    assert order == ["gone", "app-1", "app-3", "app-0"]
    scheduler.close()


def test_content_changed_is_conservative_for_non_plain_sources(tmp_path: Path) -> None:
    repo, repos, table, _scheduler = fleet(tmp_path)
    url = f"file://{repo.working_tree_dir}"
    old = repos.resolve(url, "HEAD")
    commit(repo, {"README.md": "unrelated\n"}, "docs")
    new = repos.resolve(url, "HEAD", refresh=True)
    plain = table.states["app-2"].app
    assert isinstance(plain, Application)
    assert not content_changed(plain, repos, (old,), (new,))  # its tree is the same
    assert not content_changed(plain, repos, (old,), (old,))
    chart = parse_application(application("c", url, "charts/c", "prod"), "test")
    assert isinstance(chart, Application)
    assert content_changed(chart, repos, (old,), (new,))  # Helm: keyed by the commit
    assert content_changed(plain, repos, (old,), (new, new))  # a source added


class _Publisher:
    def app_snapshot(self, state: AppState, comparing: bool = False) -> None:
        return None

    def mark_dirty(self) -> None:
        pass


def one_worker(
    table: AppTable, repos: RepoCache, work: Callable[[AppState, bool, bool, bool], None]
) -> Scheduler:
    return Scheduler(
        table,
        _Publisher(),  # type: ignore[arg-type]
        repos,
        threading.Event(),
        workers=1,
        only_apps=None,
        work=work,
        after=lambda name: None,
    )


def test_fetch_then_render_submits_the_changed_app_first(tmp_path: Path) -> None:
    repo, repos, table, _unused = fleet(tmp_path)
    order: list[str] = []
    done = threading.Event()

    def work(state: AppState, render: bool, fetch: bool, hard: bool) -> None:
        order.append(state.app.name)
        if len(order) == len(NAMES):
            done.set()

    scheduler = one_worker(table, repos, work)  # one worker: jobs run in submission order
    commit(repo, {"apps/app-3/cm.yaml": dump_all([cm("app-3", "2")])}, "change app-3")
    scheduler.fetch_then_render(list(NAMES))  # fetches, then schedules
    assert done.wait(60)
    assert order[0] == "app-3" and sorted(order) == NAMES
    scheduler.close()


def test_a_changed_app_overtakes_the_jobs_the_pool_has_queued(tmp_path: Path) -> None:
    """The pool is first in, first out: a commit's changed app must not wait behind the
    jobs still queued from the last commit. It runs on the urgent lane; its own job
    still queued on the pool then does nothing."""
    repo, repos, table, _unused = fleet(tmp_path)
    release, busy, urgent_done = threading.Event(), threading.Event(), threading.Event()
    processed: list[tuple[str, str]] = []

    def work(state: AppState, render: bool, fetch: bool, hard: bool) -> None:
        name, thread = state.app.name, threading.current_thread().name
        processed.append((name, thread))
        if name == "app-0":
            busy.set()
            release.wait(30)  # the pool's only worker stays busy
        if name == "app-5" and thread.startswith("engine-urgent"):
            urgent_done.set()

    scheduler = one_worker(table, repos, work)
    try:
        for name in NAMES:  # app-0 runs; app-1 .. app-5 wait in the pool's queue
            scheduler.schedule(name)
        assert busy.wait(30)
        commit(repo, {"apps/app-5/cm.yaml": dump_all([cm("app-5", "2")])}, "change app-5")
        scheduler.fetch_then_render(["app-5"])
        assert urgent_done.wait(30), processed  # while the pool's worker is still busy
        assert [n for n, _ in processed] == ["app-0", "app-5"]
    finally:
        release.set()
        scheduler.pool.shutdown(wait=True)
        scheduler.urgent.shutdown(wait=True)
    names = [n for n, _ in processed]
    assert names.count("app-5") == 1 and sorted(set(names)) == NAMES  # no second app-5 job
    assert not any(state.running or state.executing for state in table.states.values())
