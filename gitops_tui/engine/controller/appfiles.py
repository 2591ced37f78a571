"""Application files named by ``--apps``: grouping what was loaded, watching them, and
re-reading them into the engine's table.

The engine re-reads the files when they change (a watch on the files' directories:
editors replace a file by renaming, which a watch on the file itself would miss)
and on a hard refresh; :func:`group_by_name` gives the first definition of each
name and the problems to report on it (later duplicates), as at start-up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from gitops_tui.engine.app.application import Application, InvalidApplication
from gitops_tui.engine.app.loading import load_application_files
from gitops_tui.engine.controller.automation import Automation
from gitops_tui.engine.controller.publisher import Publisher
from gitops_tui.engine.controller.state import AppState, AppTable, recorded_last_sync
from gitops_tui.engine.model import Condition, ConditionType
from gitops_tui.engine.sync.history import HistoryStore

log = logging.getLogger(__name__)

AppDoc = Application | InvalidApplication


def group_by_name(
    loaded: Iterable[AppDoc],
) -> tuple[dict[str, AppDoc], dict[str, list[Condition]]]:
    """The first definition of each name, and the problems of later ones (reported on it)."""
    first: dict[str, AppDoc] = {}
    problems: dict[str, list[Condition]] = {}
    for app in loaded:
        if app.name not in first:
            first[app.name] = app
            continue
        extra = app.conditions if isinstance(app, InvalidApplication) else ()
        problems.setdefault(app.name, []).extend(
            extra
            or (
                Condition(
                    ConditionType.INVALID_SPEC,
                    f"duplicate application name, also defined in {app.origin} (ignored)",
                ),
            )
        )
    return first, problems


def watch_roots(paths: Sequence[Path]) -> list[Path]:
    """Directories to watch for ``paths``: a directory itself, a file's parent."""
    roots: list[Path] = []
    for path in paths:
        root = path if path.is_dir() else path.parent
        root = root.resolve()
        if root.is_dir() and root not in roots:
            roots.append(root)
    return roots


def concerns(changed: str, paths: Sequence[Path]) -> bool:
    """True if the changed file ``changed`` is one of ``paths`` or inside one of them."""
    target = Path(changed).resolve()
    for path in paths:
        resolved = path.resolve()
        if target == resolved or (path.is_dir() and target.is_relative_to(resolved)):
            return True
    return False


FileIdentity = tuple[str, int, int, int] | None


def file_identity(path: Path) -> FileIdentity:
    """What the file ``path`` names is now: its resolved path, inode, mtime and size
    (None if it cannot be read). A swapped symlink or a file renamed over it changes it."""
    try:
        resolved = path.resolve()
        st = resolved.stat()
    except (OSError, RuntimeError):
        return None
    return (str(resolved), st.st_ino, st.st_mtime_ns, st.st_size)


def watch_files(
    paths: Sequence[Path],
    on_change: Callable[[], None],
    stop: threading.Event,
    ready: threading.Event | None = None,
) -> None:
    """Call ``on_change`` (debounced) whenever a file of ``paths`` changes, until ``stop``.

    ``ready`` is set once the watch is in place (its first idle timeout has passed).

    When every path is a file (the kubeconfig files, ``--apps`` files), their
    directories are watched without recursion, and a change is a change of a file's
    identity (``file_identity``), checked on each wake-up (at least every 200 ms): a
    directory like ``~/.kube``, whose ``cache/`` kubectl writes on every call, costs
    nothing, and a symlink swapped to a new target (Kubernetes-mounted files) is seen.
    A directory among the paths is watched recursively, as the files under it are.
    """
    from watchfiles import watch

    roots = watch_roots(paths)
    if not roots:
        return
    files_only = not any(path.is_dir() for path in paths)
    seen = [file_identity(path) for path in paths] if files_only else []
    try:
        for changes in watch(
            *roots,
            stop_event=stop,
            debounce=50,
            step=20,
            rust_timeout=200,
            yield_on_timeout=True,
            raise_interrupt=False,
            recursive=not files_only,
        ):
            if ready is not None and not ready.is_set():
                ready.set()
            if files_only:
                now = [file_identity(path) for path in paths]
                if now != seen:
                    seen = now
                    on_change()
            elif any(concerns(changed, paths) for _kind, changed in changes):
                on_change()
    except Exception:
        log.exception("application file watcher stopped")


class AppFiles:
    """The apps read from ``--apps`` files (the names they define in the table)."""

    def __init__(
        self,
        paths: Sequence[Path],
        table: AppTable,
        publisher: Publisher,
        history: HistoryStore,
        automation: Automation,
        render: Callable[[str], None],
        apps_changed: threading.Event,
        stopped: threading.Event,
    ) -> None:
        self._paths = list(paths)
        self._table = table
        self._publisher = publisher
        self._history = history
        self._automation = automation
        self._render = render  # schedule a fetch and render of a (new or changed) app
        self._apps_changed = apps_changed
        self._stopped = stopped
        self.names: set[str] = set()
        self.watched = threading.Event()  # set once the watch is in place
        self.after_reload: Callable[[], None] | None = None

    def watch(self) -> None:
        """The watcher thread: re-read the files whenever one changes, until stopped."""
        watch_files(self._paths, self.reload, self._stopped, self.watched)

    def reload(self) -> None:
        """Re-read the files: new apps appear, edited ones re-render, removed ones go."""
        if not self._paths or self._stopped.is_set():
            return
        first, problems = group_by_name(load_application_files(self._paths))
        changed: list[str] = []
        states = self._table.states
        with self._table.lock:
            for name, app in first.items():
                state = states.get(name)
                if state is None:
                    state = states[name] = AppState(
                        app=app, last_sync=recorded_last_sync(self._history, name)
                    )
                    changed.append(name)
                elif name not in self.names:
                    continue  # a child or cluster app of that name keeps it
                elif state.app != app:
                    state.app = app
                    changed.append(name)
                if state.load_problems != problems.get(name, []):
                    state.load_problems = list(problems.get(name, []))
                    state.snapshot = self._publisher.app_snapshot(state)
                self.names.add(name)
            removed = sorted(self.names - set(first))
            for name in removed:
                self.names.discard(name)
                states.pop(name, None)
                self._automation.forget(name)
                self._table.forget_desired(name)
        if changed or removed:
            self._apps_changed.set()
        for name in changed:
            self._render(name)
        self._publisher.mark_dirty()
        if self.after_reload is not None:  # the ApplicationSets in the same files
            self.after_reload()
