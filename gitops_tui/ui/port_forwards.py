"""``kubectl port-forward`` children of the console: started, listed, stopped, and all
stopped when the console quits.

A forward lives as long as the operator wants it (no timeout): it ends when they
stop it in the list (``f`` in the app view, ``:forwards``), when kubectl exits on
its own (the pod went away: its last error is said in words), or when the console
quits (``stop_all`` from the app's unmount; ``atexit`` as a last resort). kubectl
runs in a session of its own (a ``ctrl+c`` typed while a shell has the terminal
does not reach it), with no stdin; one reader thread per forward keeps the last
lines it printed (bounded, made printable: they hold names from the cluster).
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import socket
import subprocess
import threading
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from gitops_tui.engine.textsafe import printable
from gitops_tui.ui.safe import SafeStatic
from gitops_tui.ui.screens.base import GitOpsModal

MAX_FORWARDS = 16
"""Most forwards running at once."""
KEPT_LINES = 20
"""Last lines of kubectl's output kept per forward."""
MAX_LINE = 400
STOP_TIMEOUT_S = 5.0

Notify = Callable[[str, bool], None]
"""(message, is_error): how a forward tells the operator what happened to it."""


def free_local_port() -> int:
    """A loopback port nobody listens on now (the dialog's default)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kubectl_error(lines: list[str]) -> str:
    """kubectl's complaint in words: its ``error:`` lines (else its last line)."""
    errors = [line for line in lines if "error" in line.lower() or line.startswith("E")]
    chosen = errors[-2:] if errors else lines[-1:]
    return "; ".join(line.strip() for line in chosen) or "no message"


@dataclass(eq=False)
class PortForward:
    """One ``kubectl port-forward`` child."""

    number: int
    app: str
    pod: str  # namespace/name
    local: int
    remote: int
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    ready: bool = False
    stopped: bool = False  # by the operator (or quitting)
    exit_code: int | None = None
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=KEPT_LINES))

    @property
    def label(self) -> str:
        return f"127.0.0.1:{self.local} -> {self.pod}:{self.remote}"

    @property
    def running(self) -> bool:
        """kubectl is alive (asked of the process: the reader thread may not know yet)."""
        return self.process is not None and self.process.poll() is None

    def state(self) -> str:
        if self.running:
            return "forwarding" if self.ready else "starting"
        if self.stopped:
            return "stopped"
        code = self.process.returncode if self.process is not None else None
        return f"ended (exit {code}): {kubectl_error(list(self.lines))}"


class PortForwards:
    """The forwards of one console."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forwards: list[PortForward] = []
        self._numbers = itertools.count(1)

    def all(self) -> list[PortForward]:
        with self._lock:
            return list(self._forwards)

    def running(self) -> list[PortForward]:
        return [f for f in self.all() if f.running]

    def start(
        self, app: str, pod: str, local: int, remote: int, argv: list[str], notify: Notify
    ) -> PortForward:
        """Start ``argv`` (a checked ``kubectl port-forward``); OSError if it cannot run."""
        if len(self.running()) >= MAX_FORWARDS:
            raise OSError(f"{MAX_FORWARDS} forwards are running already: stop one first (f)")
        forward = PortForward(next(self._numbers), app, pod, local, remote, argv)
        forward.process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with self._lock:
            self._forwards = [f for f in self._forwards if f.running][-MAX_FORWARDS:]
            self._forwards.append(forward)
        threading.Thread(
            target=self._read, args=(forward, notify), name="port-forward", daemon=True
        ).start()
        return forward

    def _read(self, forward: PortForward, notify: Notify) -> None:
        process = forward.process
        assert process is not None and process.stdout is not None
        told_error = False
        for raw in process.stdout:
            line = printable(raw.decode("utf-8", "replace").rstrip("\r\n"))[:MAX_LINE]
            forward.lines.append(line)
            if line.startswith("Forwarding from"):
                if not forward.ready:
                    forward.ready = True
                    notify(f"Forwarding {forward.label} (f: forwards)", False)
            elif not told_error and ("error" in line.lower() or line.startswith("E")):
                told_error = True  # once per forward: a flaky target must not flood the screen
                notify(f"Port-forward {forward.label}: {line}", True)
        forward.exit_code = process.wait()
        if not forward.stopped:
            notify(
                f"Port-forward {forward.label} ended (exit {forward.exit_code}): "
                f"{kubectl_error(list(forward.lines))}",
                True,
            )

    def stop(self, forward: PortForward) -> None:
        forward.stopped = True
        process = forward.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(STOP_TIMEOUT_S)

    def stop_all(self) -> None:
        for forward in self.running():
            self.stop(forward)


_REGISTRIES: weakref.WeakKeyDictionary[App[Any], PortForwards] = weakref.WeakKeyDictionary()
_ALL: weakref.WeakSet[PortForwards] = weakref.WeakSet()


def forwards_of(app: App[Any]) -> PortForwards:
    """The console's forwards (created on first use)."""
    found = _REGISTRIES.get(app)
    if found is None:
        found = _REGISTRIES[app] = PortForwards()
        _ALL.add(found)
    return found


def stop_forwards(app: App[Any]) -> None:
    """Stop every forward of ``app`` (the console quits)."""
    found = _REGISTRIES.get(app)
    if found is not None:
        found.stop_all()


@atexit.register
def _stop_everything() -> None:  # a console that did not unmount: no orphan kubectl
    for registry in list(_ALL):
        registry.stop_all()


class PortForwardsModal(GitOpsModal[None]):
    """The forwards and what became of them; ``d`` stops the highlighted one."""

    DEFAULT_CSS = """
    PortForwardsModal #forwards-dialog { width: 100; max-width: 100%; height: auto;
        max-height: 90%; }
    PortForwardsModal OptionList { height: auto; max-height: 16; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="forwards.close"),
        Binding("d", "stop", "Stop forward", id="forwards.stop"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")
        self._shown: list[tuple[int, str]] | None = None

    @property
    def registry(self) -> PortForwards:
        return forwards_of(self.app)

    def compose(self) -> ComposeResult:
        with Vertical(id="forwards-dialog", classes="dialog"):
            yield SafeStatic(Text("Port forwards", style="bold"), classes="dialog-title")
            yield OptionList(id="forwards-list")
            yield SafeStatic("d: stop the highlighted forward   esc: close", classes="dialog-hint")

    def on_mount(self) -> None:
        self._refresh_list()
        self.query_one(OptionList).focus()
        self.set_interval(0.5, self._refresh_list)

    def _rows(self) -> list[tuple[int, str]]:
        return [(f.number, f"{f.label}  ({f.app})  {f.state()}") for f in self.registry.all()]

    def _refresh_list(self) -> None:
        rows = self._rows()
        if rows == self._shown:
            return
        self._shown = rows
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        if not rows:
            options.add_option(Option(Text("No port forwards (F on a pod starts one)"), id="none"))
            return
        # labels hold the app's name (from Git) and kubectl's words: made printable
        options.add_options(
            Option(Text(printable(label)), id=str(number)) for number, label in rows
        )
        options.highlighted = min(highlighted or 0, len(rows) - 1)

    def action_stop(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return
        chosen = options.get_option_at_index(options.highlighted).id
        forward = next((f for f in self.registry.all() if str(f.number) == chosen), None)
        if forward is None or not forward.running:
            return
        self.registry.stop(forward)
        self.notify(f"Stopped port-forward {forward.label}.", timeout=4)
        self._refresh_list()

    def action_close(self) -> None:
        self.dismiss(None)
