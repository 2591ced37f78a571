"""The sync executor against the real sandbox: order, hooks, dry run, prune, conflicts, terminate.

What happens on the server is read back from the API and from the API server's
audit log (our requests carry the user agent ``gitops-tui/...``; ``kubectl`` runs
for client-side apply carry kubectl's own).

kwok (v0.7, built-in stages) completes the pods of Jobs, so Job hooks finish on
their own within about a second; a bare Pod with ``restartPolicy: Never`` stays
``Running`` forever, which is how a hook that never completes is made here.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from audit import audit_events, write_events
from kubernetes import client

from gitops_tui.engine.annotations import sync_options
from gitops_tui.engine.cache.cluster import ClusterConnection, UnknownKindError
from gitops_tui.engine.cache.kubeclient import KubeTarget
from gitops_tui.engine.cache.tracking import TRACKING_ANNOTATION, tracking_id, with_tracking
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.snapshot import OperationPhase, OperationState, ResultCode
from gitops_tui.engine.sync.plan import SyncPlan, build_plan
from gitops_tui.engine.sync.run import SyncSettings, run_sync
from gitops_tui.sandbox.toolchain import require_tool

pytestmark = pytest.mark.cluster

REVISION = "0123456789abcdef0123456789abcdef01234567"


# -- fixtures and helpers ----------------------------------------------------------------


@pytest.fixture
def conn(sandbox) -> Iterator[ClusterConnection]:  # type: ignore[no-untyped-def]
    connection = ClusterConnection("sandbox", KubeTarget(sandbox.kubeconfig, None))
    connection.start()
    yield connection
    connection.close()


@pytest.fixture
def core(kube_api) -> client.CoreV1Api:  # type: ignore[no-untyped-def]
    return client.CoreV1Api(kube_api)


def _wait(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def cm(
    name: str,
    namespace: str,
    *,
    wave: int | None = None,
    data: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> Manifest:
    ann = dict(annotations or {})
    if wave is not None:
        ann["argocd.argoproj.io/sync-wave"] = str(wave)
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if ann:
        meta["annotations"] = ann
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {"k": "v"}}


def job_hook(name: str, namespace: str, hook: str, *, policy: str | None = None) -> Manifest:
    meta: dict[str, Any] = {
        "namespace": namespace,
        "annotations": {"argocd.argoproj.io/hook": hook},
    }
    if name.endswith("-"):
        meta["generateName"] = name
    else:
        meta["name"] = name
    if policy:
        meta["annotations"]["argocd.argoproj.io/hook-delete-policy"] = policy
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "run", "image": "busybox", "command": ["true"]}],
                }
            },
        },
    }


def deployment(
    name: str, namespace: str, *, replicas: int = 1, wave: int | None = None
) -> Manifest:
    labels = {"app": name}
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if wave is not None:
        meta["annotations"] = {"argocd.argoproj.io/sync-wave": str(wave)}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }


def load_balancer(name: str, namespace: str, *, wave: int) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "annotations": {"argocd.argoproj.io/sync-wave": str(wave)},
        },
        "spec": {"type": "LoadBalancer", "selector": {"app": name}, "ports": [{"port": 80}]},
    }


def plan_for(
    conn: ClusterConnection,
    app: str,
    desired: Sequence[Manifest],
    *,
    prune_candidates: Sequence[Manifest] = (),
    app_options: dict[str, str] | None = None,
    prune: bool = True,
) -> SyncPlan:
    tracked = [with_tracking(obj, app) for obj in desired]
    live: dict[ResourceKey, Manifest] = {}
    for obj in tracked:
        key = ResourceKey.of(obj)
        if not key.name:
            continue
        try:
            found = conn.live(key)
        except UnknownKindError:
            found = None
        if found is not None:
            live[key] = found
    return build_plan(
        tracked, live, {}, prune_candidates, app_options=app_options or {}, prune=prune
    )


def stale_candidates(
    conn: ClusterConnection, app: str, desired: Sequence[Manifest]
) -> list[Manifest]:
    """What a comparison would offer for pruning: live objects of the app no longer desired."""
    wanted = {ResourceKey.of(obj) for obj in desired}
    return [obj for obj in conn.cache.tracked_by(app) if ResourceKey.of(obj) not in wanted]


def settings(app: str, namespace: str, **overrides: Any) -> SyncSettings:
    values: dict[str, Any] = {
        "app": app,
        "revision": REVISION,
        "destination_namespace": namespace,
        "app_options": {},
        "prune": True,
        "wave_timeout_s": 60.0,
        "hook_timeout_s": 60.0,
    }
    values.update(overrides)
    return SyncSettings(**values)


class Recorder:
    """Collects the progress states of one operation."""

    def __init__(self, hook: Callable[[OperationState], None] | None = None) -> None:
        self.states: list[OperationState] = []
        self.hook = hook

    def __call__(self, state: OperationState) -> None:
        self.states.append(state)
        if self.hook is not None:
            self.hook(state)


def sync(
    conn: ClusterConnection,
    plan: SyncPlan,
    config: SyncSettings,
    *,
    recorder: Recorder | None = None,
    cancel: threading.Event | None = None,
) -> OperationState:
    return run_sync(
        conn,
        plan,
        config,
        operation_id=uuid.uuid4().hex,
        on_progress=recorder if recorder is not None else Recorder(),
        cancel=cancel or threading.Event(),
    )


def results_by_name(state: OperationState) -> dict[str, Any]:
    return {r.key.name: r for r in state.results}


def tracked_cm(core: client.CoreV1Api, app: str, name: str, namespace: str, **kw: Any) -> str:
    """Create a ConfigMap that ``app`` tracks (as if an earlier sync made it); returns its uid."""
    obj = with_tracking(cm(name, namespace, **kw), app)
    return str(core.create_namespaced_config_map(namespace, obj).metadata.uid)


def wait_cached(conn: ClusterConnection, key: ResourceKey, present: bool = True) -> None:
    _wait(lambda: (conn.cache.get(key) is not None) == present, what=f"cache to see {key}")


def cm_exists(core: client.CoreV1Api, name: str, namespace: str) -> bool:
    try:
        core.read_namespaced_config_map(name, namespace)
    except client.ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def assert_untouched(core: client.CoreV1Api, name: str, namespace: str, uid: str) -> None:
    """Still there, the same object, and not being deleted (a dry-run delete must not delete)."""
    obj = core.read_namespaced_config_map(name, namespace)
    assert obj.metadata.uid == uid
    assert obj.metadata.deletion_timestamp is None
    assert not obj.metadata.finalizers


# -- the audit log -----------------------------------------------------------------------


def audit(box, conn: ClusterConnection, namespace: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Our completed requests in ``namespace`` (and on it), in log order (``tests/audit.py``:
    a marker request makes sure the log has caught up)."""
    assert conn.target.kubeconfig is not None
    return audit_events(box, conn.target.kubeconfig, 0, namespace, cluster_scoped=False)


