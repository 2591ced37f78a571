"""The automated-sync policy with an injected clock: retries, self-heal backoff, refusals."""

from __future__ import annotations

from gitops_tui.engine.app.application import RetryPolicy, SyncPolicy
from gitops_tui.engine.controller.automation import Automation, heal_delay
from gitops_tui.engine.model import ConditionType
from gitops_tui.engine.snapshot import OperationPhase, OperationState

REV = "a" * 40
REV2 = "b" * 40


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def op(
    phase: OperationPhase, finished: float, *, revision: str = REV, message: str = ""
) -> OperationState:
    return OperationState(
        id="x",
        app="a",
        phase=phase,
        message=message,
        revision=revision,
        started_at=finished - 1,
        finished_at=finished,
        initiated_by="automated",
    )


def run_failing(policy: SyncPolicy, clock: Clock, horizon: float) -> list[float]:
    """Drive a sync that always fails; the times (relative) at which attempts start."""
    auto = Automation(clock)
    start = clock.now
    starts: list[float] = []
    last = None
    while clock.now - start < horizon:
        decision = auto.decide("a", policy, revision=REV, out_of_sync=True, empty=False, last=last)
        if decision.starts_sync:
            starts.append(clock.now - start)
            clock.now += 1.0  # the attempt takes one second and fails
            last = op(OperationPhase.FAILED, clock.now, message="boom")
        else:
            clock.now += 0.25
    return starts


def test_retry_limit_counts_retries_after_the_first_attempt() -> None:
    clock = Clock()
    one = SyncPolicy(automated=True, retry=RetryPolicy(limit=1, duration_s=5, factor=2))
    # first attempt at 0 (finishes at 1), one retry 5 s after it finished, then nothing
    assert run_failing(one, clock, 600) == [0.0, 6.0]
    two = SyncPolicy(automated=True, retry=RetryPolicy(limit=2, duration_s=5, factor=2))
    # second retry waits duration * factor = 10 s after the first retry finished (at 7)
    assert run_failing(two, Clock(), 600) == [0.0, 6.0, 17.0]
    none = SyncPolicy(automated=True, retry=RetryPolicy(limit=0))
    assert run_failing(none, Clock(), 600) == [0.0]


def test_retry_backoff_is_capped_and_unset_retry_means_five() -> None:
    capped = SyncPolicy(
        automated=True, retry=RetryPolicy(limit=4, duration_s=2, factor=10, max_duration_s=30)
    )
    # waits 2, 20, 30 (capped), 30 after each one-second failure
    assert run_failing(capped, Clock(), 600) == [0.0, 3.0, 24.0, 55.0, 86.0]
    default = run_failing(SyncPolicy(automated=True), Clock(), 1000)
    assert len(default) == 6  # the first attempt and 5 retries, 5 s * 2^n apart
    assert default[1] - default[0] == 6.0


def test_failure_and_pending_retry_are_sync_error_conditions() -> None:
    clock = Clock()
    auto = Automation(clock)
    policy = SyncPolicy(automated=True, retry=RetryPolicy(limit=1, duration_s=5))
    assert auto.decide(
        "a", policy, revision=REV, out_of_sync=True, empty=False, last=None
    ).starts_sync
    clock.now += 1
    failed = op(OperationPhase.FAILED, clock.now, message="ConfigMap x: invalid name")
    wait = auto.decide("a", policy, revision=REV, out_of_sync=True, empty=False, last=failed)
    assert wait.action == "wait" and wait.status is not None
    assert wait.status.kind == "retry" and wait.status.next_at == clock.now + 5
    (condition,) = auto.conditions("a")
    assert condition.type == ConditionType.SYNC_ERROR
    assert "invalid name" in condition.message and "retry 1 of 1 at" in condition.message
    clock.now += 5
    assert auto.decide(
        "a", policy, revision=REV, out_of_sync=True, empty=False, last=failed
    ).starts_sync
    clock.now += 1
    failed = op(OperationPhase.FAILED, clock.now, message="ConfigMap x: invalid name")
    done = auto.decide("a", policy, revision=REV, out_of_sync=True, empty=False, last=failed)
    assert done.action == "skip" and done.status is not None and done.status.kind == "failed"
    assert "retried 1 time;" in auto.conditions("a")[0].message
    # a new revision starts over; Synced clears the condition
    assert auto.decide(
        "a", policy, revision=REV2, out_of_sync=True, empty=False, last=failed
    ).starts_sync
    auto.decide("a", policy, revision=REV2, out_of_sync=False, empty=False, last=failed)
    assert auto.conditions("a") == ()


