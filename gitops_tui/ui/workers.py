"""Helpers for thread workers that call the engine.

Textual cannot force-cancel a thread worker, and the default executor that runs
them is joined when the event loop closes: a worker stuck in a slow engine call
would keep the app from quitting. ``call_blocking`` therefore runs the call in
a daemon thread of its own and waits for it in short steps, giving up as soon
as the worker is cancelled (screen closed, app quitting). The abandoned call
finishes (or not) in the background; its result is thrown away.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from textual.worker import get_current_worker

from gitops_tui.engine.api import ReadOnlyError
from gitops_tui.engine.errors import GitOpsError

T = TypeVar("T")

POLL_SECONDS = 0.05


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


Severity = Literal["information", "warning", "error"]


def describe_error(action: str, error: BaseException) -> tuple[str, Severity]:
    """The one-line message and severity shown for a failed engine call (no traceback)."""
    if isinstance(error, ReadOnlyError):
        return str(error), "warning"
    if isinstance(error, GitOpsError):  # its message is for the user: no class name
        return f"{action}: {error}", "error"
    text = str(error) or type(error).__name__
    return f"{action} failed ({type(error).__name__}): {text}", "error"


def error_title(error: BaseException) -> str:
    """The notification title of a failed engine call: the error's ``title`` when it has one."""
    return error.title if isinstance(error, GitOpsError) else ""