def written_names(events: list[dict[str, Any]], resource: str | None = None) -> list[str]:
    return [
        str(e["objectRef"].get("name"))
        for e in events
        if resource is None or e["objectRef"].get("resource") == resource
    ]


# -- tests -------------------------------------------------------------------------------


def test_waves_are_applied_in_order_after_a_dry_run(conn, sandbox_box, namespace) -> None:  # type: ignore[no-untyped-def]
    app = f"app-{namespace}"
    desired = [
        cm("c-last", namespace, wave=2),
        deployment("web", namespace, wave=1),
        cm("b-middle", namespace, wave=1),
        cm("a-first", namespace, wave=-1),
    ]
    plan = plan_for(conn, app, desired)
    seen_at_wave_2: list[dict[str, Any]] = []

    def look_when_wave_2_starts(state: OperationState) -> None:
        # runs in the executor's thread right before c-last's apply request goes out
        entry = results_by_name(state).get("c-last")
        if entry is not None and entry.status is ResultCode.RUNNING and not seen_at_wave_2:
            dep = conn.get(ResourceKey("apps", "Deployment", namespace, "web"))
            seen_at_wave_2.append(dict((dep or {}).get("status") or {}))

    recorder = Recorder(look_when_wave_2_starts)
    state = sync(conn, plan, settings(app, namespace), recorder=recorder)

    assert state.phase is OperationPhase.SUCCEEDED, state.message
    assert state.finished_at is not None
    # wave 1's Deployment was healthy (rolled out, available) before wave 2 started
    assert seen_at_wave_2 and seen_at_wave_2[0].get("availableReplicas") == 1
    assert {r.key.name: r.status for r in state.results} == {
        "a-first": ResultCode.SYNCED,
        "b-middle": ResultCode.SYNCED,
        "web": ResultCode.SYNCED,
        "c-last": ResultCode.SYNCED,
    }
    assert {r.key.name: r.wave for r in state.results} == {
        "a-first": -1,
        "b-middle": 1,
        "web": 1,
        "c-last": 2,
    }
    # progress: Running states only, the first one lists the whole plan as Pending
    assert recorder.states and all(s.phase is OperationPhase.RUNNING for s in recorder.states)
    first_listed = next(s for s in recorder.states if s.results)
    assert {r.status for r in first_listed.results} == {ResultCode.PENDING}
    assert any(r.status is ResultCode.RUNNING for s in recorder.states for r in s.results), (
        "no Running entry was ever reported"
    )

    events = audit(sandbox_box, conn, namespace)
    dry = write_events(events, dry_run=True)
    real = write_events(events, dry_run=False)
    assert sorted(written_names(dry)) == ["a-first", "b-middle", "c-last", "web"]
    assert sorted(written_names(real)) == ["a-first", "b-middle", "c-last", "web"]
    assert all(e["verb"] == "patch" for e in real)  # server-side apply
    assert all("fieldManager=gitops-tui" in e["requestURI"] for e in real)
    assert all("fieldValidation=Strict" in e["requestURI"] for e in real)
    # every dry run finished before the first real write
    assert max(e["stageTimestamp"] for e in dry) <= min(e["requestReceivedTimestamp"] for e in real)
    by_name = {e["objectRef"]["name"]: e for e in real}
    # wave -1 done before wave 1 starts; wave 1 (incl. the Deployment's health) before wave 2
    assert by_name["a-first"]["stageTimestamp"] <= min(
        by_name["b-middle"]["requestReceivedTimestamp"], by_name["web"]["requestReceivedTimestamp"]
    )
    assert (
        max(by_name["b-middle"]["stageTimestamp"], by_name["web"]["stageTimestamp"])
        <= (by_name["c-last"]["requestReceivedTimestamp"])
    )
    c_last = conn.get(ResourceKey("", "ConfigMap", namespace, "c-last"))
    assert c_last is not None
    assert c_last["metadata"]["annotations"][TRACKING_ANNOTATION] == tracking_id(
        app, ResourceKey("", "ConfigMap", namespace, "c-last")
    )


