"""One writer per history store: the progress of every running entry, one transaction.

With hundreds of syncs running at once, a transaction (and a WAL append) per entry
every 250 ms, each with its own timer thread, cost tens of CPU-seconds in a first sync
of a fleet. :class:`ProgressBatcher` keeps the newest pending state per entry and
writes them all in one ``executemany`` transaction, at most every ``interval``
seconds, from one thread of its own (started at the first update, idle when nothing
is pending).

Ordering: the pending states are taken out *inside* the store's write transaction
(under the store's lock). So once :meth:`ProgressBatcher.discard` has returned, a
state of that entry is either already committed or never written: a write the caller
makes afterwards (a phase change, the final state) is always the last one.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from gitops_tui.engine.snapshot import OperationState

if TYPE_CHECKING:
    from gitops_tui.engine.sync.history import HistoryStore

log = logging.getLogger(__name__)

HISTORY_INTERVAL_S = 0.25
"""The most often the progress of running entries is written (one transaction)."""


class ProgressBatcher:
    """Newest pending progress per entry of ``store``, written together every ``interval``."""

    def __init__(self, store: HistoryStore, interval: float = HISTORY_INTERVAL_S) -> None:
        self._store = store
        self._interval = interval
        self._cond = threading.Condition()
        self._pending: dict[int, OperationState] = {}
        # entries taken by the write in flight and not discarded since: what a failed
        # write hands back (a discarded entry was written by its caller meanwhile)
        self._in_flight: set[int] = set()
        self._failing = False
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.transactions = 0
        """Batches written (each one transaction); for tests and measurements."""
        self.rows = 0
        """States written by those batches."""

    def put(self, entry_id: int, operation: OperationState) -> None:
        """Make ``operation`` the state of ``entry_id`` written with the next batch."""
        with self._cond:
            if self._stopped:
                return
            self._pending[entry_id] = operation
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="history-writer", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def discard(self, entry_id: int) -> None:
        """Drop the pending state of ``entry_id``; afterwards no batch writes an older one."""
        with self._cond:
            self._pending.pop(entry_id, None)
            self._in_flight.discard(entry_id)

    def flush(self) -> None:
        """Write every pending state now, in the calling thread (one transaction)."""
        self._write_batch()

    def close(self) -> None:
        """Write what is pending, then stop the writer thread (called by the store's close)."""
        with self._cond:
            self._stopped = True
            thread = self._thread
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self._write_batch()

    def _take(self) -> dict[int, OperationState]:
        with self._cond:
            taken, self._pending = self._pending, {}
            self._in_flight = set(taken)
            return taken

    def _write_batch(self) -> None:
        with self._cond:
            if not self._pending:
                return
        taken: dict[int, OperationState] = {}

        def take() -> dict[int, OperationState]:
            taken.update(self._take())
            return taken

        try:
            written = self._store.write_progress(take)
        except Exception:
            with self._cond:
                # handed back for the next batch, unless a newer state came or the
                # entry's caller discarded it (and wrote its own state) meanwhile
                for entry_id, operation in taken.items():
                    if entry_id in self._in_flight:
                        self._pending.setdefault(entry_id, operation)
                self._in_flight = set()
                first, self._failing = not self._failing, True
            if first:  # once per run of failures, not every interval
                log.exception("history progress write failed (retried with the next batch)")
            return
        with self._cond:
            self._in_flight = set()
            self._failing = False
            if written:
                self.transactions += 1
                self.rows += written

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._stopped)
                if self._stopped:
                    return
            self._write_batch()
            with self._cond:  # pace: the next batch no sooner than ``interval`` from now
                self._cond.wait_for(lambda: self._stopped, timeout=self._interval)