def test_allow_empty_refusal_is_a_condition() -> None:
    auto = Automation(Clock())
    policy = SyncPolicy(automated=True, prune=True)
    refused = auto.decide("a", policy, revision=REV, out_of_sync=True, empty=True, last=None)
    assert refused.action == "refuse"
    (condition,) = auto.conditions("a")
    assert condition.type == ConditionType.SYNC_ERROR
    assert "refused: it would delete every resource (allowEmpty is off)" in condition.message
    allowed = SyncPolicy(automated=True, prune=True, allow_empty=True)
    assert auto.decide(
        "a", allowed, revision=REV, out_of_sync=True, empty=True, last=None
    ).starts_sync
    # without prune nothing would be deleted: no refusal either
    keep = SyncPolicy(automated=True)
    assert auto.decide("b", keep, revision=REV, out_of_sync=True, empty=True, last=None).starts_sync


def heal_times(auto: Automation, clock: Clock, drifts: int, policy: SyncPolicy) -> list[float]:
    """Drift right after every self-heal; the gaps between a sync's end and the next heal."""
    last = op(OperationPhase.SUCCEEDED, clock.now)
    gaps: list[float] = []
    while len(gaps) < drifts:
        decision = auto.decide("a", policy, revision=REV, out_of_sync=True, empty=False, last=last)
        if decision.starts_sync:
            gaps.append(clock.now - (last.finished_at or 0))
            clock.now += 1
            last = op(OperationPhase.SUCCEEDED, clock.now)
        else:
            clock.now += 0.5
    return gaps


def test_self_heal_backoff_and_its_status() -> None:
    assert [heal_delay(n) for n in range(7)] == [0, 2, 6, 18, 54, 162, 300]
    clock = Clock()
    auto = Automation(clock)
    policy = SyncPolicy(automated=True, self_heal=True)
    assert heal_times(auto, clock, 4, policy) == [0, 2, 6, 18]
    last = op(OperationPhase.SUCCEEDED, clock.now)
    waiting = auto.decide("a", policy, revision=REV, out_of_sync=True, empty=False, last=last)
    assert waiting.action == "wait" and waiting.status is not None
    assert waiting.status.kind == "self-heal" and waiting.status.attempt == 5
    assert waiting.status.next_at == clock.now + 54
    (condition,) = auto.conditions("a")
    assert condition.type == ConditionType.SELF_HEAL_BACKOFF
    assert "self-heal attempt 5 waits until" in condition.message
    # without selfHeal a successful sync of the same revision is not repeated
    plain = SyncPolicy(automated=True)
    assert (
        auto.decide("p", plain, revision=REV, out_of_sync=True, empty=False, last=last).action
        == "skip"
    )


def test_self_heal_backoff_resets_after_a_synced_cooldown_or_a_new_revision() -> None:
    clock = Clock()
    auto = Automation(clock, heal_cooldown_s=330)
    policy = SyncPolicy(automated=True, self_heal=True)
    assert heal_times(auto, clock, 3, policy) == [0, 2, 6]
    last = op(OperationPhase.SUCCEEDED, clock.now)
    # Synced, but not for the cooldown yet: the count stays
    clock.now += 100
    auto.decide("a", policy, revision=REV, out_of_sync=False, empty=False, last=last)
    assert heal_times(auto, clock, 1, policy) == [18]
    last = op(OperationPhase.SUCCEEDED, clock.now)
    clock.now += 330
    auto.decide("a", policy, revision=REV, out_of_sync=False, empty=False, last=last)
    assert heal_times(auto, clock, 2, policy) == [0, 2]
    # a new revision resets it too
    new = auto.decide(
        "a",
        policy,
        revision=REV2,
        out_of_sync=True,
        empty=False,
        last=op(OperationPhase.SUCCEEDED, clock.now),
    )
    assert new.action == "sync"
    last = op(OperationPhase.SUCCEEDED, clock.now, revision=REV2)
    assert (
        auto.decide("a", policy, revision=REV2, out_of_sync=True, empty=False, last=last).action
        == "heal"
    )


def test_loop_passes_are_counted_for_negative_checks() -> None:
    auto = Automation(Clock())
    assert not auto.wait_passes(1, timeout=0.01)
    auto.note_pass()
    assert auto.passes == 1
