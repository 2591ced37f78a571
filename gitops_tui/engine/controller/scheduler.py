"""The refresh queue: one job per app at a time on a worker pool.

A request that arrives while the app is being processed sets a flag and the job
loops once more, so bursts of watch events coalesce; what a request asks for
(re-render, re-fetch, hard) accumulates until the job picks it up.

The pool's queue is first in, first out: after a commit, the apps whose content
changed must not wait behind the re-renders that change nothing (a repository of
1,000 apps queues 1,000 jobs per commit, and the last commit's may still be
queued). Up to ``URGENT_APPS`` of them run on an urgent lane of their own, one
worker, taking over a job still queued on the pool; the other apps of the commit
are queued once those are done (or after ``URGENT_HOLD_S``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from gitops_tui.engine.app.application import Application
from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.controller.publisher import Publisher
from gitops_tui.engine.controller.state import AppState, AppTable
from gitops_tui.engine.model import Condition, ConditionType
from gitops_tui.engine.redact import redact_text
from gitops_tui.engine.source.repo import RepoCache, RepoError
from gitops_tui.engine.source.sources import SourceError, content_changed, resolve_revisions

log = logging.getLogger(__name__)

URGENT_APPS = 16
"""At most this many changed apps of one commit take the urgent lane (one worker):
a commit that changes the whole fleet is better served by the pool's workers."""
URGENT_HOLD_S = 2.0
"""How long the unchanged apps of a commit wait for the changed ones, at most."""

Work = Callable[[AppState, bool, bool, bool], None]
"""Process one app: (state, render, fetch, hard)."""


