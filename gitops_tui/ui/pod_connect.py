"""A shell in a container (``x``) and a port-forward to a pod (``F``), through ``kubectl``.

Both need ``kubectl`` on PATH and are refused in read-only mode (``pods/exec`` and
``pods/portforward`` are connect verbs: they create). On a workload, a pod is
picked first (the logs screen's picker). The engine says how kubectl reaches the
pod (``EngineAPI.pod_connection``: the app's destination kubeconfig and context,
the pod's containers and ports); a dialog asks for the container and the command
(default ``sh``), or for the pod's port and a local one; ``PodConnection`` builds
the checked argv.

The shell gets the terminal: ``App.suspend()`` restores it to how it was before
the console started, kubectl runs in the foreground (no timeout: the operator
ends it), and the console redraws when it exits. kubectl's own stderr is passed
through and its last lines kept: a failure is said in a notice afterwards. A
``ctrl+c`` that reaches the console meanwhile (before kubectl puts the terminal
in raw mode) is ignored, not a crash. A forward runs in the background
(``ui/port_forwards.py``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from gitops_tui.engine.api import EngineError, PodConnection, ResourceNode, pod_connection
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.podconnect import check_port, split_command
from gitops_tui.engine.textsafe import printable
from gitops_tui.ui.port_forwards import forwards_of, free_local_port
from gitops_tui.ui.safe import SafeStatic
from gitops_tui.ui.screens.base import GitOpsModal, gitops_app
from gitops_tui.ui.screens.pod_logs import ChoiceModal, pods_under
from gitops_tui.ui.workers import run_engine_call

Purpose = Literal["exec", "port-forward"]

KUBECTL_MISSING = (
    "kubectl is not on PATH: install kubectl (or add it to PATH) to shell into "
    "containers and forward ports."
)
DEFAULT_COMMAND = "sh"
STDERR_KEPT = 20


@dataclass
class PodConnectionRead(Message):
    purpose: Purpose
    app: str
    connection: PodConnection


def find_kubectl() -> str | None:
    return shutil.which("kubectl")


def start(screen: Screen[Any], app_name: str, node: ResourceNode | None, purpose: Purpose) -> None:
    """``x`` / ``F`` in the app view: refuse, find kubectl, pick a pod, ask the engine."""
    verb = purpose
    if gitops_app(screen)._refuse_read_only(verb, app_name):
        return
    if find_kubectl() is None:
        screen.notify(KUBECTL_MISSING, severity="error", timeout=8)
        return
    if node is None:
        screen.notify(f"Select a Pod (or a workload) in the tree to {verb}.", severity="warning")
        return
    pods = pods_under(node)
    if not pods:
        screen.notify(f"No pods under {node.key.display}.", severity="warning")
        return
    if len(pods) == 1:
        _read(screen, app_name, pods[0], purpose)
        return

    def chosen(name: str | None) -> None:
        pod = next((p for p in pods if p.name == name), None)
        if pod is not None:
            _read(screen, app_name, pod, purpose)

    choices = [(p.name, f"{p.namespace}/{p.name}") for p in pods]
    title = f"{'Shell into' if purpose == 'exec' else 'Forward a port of'} which pod?"
    screen.app.push_screen(ChoiceModal(title, choices), chosen)


def _read(screen: Screen[Any], app_name: str, pod: ResourceKey, purpose: Purpose) -> None:
    engine = gitops_app(screen).engine
    run_engine_call(
        screen,
        lambda: pod_connection(engine, app_name, pod),
        lambda conn: PodConnectionRead(purpose, app_name, conn),
        action=f"{purpose} {pod.display}",
        group="pod-connect",
        exclusive=True,
    )


def connection_read(screen: Screen[Any], message: PodConnectionRead) -> None:
    """The engine answered: open the dialog of ``message.purpose``."""
    conn = message.connection
    if message.purpose == "exec":
        screen.app.push_screen(
            ExecModal(conn), lambda answer: _exec(screen, message.app, conn, answer)
        )
    else:
        screen.app.push_screen(
            PortForwardModal(conn), lambda answer: _forward(screen, message.app, conn, answer)
        )


def _exec(
    screen: Screen[Any], app_name: str, conn: PodConnection, answer: tuple[str, str] | None
) -> None:
    if answer is None or gitops_app(screen)._refuse_read_only("exec", app_name):
        return
    kubectl = find_kubectl()
    if kubectl is None:
        screen.notify(KUBECTL_MISSING, severity="error", timeout=8)
        return
    container, command = answer
    try:
        argv = conn.exec_argv(kubectl, container, command)
    except EngineError as exc:
        screen.notify(str(exc), severity="error")
        return
    what = f"Shell in {conn.label} ({container})"
    try:
        code, errors = hand_over(screen.app, argv)
    except OSError as exc:
        screen.notify(f"{what}: could not run kubectl: {exc}", severity="error")
        return
    if code == 0:
        screen.notify(f"{what} ended.", timeout=4)
    elif code is None:
        screen.notify(f"{what}: {errors}", severity="error", timeout=10)
    else:
        detail = f": {errors}" if errors else ""
        screen.notify(f"{what} ended with exit code {code}{detail}", severity="warning", timeout=10)


def _forward(
    screen: Screen[Any], app_name: str, conn: PodConnection, answer: tuple[int, int] | None
) -> None:
    if answer is None or gitops_app(screen)._refuse_read_only("port-forward", app_name):
        return
    kubectl = find_kubectl()
    if kubectl is None:
        screen.notify(KUBECTL_MISSING, severity="error", timeout=8)
        return
    local, remote = answer
    app = screen.app

    def notify(text: str, error: bool) -> None:  # from the forward's reader thread
        app.notify(text, severity="error" if error else "information", timeout=8 if error else 4)

    try:  # "Forwarding ..." is said when kubectl listens; an error when it fails
        argv = conn.port_forward_argv(kubectl, local, remote)
        forwards_of(app).start(app_name, conn.label, local, remote, argv, notify)
    except (EngineError, OSError) as exc:
        screen.notify(f"Port-forward to {conn.label}: {exc}", severity="error")


@contextlib.contextmanager
def _console_ignores_sigint() -> Iterator[None]:
    """While kubectl has the terminal, a ctrl+c is kubectl's (children get the default
    handler back on exec), never a KeyboardInterrupt in the console."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def hand_over(app: App[Any], argv: list[str]) -> tuple[int | None, str]:
    """Run ``argv`` with the terminal (``App.suspend``); its exit code and its stderr's
    last lines (printable), or ``(None, why)`` when the terminal cannot be handed over."""
    from textual.app import SuspendNotSupported

    kept: deque[str] = deque(maxlen=STDERR_KEPT)
    try:
        with app.suspend(), _console_ignores_sigint():
            process = subprocess.Popen(argv, stderr=subprocess.PIPE)
            assert process.stderr is not None
            pipe = process.stderr
            copier = threading.Thread(target=_copy_stderr, args=(pipe, kept), daemon=True)
            copier.start()
            code = process.wait()
            copier.join(timeout=2.0)
    except SuspendNotSupported:
        return None, "this terminal cannot be handed over to kubectl (suspend unsupported)"
    lines = [printable(line)[:400] for line in kept if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return code, "; ".join((errors or lines)[-2:])


def _copy_stderr(pipe: Any, kept: deque[str]) -> None:
    """kubectl's stderr: shown on the terminal as it comes, its lines kept."""
    out = sys.__stderr__.fileno() if sys.__stderr__ is not None else 2
    pending = b""
    for chunk in iter(lambda: os.read(pipe.fileno(), 4096), b""):
        with contextlib.suppress(OSError):
            os.write(out, chunk)
        pending += chunk
        *whole, pending = pending.split(b"\n")
        kept.extend(line.decode("utf-8", "replace") for line in whole)
        pending = pending[-4096:]
    if pending:
        kept.append(pending.decode("utf-8", "replace"))


class ExecModal(GitOpsModal[tuple[str, str] | None]):
    """Which container, which command: ``enter`` runs it, ``esc`` cancels."""

    DEFAULT_CSS = """
    ExecModal #exec-dialog { width: 76; max-width: 100%; height: auto; max-height: 90%; }
    ExecModal OptionList { height: auto; max-height: 8; }
    ExecModal #exec-error { color: $error; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="exec.cancel"),
    ]

    def __init__(self, connection: PodConnection) -> None:
        super().__init__(classes="dialog-screen")
        self.connection = connection

    def compose(self) -> ComposeResult:
        conn = self.connection
        with Vertical(id="exec-dialog", classes="dialog"):
            yield SafeStatic(
                Text(f"Shell into {printable(conn.label)}", style="bold"), classes="dialog-title"
            )
            yield SafeStatic(
                Text(f"context {printable(conn.context)}: kubectl exec -it", style="bright_black")
            )
            yield SafeStatic("Container:")
            yield OptionList(
                *(Option(Text(printable(c.name)), id=c.name) for c in conn.containers),
                id="exec-containers",
            )
            yield SafeStatic("Command (split like a shell would, run without one):")
            yield Input(DEFAULT_COMMAND, id="exec-command")
            yield SafeStatic("", id="exec-error")
            yield SafeStatic(
                "enter: run (back here when it exits)   tab: next   esc: cancel",
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        names = [c.name for c in self.connection.containers]
        default = self.connection.default_container
        options.highlighted = names.index(default) if default in names else 0
        self.query_one(Input).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            split_command(event.value)
        except EngineError as exc:
            self.query_one("#exec-error", SafeStatic).update(str(exc))
            return
        options = self.query_one(OptionList)
        index = options.highlighted or 0
        self.dismiss((self.connection.containers[index].name, event.value))

    def action_cancel(self) -> None:
        self.dismiss(None)


class PortForwardModal(GitOpsModal[tuple[int, int] | None]):
    """The pod's port (its declared ports offered) and a local one (a free one offered)."""

    DEFAULT_CSS = """
    PortForwardModal #forward-dialog { width: 76; max-width: 100%; height: auto;
        max-height: 90%; }
    PortForwardModal #forward-error { color: $error; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="forward.cancel"),
    ]

    def __init__(self, connection: PodConnection, *, local: int | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.connection = connection
        self.local = local if local is not None else free_local_port()

    def compose(self) -> ComposeResult:
        conn = self.connection
        declared = [f"{port} ({c.name})" for c in conn.containers for port in c.ports] or [
            "none declared"
        ]
        first = conn.ports()
        with Vertical(id="forward-dialog", classes="dialog"):
            yield SafeStatic(
                Text(f"Forward a port of {printable(conn.label)}", style="bold"),
                classes="dialog-title",
            )
            yield SafeStatic(
                Text(
                    f"context {printable(conn.context)}: kubectl port-forward, "
                    "listening on 127.0.0.1 only",
                    style="bright_black",
                )
            )
            yield SafeStatic(Text("Pod port (declared: " + ", ".join(declared)[:200] + "):"))
            yield Input(str(first[0]) if first else "", id="forward-remote", type="integer")
            yield SafeStatic("Local port (127.0.0.1):")
            yield Input(str(self.local), id="forward-local", type="integer")
            yield SafeStatic("", id="forward-error")
            yield SafeStatic(
                "enter: start (f lists forwards)   tab: next   esc: cancel",
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        self.query_one("#forward-remote", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            remote = check_port("the pod's port", _number(self.query_one("#forward-remote", Input)))
            local = check_port("the local port", _number(self.query_one("#forward-local", Input)))
        except EngineError as exc:
            self.query_one("#forward-error", SafeStatic).update(str(exc))
            return
        self.dismiss((local, remote))

    def action_cancel(self) -> None:
        self.dismiss(None)


def _number(box: Input) -> int:
    """The box's number; 0 (refused by ``check_port``, naming the box) when it holds none."""
    try:
        return int(box.value.strip())
    except ValueError:
        return 0
