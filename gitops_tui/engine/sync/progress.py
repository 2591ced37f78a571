"""The results and progress of one sync operation (``Progress``).

One ``ResourceResult`` per task (keyed by object and phase: a hook may run in two
phases), the operation's message, and ``OperationState`` snapshots: one is
published to ``on_progress`` after every change, from any worker thread (a lock
guards them; ``on_progress`` is called outside it, in order, a state older than one
already published being dropped). ``finish`` makes the final state: tasks still running are marked
failed ("terminated", or "not finished"; a hook "was left running"), tasks that
never started are not listed.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable

from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.snapshot import OperationPhase, OperationState, ResourceResult, ResultCode
from gitops_tui.engine.sync.messages import truncate
from gitops_tui.engine.sync.plan import TaskAction
from gitops_tui.engine.sync.settings import SyncSettings
from gitops_tui.engine.sync.work import Work

log = logging.getLogger(__name__)


class Progress:
    def __init__(
        self,
        settings: SyncSettings,
        operation_id: str,
        on_progress: Callable[[OperationState], None],
        cancel: threading.Event,
    ) -> None:
        self.s = settings
        self.id = operation_id
        self.on_progress = on_progress
        self.cancel = cancel
        self.started_at = time.time()
        self.message = "starting"
        self.lock = threading.RLock()
        self.entries: dict[tuple[ResourceKey, str], ResourceResult] = {}
        self._made = 0  # states made (under ``lock``)
        self._published = 0  # the newest state handed to ``on_progress``
        self._publish_lock = threading.Lock()

    def _state(self, phase: OperationPhase, *, final: bool = False) -> OperationState:
        results = tuple(self.entries.values())
        if final:
            results = tuple(r for r in results if r.status is not ResultCode.PENDING)
        return OperationState(
            id=self.id,
            app=self.s.app,
            phase=phase,
            message=self.message,
            revision=self.s.revision,
            started_at=self.started_at,
            finished_at=time.time() if final else None,
            initiated_by=self.s.initiated_by,
            dry_run=self.s.dry_run,
            prune=self.s.prune,
            results=results,
        )

    def publish(self) -> None:
        """Hand the current state to ``on_progress``, outside ``lock`` (workers go on
        recording results meanwhile); never an older state after a newer one."""
        with self.lock:
            self._made += 1
            number = self._made
            state = self._state(OperationPhase.RUNNING)
        with self._publish_lock:
            if number < self._published:
                return  # a newer state went out already
            self._published = number
            try:
                self.on_progress(state)
            except Exception:
                log.exception("sync progress callback failed")

    def set_message(self, message: str) -> None:
        with self.lock:
            if message == self.message:
                return
            self.message = message
        self.publish()

    @staticmethod
    def pending(work: Work) -> ResourceResult:
        """The result entry of a task that has not started."""
        task = work.task
        return ResourceResult(
            key=work.key,
            status=ResultCode.PENDING,
            message=task.note,
            phase=task.phase,
            wave=task.wave,
            action=task.action.value,
            hook=task.action is TaskAction.HOOK,
        )

    def list_pending(self, work: Work) -> None:
        """List ``work`` as pending (not published: the caller publishes)."""
        with self.lock:
            self.entries[work.slot] = self.pending(work)

    def set_result(self, work: Work, status: ResultCode, message: str | None = None) -> None:
        with self.lock:
            current = self.entries.get(work.slot) or self.pending(work)
            new = dataclasses.replace(
                current,
                key=work.key,
                status=status,
                message=current.message if message is None else message,
            )
            if new == current:
                return
            self.entries[work.slot] = new
        self.publish()

    def finish(self, phase: OperationPhase, message: str) -> OperationState:
        with self.lock:
            self.message = truncate(message)
            for slot, entry in list(self.entries.items()):
                if entry.status is ResultCode.RUNNING:
                    note = "terminated" if self.cancel.is_set() else "not finished"
                    if entry.hook:
                        note += " (the hook was left running)"
                    self.entries[slot] = dataclasses.replace(
                        entry,
                        status=ResultCode.SYNC_FAILED,
                        message=(entry.message + "; " if entry.message else "") + note,
                    )
            return self._state(phase, final=True)
