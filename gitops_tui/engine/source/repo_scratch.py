"""Temporary entries of the repository cache, and removing them safely.

A mirror or tree is built under a temporary name, then renamed into place
(atomic). Temporary names carry the process id (``.tmp-<pid>-<random>-<what>``)
so that what a crashed process left behind can be told from what a live one is
still writing, and removed: a dead or unknown process's entries at once, any
entry after a day.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import threading
import time
from pathlib import Path

_log = logging.getLogger(__name__)

TMP_PREFIX = ".tmp-"
_STALE_TMP_SECONDS = 24 * 3600


def rmtree(path: Path) -> None:
    """Remove a (possibly read-only) extracted tree without following symlinks."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
        return
    for dirpath, _dirnames, _files in os.walk(path, followlinks=False):
        with contextlib.suppress(OSError):
            os.chmod(dirpath, 0o700)
    shutil.rmtree(path, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ScratchNames:
    """Temporary names this process hands out, and the cleaning of leftovers. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: set[str] = set()

    def new(self, what: str) -> str:
        """A fresh temporary name, in use until :meth:`done`."""
        name = f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{what}"
        with self._lock:
            self._active.add(name)
        return name

    def done(self, name: str) -> None:
        with self._lock:
            self._active.discard(name)

    def clean(self, directory: Path) -> None:
        """Remove temp entries left by crashed processes (or stale for a day)."""
        try:
            entries = list(directory.iterdir())
        except OSError:
            return
        now = time.time()
        with self._lock:
            active = set(self._active)
        for entry in entries:
            if not entry.name.startswith(TMP_PREFIX):
                continue
            base = entry.name.removesuffix(".tar")
            try:
                pid = int(base[len(TMP_PREFIX) :].split("-", 1)[0])
            except ValueError:
                pid = -1
            if pid == os.getpid():
                leftover = base not in active
            else:
                leftover = pid <= 0 or not _pid_alive(pid)
            try:
                stale = now - entry.lstat().st_mtime > _STALE_TMP_SECONDS
            except OSError:
                continue
            if leftover or stale:
                _log.debug("removing leftover %s", entry)
                rmtree(entry)