def spawn(target: Callable[[], None], name: str) -> threading.Thread:
    """Run ``target`` on a daemon thread."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


class Scheduler:
    """Queues apps for processing and runs each on the pool, one job per app."""

    def __init__(
        self,
        table: AppTable,
        publisher: Publisher,
        repos: RepoCache,
        stopped: threading.Event,
        *,
        workers: int,
        only_apps: frozenset[str] | None,
        work: Work,
        after: Callable[[str], None],
    ) -> None:
        self._table = table
        self._publisher = publisher
        self._repos = repos
        self._stopped = stopped
        self._only = only_apps
        self._work = work
        self._after = after
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="engine")
        self.urgent = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine-urgent")

    def schedule(
        self,
        name: str,
        *,
        render: bool = False,
        fetch: bool = False,
        hard: bool = False,
        urgent: bool = False,
    ) -> None:
        """Process ``name`` soon (never blocks); ``urgent``: on the urgent lane, ahead of
        what the pool has queued (a job of the app queued there then does nothing)."""
        if self._stopped.is_set() or (self._only is not None and name not in self._only):
            return  # one-shot commands process only the apps they name
        with self._table.lock:
            state = self._table.states.get(name)
            if state is None:
                return
            operation = state.operation
            if not (render or fetch or hard) and operation is not None and not operation.phase.done:
                # its own sync is running (every apply moves live objects): the
                # operation's end schedules a compare, so none is needed before it
                return
            state.need_render |= render or fetch or hard
            state.fetch |= fetch or hard
            if fetch or hard:
                state.fetch_asked = time.monotonic()
            state.hard |= hard
            if state.running and (state.executing or not urgent):
                state.again = True  # the job running (or queued) picks the request up
                return
            state.running = True
            state.job += 1
            job = state.job
        try:
            (self.urgent if urgent else self.pool).submit(self._process, name, job)
        except RuntimeError:  # pool shut down
            with self._table.lock:
                if state.job == job:
                    state.running = False

    def schedule_all(self) -> None:
        for name in list(self._table.states):
            self.schedule(name)

    def fetch_then_render(self, names: list[str], *, hard: bool = False) -> None:
        """Fetch each repository of ``names`` once, then re-render them without fetching.

        A refresh of many apps sharing a repository must not fetch it once per app.
        Runs on its own thread; a failed fetch shows on the apps (last manifests kept).
        """

        def run() -> None:
            urls: set[str] = set()
            with self._table.lock:
                for name in names:
                    state = self._table.states.get(name)
                    if state is not None and isinstance(state.app, Application):
                        urls.update(source.repo_url for source in state.app.sources)
            for url in sorted(urls):
                if self._stopped.is_set():
                    return
                # a failure is kept as the repository's last fetch error, shown per app
                with contextlib.suppress(RepoError):
                    self._repos.resolve(url, "HEAD", refresh=True)
            later: list[str] = []
            changed: list[str] = []
            for name in names:  # changed apps submitted as soon as found, the rest after
                if self.content_may_differ(name):
                    urgent = len(changed) < URGENT_APPS
                    changed.append(name)
                    self.schedule(name, render=True, hard=hard, urgent=urgent)
                else:
                    later.append(name)
            if later and len(changed) <= URGENT_APPS:
                self._wait_processed(changed, URGENT_HOLD_S)
            for name in later:
                self.schedule(name, render=True, hard=hard)

        spawn(run, "git-fetch")

    def _wait_processed(self, names: list[str], timeout: float) -> None:
        """Until no job of ``names`` is queued or running (at most ``timeout``)."""
        deadline = time.monotonic() + timeout
        while not self._stopped.wait(0.01):
            with self._table.lock:
                busy = any(
                    (state := self._table.states.get(name)) is not None and state.running
                    for name in names
                )
            if not busy or time.monotonic() >= deadline:
                return

    def changed_first(self, names: list[str]) -> list[str]:
        """``names`` with the apps whose rendered content may have changed first (a
        commit to one app's path of a repository of 1,000 apps must not wait behind
        999 re-renders that change nothing); the order within each part is kept."""
        changed = {name: self.content_may_differ(name) for name in names}
        return [n for n in names if changed[n]] + [n for n in names if not changed[n]]

    def content_may_differ(self, name: str) -> bool:
        """False only if the app's sources at the revisions they resolve to now
        surely render what its last render did (see ``content_changed``)."""
        with self._table.lock:
            state = self._table.states.get(name)
            app = state.app if state is not None else None
            old = state.generated.revisions if state is not None and state.generated else None
        if not isinstance(app, Application) or old is None:
            return True
        try:
            new = resolve_revisions(app, self._repos, refresh=False)
            return content_changed(app, self._repos, old, new)
        except (SourceError, RepoError):
            return True

    def uncompared(self, names: set[str] | None, *, all_read: bool) -> list[str]:
        """The (named) apps not compared yet, or being compared now; unless
        ``all_read``, also named apps not known yet."""
        with self._table.lock:
            pending = {
                n
                for n, s in self._table.states.items()
                if (names is None or n in names) and (s.compared_at == 0.0 or s.running)
            }
            if names is not None and not all_read:
                pending |= names - set(self._table.states)
        return sorted(pending)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.urgent.shutdown(wait=False, cancel_futures=True)

    def _process(self, name: str, job: int) -> None:
        table, publisher = self._table, self._publisher
        while not self._stopped.is_set():
            with table.lock:
                state = table.states.get(name)
                if state is None:
                    return
                if state.job != job:
                    return  # a newer job (the urgent lane) took the app over
                state.executing = True
                render, fetch, hard = state.need_render, state.fetch, state.hard
                state.need_render = state.fetch = state.hard = state.again = False
                state.snapshot = publisher.app_snapshot(state, comparing=True)
            publisher.mark_dirty()
            try:
                self._work(state, render, fetch, hard)
                process_error = None
            except KubeApiError as exc:
                # the cluster went away mid-compare: keep the last comparison, say why
                process_error = Condition(ConditionType.CLUSTER_UNREACHABLE, redact_text(str(exc)))
            except Exception as exc:  # keep the worker alive; show the failure on the app
                if self._stopped.is_set():
                    # closing: the pools refuse new work and cancel what is queued
                    log.debug("processing %s stopped by close: %r", name, exc)
                    return
                log.exception("processing %s failed", name)
                process_error = Condition(
                    ConditionType.COMPARISON_ERROR, redact_text(f"{type(exc).__name__}: {exc}")
                )
            with table.lock:
                state.process_error = process_error
                state.compared_at = time.time()
                state.snapshot = publisher.app_snapshot(state)
                if not state.again:
                    state.running = state.executing = False
                    publisher.mark_dirty()
                    break
            publisher.mark_dirty()
        self._after(name)
