"""A container's log (``l`` on a Pod in the app view; on a Deployment, ReplicaSet,
StatefulSet, Job...: pick one of its pods).

The stream is read on a daemon thread of its own (a quiet follow may wait for
ever; ``close()`` ends it, and quitting never waits for it). Lines go to a
bounded pending queue; a timer moves them to the ``LogView`` in chunks, so a
flood costs a few redraws, not one per line. Paused (``space``), the queue keeps
the newest lines and counts those it had to drop. Changing what is read
(``f`` follow, ``p`` previous, ``t`` tail, ``s`` since, ``c`` container) starts
a new read; ``/`` searches, ``n``/``N`` move between matches, ``w`` wraps.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, OptionList
from textual.widgets.option_list import Option

from gitops_tui.engine.api import EngineAPI, FleetSnapshot, LogOptions, ResourceNode, open_logs
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.podlogs import LogStream, containers_of, default_container
from gitops_tui.engine.textsafe import printable
from gitops_tui.ui.safe import SafeStatic
from gitops_tui.ui.screens.base import GitOpsModal, GitOpsScreen, gitops_app
from gitops_tui.ui.widgets.header import FleetHeader, header_text
from gitops_tui.ui.widgets.log_view import LogView

CAPACITY = 10_000
"""Lines kept on screen (and waiting while paused): older ones drop out."""
CHUNK = 2_000
"""Most lines moved to the view per tick."""
TICK_S = 0.1
MAX_PODS = 10
"""Most pods read together (an app's or a workload's logs, each line prefixed)."""
TAILS: tuple[int | None, ...] = (1000, 10_000, 100, None)
SINCES: tuple[int | None, ...] = (None, 60, 300, 900, 3600, 6 * 3600, 86400)


def since_label(seconds: int | None) -> str:
    if seconds is None:
        return "all"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def pods_under(node: ResourceNode, depth: int = 0) -> list[ResourceKey]:
    """The Pods in ``node``'s subtree (a Deployment's through its ReplicaSets)."""
    if node.key.kind == "Pod" and not node.key.group:
        return [node.key]
    if depth > 6:
        return []
    return [pod for child in node.children for pod in pods_under(child, depth + 1)]


def short_names(pods: list[ResourceKey]) -> dict[ResourceKey, str]:
    """Line prefixes: each pod's last name part (``web-7d9f8-abcde`` -> ``abcde``) when
    those differ, else the whole name."""
    short = {p: p.name.rsplit("-", 1)[-1] for p in pods}
    if len(set(short.values())) < len(pods):
        short = {p: p.name for p in pods}
    return short


def open_logs_for(screen: Screen[Any], app_name: str, node: ResourceNode | None) -> None:
    """``l`` in the app view: the node's log, a pick of the pods under it (or all of
    them); on the app's root, the logs of all its pods, each line prefixed."""
    if node is None:
        found = gitops_app(screen).fleet.by_name.get(app_name)
        roots = found.resources if found is not None else ()
        pods = [pod for root in roots for pod in pods_under(root)]
        if not pods:
            screen.notify(f"No pods in {app_name}.", severity="warning")
        elif len(pods) == 1:
            screen.app.push_screen(PodLogsScreen(app_name, pods[0]))
        else:
            screen.app.push_screen(PodLogsScreen(app_name, pods[0], pods=pods, title=app_name))
        return
    pods = pods_under(node)
    if not pods:
        screen.notify(f"No pods under {node.key.display}.", severity="warning")
        return
    if len(pods) == 1:
        screen.app.push_screen(PodLogsScreen(app_name, pods[0]))
        return

    def chosen(name: str | None) -> None:
        if name == "*":
            title = f"{node.key.kind} {node.key.name}"
            screen.app.push_screen(PodLogsScreen(app_name, pods[0], pods=pods, title=title))
            return
        pod = next((p for p in pods if p.name == name), None)
        if pod is not None:
            screen.app.push_screen(PodLogsScreen(app_name, pod))

    choices = [("*", f"all {len(pods)} pods, each line prefixed")]
    choices += [(p.name, f"{p.namespace}/{p.name}") for p in pods]
    screen.app.push_screen(
        ChoiceModal(f"Logs of which pod of {node.key.display}?", choices), chosen
    )