def test_presync_job_completes_before_the_sync_wave_and_postsync_runs_after(  # type: ignore[no-untyped-def]
    conn, sandbox_box, namespace, kube_api
) -> None:
    app = f"app-{namespace}"
    desired = [
        job_hook("migrate-", namespace, "PreSync", policy="HookSucceeded"),
        cm("app-config", namespace),
        job_hook("notify", namespace, "PostSync"),  # default policy: BeforeHookCreation
    ]
    plan = plan_for(conn, app, desired)
    recorder = Recorder()
    state = sync(conn, plan, settings(app, namespace), recorder=recorder)
    assert state.phase is OperationPhase.SUCCEEDED, state.message

    hooks = [r for r in state.results if r.hook]
    assert [(r.phase, r.status) for r in hooks] == [
        ("PreSync", ResultCode.SYNCED),
        ("PostSync", ResultCode.SYNCED),
    ]
    presync_name = hooks[0].key.name
    assert presync_name == f"migrate-{REVISION[:7]}-presync-{int(state.started_at)}"
    assert "deleted (HookSucceeded)" in hooks[0].message

    # when the ConfigMap started, the PreSync hook had already completed
    first_cm_seen = next(
        s
        for s in recorder.states
        if "app-config" in results_by_name(s)
        and results_by_name(s)["app-config"].status is not ResultCode.PENDING
    )
    assert results_by_name(first_cm_seen)[presync_name].status is ResultCode.SYNCED
    assert results_by_name(first_cm_seen)["notify"].status is ResultCode.PENDING

    real = write_events(audit(sandbox_box, conn, namespace))
    order = [(e["verb"], e["objectRef"]["resource"], e["objectRef"]["name"]) for e in real]
    assert order == [
        ("patch", "jobs", presync_name),
        ("delete", "jobs", presync_name),  # HookSucceeded
        ("patch", "configmaps", "app-config"),
        ("patch", "jobs", "notify"),
    ]
    batch = client.BatchV1Api(kube_api)
    notify = batch.read_namespaced_job("notify", namespace)
    assert any(c.type == "Complete" and c.status == "True" for c in notify.status.conditions)

    def presync_gone() -> bool:
        names = [j.metadata.name for j in batch.list_namespaced_job(namespace).items]
        return presync_name not in names

    _wait(presync_gone, what="the HookSucceeded job to be deleted")

    # a second sync re-runs the named PostSync hook: BeforeHookCreation deletes the old one
    old_uid = notify.metadata.uid
    time.sleep(1.1)  # a new second: the PreSync hook gets a new generated name
    state2 = sync(conn, plan_for(conn, app, desired), settings(app, namespace))
    assert state2.phase is OperationPhase.SUCCEEDED, state2.message
    renewed = batch.read_namespaced_job("notify", namespace)
    assert renewed.metadata.uid != old_uid
    real2 = write_events(audit(sandbox_box, conn, namespace))[len(real) :]
    notify_ops = [e["verb"] for e in real2 if e["objectRef"]["name"] == "notify"]
    assert notify_ops == ["delete", "patch"]


