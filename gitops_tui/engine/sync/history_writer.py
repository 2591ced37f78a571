"""An operation's progress in the history store, written at a bounded rate.

A sync publishes its state after every resource result (about two per object);
one SQLite transaction each made the history the slowest part of a small sync.
:class:`ThrottledHistory` writes a state at once when the phase changes, else at
most every ``interval`` seconds (the newest state, by a trailing timer), and
nothing after :meth:`ThrottledHistory.close`: the caller then writes the final
state itself, which is therefore always the last one written.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from gitops_tui.engine.snapshot import OperationPhase, OperationState
from gitops_tui.engine.sync.history import HistoryStore

log = logging.getLogger(__name__)

HISTORY_INTERVAL_S = 0.25


class ThrottledHistory:
    """Progress updates of history entry ``entry_id``: phase changes at once, else throttled."""

    def __init__(
        self,
        store: HistoryStore,
        entry_id: int,
        *,
        interval: float = HISTORY_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._entry_id = entry_id
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last_write = -math.inf
        self._last_phase: OperationPhase | None = None
        self._pending: OperationState | None = None
        self._timer: threading.Timer | None = None
        self._closed = False
        self.writes = 0

    def update(self, operation: OperationState) -> None:
        with self._lock:
            if self._closed:
                return
            now = self._clock()
            waited = now - self._last_write
            if operation.phase == self._last_phase and waited < self._interval:
                self._pending = operation
                if self._timer is None:
                    self._timer = threading.Timer(self._interval - waited, self._flush)
                    self._timer.daemon = True
                    self._timer.start()
                return
            self._pending = None
            self._write(operation, now)

    def close(self) -> None:
        """Write nothing more (a pending state is dropped: the final state follows)."""
        with self._lock:
            self._closed = True
            self._pending = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _flush(self) -> None:
        with self._lock:
            self._timer = None
            if self._closed or self._pending is None:
                return
            operation, self._pending = self._pending, None
            self._write(operation, self._clock())

    def _write(self, operation: OperationState, now: float) -> None:
        """Write under ``_lock``: states reach the store in the order they were made."""
        self._last_write = now
        self._last_phase = operation.phase
        self.writes += 1
        try:
            self._store.update(self._entry_id, operation)
        except Exception:
            log.exception("history update failed")
