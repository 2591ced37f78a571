"""What makes the engine look again: repositories polled (remote) or watched (local
checkouts), and the kubeconfig re-read when it changes."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from pathlib import Path

from gitops_tui.engine.app.application import Application
from gitops_tui.engine.cache.destinations import ClusterRegistry
from gitops_tui.engine.controller.cluster_links import ClusterLinks
from gitops_tui.engine.controller.state import AppTable
from gitops_tui.engine.source.repo import RepoCache

log = logging.getLogger(__name__)

FetchThenRender = Callable[[list[str]], None]


class RepoWatch:
    """Polls remote repositories and watches local ones; refreshes the apps using them."""

    def __init__(
        self,
        table: AppTable,
        repos: RepoCache,
        refresh: FetchThenRender,
        stopped: threading.Event,
        apps_changed: threading.Event,
        *,
        poll_interval_s: float,
        watch_local: bool,
    ) -> None:
        self._table = table
        self._repos = repos
        self._refresh = refresh
        self._stopped = stopped
        self._apps_changed = apps_changed  # the local-repository watch starts over
        self._interval = poll_interval_s
        self._watch_local = watch_local
        self.local_repos_watched = threading.Event()  # set while that watch is in place

    def _repo_apps(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        with self._table.lock:
            for name, state in self._table.states.items():
                if isinstance(state.app, Application):
                    for source in state.app.sources:
                        out.setdefault(source.repo_url, []).append(name)
        return out

    def poll(self) -> None:
        """The poller thread: fetch the repositories not watched locally, every interval."""
        interval = self._interval
        while not self._stopped.wait(interval + random.uniform(0, interval / 10)):
            for url, names in self._repo_apps().items():
                if self._repos.local_path(url) is not None and self._watch_local:
                    continue  # watched by the file watcher
                self._refresh(names)

    def watch_local(self) -> None:
        """Watch the local repositories of the apps; start over when the set of apps
        changes (app files re-read, child apps registered), so new apps are watched."""
        stop = EitherEvent(self._stopped, self._apps_changed)
        while not self._stopped.is_set():
            self._apps_changed.clear()
            self.local_repos_watched.clear()
            if not self._watch_local_once(stop):
                stop.wait()

    def _watch_local_once(self, stop: EitherEvent) -> bool:
        from watchfiles import watch

        paths: dict[Path, list[str]] = {}
        for url, names in self._repo_apps().items():
            if self._repos.local_path(url) is None:
                continue
            for path in self._repos.watch_paths(url):
                paths.setdefault(path, []).extend(names)
        if not paths:
            return False
        try:
            for changes in watch(
                *paths,
                stop_event=stop,
                debounce=50,
                step=20,
                rust_timeout=200,
                watch_filter=None,  # the default filter ignores .git, which is all we watch
                yield_on_timeout=True,
                raise_interrupt=False,
            ):
                self.local_repos_watched.set()
                touched: set[str] = set()
                for _change, changed in changes:
                    for root, names in paths.items():
                        if changed.startswith(str(root)):
                            touched.update(names)
                if touched:
                    self._refresh(sorted(touched))
        except Exception:
            log.exception("local repository watcher stopped")
            self._stopped.wait()
        return True


def reload_kubeconfig(
    clusters: ClusterRegistry,
    links: ClusterLinks,
    table: AppTable,
    schedule: Callable[[str], None],
    stopped: threading.Event,
) -> None:
    """The kubeconfig changed: reconnect the contexts whose entry changed."""
    changed = clusters.reload()
    if not changed or stopped.is_set():
        return
    log.info("kubeconfig changed for %s: reconnecting", ", ".join(sorted(changed)))
    links.forget(changed)
    for name in list(table.states):
        # a destination may also resolve differently now (a server moved contexts)
        schedule(name)


class EitherEvent:
    """``is_set`` when either event is (a stop signal for watchfiles)."""

    def __init__(self, first: threading.Event, second: threading.Event) -> None:
        self._events = (first, second)

    def is_set(self) -> bool:
        return any(e.is_set() for e in self._events)

    def wait(self, step: float = 0.2) -> None:
        while not self.is_set():
            self._events[0].wait(step)