def test_a_hook_that_never_completes_fails_the_sync_and_runs_syncfail_hooks(  # type: ignore[no-untyped-def]
    conn, namespace, core
) -> None:
    app = f"app-{namespace}"
    stuck_pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "stuck",
            "namespace": namespace,
            "annotations": {
                "argocd.argoproj.io/hook": "PreSync",
                "argocd.argoproj.io/hook-delete-policy": "HookFailed",
            },
        },
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "run", "image": "busybox", "command": ["sleep", "1"]}],
        },
    }
    on_fail = cm("on-fail", namespace, annotations={"argocd.argoproj.io/hook": "SyncFail"})
    plan = plan_for(conn, app, [stuck_pod, cm("app-config", namespace), on_fail])
    assert [t.key.name for t in plan.sync_fail_tasks] == ["on-fail"]

    started = time.monotonic()
    state = sync(conn, plan, settings(app, namespace, hook_timeout_s=2.0))
    assert time.monotonic() - started < 30
    assert state.phase is OperationPhase.FAILED
    assert f"Pod {namespace}/stuck" in state.message
    assert "did not complete within 2 s" in state.message
    results = results_by_name(state)
    assert results["stuck"].status is ResultCode.SYNC_FAILED
    assert "deleted (HookFailed)" in results["stuck"].message
    assert results["on-fail"].status is ResultCode.SYNCED
    assert results["on-fail"].phase == "SyncFail"
    assert "app-config" not in results  # never started: not reported
    assert cm_exists(core, "on-fail", namespace)
    assert not cm_exists(core, "app-config", namespace)


def test_a_failed_dry_run_applies_nothing(conn, sandbox_box, namespace, core) -> None:  # type: ignore[no-untyped-def]
    app = f"app-{namespace}"
    stale_uid = tracked_cm(core, app, "stale", namespace)
    wait_cached(conn, ResourceKey("", "ConfigMap", namespace, "stale"))
    bad = cm("bad", namespace)
    bad["metadata"]["labels"] = {"tier": "not a valid label value!"}
    desired = [cm("good-1", namespace, wave=-1), bad, deployment("web", namespace, wave=3)]
    plan = plan_for(
        conn, app, desired, prune_candidates=stale_candidates(conn, app, desired), prune=True
    )
    assert [t.action.value for t in plan.tasks].count("Prune") == 1

    state = sync(conn, plan, settings(app, namespace))
    assert state.phase is OperationPhase.FAILED
    assert "dry run" in state.message
    assert f"ConfigMap {namespace}/bad" in state.message
    assert "Invalid" in state.message and "labels" in state.message
    failed = [r for r in state.results if r.status is ResultCode.SYNC_FAILED]
    assert [r.key.name for r in failed] == ["bad"]
    assert failed[0].message.startswith("(dry run)")

    events = audit(sandbox_box, conn, namespace)
    assert write_events(events, dry_run=False) == []
    dry = write_events(events, dry_run=True)
    assert sorted(written_names(dry)) == ["bad", "good-1", "stale", "web"]
    assert not cm_exists(core, "good-1", namespace)
    assert_untouched(core, "stale", namespace, stale_uid)


def test_plan_errors_touch_nothing(conn, sandbox_box, namespace) -> None:  # type: ignore[no-untyped-def]
    app = f"app-{namespace}"
    plan = plan_for(
        conn, app, [cm("x", namespace, annotations={"argocd.argoproj.io/sync-wave": "soon"})]
    )
    assert plan.errors
    state = sync(conn, plan, settings(app, namespace))
    assert state.phase is OperationPhase.FAILED
    assert "sync-wave" in state.message and "not an integer" in state.message
    assert state.results == ()
    assert write_events(audit(sandbox_box, conn, namespace), dry_run=None) == []


