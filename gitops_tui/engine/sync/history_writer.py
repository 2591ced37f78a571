"""An operation's progress in the history store, written at a bounded rate.

A sync publishes its state after every resource result (about two per object).
:class:`ThrottledHistory` hands each state to the store's shared
:class:`~gitops_tui.engine.sync.history_batch.ProgressBatcher`, which writes the
newest state of every running entry in one transaction at most every 250 ms (no
thread or transaction per entry). A phase change is written at once, in a
transaction of its own; nothing is written after :meth:`ThrottledHistory.close`:
the caller then writes the final state itself, which is therefore always the last
one written.
"""

from __future__ import annotations

import logging
import threading

from gitops_tui.engine.snapshot import OperationPhase, OperationState
from gitops_tui.engine.sync.history import HistoryStore
from gitops_tui.engine.sync.history_batch import HISTORY_INTERVAL_S

__all__ = ["HISTORY_INTERVAL_S", "ThrottledHistory"]

log = logging.getLogger(__name__)


class ThrottledHistory:
    """Progress updates of history entry ``entry_id``: phase changes at once, else batched.

    ``phase`` is the phase the entry was begun with (``HistoryStore.begin`` wrote it).
    """

    def __init__(
        self,
        store: HistoryStore,
        entry_id: int,
        *,
        phase: OperationPhase = OperationPhase.RUNNING,
    ) -> None:
        self._store = store
        self._batcher = store.progress
        self._entry_id = entry_id
        self._lock = threading.Lock()
        self._last_phase = phase
        self._closed = False
        self.writes = 0
        """Phase changes written at once (progress goes to the batcher)."""

    def update(self, operation: OperationState) -> None:
        with self._lock:
            if self._closed:
                return
            if operation.phase == self._last_phase:
                self._batcher.put(self._entry_id, operation)
                return
            # A phase change: durable now. An older pending state is dropped; one a batch
            # already took is committed before this write (the batch holds the store's lock).
            self._last_phase = operation.phase
            self._batcher.discard(self._entry_id)
            self.writes += 1
            try:
                self._store.update(self._entry_id, operation)
            except Exception:
                log.exception("history update failed")

    def close(self) -> None:
        """Write nothing more (a pending state is dropped: the final state follows)."""
        with self._lock:
            self._closed = True
            self._batcher.discard(self._entry_id)
