"""Helpers for thread workers that call the engine.

Textual cannot force-cancel a thread worker, and the default executor that runs
them is joined when the event loop closes: a worker stuck in a slow engine call
would keep the app from quitting. ``call_blocking`` therefore runs the call in
a daemon thread of its own and waits for it in short steps, giving up as soon
as the worker is cancelled (screen closed, app quitting). The abandoned call
finishes (or not) in the background; its result is thrown away.

``run_engine_call`` is the one way the UI calls the engine off the main thread:
a thread worker runs the call through ``call_blocking`` and posts one message
back to the node that asked (the result's, or ``EngineCallFailed`` which bubbles
up to the app's one error handler). Nothing here touches a widget.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from textual.worker import Worker, get_current_worker

from gitops_tui.engine.api import ReadOnlyError
from gitops_tui.engine.errors import GitOpsError, network_reason, without_reprs
from gitops_tui.ui.messages import EngineCallFailed

if TYPE_CHECKING:
    from pathlib import Path

    from textual.dom import DOMNode
    from textual.message import Message

T = TypeVar("T")

POLL_SECONDS = 0.05
MAX_DETAIL = 160  # characters of an unexpected error's own text in its notification


class Cancelled(Exception):
    """The worker was cancelled while its engine call was still running."""


def call_blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` from a thread worker, abandoned if the worker is cancelled."""
    worker = get_current_worker()
    done = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed to the waiting worker
            box["error"] = exc
        finally:
            done.set()

    name = f"gitops-tui-{getattr(fn, '__name__', 'engine-call')}"
    threading.Thread(target=run, name=name, daemon=True).start()
    while not done.wait(POLL_SECONDS):
        if worker.is_cancelled:
            raise Cancelled()
    if worker.is_cancelled:
        raise Cancelled()
    if "error" in box:
        raise box["error"]
    result: T = box["result"]
    return result


def run_engine_call(
    node: DOMNode,
    call: Callable[[], T],
    reply: Callable[[T], Message | None],
    *,
    action: str,
    group: str,
    token: object = None,
    exclusive: bool = False,
    on_error: Callable[[BaseException], Message | None] | None = None,
) -> Worker[None]:
    """Run ``call()`` (an engine call) in a thread worker of ``node``; post what it gives.

    On success ``reply(result)`` is posted to ``node`` (``None``: nothing is). On
    an error ``EngineCallFailed(action, error, token)`` is posted, or
    ``on_error(error)`` when given (``None``: nothing is). If the worker is
    cancelled meanwhile (its screen closed, the app quits, an ``exclusive``
    newer call of the same ``group`` started) nothing is posted at all.
    ``reply`` and ``on_error`` run on the worker thread: build a message, no more.
    """

    def work() -> None:
        try:
            result = call_blocking(call)
        except Cancelled:
            return
        except Exception as exc:
            failed = (
                EngineCallFailed(action, exc, token=token) if on_error is None else on_error(exc)
            )
            if failed is not None:
                node.post_message(failed)
            return
        message = reply(result)
        if message is not None:
            node.post_message(message)

    return node.run_worker(
        work, name=action, group=group, exclusive=exclusive, exit_on_error=False, thread=True
    )


Severity = Literal["information", "warning", "error"]


def describe_error(
    action: str, error: BaseException, *, logged_at: Path | None = None
) -> tuple[str, Severity]:
    """The one-line message and severity shown for a failed engine call (no traceback).

    A ``GitOpsError``'s message is for the user. Anything else is put in words: a
    network failure ("cannot connect: connection refused"), a permission or file error;
    an error nobody expected says "internal error in <action>: <type>" and where its
    traceback is (``logged_at``). Never a repr, never an object address."""
    if isinstance(error, ReadOnlyError):
        return str(error), "warning"
    if isinstance(error, GitOpsError):  # its message is for the user: no class name
        return f"{action}: {without_reprs(str(error))}", "error"
    reason = network_reason(error)
    if reason is not None:
        return f"{action} failed: cannot connect ({reason}).", "error"
    if isinstance(error, PermissionError):
        where = f" on {error.filename}" if error.filename else ""
        return f"{action} failed: permission denied{where}.", "error"
    if isinstance(error, FileNotFoundError) and error.filename:
        return f"{action} failed: {error.filename} does not exist.", "error"
    if isinstance(error, OSError) and error.strerror:
        where = f" ({error.filename})" if error.filename else ""
        return f"{action} failed: {error.strerror.lower()}{where}.", "error"
    hint = f"the traceback is in {logged_at}" if logged_at else "the traceback was not saved"
    detail = " ".join(without_reprs(str(error)).split())
    detail = (
        f": {detail[:MAX_DETAIL]}" + ("..." if len(detail) > MAX_DETAIL else "") if detail else ""
    )
    return f"Internal error in {action}: {type(error).__name__}{detail} ({hint}).", "error"


def error_title(error: BaseException) -> str:
    """The notification title of a failed engine call: the error's ``title`` when it has one."""
    return error.title if isinstance(error, GitOpsError) else ""