def test_unknown_kind_fails_the_dry_run_but_a_crd_in_the_same_plan_is_fine(  # type: ignore[no-untyped-def]
    conn, namespace
) -> None:
    app = f"app-{namespace}"
    group = f"{namespace}.example.com"
    widget = {
        "apiVersion": f"{group}/v1",
        "kind": "Widget",
        "metadata": {"name": "w1", "namespace": namespace},
        "spec": {"size": 3},
    }
    state = sync(conn, plan_for(conn, app, [widget, cm("c", namespace)]), settings(app, namespace))
    assert state.phase is OperationPhase.FAILED
    assert f"Widget {namespace}/w1" in state.message
    assert f"no resource type Widget.{group} (is its CRD installed?)" in state.message

    # SkipDryRunOnMissingResource lets it through the dry run; the real apply then fails
    skipping = {
        **widget,
        "metadata": {
            **widget["metadata"],
            "annotations": {"argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true"},
        },
    }
    state = sync(
        conn, plan_for(conn, app, [skipping, cm("c", namespace)]), settings(app, namespace)
    )
    assert state.phase is OperationPhase.FAILED
    assert "(dry run)" not in state.message
    results = results_by_name(state)
    assert results["c"].status is ResultCode.SYNCED
    assert results["w1"].status is ResultCode.SYNC_FAILED
    assert "is its CRD installed?" in results["w1"].message

    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {"size": {"type": "integer"}},
                                }
                            },
                        }
                    },
                }
            ],
        },
    }
    crd_key = ResourceKey(
        "apiextensions.k8s.io", "CustomResourceDefinition", "", f"widgets.{group}"
    )
    try:
        plan = plan_for(conn, app, [widget, crd])
        assert [t.key.kind for t in plan.tasks] == ["CustomResourceDefinition", "Widget"]
        state = sync(conn, plan, settings(app, namespace))
        assert state.phase is OperationPhase.SUCCEEDED, state.message
        live = conn.get(ResourceKey(group, "Widget", namespace, "w1"))
        assert live is not None and live["spec"] == {"size": 3}
    finally:
        conn.delete(crd_key, propagation="Background")


def test_prune_removes_exactly_the_stale_tracked_object(conn, namespace, core) -> None:  # type: ignore[no-untyped-def]
    app = f"app-{namespace}"
    first = [cm("keep", namespace), cm("stale", namespace)]
    assert sync(conn, plan_for(conn, app, first), settings(app, namespace)).phase is (
        OperationPhase.SUCCEEDED
    )
    # look-alikes: an untracked namesake-ish object, and a copy carrying stale's tracking id
    core.create_namespaced_config_map(namespace, cm("stale-copy-untracked", namespace))
    copied = cm("stale-copy", namespace)
    copied["metadata"]["annotations"] = {
        TRACKING_ANNOTATION: tracking_id(app, ResourceKey("", "ConfigMap", namespace, "stale"))
    }
    core.create_namespaced_config_map(namespace, copied)
    wait_cached(conn, ResourceKey("", "ConfigMap", namespace, "stale-copy"))

    desired = [cm("keep", namespace)]
    candidates = stale_candidates(conn, app, desired)
    assert [ResourceKey.of(o).name for o in candidates] == ["stale"]
    state = sync(
        conn,
        plan_for(conn, app, desired, prune_candidates=candidates),
        settings(app, namespace),
    )
    assert state.phase is OperationPhase.SUCCEEDED, state.message
    results = results_by_name(state)
    assert results["stale"].status is ResultCode.PRUNED
    assert results["stale"].action == "Prune"
    _wait(lambda: not cm_exists(core, "stale", namespace), what="stale to be deleted")
    for name in ("keep", "stale-copy", "stale-copy-untracked"):
        assert cm_exists(core, name, namespace), name


def test_prune_never_deletes_a_recreated_namesake(conn, namespace, core) -> None:  # type: ignore[no-untyped-def]
    app = f"app-{namespace}"
    tracked_cm(core, app, "stale", namespace, wave=1)
    wait_cached(conn, ResourceKey("", "ConfigMap", namespace, "stale"))
    desired = [cm("first", namespace, wave=0)]
    plan = plan_for(conn, app, desired, prune_candidates=stale_candidates(conn, app, desired))
    assert [(t.wave, t.action.value) for t in plan.tasks] == [(0, "Create"), (1, "Prune")]
    swapped: list[str] = []

    def swap_after_first_wave(state: OperationState) -> None:
        # between the dry run (which saw the original) and the prune, someone re-creates it
        first = results_by_name(state).get("first")
        if first is not None and first.status is ResultCode.SYNCED and not swapped:
            core.delete_namespaced_config_map("stale", namespace)
            made = core.create_namespaced_config_map(namespace, cm("stale", namespace))
            swapped.append(str(made.metadata.uid))

    state = sync(conn, plan, settings(app, namespace), recorder=Recorder(swap_after_first_wave))
    assert swapped, "the namesake was never created"
    assert state.phase is OperationPhase.FAILED
    result = results_by_name(state)["stale"]
    assert result.status is ResultCode.SYNC_FAILED
    assert "re-created" in result.message and "uid" in result.message
    assert f"ConfigMap {namespace}/stale" in state.message
    survivor = core.read_namespaced_config_map("stale", namespace)
    assert survivor.metadata.uid == swapped[0]