class ChoiceModal(GitOpsModal[str | None]):
    """Pick one of a few names: ``enter`` takes the highlighted one, ``esc`` none."""

    DEFAULT_CSS = """
    ChoiceModal #choice-dialog { width: 76; max-width: 100%; height: auto; max-height: 80%; }
    ChoiceModal OptionList { height: auto; max-height: 16; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="choice.cancel"),
    ]

    def __init__(self, title: str, choices: list[tuple[str, str]]) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="choice-dialog", classes="dialog"):
            yield SafeStatic(Text(self.title_text, style="bold"), classes="dialog-title")
            yield OptionList(
                *(Option(Text(printable(label)), id=value) for value, label in self.choices)
            )
            yield SafeStatic("enter: open   esc: cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PodLogsScreen(GitOpsScreen[None]):
    """The log of one container of one Pod of an app's tree."""

    DEFAULT_CSS = """
    PodLogsScreen #logs-status { height: 2; padding: 0 1; background: $panel; }
    PodLogsScreen #logs-error { height: auto; max-height: 6; padding: 0 1; }
    PodLogsScreen #logs-search { dock: bottom; height: 1; border: none; padding: 0 1; }
    PodLogsScreen .-hidden { display: none; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="logs.back"),
        Binding("f", "toggle_follow", "Follow", id="logs.follow"),
        Binding("space", "toggle_pause", "Pause", id="logs.pause"),
        Binding("slash", "search", "Search", id="logs.search"),
        Binding("n", "next_match", "Next match", show=False, id="logs.next-match"),
        Binding("N", "previous_match", "Previous match", show=False, id="logs.previous-match"),
        Binding("w", "toggle_wrap", "Wrap", id="logs.wrap"),
        Binding("c", "pick_container", "Container", id="logs.container"),
        Binding("p", "toggle_previous", "Previous container", show=False, id="logs.previous"),
        Binding("t", "cycle_tail", "Tail lines", show=False, id="logs.tail"),
        Binding("s", "cycle_since", "Since", show=False, id="logs.since"),
        Binding("g", "top", "Top", show=False, id="logs.top"),
        Binding("G", "bottom", "Bottom (keep up)", show=False, id="logs.bottom"),
        Binding("r", "reload", "Reload", show=False, id="logs.reload"),
    ]

    def __init__(
        self,
        app_name: str,
        pod: ResourceKey,
        container: str | None = None,
        *,
        pods: list[ResourceKey] | None = None,
        title: str = "",
    ) -> None:
        super().__init__()
        self.app_name = app_name
        self.pod = pod
        self.pods = (pods or [pod])[:MAX_PODS]
        self.more_pods = max(0, len(pods or []) - MAX_PODS)
        self.title_text = title
        self.prefixes = short_names(self.pods) if len(self.pods) > 1 else {}
        self.container = container
        self.containers: list[str] = []
        self.follow = True
        self.previous = False
        self.tail: int | None = TAILS[0]
        self.since: int | None = None
        self.paused = False
        self.state = "connecting"
        self.error: str | None = None
        self.skipped = 0  # lines dropped while paused (or while the view fell behind)
        self._lock = threading.Lock()
        self._pending: deque[str] = deque(maxlen=CAPACITY)
        self._streams: list[LogStream] = []
        self._readers = 0
        self._token = 0
        self._timer: Timer | None = None
        self._shown_status: tuple[Text, str | None] | None = None

    def compose(self) -> ComposeResult:
        yield FleetHeader(id="header")
        yield SafeStatic(f"Log of {self.pod.display}: connecting...", id="logs-status")
        yield SafeStatic("", id="logs-error", classes="-hidden")
        yield LogView(CAPACITY, id="log")
        yield Input(
            placeholder="search (enter: find, esc: close)", id="logs-search", classes="-hidden"
        )
        yield Footer()

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def on_mount(self) -> None:
        self.fleet_ready = True
        self.fleet_updated(self.gitops.fleet)
        self.view.focus()
        self._timer = self.set_interval(TICK_S, self._drain)
        self._start()

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._stop_reader()

    def current_app(self) -> str | None:
        return self.app_name

    def fleet_updated(self, fleet: FleetSnapshot) -> None:
        if self.fleet_ready:
            self.query_one(FleetHeader).show(
                header_text(
                    fleet,
                    self.gitops.glyphs,
                    read_only=self.gitops.read_only,
                    crumbs=(
                        self.app_name,
                        f"{self.pod.name if len(self.pods) == 1 else self.title_text} logs",
                    ),
                )
            )

    # -- reading (a daemon thread per read) -----------------------------------------------

    def _stop_reader(self) -> None:
        with self._lock:
            self._token += 1
            streams, self._streams = self._streams, []
        for stream in streams:
            stream.close()

    def _start(self) -> None:
        self._stop_reader()
        with self._lock:
            token = self._token
            self._pending.clear()
            self.state, self.error, self.skipped = "connecting", None, 0
            self._readers = len(self.pods)
        self.view.clear()
        container = self.container if len(self.pods) == 1 else None
        options = LogOptions(container, self.follow, self.previous, self.since, self.tail)
        for pod in self.pods:
            threading.Thread(
                target=self._read,
                args=(self.gitops.engine, token, pod, options),
                name="pod-logs",
                daemon=True,
            ).start()
        self._drain()

    def _read(self, engine: EngineAPI, token: int, pod: ResourceKey, options: LogOptions) -> None:
        prefix = f"[{self.prefixes[pod]}] " if pod in self.prefixes else ""
        try:
            if not self.containers and not prefix:
                self._learn_containers(engine, token)
            stream = open_logs(engine, self.app_name, pod, options)
            with self._lock:
                if token != self._token:
                    stream.close()
                    return
                self._streams.append(stream)
                if not prefix:
                    self.container = stream.container
                self.state = "following" if options.follow else "reading"
            for batch in stream.batches():
                lines = [prefix + line for line in batch] if prefix else batch
                with self._lock:
                    if token != self._token:
                        break
                    overflow = len(self._pending) + len(lines) - CAPACITY
                    self.skipped += max(0, overflow)
                    self._pending.extend(lines)
        except Exception as exc:  # shown below the status line, in words
            with self._lock:
                if token == self._token and self.error is None:
                    self.error = f"{pod.name}: {exc}" if prefix else str(exc)
        finally:
            with self._lock:
                if token == self._token:
                    self._readers -= 1
                    if self._readers == 0:
                        self.state = "error" if self.error and not self._streams else "ended"

    def _learn_containers(self, engine: EngineAPI, token: int) -> None:
        try:
            live = engine.live_object(self.app_name, self.pod).live or {}
        except Exception:
            return  # the log read says what is wrong, if anything
        main, other = containers_of(live)
        with self._lock:
            if token == self._token:
                self.containers = main + other
                if self.container is None:
                    self.container = default_container(live)

    def _drain(self) -> None:
        chunk: list[str] = []
        with self._lock:
            if not self.paused:
                while self._pending and len(chunk) < CHUNK:
                    chunk.append(self._pending.popleft())
        if chunk:
            self.view.append(chunk)
        self._show_status()

    # -- status ----------------------------------------------------------------------

    def status_text(self) -> Text:
        glyphs = self.gitops.glyphs
        with self._lock:
            state, waiting, skipped = self.state, len(self._pending), self.skipped
        text = Text(no_wrap=True, overflow="ellipsis")
        if len(self.pods) > 1:
            text.append(f"{len(self.pods)} pods of {self.title_text}", style="bold")
            if self.more_pods:
                text.append(f" (+{self.more_pods} not read)", style="yellow")
            text.append("  lines prefixed [pod]", style="bright_black")
        else:
            text.append(f"Pod {self.pod.name}", style="bold")
        if self.container and len(self.pods) == 1:
            text.append(f"  container {self.container}")
            if len(self.containers) > 1:
                text.append(f" (of {len(self.containers)}: c)", style="bright_black")
        if self.previous:
            text.append("  previous run", style="yellow")
        text.append("\n")
        tail = "all" if self.tail is None else str(self.tail)
        text.append(
            f"follow {'on' if self.follow else 'off'}  tail {tail}  since {since_label(self.since)}"
            f"  wrap {'on' if self.view.wrap else 'off'}  {self.view.line_count} lines  "
        )
        if state == "error":
            text.append(f"{glyphs.warning} could not read the log (below)", style="red")
        elif self.paused:
            text.append(f"paused: {waiting} new", style="bold yellow")
            if skipped:
                text.append(f", {skipped} dropped", style="yellow")
        elif state == "connecting":
            text.append("connecting...", style="italic")
        elif state == "following":
            text.append("following", style="green")
        elif state == "ended":
            text.append(
                "end of log" if self.view.line_count else "the log is empty", style="italic"
            )
        return text

    def _show_status(self) -> None:
        text = self.status_text()
        with self._lock:
            error = self.error
        if (text, error) != self._shown_status:
            self._shown_status = (text, error)
            self.query_one("#logs-status", SafeStatic).update(text)
            box = self.query_one("#logs-error", SafeStatic)
            box.set_class(error is None, "-hidden")
            box.update(Text(error or "", style="red"))

    # -- keys ------------------------------------------------------------------------

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        self._start()

    def action_toggle_previous(self) -> None:
        self.previous = not self.previous
        self._start()

    def action_cycle_tail(self) -> None:
        self.tail = TAILS[(TAILS.index(self.tail) + 1) % len(TAILS)]
        self._start()

    def action_cycle_since(self) -> None:
        self.since = SINCES[(SINCES.index(self.since) + 1) % len(SINCES)]
        self._start()

    def action_reload(self) -> None:
        self._start()

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused:
            with self._lock:
                self.skipped = 0
            self.view.scroll_end(animate=False)
        self._drain()

    def action_toggle_wrap(self) -> None:
        self.view.set_wrap(not self.view.wrap)
        self._show_status()

    def action_top(self) -> None:
        self.view.scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.view.scroll_end(animate=False)

    def action_pick_container(self) -> None:
        if len(self.pods) > 1:
            self.notify("Several pods: each shows its default container.", timeout=3)
            return
        if len(self.containers) < 2:
            self.notify(f"{self.pod.display} has one container.", timeout=3)
            return

        def chosen(name: str | None) -> None:
            if name is not None and name != self.container:
                self.container = name
                self._start()

        choices = [
            (name, name + ("  (shown)" if name == self.container else ""))
            for name in self.containers
        ]
        self.app.push_screen(ChoiceModal(f"Container of {self.pod.name}", choices), chosen)

    def action_search(self) -> None:
        box = self.query_one("#logs-search", Input)
        box.remove_class("-hidden")
        box.value = ""
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._close_search()
        self._find(event.value, forward=True, start=None)

    def _close_search(self) -> None:
        self.query_one("#logs-search", Input).add_class("-hidden")
        self.view.focus()

    def _find(self, query: str, *, forward: bool, start: int | None) -> None:
        if not query:
            return
        if self.view.find(query, forward=forward, start=start) is None:
            self.notify(f"Not found: {query}", severity="warning", timeout=3)

    def action_next_match(self) -> None:
        self._find(self.view.query_text, forward=True, start=self.view.current)

    def action_previous_match(self) -> None:
        self._find(self.view.query_text, forward=False, start=self.view.current)

    def action_back(self) -> None:
        box = self.query_one("#logs-search", Input)
        if not box.has_class("-hidden"):
            self._close_search()
            return
        self.dismiss()
