"""Where the console keeps the tracebacks of errors it did not expect.

A failed engine call that is no ``GitOpsError`` is a bug (ours or a library's): the
notification says so in one sentence and names this file, and the traceback goes
here instead of the screen. The file is bounded (one rotation at ``MAX_BYTES``) and
credentials in the text are redacted, as in every log of this program.
"""

from __future__ import annotations

import threading
import time
import traceback
from pathlib import Path

from gitops_tui.engine.redact import redact_text
from gitops_tui.paths import state_dir

MAX_BYTES = 1 << 20
FILE_NAME = "console-errors.log"

_lock = threading.Lock()


def error_log_path() -> Path:
    return state_dir() / FILE_NAME


def record(action: str, error: BaseException) -> Path | None:
    """Append ``error``'s traceback to the error log; its path, or None if it cannot be written."""
    path = error_log_path()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    entry = f"--- {stamp} UTC  {action}\n{redact_text(trace)}\n"
    try:
        with _lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() and path.stat().st_size > MAX_BYTES:
                path.replace(path.with_name(FILE_NAME + ".1"))
            with path.open("a", encoding="utf-8", errors="replace") as out:
                out.write(entry)
    except OSError:
        return None
    return path