def test_prune_false_and_prune_disabled_leave_objects_alone(conn, namespace, core) -> None:  # type: ignore[no-untyped-def]
    app = f"app-{namespace}"
    tracked_cm(
        core,
        app,
        "protected",
        namespace,
        annotations={"argocd.argoproj.io/sync-options": "Prune=false"},
    )
    tracked_cm(core, app, "stale", namespace)
    for name in ("protected", "stale"):
        wait_cached(conn, ResourceKey("", "ConfigMap", namespace, name))
    desired = [cm("keep", namespace)]
    candidates = stale_candidates(conn, app, desired)

    # no prune flag: both skipped
    off = sync(
        conn,
        plan_for(conn, app, desired, prune_candidates=candidates, prune=False),
        settings(app, namespace, prune=False),
    )
    assert off.phase is OperationPhase.SUCCEEDED, off.message
    results = results_by_name(off)
    assert results["stale"].status is ResultCode.PRUNE_SKIPPED
    assert results["stale"].message == "ignored (requires pruning)"
    assert cm_exists(core, "stale", namespace)

    # prune on: Prune=false still protects its object
    on = sync(
        conn,
        plan_for(conn, app, desired, prune_candidates=candidates),
        settings(app, namespace),
    )
    assert on.phase is OperationPhase.SUCCEEDED, on.message
    results = results_by_name(on)
    assert results["protected"].status is ResultCode.PRUNE_SKIPPED
    assert results["protected"].message == "ignored (no prune)"
    assert results["stale"].status is ResultCode.PRUNED
    assert cm_exists(core, "protected", namespace)
    _wait(lambda: not cm_exists(core, "stale", namespace), what="stale to be deleted")


def test_a_field_conflict_names_the_other_manager_and_force_takes_over(  # type: ignore[no-untyped-def]
    conn, namespace, kube_api
) -> None:
    """With force conflicts turned off (opt-in since syncs take fields back by default)."""
    app = f"app-{namespace}"
    desired = [deployment("web", namespace, replicas=1)]
    assert sync(conn, plan_for(conn, app, desired), settings(app, namespace)).phase is (
        OperationPhase.SUCCEEDED
    )
    apps = client.AppsV1Api(kube_api)
    apps.patch_namespaced_deployment(
        "web", namespace, {"spec": {"replicas": 3}}, field_manager="kubectl-scale"
    )

    refusing = settings(app, namespace, force_conflicts=False)
    state = sync(conn, plan_for(conn, app, desired), refusing)
    assert state.phase is OperationPhase.FAILED
    assert f"Deployment {namespace}/web" in state.message
    assert '"kubectl-scale"' in state.message
    assert ".spec.replicas" in state.message
    assert "--force" in state.message
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 3

    forced = sync(
        conn,
        plan_for(conn, app, desired),
        settings(app, namespace, force_conflicts=False, force=True),
    )
    assert forced.phase is OperationPhase.SUCCEEDED, forced.message
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 1


def test_terminate_during_a_wave_wait_stops_before_later_waves(  # type: ignore[no-untyped-def]
    conn, sandbox_box, namespace, core
) -> None:
    app = f"app-{namespace}"
    desired = [load_balancer("lb", namespace, wave=0), cm("later", namespace, wave=1)]
    plan = plan_for(conn, app, desired)
    cancel = threading.Event()
    waiting = threading.Event()

    def watch(state: OperationState) -> None:
        if "lb" in state.message and "load balancer" in state.message:
            waiting.set()

    outcome: list[OperationState] = []
    runner = threading.Thread(
        target=lambda: outcome.append(
            sync(
                conn,
                plan,
                settings(app, namespace, wave_timeout_s=120),
                recorder=Recorder(watch),
                cancel=cancel,
            )
        )
    )
    runner.start()
    assert waiting.wait(30), "the sync never waited for the load balancer"
    cancel.set()  # while the wave waits (the progress message says so)
    cancelled_at = time.monotonic()
    runner.join(15)
    assert not runner.is_alive()
    assert time.monotonic() - cancelled_at < 3
    state = outcome[0]
    assert state.phase is OperationPhase.FAILED
    assert state.message == "terminated by user"
    assert results_by_name(state)["lb"].status is ResultCode.SYNCED
    assert "later" not in results_by_name(state)
    assert not cm_exists(core, "later", namespace)
    real = write_events(audit(sandbox_box, conn, namespace))
    assert written_names(real) == ["lb"]


