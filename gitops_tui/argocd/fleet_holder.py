"""What both Argo CD backends share: the published fleet, its subscribers, the publish
loop and the waits on it, under one condition variable (``_lock``), set up by the
backend's ``__init__`` (with ``_dirty``, ``_stop`` and ``_publish_interval_s``).

The publish loop: a change sets ``_dirty``; the loop clears it, builds a snapshot
(``_build``, the backend's own) and publishes it to the subscribers, then waits
``_publish_interval_s`` before the next (a burst of changes: one build). A change
during a build sets ``_dirty`` again, so it is in the next build: none is lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from gitops_tui.engine.api import FleetSnapshot, OperationState, Unsubscribe

log = logging.getLogger(__name__)


class FleetHolder:
    _lock: threading.Condition
    _fleet: FleetSnapshot
    _subscribers: list[Callable[[FleetSnapshot], None]]
    _dirty: threading.Event
    _stop: threading.Event
    _publish_interval_s: float

    def _build(self) -> FleetSnapshot:
        raise NotImplementedError

    def _has_listed(self) -> bool:
        """Whether the Applications were listed once (before, nothing is known yet)."""
        raise NotImplementedError

    # -- publishing -----------------------------------------------------------------

    def _publish_loop(self) -> None:
        while not self._stop.is_set():
            self._dirty.wait()
            if self._stop.is_set():
                return
            self._dirty.clear()
            try:
                self._publish()
            except Exception:
                log.exception("building the fleet snapshot failed")
            self._stop.wait(self._publish_interval_s)

    def _publish(self) -> None:
        """Build a snapshot and hand it to the subscribers (waiters are woken)."""
        fleet = self._build()
        with self._lock:
            self._fleet = fleet
            subscribers = list(self._subscribers)
            self._lock.notify_all()
        for callback in subscribers:
            try:
                callback(fleet)
            except Exception:
                log.exception("a snapshot subscriber failed")

    # -- reading --------------------------------------------------------------------

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

    def uncompared(self, apps: Iterable[str] | None = None) -> list[str]:
        """Apps Argo CD has not compared yet (no ``status.sync.status``)."""
        if not self._has_listed():
            return []
        fleet = self.snapshot()
        names = list(apps) if apps is not None else [a.name for a in fleet.apps]
        return [n for n in names if n not in fleet.by_name or not fleet.by_name[n].compared_at]

    def wait_until_compared(
        self, timeout: float = 120.0, apps: Iterable[str] | None = None
    ) -> bool:
        wanted = list(apps) if apps is not None else None
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                fleet = self._fleet
                if self._has_listed() and fleet.generation > 0:
                    names = wanted if wanted is not None else [a.name for a in fleet.apps]
                    if all(n in fleet.by_name and fleet.by_name[n].compared_at for n in names):
                        return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.5))

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
