"""The sync state machine (``engine/sync/run.py``) over an in-memory ``KubeOps`` fake.

These check OUR ordering and bookkeeping fast: waves in order, waits between waves,
hooks and their delete policies, failure handling, terminate, prune order, the dry
run gate. What the server decides (dry runs, conflicts, deletion, health from real
controllers) is checked against the real control plane in tests/cluster/test_sync.py.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from kubeops_fake import FakeKube, Write

from gitops_tui.engine.annotations import HOOK, HOOK_DELETE_POLICY, SYNC_WAVE
from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.cache.tracking import with_tracking
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.snapshot import OperationPhase, OperationState, ResultCode
from gitops_tui.engine.sync import run as sync
from gitops_tui.engine.sync import work as sync_work
from gitops_tui.engine.sync.plan import SyncPlan, build_plan
from gitops_tui.engine.sync.run import SyncSettings, run_sync

NS = "default"
READY_POD: Manifest = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync_work, "POLL_SECONDS", 0.01)  # every wait of a run polls there


def obj(
    kind: str,
    name: str,
    *,
    wave: int | None = None,
    hook: str | None = None,
    policy: str | None = None,
) -> Manifest:
    annotations: dict[str, str] = {}
    if wave is not None:
        annotations[SYNC_WAVE] = str(wave)
    if hook is not None:
        annotations[HOOK] = hook
    if policy is not None:
        annotations[HOOK_DELETE_POLICY] = policy
    out: Manifest = {
        "apiVersion": "v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": NS, "annotations": annotations},
    }
    if kind == "Pod":
        policy_ = "Never" if hook else "Always"  # a hook runs to completion
        out["spec"] = {"restartPolicy": policy_, "containers": [{"name": "c", "image": "x"}]}
    return out


def key(kind: str, name: str) -> ResourceKey:
    return ResourceKey("", kind, NS, name)


def plan_of(
    desired: Sequence[Manifest],
    *,
    live: Sequence[Manifest] = (),
    prune: Sequence[Manifest] = (),
    app_options: Mapping[str, str] | None = None,
) -> SyncPlan:
    plan = build_plan(
        list(desired),
        {ResourceKey.of(o): o for o in live},
        {},
        list(prune),
        app_options=dict(app_options or {}),
        prune=True,
    )
    assert plan.ok, plan.errors
    return plan


def settings(**overrides: Any) -> SyncSettings:
    values: dict[str, Any] = {
        "app": "web",
        "revision": "abc1234",
        "destination_namespace": NS,
        "app_options": {},
        "wave_timeout_s": 10.0,
        "hook_timeout_s": 10.0,
    }
    values.update(overrides)
    return SyncSettings(**values)


class Run:
    """``run_sync`` on a thread; the test waits on its progress, never on time."""

    def __init__(self, fake: FakeKube, plan: SyncPlan, s: SyncSettings) -> None:
        self.cancel = threading.Event()
        self.states: list[OperationState] = []
        self.result: OperationState | None = None
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, args=(fake, plan, s), daemon=True)
        self._thread.start()

    def _progress(self, state: OperationState) -> None:
        with self._cond:
            self.states.append(state)
            self._cond.notify_all()

    def _run(self, fake: FakeKube, plan: SyncPlan, s: SyncSettings) -> None:
        self.result = run_sync(
            fake, plan, s, operation_id="op", on_progress=self._progress, cancel=self.cancel
        )

    def wait_message(self, part: str, timeout: float = 10.0) -> None:
        with self._cond:
            if not self._cond.wait_for(
                lambda: any(part in st.message for st in self.states), timeout
            ):
                raise AssertionError(f"no progress message with {part!r}: {self.states[-1:]}")

    def join(self, timeout: float = 15.0) -> OperationState:
        self._thread.join(timeout)
        assert self.result is not None, "the sync did not end"
        return self.result


def run(fake: FakeKube, plan: SyncPlan, s: SyncSettings | None = None) -> OperationState:
    return Run(fake, plan, s or settings()).join()


def names(writes: Sequence[Write]) -> list[str]:
    return [f"{w.verb} {w.key.name}" for w in writes]


def result(state: OperationState, name: str, phase: str = "Sync") -> Any:
    found = [r for r in state.results if r.key.name == name and r.phase == phase]
    assert len(found) == 1, (name, state.results)
    return found[0]


def play_pods(fake: FakeKube, status: Manifest) -> None:
    """A stand-in for the kubelet: every Pod written gets ``status``."""

    def react(write: Write, written: Manifest | None) -> None:
        if written is not None and write.key.kind == "Pod":
            fake.set_status(write.key, status)

    fake.on_write = react


# -- waves -----------------------------------------------------------------------------


def test_dry_run_of_everything_then_waves_in_order() -> None:
    fake = FakeKube()
    plan = plan_of([obj("ConfigMap", "c", wave=2), obj("ConfigMap", "a", wave=-1),
                    obj("ConfigMap", "b")])  # fmt: skip
    state = run(fake, plan)
    assert state.phase is OperationPhase.SUCCEEDED, state.message
    assert [w.dry_run for w in fake.writes] == [True] * 3 + [False] * 3
    assert names(fake.real_writes()) == ["apply a", "apply b", "apply c"]
    assert {r.key.name: r.status for r in state.results} == {n: ResultCode.SYNCED for n in "abc"}


def test_a_wave_waits_for_health_before_the_next() -> None:
    fake = FakeKube()
    play_pods(fake, {"phase": "Pending"})
    plan = plan_of([obj("Pod", "p", wave=0), obj("ConfigMap", "c", wave=1)])
    r = Run(fake, plan, settings())
    r.wait_message("Sync wave 0: Pod default/p (Progressing")
    assert names(fake.real_writes()) == ["apply p"]  # wave 1 waits
    fake.set_status(key("Pod", "p"), READY_POD)
    state = r.join()
    assert state.phase is OperationPhase.SUCCEEDED, state.message
    assert names(fake.real_writes()) == ["apply p", "apply c"]


def test_a_degraded_object_fails_its_wave_and_later_waves_never_run() -> None:
    fake = FakeKube()
    play_pods(fake, {"phase": "Failed", "message": "crashed"})
    plan = plan_of([obj("Pod", "p", wave=0), obj("ConfigMap", "c", wave=1)])
    state = run(fake, plan)
    assert state.phase is OperationPhase.FAILED
    assert "Pod default/p is Degraded" in state.message, state.message
    assert names(fake.real_writes()) == ["apply p"]


# -- hooks -----------------------------------------------------------------------------


def test_hooks_run_by_phase_and_their_delete_policies_act_on_the_outcome() -> None:
    fake = FakeKube()
    play_pods(fake, {"phase": "Succeeded"})
    plan = plan_of([
        obj("Pod", "pre", hook="PreSync", policy="HookSucceeded"),
        obj("ConfigMap", "c"),
        obj("Pod", "post", hook="PostSync", policy="HookFailed"),
    ])  # fmt: skip
    state = run(fake, plan)
    assert state.phase is OperationPhase.SUCCEEDED, state.message
    assert names(fake.real_writes()) == ["apply pre", "delete pre", "apply c", "apply post"]
    deleted = fake.real_writes("delete")[0]
    assert deleted.uid and deleted.uid.startswith("uid-")  # only the hook it created
    assert key("Pod", "pre") not in fake.objects
    assert key("Pod", "post") in fake.objects  # succeeded: HookFailed keeps it
    assert result(state, "pre", "PreSync").message.endswith("deleted (HookSucceeded)")
    assert result(state, "post", "PostSync").status is ResultCode.SYNCED


def test_a_failed_hook_is_deleted_by_hook_failed_and_stops_the_sync() -> None:
    fake = FakeKube()
    play_pods(fake, {"phase": "Failed", "message": "exit 1"})
    plan = plan_of([obj("Pod", "pre", hook="PreSync", policy="HookFailed"),
                    obj("ConfigMap", "c")])  # fmt: skip
    state = run(fake, plan)
    assert state.phase is OperationPhase.FAILED
    assert "one or more hooks failed" in state.message, state.message
    assert names(fake.real_writes()) == ["apply pre", "delete pre"]
    assert result(state, "pre", "PreSync").status is ResultCode.SYNC_FAILED


def test_before_hook_creation_replaces_only_the_apps_own_previous_hook() -> None:
    fake = FakeKube()
    play_pods(fake, {"phase": "Succeeded"})
    hook = obj("Pod", "pre", hook="PreSync", policy="BeforeHookCreation")
    old = fake.add({**with_tracking(hook, "web"), "status": {"phase": "Succeeded"}})
    state = run(fake, plan_of([hook, obj("ConfigMap", "c")], live=[old]))
    assert state.phase is OperationPhase.SUCCEEDED, state.message
    old_uid = old["metadata"]["uid"]
    dry = {(w.verb, w.key.name, w.uid) for w in fake.writes if w.dry_run}
    assert dry == {("delete", "pre", old_uid), ("apply", "c", None)}  # checks that delete
    real = fake.real_writes()
    assert names(real) == ["delete pre", "apply pre", "apply c"]
    assert real[0].uid == old_uid
    assert fake.objects[key("Pod", "pre")]["metadata"]["uid"] != old_uid


def test_a_hook_never_replaces_a_namesake_it_does_not_own() -> None:
    fake = FakeKube()
    hook = obj("Pod", "pre", hook="PreSync", policy="BeforeHookCreation")
    foreign = fake.add(obj("Pod", "pre"))  # not tracked by the app, not a hook
    state = run(fake, plan_of([hook, obj("ConfigMap", "c")], live=[foreign]))
    assert state.phase is OperationPhase.FAILED
    assert "is not a hook of app 'web'" in state.message, state.message
    assert [w for w in fake.writes if w.verb == "delete"] == []
    assert fake.real_writes() == []


# -- failure and terminate -------------------------------------------------------------


def test_a_failed_apply_stops_later_waves_and_runs_the_sync_fail_hooks() -> None:
    fake = FakeKube()
    play_pods(fake, {"phase": "Succeeded"})
    fake.fail("apply", key("ConfigMap", "b"), dry_run=False,
              error=KubeApiError(422, "Invalid", "data: too long"))  # fmt: skip
    plan = plan_of([
        obj("ConfigMap", "a", wave=0),
        obj("ConfigMap", "b", wave=1),
        obj("ConfigMap", "c", wave=2),
        obj("Pod", "cleanup", hook="SyncFail"),
    ])  # fmt: skip
    state = run(fake, plan)
    assert state.phase is OperationPhase.FAILED
    assert "ConfigMap default/b: Invalid: data: too long" in state.message, state.message
    assert "SyncFail hooks failed" not in state.message
    assert names(fake.real_writes()) == ["apply a", "apply b", "apply cleanup"]
    assert result(state, "b").status is ResultCode.SYNC_FAILED
    assert result(state, "cleanup", "SyncFail").status is ResultCode.SYNCED
    assert all(r.key.name != "c" for r in state.results)  # never started: not listed


def test_terminate_while_a_hook_runs_mid_wave_starts_nothing_more() -> None:
    fake = FakeKube()
    play_pods(fake, {"phase": "Running"})
    plan = plan_of([
        obj("Pod", "migrate", hook="Sync", policy="HookSucceeded"),
        obj("ConfigMap", "a"),  # same (phase, wave): applied after the hook
        obj("ConfigMap", "b", wave=1),
        obj("Pod", "cleanup", hook="SyncFail"),
    ])  # fmt: skip
    r = Run(fake, plan, settings(hook_timeout_s=5.0))
    r.wait_message("waiting for hook Pod default/migrate")
    r.cancel.set()
    state = r.join()
    assert state.phase is OperationPhase.FAILED
    assert state.message == sync.TERMINATED_MESSAGE
    assert names(fake.real_writes()) == ["apply migrate"]  # no apply, no SyncFail hook
    assert key("Pod", "migrate") in fake.objects  # a running hook is left running
    migrate = result(state, "migrate")
    assert migrate.status is ResultCode.SYNC_FAILED
    assert migrate.message.endswith("terminated (the hook was left running)")


def test_terminate_during_a_health_wait_stops_before_the_next_wave() -> None:
    fake = FakeKube()
    play_pods(fake, {"phase": "Pending"})
    plan = plan_of([obj("Pod", "p"), obj("ConfigMap", "c", wave=1)])
    r = Run(fake, plan, settings(wave_timeout_s=60.0))
    r.wait_message("Sync wave 0: Pod default/p")
    r.cancel.set()
    state = r.join(timeout=10.0)  # promptly: not at the end of the wave timeout
    assert state.message == sync.TERMINATED_MESSAGE, state.message
    assert names(fake.real_writes()) == ["apply p"]


# -- prunes ----------------------------------------------------------------------------


def test_prunes_run_first_in_their_wave_and_in_reverse_wave_order() -> None:
    fake = FakeKube()
    old = [fake.add(obj("ConfigMap", n, wave=w)) for n, w in (("x", 0), ("y", 1), ("z", 2))]
    plan = plan_of([obj("ConfigMap", "a", wave=0), obj("ConfigMap", "b", wave=1)], prune=old)
    state = run(fake, plan)
    assert state.phase is OperationPhase.SUCCEEDED, state.message
    assert names(fake.real_writes()) == [
        "delete z", "apply a", "delete y", "apply b", "delete x",
    ]  # fmt: skip
    for w in fake.real_writes("delete"):
        assert w.uid == next(o for o in old if o["metadata"]["name"] == w.key.name)[
            "metadata"]["uid"]  # fmt: skip
        assert w.propagation == "Foreground"
    assert {result(state, n).status for n in "xyz"} == {ResultCode.PRUNED}


def test_prune_last_prunes_after_the_last_wave() -> None:
    fake = FakeKube()
    old = fake.add(obj("ConfigMap", "x", wave=0))
    plan = plan_of(
        [obj("ConfigMap", "a", wave=0), obj("ConfigMap", "b", wave=1)],
        prune=[old],
        app_options={"PruneLast": "true"},
    )
    state = run(fake, plan)
    assert state.phase is OperationPhase.SUCCEEDED, state.message
    assert names(fake.real_writes()) == ["apply a", "apply b", "delete x"]


# -- the dry run gate ------------------------------------------------------------------


def test_a_dry_run_failure_applies_and_prunes_nothing() -> None:
    fake = FakeKube()
    old = fake.add(obj("ConfigMap", "x"))
    fake.fail("apply", key("ConfigMap", "b"), dry_run=True,
              error=KubeApiError(422, "Invalid", "metadata.labels: bad"))  # fmt: skip
    plan = plan_of([obj("ConfigMap", "a"), obj("ConfigMap", "b", wave=1)], prune=[old])
    state = run(fake, plan)
    assert state.phase is OperationPhase.FAILED
    assert "nothing was changed" in state.message, state.message
    assert "(dry run) Invalid: metadata.labels: bad" in result(state, "b").message
    assert fake.real_writes() == []
    assert key("ConfigMap", "x") in fake.objects


def test_a_dry_run_sync_writes_nothing() -> None:
    fake = FakeKube()
    old = fake.add(obj("ConfigMap", "x"))
    state = run(fake, plan_of([obj("ConfigMap", "a")], prune=[old]), settings(dry_run=True))
    assert state.phase is OperationPhase.SUCCEEDED, state.message
    assert state.message == "dry run: 1 objects would be applied, 1 pruned"
    assert fake.real_writes() == [] and len(fake.writes) == 2


def test_a_prune_never_deletes_a_namesake_recreated_since_the_comparison() -> None:
    fake = FakeKube()
    old = fake.add(obj("ConfigMap", "x", wave=1))

    def recreate_x(write: Write, written: Manifest | None) -> None:
        if write.key.name == "a":  # between the dry run and x's wave: x is re-created
            fake.remove(key("ConfigMap", "x"))
            fake.add(obj("ConfigMap", "x", wave=1))

    fake.on_write = recreate_x
    plan = plan_of([obj("ConfigMap", "a", wave=0)], prune=[old])
    state = run(fake, plan)
    assert state.phase is OperationPhase.FAILED
    assert "not pruned: the object was deleted and re-created" in state.message, state.message
    assert fake.real_writes("delete")[0].uid == old["metadata"]["uid"]
    assert key("ConfigMap", "x") in fake.objects  # the new one is untouched


# -- more paths of the state machine ---------------------------------------------------


def test_phases_run_before_waves_presync_sync_postsync_whatever_the_wave_numbers() -> None:
    fake = FakeKube()
    play_pods(fake, {"phase": "Succeeded"})
    plan = plan_of([
        obj("Pod", "post", hook="PostSync", wave=-10),
        obj("ConfigMap", "c", wave=-5),
        obj("Pod", "pre", hook="PreSync", wave=5),
        obj("ConfigMap", "d", wave=3),
    ])  # fmt: skip
    state = run(fake, plan)
    assert state.phase is OperationPhase.SUCCEEDED, state.message
    assert names(fake.real_writes()) == ["apply pre", "apply c", "apply d", "apply post"]


def test_a_failed_batch_stops_the_later_kinds_of_its_wave() -> None:
    fake = FakeKube()
    fake.fail("apply", key("Secret", "s"), dry_run=False,
              error=KubeApiError(422, "Invalid", "data: bad"))  # fmt: skip
    plan = plan_of([obj("ConfigMap", "c"), obj("Secret", "s")])  # one wave: Secret, then ConfigMap
    state = run(fake, plan)
    assert state.phase is OperationPhase.FAILED
    assert "one or more objects failed to apply: Secret default/s" in state.message, state.message
    assert names(fake.real_writes()) == ["apply s"]
    assert all(r.key.name != "c" for r in state.results)  # never started: not listed


def test_a_failed_presync_hook_applies_nothing_and_runs_the_sync_fail_hooks() -> None:
    fake = FakeKube()

    def kubelet(write: Write, written: Manifest | None) -> None:  # pre fails, cleanup succeeds
        if written is not None and write.key.kind == "Pod":
            phase = "Failed" if write.key.name == "pre" else "Succeeded"
            fake.set_status(write.key, {"phase": phase, "message": "exit 1"})

    fake.on_write = kubelet
    plan = plan_of([
        obj("Pod", "pre", hook="PreSync"),
        obj("ConfigMap", "c"),
        obj("Pod", "cleanup", hook="SyncFail"),
    ])  # fmt: skip
    state = run(fake, plan)
    assert state.phase is OperationPhase.FAILED
    assert "one or more hooks failed: Pod default/pre: exit 1" in state.message, state.message
    assert names(fake.real_writes()) == ["apply pre", "apply cleanup"]  # c never applied
    assert result(state, "cleanup", "SyncFail").status is ResultCode.SYNCED


def test_a_hook_that_never_completes_times_out_and_hook_failed_deletes_it() -> None:
    fake = FakeKube()
    play_pods(fake, {"phase": "Running"})
    plan = plan_of([obj("Pod", "pre", hook="PreSync", policy="HookFailed"),
                    obj("ConfigMap", "c")])  # fmt: skip
    state = run(fake, plan, settings(hook_timeout_s=0.2))  # the timeout is what is tested
    assert state.phase is OperationPhase.FAILED
    assert "Pod default/pre: did not complete within 0.2 s" in state.message, state.message
    assert names(fake.real_writes()) == ["apply pre", "delete pre"]
    deleted = fake.real_writes("delete")[0]
    assert deleted.uid and deleted.uid.startswith("uid-")  # only the hook it created
    assert key("Pod", "pre") not in fake.objects


def test_terminate_right_after_a_wave_starts_no_later_wave_and_no_sync_fail_hook() -> None:
    fake = FakeKube()
    cancel = threading.Event()

    def stop_after_a(write: Write, written: Manifest | None) -> None:
        if write.key.name == "a":  # a ConfigMap is healthy at once: no wait between waves
            cancel.set()

    fake.on_write = stop_after_a
    plan = plan_of([obj("ConfigMap", "a"), obj("ConfigMap", "b", wave=1),
                    obj("Pod", "cleanup", hook="SyncFail")])  # fmt: skip
    state = run_sync(fake, plan, settings(), operation_id="op", on_progress=lambda _s: None,
                     cancel=cancel)  # fmt: skip
    assert state.phase is OperationPhase.FAILED
    assert state.message == sync.TERMINATED_MESSAGE, state.message
    assert names(fake.real_writes()) == ["apply a"]
    assert result(state, "a").status is ResultCode.SYNCED


def test_a_pruned_object_must_be_gone_before_the_next_wave() -> None:
    fake = FakeKube()
    old = fake.add(obj("ConfigMap", "x", wave=0))

    def finalizer_holds_x(write: Write, written: Manifest | None) -> None:
        if write.verb == "delete" and write.key.name == "x":  # still there, being deleted
            fake.add({**old, "metadata": {**old["metadata"], "deletionTimestamp": "now"}})

    fake.on_write = finalizer_holds_x
    plan = plan_of([obj("ConfigMap", "a", wave=0), obj("ConfigMap", "b", wave=1)], prune=[old])
    r = Run(fake, plan, settings())
    r.wait_message("Sync wave 0: ConfigMap default/x (waiting for the deletion to finish)")
    assert names(fake.real_writes()) == ["delete x", "apply a"]  # b waits
    fake.remove(key("ConfigMap", "x"))
    state = r.join()
    assert state.phase is OperationPhase.SUCCEEDED, state.message
    assert names(fake.real_writes()) == ["delete x", "apply a", "apply b"]


def test_a_dry_run_sync_with_hooks_and_a_namespace_to_create_writes_nothing() -> None:
    fake = FakeKube()
    hook = obj("Pod", "pre", hook="PreSync", policy="BeforeHookCreation")
    old_hook = fake.add({**with_tracking(hook, "web"), "status": {"phase": "Succeeded"}})
    stale = fake.add(obj("ConfigMap", "x"))
    fresh = {**obj("ConfigMap", "c"), "metadata": {"name": "c"}}  # into the destination
    plan = plan_of([hook, fresh], live=[old_hook], prune=[stale],
                   app_options={"CreateNamespace": "true"})  # fmt: skip
    s = settings(dry_run=True, destination_namespace="new", app_options={"CreateNamespace": "true"})
    state = run(fake, plan, s)
    assert state.phase is OperationPhase.SUCCEEDED, state.message
    assert fake.real_writes() == []
    assert all(w.dry_run for w in fake.writes)
    assert ResourceKey("", "Namespace", "", "new") not in fake.objects
    assert key("Pod", "pre") in fake.objects and key("ConfigMap", "x") in fake.objects
    created = [r for r in state.results if r.key.name == "c"]
    assert created and created[0].message == (
        "(dry run) not checked: namespace new is created by this sync"
    )
