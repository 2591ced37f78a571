"""Automated sync policy: when an automated app syncs, retries, self-heals or waits.

Pure bookkeeping with an injectable clock (no threads, no cluster): the reconciler
asks :meth:`Automation.decide` after every comparison and acts on the answer. The
rules follow Argo CD's ``controller/appcontroller.go`` (``autoSync``):

* a revision not yet attempted by automation is synced at once (allowEmpty aside);
* a failed automated sync of the same revision is retried ``retry.limit`` times
  *after* the first attempt (negative: forever; unset: 5), retry ``n`` (0-based)
  ``min(maxDuration, duration * factor**n)`` after the previous attempt finished,
  so the first retry waits ``backoff.duration``;
* with ``selfHeal``, drift after a successful sync of the same revision is synced
  again; attempt ``n`` (1-based, counted since the last reset) waits
  ``min(300 s, 2 s * 3**(n-2))`` after the previous sync finished (the first waits
  nothing). The count resets on a new revision, and once the app has been seen
  Synced with the last sync finished at least ``heal_cooldown_s`` (330 s, Argo CD's
  ``--self-heal-backoff-cooldown-seconds`` default) ago;
* with ``prune`` and without ``allowEmpty`` a sync that would leave the app with no
  resources is refused.

Whatever holds automation back (a failure, a pending retry, a self-heal backoff,
a refusal) is kept as the app's :class:`AutomationStatus`, which the snapshot
carries and turns into a condition.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from gitops_tui.engine.app.application import RetryPolicy, SyncPolicy
from gitops_tui.engine.model import Condition, ConditionType
from gitops_tui.engine.snapshot import AutomationStatus, OperationPhase, OperationState

DEFAULT_RETRY = RetryPolicy(limit=5)  # Argo CD: automated sync retries 5 times when unset
HEAL_BASE_S = 2.0
HEAL_FACTOR = 3.0
HEAL_CAP_S = 300.0
HEAL_COOLDOWN_S = 330.0
REFUSE_EMPTY = "it would delete every resource (allowEmpty is off)"

Action = Literal["sync", "heal", "wait", "skip", "refuse"]


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    status: AutomationStatus | None = None

    @property
    def starts_sync(self) -> bool:
        return self.action in ("sync", "heal")


def heal_delay(attempts: int) -> float:
    """Seconds a self-heal waits after ``attempts`` earlier self-heals (0 -> none)."""
    if attempts <= 0:
        return 0.0
    try:
        delay = HEAL_BASE_S * math.pow(HEAL_FACTOR, attempts - 1)
    except OverflowError:
        delay = math.inf
    return min(HEAL_CAP_S, delay)


def retry_delay(policy: RetryPolicy, retries_done: int) -> float:
    """Seconds before the next retry when ``retries_done`` retries already ran."""
    return policy.wait(retries_done)


def _clock_text(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


@dataclass
class _Record:
    revision: str = ""
    attempts: int = 0  # automated attempts at ``revision``: the first one plus retries
    heals: int = 0  # self-heal attempts since the last reset
    status: AutomationStatus | None = None


class Automation:
    """Per-app automated-sync state. Thread-safe; ``clock`` returns wall-clock seconds."""

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        *,
        heal_cooldown_s: float = HEAL_COOLDOWN_S,
    ) -> None:
        self._clock = clock
        self._cooldown = heal_cooldown_s
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()
        self._passes = 0
        self._passed = threading.Condition(self._lock)

    # ------------------------------------------------------------------ queries
    def status(self, app: str) -> AutomationStatus | None:
        with self._lock:
            record = self._records.get(app)
            return record.status if record else None

    def conditions(self, app: str) -> tuple[Condition, ...]:
        status = self.status(app)
        if status is None:
            return ()
        kind = (
            ConditionType.SELF_HEAL_BACKOFF
            if status.kind == "self-heal"
            else ConditionType.SYNC_ERROR
        )
        return (Condition(kind, status.message),)

    def forget(self, app: str) -> None:
        with self._lock:
            self._records.pop(app, None)

    def clear(self, app: str) -> None:
        """Automation went off for ``app`` (rollback, spec change): nothing is pending."""
        with self._lock:
            record = self._records.get(app)
            if record is not None:
                record.status = None

    # ------------------------------------------------------------------ loop passes
    def note_pass(self) -> None:
        """The engine's automation loop finished one pass over every app."""
        with self._passed:
            self._passes += 1
            self._passed.notify_all()

    @property
    def passes(self) -> int:
        with self._lock:
            return self._passes

    def wait_passes(self, count: int, timeout: float) -> bool:
        """Block until ``count`` more loop passes ran (a negative check's measured wait)."""
        with self._passed:
            target = self._passes + count
            return self._passed.wait_for(lambda: self._passes >= target, timeout)

    # ------------------------------------------------------------------ the decision
    def decide(
        self,
        app: str,
        policy: SyncPolicy,
        *,
        revision: str,
        out_of_sync: bool,
        empty: bool,
        last: OperationState | None,
    ) -> Decision:
        """What automation does now for ``app``; a sync decision is already counted."""
        now = self._clock()
        with self._lock:
            record = self._records.setdefault(app, _Record())
            decision = self._decide(record, policy, revision, out_of_sync, empty, last, now)
            record.status = decision.status
            return decision

    def _decide(
        self,
        record: _Record,
        policy: SyncPolicy,
        revision: str,
        out_of_sync: bool,
        empty: bool,
        last: OperationState | None,
        now: float,
    ) -> Decision:
        finished = last.finished_at if last is not None and last.finished_at else None
        if not out_of_sync:
            if finished is None or now - finished >= self._cooldown:
                record.heals = 0
            return Decision("skip")
        attempted = (
            last is not None
            and last.initiated_by == "automated"
            and not last.dry_run
            # a sync that failed while planning never learnt its revision
            and (
                last.revision == revision
                or (not last.revision and last.phase != OperationPhase.SUCCEEDED)
            )
        )
        short = revision[:7]
        if not attempted or last is None:
            if policy.prune and not policy.allow_empty and empty:
                return self._refuse(short)
            record.revision, record.attempts, record.heals = revision, 1, 0
            return Decision("sync")
        if record.revision != revision:  # attempted before this console started
            record.revision, record.attempts = revision, 1
        if last.phase == OperationPhase.SUCCEEDED:
            if not policy.self_heal:
                return Decision("skip")
            attempt = record.heals + 1
            due = (finished or now) + heal_delay(record.heals)
            if now < due:
                return Decision(
                    "wait",
                    AutomationStatus(
                        kind="self-heal",
                        message=(
                            f"self-heal attempt {attempt} waits until {_clock_text(due)} "
                            f"(backoff {heal_delay(record.heals):g} s after the last sync)"
                        ),
                        attempt=attempt,
                        next_at=due,
                    ),
                )
            if policy.prune and not policy.allow_empty and empty:
                return self._refuse(short)
            record.heals = attempt
            return Decision("heal")
        retry = policy.retry or DEFAULT_RETRY
        retries_done = max(record.attempts - 1, 0)
        reason = f"automated sync to {short} failed: {last.message or last.phase.value}"
        if 0 <= retry.limit <= retries_done:
            tried = f"retried {retries_done} time{'s' if retries_done != 1 else ''}"
            return Decision(
                "skip",
                AutomationStatus(
                    kind="failed",
                    message=f"{reason} ({tried}; no more retries of this revision)",
                    attempt=record.attempts,
                ),
            )
        due = (finished or now) + retry_delay(retry, retries_done)
        if now < due:
            of = f" of {retry.limit}" if retry.limit >= 0 else ""
            return Decision(
                "wait",
                AutomationStatus(
                    kind="retry",
                    message=f"{reason} (retry {retries_done + 1}{of} at {_clock_text(due)})",
                    attempt=record.attempts + 1,
                    next_at=due,
                ),
            )
        if policy.prune and not policy.allow_empty and empty:
            return self._refuse(short)
        record.attempts += 1
        return Decision("sync")

    @staticmethod
    def _refuse(short: str) -> Decision:
        return Decision(
            "refuse",
            AutomationStatus(
                kind="refused", message=f"automated sync to {short} refused: {REFUSE_EMPTY}"
            ),
        )