def test_a_wave_that_stays_progressing_times_out_naming_the_object(conn, namespace, core) -> None:  # type: ignore[no-untyped-def]
    app = f"app-{namespace}"
    desired = [load_balancer("lb", namespace, wave=0), cm("later", namespace, wave=1)]
    state = sync(conn, plan_for(conn, app, desired), settings(app, namespace, wave_timeout_s=1.5))
    assert state.phase is OperationPhase.FAILED
    assert f"Service {namespace}/lb" in state.message
    assert "within 1.5 s" in state.message
    assert "Waiting for the load balancer to get an address" in state.message
    assert not cm_exists(core, "later", namespace)


def test_create_namespace_creates_the_destination_untracked(
    conn, sandbox_box, namespace, core
) -> None:  # type: ignore[no-untyped-def]
    app = f"app-{namespace}"
    dest = f"{namespace}-dest"
    desired = [cm("inside", dest)]

    # without CreateNamespace the dry run fails on the missing namespace
    missing = sync(conn, plan_for(conn, app, desired), settings(app, dest))
    assert missing.phase is OperationPhase.FAILED
    assert f'namespaces "{dest}" not found' in missing.message

    options = {"CreateNamespace": "true"}
    try:
        state = sync(
            conn,
            plan_for(conn, app, desired, app_options=options),
            settings(app, dest, app_options=options),
        )
        assert state.phase is OperationPhase.SUCCEEDED, state.message
        first = state.results[0]
        assert (first.key, first.phase, first.status) == (
            ResourceKey("", "Namespace", "", dest),
            "PreSync",
            ResultCode.SYNCED,
        )
        ns = core.read_namespace(dest)
        assert TRACKING_ANNOTATION not in (ns.metadata.annotations or {})
        assert cm_exists(core, "inside", dest)
        # a second sync finds the namespace and leaves it alone
        again = sync(
            conn,
            plan_for(conn, app, desired, app_options=options),
            settings(app, dest, app_options=options),
        )
        assert again.phase is OperationPhase.SUCCEEDED, again.message
        assert all(r.key.kind != "Namespace" for r in again.results)
    finally:
        try:
            core.delete_namespace(dest)
        except client.ApiException as exc:
            if exc.status != 404:
                raise


def test_dry_run_mode_changes_nothing(conn, sandbox_box, namespace, core) -> None:  # type: ignore[no-untyped-def]
    app = f"app-{namespace}"
    before = [cm("existing", namespace, data={"a": "1"}), cm("stale", namespace)]
    assert sync(conn, plan_for(conn, app, before), settings(app, namespace)).phase is (
        OperationPhase.SUCCEEDED
    )
    stale_uid = str(core.read_namespaced_config_map("stale", namespace).metadata.uid)
    real_before = len(write_events(audit(sandbox_box, conn, namespace), dry_run=None))
    desired = [cm("existing", namespace, data={"a": "2"}), cm("fresh", namespace, wave=1)]
    plan = plan_for(conn, app, desired, prune_candidates=stale_candidates(conn, app, desired))

    state = sync(conn, plan, settings(app, namespace, dry_run=True))
    assert state.phase is OperationPhase.SUCCEEDED, state.message
    assert state.dry_run
    assert state.message == "dry run: 2 objects would be applied, 1 pruned"
    assert {r.key.name: (r.status, r.message) for r in state.results} == {
        "existing": (ResultCode.SYNCED, "(dry run)"),
        "fresh": (ResultCode.SYNCED, "(dry run)"),
        "stale": (ResultCode.PRUNED, "(dry run)"),
    }
    events = write_events(audit(sandbox_box, conn, namespace), dry_run=None)[real_before:]
    assert write_events(events, dry_run=False) == []
    assert sorted(written_names(write_events(events, dry_run=True))) == [
        "existing",
        "fresh",
        "stale",
    ]
    assert core.read_namespaced_config_map("existing", namespace).data == {"a": "1"}
    assert not cm_exists(core, "fresh", namespace)
    assert_untouched(core, "stale", namespace, stale_uid)


