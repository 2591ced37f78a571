"""``GitOpsApp``: the Textual application over any ``EngineAPI``.

Data flows one way: the engine publishes immutable ``FleetSnapshot``s from its
own thread (``subscribe`` -> ``post_message``), the app keeps the newest one and
hands it to every screen; screens call the engine only through thread workers
(``gitops_tui.ui.workers``) and hear back through messages. Quitting never
waits for the engine: ``close()`` runs on a daemon thread.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen

from gitops_tui.engine.api import EngineAPI, FleetSnapshot, GitOpsError, Unsubscribe
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.textsafe import printable
from gitops_tui.ui import ages, error_log
from gitops_tui.ui.clipboard import set_clipboard
from gitops_tui.ui.commands import CommandError, GitOpsCommands, parse_command_line
from gitops_tui.ui.hints import for_console
from gitops_tui.ui.messages import (
    ContextSet,
    ContextsLoaded,
    EngineCallFailed,
    SnapshotPublished,
    TerminateDone,
)
from gitops_tui.ui.modals.command_line import CommandLineModal
from gitops_tui.ui.modals.confirm import ConfirmModal
from gitops_tui.ui.modals.fleet_sync import FleetSyncModal
from gitops_tui.ui.modals.prune import PruneModal
from gitops_tui.ui.modals.quit import QuitModal, running_operations
from gitops_tui.ui.modals.sync import SyncModal
from gitops_tui.ui.pacing import RenderPacer
from gitops_tui.ui.port_forwards import stop_forwards
from gitops_tui.ui.screens.app_list import AppListScreen
from gitops_tui.ui.screens.app_view import AppViewScreen
from gitops_tui.ui.screens.base import GitOpsModal, GitOpsScreen
from gitops_tui.ui.screens.help import HelpScreen
from gitops_tui.ui.screens.history import HistoryScreen
from gitops_tui.ui.styles import css_paths
from gitops_tui.ui.symbols import glyphs_for, want_ascii
from gitops_tui.ui.workers import describe_error, error_title, run_engine_call

EMPTY_FLEET = FleetSnapshot(generation=-1)


class GitOpsApp(App[None]):
    """The console. ``GitOpsApp(engine).run()``; the engine is closed on quit."""

    TITLE = "gitops-tui"
    CSS_PATH = [str(path) for path in css_paths()]
    COMMANDS = App.COMMANDS | {GitOpsCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("colon", "command_line", "Command", show=False, id="app.command-line"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        engine: EngineAPI,
        *,
        ascii_symbols: bool | None = None,
        close_engine: bool = True,
        initial_app: str | None = None,
        keymap: Mapping[str, str] | None = None,
        clock: Callable[[], float] | None = None,
        osc52: bool = True,
        backend: str = "local",
    ) -> None:
        """``keymap``: binding id -> keys (the config's ``keymap:``, validated there);
        ``clock``: the time ages are measured against (tests pin it)."""
        super().__init__()
        self.clock = clock if clock is not None else ages.now
        self.osc52 = osc52
        self.backend = backend
        """What runs the GitOps logic, for the header: ``local`` (this engine) or ``argocd``."""
        """``y`` copies through OSC 52; off: shown in a notice (``:clipboard on|off``)."""
        self.key_overrides: dict[str, str] = dict(keymap or {})
        """Binding id -> keys from the config (hints name the keys in effect)."""
        if keymap:
            self.set_keymap(keymap)
        self.engine = engine
        self.read_only = bool(engine.read_only)
        # which backend does the work: "" for gitops-tui's own engine (the Argo CD
        # backend names itself and its cluster); the header shows it
        self.backend_label = str(getattr(engine, "backend_label", "") or "")
        self.glyphs = glyphs_for(want_ascii() if ascii_symbols is None else ascii_symbols)
        self.animation_level = "none"
        self.fleet: FleetSnapshot = EMPTY_FLEET
        self.dropped_snapshots = 0
        self.notices: deque[tuple[SeverityLevel, str]] = deque(maxlen=200)
        self.engine_closed = threading.Event()
        self._close_engine = close_engine
        self._initial_app = initial_app
        self._pending: FleetSnapshot | None = None
        self._unsubscribe: Unsubscribe | None = None
        self._pacer = RenderPacer()
        self._render_timer_armed = False
        self._shut_down = False
        self.contexts: list[str] = []
        """The kubeconfig's contexts, as last loaded (for the palette)."""
        self.default_context: str | None = None
        self._contexts_token = 0

    def get_default_screen(self) -> Screen[None]:
        return AppListScreen()

    def on_mount(self) -> None:
        self._show(self.engine.snapshot())
        self._unsubscribe = self.engine.subscribe(self._engine_published)
        self.load_contexts(announce=False)
        if self._initial_app:
            self.open_app(self._initial_app)

    # -- snapshots -------------------------------------------------------------------

    def _engine_published(self, snapshot: FleetSnapshot) -> None:
        """Runs on an engine thread: hand over, never touch widgets here."""
        # RuntimeError: the event loop closed while quitting; nobody is left to tell
        with contextlib.suppress(RuntimeError):
            self.post_message(SnapshotPublished(snapshot))

    def on_snapshot_published(self, message: SnapshotPublished) -> None:
        snapshot = message.snapshot
        newest = self._pending.generation if self._pending is not None else self.fleet.generation
        if snapshot.generation <= newest:
            self.dropped_snapshots += 1
            return
        first = self._pending is None
        self._pending = snapshot
        if first:
            # coalesce a burst: render once after the queued messages
            self.call_later(self._show_pending)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._pacer.key_pressed()  # its frame first: snapshots wait (ui/pacing.py)
        await super().on_event(event)

    def _show_pending(self) -> None:
        # a big fleet that changes constantly must leave the loop free for keys
        wait = self._pacer.wait()
        if wait > 0.005:
            if not self._render_timer_armed:
                self._render_timer_armed = True
                self.set_timer(wait, self._show_pending_after_wait)
            return
        snapshot, self._pending = self._pending, None
        if snapshot is not None:
            started = time.monotonic()
            self._show(snapshot)
            self._pacer.rendered(started)

    def _show_pending_after_wait(self) -> None:
        self._render_timer_armed = False
        self._show_pending()

    def _show(self, snapshot: FleetSnapshot) -> None:
        if snapshot.generation <= self.fleet.generation:
            self.dropped_snapshots += 1
            return
        self.fleet = snapshot
        with self.batch_update():
            for screen in self.screen_stack:
                if isinstance(screen, GitOpsScreen | GitOpsModal) and screen.fleet_ready:
                    screen.fleet_updated(snapshot)

    def _show_again(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, GitOpsScreen) and screen.fleet_ready:
                screen.fleet_updated(self.fleet)

    def where(self, cluster: str = "") -> tuple[str, ...]:
        """Backend, kube context and cluster, for a screen's header."""
        if self.backend_label:  # "Argo CD argocd @ <context>" names the context already
            return (self.backend_label, cluster)
        context = f"ctx {self.default_context}" if self.default_context else ""
        return (self.backend, context, cluster)

    def app_names(self) -> Iterable[str]:
        return (app.name for app in self.fleet.apps)

    def current_app_name(self) -> str | None:
        for screen in reversed(self.screen_stack):
            if isinstance(screen, GitOpsScreen | GitOpsModal):
                name = screen.current_app()
                if name is not None:
                    return name
        return None

    # -- errors and notices ----------------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification of the console passes here: its text often holds names and
        engine errors of outside origin, so it is never markup and its controls are escaped
        (``markup`` is accepted for Textual's callers and ignored)."""
        message = printable(message, multiline=True)
        self.notices.append((severity, message))
        super().notify(
            message, title=printable(title), severity=severity, timeout=timeout, markup=False
        )

    def report_error(self, action: str, error: BaseException) -> None:
        """The one place where failed engine calls become notifications (never a traceback)."""
        logged_at = None if isinstance(error, GitOpsError) else error_log.record(action, error)
        text, severity = describe_error(action, error, logged_at=logged_at)
        text = for_console(text, self.key_overrides)
        self.notify(
            text,
            title=error_title(error),
            severity=severity,
            markup=False,
            timeout=10 if severity == "error" else 6,
        )

    def on_engine_call_failed(self, message: EngineCallFailed) -> None:
        self.report_error(message.action, message.error)

    # -- verbs (keys, palette and ':' commands all end here) -------------------------

    def _known(self, name: str) -> bool:
        if name in self.fleet.by_name:
            return True
        self.notify(f"No app named {name!r}.", severity="error", markup=False)
        return False

    def _refuse_read_only(self, verb: str, name: str | None = None) -> bool:
        """True (with a notice) when ``verb`` is refused: globally, or for this app's context."""
        if self.read_only:
            self.notify(f"read-only mode: {verb} is disabled.", severity="warning")
            return True
        app = self.fleet.by_name.get(name) if name else None
        if app is not None and app.read_only:
            self.notify(
                f"{name} targets a read-only context: {verb} is disabled.",
                severity="warning",
                markup=False,
            )
            return True
        return False

    def open_app(self, name: str, *, diff: bool = False) -> None:
        if not self._known(name):
            return
        screen = self.screen
        if isinstance(screen, AppViewScreen) and screen.app_name == name:
            if diff:
                screen.action_show_diff()
            return
        while isinstance(self.screen, AppViewScreen | HistoryScreen):
            self.pop_screen()
        self.push_screen(AppViewScreen(name, focus_diff=diff))

    def open_sync(
        self,
        name: str,
        *,
        marked: frozenset[ResourceKey] = frozenset(),
        on_started: Callable[[str], None] | None = None,
    ) -> None:
        if self._refuse_read_only("sync", name) or not self._known(name):
            return

        def done(operation_id: str | None) -> None:
            if operation_id and on_started is not None:  # the dialog said "started"
                on_started(operation_id)

        self.push_screen(SyncModal(name, marked), callback=done)

    def open_fleet_sync(
        self,
        apps: Sequence[str] | None = None,
        *,
        on_started: Callable[[int], None] | None = None,
    ) -> None:
        """The fleet sync dialog for ``apps`` (None: every OutOfSync app, ``:plan``)."""
        if self._refuse_read_only("fleet sync"):
            return
        if apps is not None:
            apps = [name for name in apps if self._known(name)]
            if not apps:
                return

        modal = FleetSyncModal(apps)

        def done(started: int | None) -> None:
            if started:
                what = "dry run" if modal.dry_run else "sync"
                self.notify(
                    f"Fleet {what}: {started} {what}{'s' if started != 1 else ''} started."
                    + (" The marks stay for the real sync." if modal.dry_run else ""),
                    markup=False,
                )
                if on_started is not None and not modal.dry_run:
                    on_started(started)  # a dry run changes nothing: keep the marks

        self.push_screen(modal, callback=done)

    def open_prune(self, name: str) -> None:
        if self._refuse_read_only("prune", name) or not self._known(name):
            return

        def done(operation_id: str | None) -> None:
            if operation_id:
                self.notify(f"Prune of {name} started ({operation_id}).", markup=False)

        self.push_screen(PruneModal(name), callback=done)

    def open_history(self, name: str) -> None:
        if self._known(name):
            self.push_screen(HistoryScreen(name))

    def request_refresh(self, name: str | None, hard: bool = False) -> None:
        if name is not None and not self._known(name):
            return
        what = name or "all apps"
        self.notify(f"{'Hard refresh' if hard else 'Refresh'}: {what}", timeout=2, markup=False)
        engine = self.engine
        run_engine_call(
            self,
            lambda: engine.refresh(name, hard=hard),
            lambda _: None,
            action="refresh",
            group="refresh",
        )

    def request_terminate(self, name: str) -> None:
        if self._refuse_read_only("terminate", name) or not self._known(name):
            return
        op = self.fleet.by_name[name].operation
        if op is None or op.phase.done:
            self.notify(f"No sync is running for {name}.", severity="warning", markup=False)
            return
        self.push_screen(
            ConfirmModal(
                f"Terminate the sync of {name}?",
                f"{op.message or 'The sync is running.'}\n"
                "It stops after its current step; what was applied stays applied.",
                confirm_label="terminate",
            ),
            callback=lambda ok: self._terminate_confirmed(name, ok),
        )

    def _terminate_confirmed(self, name: str, ok: bool | None) -> None:
        if not ok or self._refuse_read_only("terminate", name):
            return
        engine = self.engine
        run_engine_call(
            self,
            lambda: engine.terminate(name),
            lambda stopped: TerminateDone(name, bool(stopped)),
            action="terminate",
            group="terminate",
        )

    def on_terminate_done(self, message: TerminateDone) -> None:
        self.terminate_done(message)

    def terminate_done(self, message: TerminateDone) -> None:
        if message.stopped:
            self.notify(
                f"Terminating the sync of {message.app} after its current step.", markup=False
            )
        else:
            self.notify(
                f"No running sync to terminate for {message.app}.", severity="warning", markup=False
            )

    def run_verb(self, verb: str, name: str) -> None:
        """Palette / command-line dispatch of one verb on one app."""
        if verb == "open":
            self.open_app(name)
        elif verb == "diff":
            self.open_app(name, diff=True)
        elif verb == "sync":
            self.open_sync(name)
        elif verb == "prune":
            self.open_prune(name)
        elif verb == "history":
            self.open_history(name)
        elif verb == "refresh":
            self.request_refresh(name, hard=False)
        elif verb == "hard_refresh":
            self.request_refresh(name, hard=True)
        elif verb == "terminate":
            self.request_terminate(name)
        else:
            raise ValueError(f"unknown verb {verb!r}")

    # -- kubeconfig contexts (:ctx) ---------------------------------------------------

    def load_contexts(self, *, announce: bool) -> None:
        """Read the contexts in a worker; ``announce`` notifies the default and the known ones."""
        self._contexts_token += 1
        engine, token = self.engine, self._contexts_token

        def quietly(exc: BaseException) -> None:
            self.log.warning("could not list the kubeconfig contexts", exc)

        run_engine_call(
            self,
            lambda: (engine.contexts(), engine.default_context),
            lambda found: ContextsLoaded(token, list(found[0]), found[1], announce),
            action="ctx",
            group="contexts",
            on_error=None if announce else quietly,
        )

    def on_contexts_loaded(self, message: ContextsLoaded) -> None:
        if message.token != self._contexts_token:
            return  # stale: a newer load (after :ctx NAME) is on its way
        self.contexts = message.contexts
        changed = message.default != self.default_context
        self.default_context = message.default
        if changed:
            self._show_again()  # the headers name the context
        if message.announce:
            known = ", ".join(message.contexts) or "none"
            self.notify(
                f"Context: {message.default or 'none'} (known: {known})",
                markup=False,
                timeout=8,
            )

    def set_context(self, name: str) -> None:
        """``:ctx NAME``: in-cluster destinations now mean context ``name``."""
        engine = self.engine
        run_engine_call(
            self,
            lambda: engine.set_default_context(name),
            lambda _: ContextSet(name),
            action="ctx",
            group="contexts-set",
        )

    def on_context_set(self, message: ContextSet) -> None:
        self.default_context = message.name
        self.notify(f"Context: {message.name} (in-cluster destinations re-compare)", markup=False)
        self.load_contexts(announce=False)

    # -- command line ----------------------------------------------------------------

    def action_command_line(self) -> None:
        self.push_screen(CommandLineModal(), callback=self._command_entered)

    def _command_entered(self, text: str | None) -> None:
        if text:
            self.run_command_line(text)

    def run_command_line(self, text: str) -> None:
        try:
            command = parse_command_line(text)
        except CommandError as err:
            self.notify(str(err), severity="error", markup=False)
            return
        verb, argument = command.verb, command.argument
        if verb == "quit":
            self.request_quit()
        elif verb == "help":
            self.action_help()
        elif verb in ("filter", "sort"):
            self._list_command(verb, argument)
        elif verb == "clipboard":
            set_clipboard(self, argument)
        elif verb == "ctx":
            if argument:
                self.set_context(argument)
            else:
                self.load_contexts(announce=True)
        elif verb == "plan":
            self.open_fleet_sync(argument.split() or None)
        elif argument:
            self.run_verb(verb, argument)
        elif verb in ("refresh", "hard_refresh") and self.current_app_name() is None:
            self.request_refresh(None, hard=verb == "hard_refresh")
        else:
            name = self.current_app_name()
            if name is None:
                self.notify(f":{verb} needs an app name here.", severity="warning", markup=False)
            else:
                self.run_verb(verb, name)

    def _list_command(self, verb: str, argument: str) -> None:
        while not isinstance(self.screen, AppListScreen) and len(self.screen_stack) > 1:
            self.pop_screen()
        screen = self.screen
        if not isinstance(screen, AppListScreen):
            return
        if verb == "filter":
            screen.set_filter(argument)
            return
        column, _, direction = argument.partition(" ")
        try:
            screen.set_sort(column or "name", reverse=direction.strip() == "desc")
        except ValueError as err:
            self.notify(str(err), severity="error", markup=False)

    # -- help and quit ---------------------------------------------------------------

    def action_help(self) -> None:
        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        title = {
            AppListScreen: "application list",
            AppViewScreen: "application view",
            HistoryScreen: "history",
            SyncModal: "sync dialog",
            FleetSyncModal: "fleet sync dialog",
        }.get(type(screen), type(screen).__name__)
        self.push_screen(HelpScreen(title, screen.active_bindings))

    async def action_quit(self) -> None:
        self.request_quit()

    def request_quit(self) -> None:
        """Quit; with syncs in flight, ask first (wait, terminate, or stay)."""
        if isinstance(self.screen, QuitModal):
            return
        if running_operations(self.fleet):
            self.push_screen(QuitModal())
            return
        self.action_quit_now()

    def action_quit_now(self) -> None:
        self.shut_down_engine()
        self.exit()

    def shut_down_engine(self) -> None:
        """Unsubscribe and close the engine on a daemon thread; never waits."""
        if self._shut_down:
            return
        self._shut_down = True
        unsubscribe, self._unsubscribe = self._unsubscribe, None

        def close() -> None:
            try:
                if unsubscribe is not None:
                    unsubscribe()
                if self._close_engine:
                    self.engine.close()
            except Exception as exc:  # the app is gone: nowhere left to show it
                self.log.error("engine close failed", exc)
            finally:
                self.engine_closed.set()

        threading.Thread(target=close, name="gitops-tui-close", daemon=True).start()

    def on_unmount(self) -> None:
        self.shut_down_engine()
        stop_forwards(self)  # no kubectl port-forward outlives the console


def run(
    engine: EngineAPI,
    *,
    ascii_symbols: bool | None = None,
    initial_app: str | None = None,
    mouse: bool = False,
    keymap: Mapping[str, str] | None = None,
) -> int:
    """Run the console until the user quits; the exit code for the CLI.

    ``mouse`` is off by default: mouse tracking floods a slow SSH link with
    events, and every action has a key. The engine is closed on a daemon
    thread as the app exits; this returns without waiting for it.
    """
    app = GitOpsApp(engine, ascii_symbols=ascii_symbols, initial_app=initial_app, keymap=keymap)
    app.run(mouse=mouse)
    return app.return_code or 0
