"""What both Argo CD backends share: the published fleet, its subscribers and the waits
on it, under one condition variable (``_lock``), set up by the backend's ``__init__``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from gitops_tui.engine.api import FleetSnapshot, OperationState, Unsubscribe


class FleetHolder:
    _lock: threading.Condition
    _fleet: FleetSnapshot
    _subscribers: list[Callable[[FleetSnapshot], None]]

    def subscribe(self, callback: Callable[[FleetSnapshot], None]) -> Unsubscribe:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def snapshot(self) -> FleetSnapshot:
        with self._lock:
            return self._fleet

    def wait_for_operation(
        self, app: str, op_id: str, timeout: float = 600.0
    ) -> OperationState | None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                snap = self._fleet.by_name.get(app)
                op = snap.operation if snap is not None else None
                if op is not None and op.id == op_id and op.phase.done:
                    return op
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._lock.wait(min(left, 0.5))