def test_client_side_apply_replace_and_validate_options(conn, sandbox_box, namespace, core) -> None:  # type: ignore[no-untyped-def]
    require_tool("kubectl")  # fails with how to get it; never a silent skip
    app = f"app-{namespace}"
    desired = [
        cm(
            "csa",
            namespace,
            annotations={"argocd.argoproj.io/sync-options": "ServerSideApply=false"},
        ),
        cm("rep", namespace, annotations={"argocd.argoproj.io/sync-options": "Replace=true"}),
        cm("loose", namespace, annotations={"argocd.argoproj.io/sync-options": "Validate=false"}),
    ]
    assert sync_options(desired[0]) == {"ServerSideApply": "false"}
    state = sync(conn, plan_for(conn, app, desired), settings(app, namespace))
    assert state.phase is OperationPhase.SUCCEEDED, state.message
    results = results_by_name(state)
    assert results["csa"].message == "created (client-side apply)"

    csa = core.read_namespaced_config_map("csa", namespace)
    assert "kubectl.kubernetes.io/last-applied-configuration" in csa.metadata.annotations
    assert {m.manager for m in csa.metadata.managed_fields} == {"kubectl-client-side-apply"}

    real = write_events(audit(sandbox_box, conn, namespace))
    verbs = {e["objectRef"]["name"]: (e["verb"], e["requestURI"]) for e in real}
    assert "csa" not in verbs  # kubectl did it, with its own user agent
    assert verbs["rep"][0] == "create"  # Replace=true: POST/PUT, not apply
    assert verbs["loose"][0] == "patch" and "fieldValidation=Ignore" in verbs["loose"][1]

    # a second sync replaces (PUT) the existing object
    again = sync(conn, plan_for(conn, app, desired), settings(app, namespace))
    assert again.phase is OperationPhase.SUCCEEDED, again.message
    assert results_by_name(again)["rep"].message == "replaced"
    later = write_events(audit(sandbox_box, conn, namespace))[len(real) :]
    assert [e["verb"] for e in later if e["objectRef"]["name"] == "rep"] == ["update"]


def test_messages_never_echo_secret_content(conn, namespace) -> None:  # type: ignore[no-untyped-def]
    app = f"app-{namespace}"
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds", "namespace": namespace},
        "stringData": {"password": 987654321},  # not a string: the server echoes typed values
    }
    state = sync(conn, plan_for(conn, app, [secret]), settings(app, namespace))
    assert state.phase is OperationPhase.FAILED
    assert f"Secret {namespace}/creds" in state.message
    assert "stringData.password" in state.message
    texts = [state.message, *(r.message for r in state.results)]
    assert all("987654321" not in text for text in texts), texts


def test_a_rejection_at_apply_after_a_clean_dry_run_stops_before_later_waves(  # type: ignore[no-untyped-def]
    conn, sandbox_box, namespace, core
) -> None:
    """The server, not a mock, refuses: wave 0 creates a ResourceQuota allowing no new
    ConfigMap. Every dry run passes (no quota yet); then the API server's quota admission
    rejects a ConfigMap of a later wave, and no wave after that one is sent.

    Which wave is refused first is the API server's business: its quota admission reads
    quotas from an informer, and when that informer has not seen the new quota yet it
    falls back to a live lookup whose answer (here "no quota", cached when the dry runs
    ran) it keeps for 30 s. So the first ConfigMap may still pass (seen in CI); the
    informer catches up within milliseconds, so one of five waves is refused. The limit
    is 0: any create is refused once the quota is seen, whatever its usage status."""
    app = f"app-{namespace}"
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {
            "name": "one-configmap",
            "namespace": namespace,
            "annotations": {"argocd.argoproj.io/sync-wave": "0"},
        },
        "spec": {"hard": {"count/configmaps": "0"}},
    }
    names = [f"w{wave}" for wave in range(1, 6)]
    maps = [cm(name, namespace, wave=wave) for wave, name in enumerate(names, 1)]
    plan = plan_for(conn, app, [quota, *maps])
    recorder = Recorder()
    state = sync(conn, plan, settings(app, namespace), recorder=recorder)
    assert state.phase is OperationPhase.FAILED, (state.phase, state.message)
    results = results_by_name(state)
    assert results["one-configmap"].status is ResultCode.SYNCED
    refused = [n for n in names if n in results and results[n].status is ResultCode.SYNC_FAILED]
    assert len(refused) == 1, state.results
    first = names.index(refused[0])
    assert f"ConfigMap {namespace}/{refused[0]}" in state.message
    assert "quota" in state.message.lower() and "Traceback" not in state.message
    # every dry run passed (2xx); the waves before the refused one were applied, the
    # refused one got a 403, and no later wave was sent at all
    codes = {
        (e["objectRef"]["name"], "dryRun=All" in e["requestURI"]): e["responseStatus"]["code"]
        for e in write_events(audit(sandbox_box, conn, namespace), dry_run=None)
        if e["objectRef"].get("resource") == "configmaps"
    }
    assert all(codes[(n, True)] in (200, 201) for n in names), codes
    assert codes[(names[first], False)] == 403, codes
    assert all(codes[(n, False)] in (200, 201) for n in names[:first]), codes
    assert all((n, False) not in codes for n in names[first + 1 :]), codes
    assert all(cm_exists(core, n, namespace) for n in names[:first])
    assert not any(cm_exists(core, n, namespace) for n in names[first:])
    assert all(s.phase is OperationPhase.RUNNING for s in recorder.states)
