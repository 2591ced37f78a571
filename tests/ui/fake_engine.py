"""An in-memory ``EngineAPI`` for UI tests: a fixed fleet, real diffs and plans, recorded calls.

Diffs and plans come from the engine's own pure functions (``diff_resource``,
``build_plan``) over small desired/live manifests, so what the UI shows is what
the real engine would compute for the same objects. Snapshots are published
from a thread, as the real reconciler does. Every call is recorded in
``calls``; mutations raise ``ReadOnlyError`` when ``read_only`` is set, like the
real engine. ``gate`` makes blocking calls (preview, fleet_preview, diffs,
history, sync) wait for an event, to test a slow engine; ``sync`` publishes a
``Running`` operation, then its end once ``operations_end`` is set; ``fail`` makes a call
raise, ``fail_sync`` one app's sync, ``plan_errors`` one app's fleet plan.

App of Apps: ``frontend`` registered ``guestbook`` and ``monitoring``, and
``guestbook`` registered ``legacy-batch``, so the tree order is also the name
order (frontend, guestbook, legacy-batch, monitoring, payments).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from fake_inspect import FakeInspection, FakeLogs, fake_pod_connection, sample_events

from gitops_tui.engine.api import (
    ActionOutcome,
    AppDeletePlan,
    AppSetApplied,
    AppSetPreview,
    AppSetSnapshot,
    ClusterEvent,
    EngineAPI,
    EngineError,
    HistoryEntry,
    KeptResource,
    LiveObject,
    LogOptions,
    LogStream,
    PlannedDeletion,
    PodConnection,
    ReadOnlyError,
    ResourceAction,
    SyncPreview,
    SyncRequest,
    Unsubscribe,
)
from gitops_tui.engine.diff.resource_diff import ResourceDiff, diff_resource
from gitops_tui.engine.model import Condition, HealthStatus, Manifest, ResourceKey, SyncStatus
from gitops_tui.engine.snapshot import (
    AppSnapshot,
    ClusterState,
    Destination,
    FleetSnapshot,
    OperationPhase,
    OperationState,
    ResourceNode,
    ResourceResult,
    ResultCode,
)
from gitops_tui.engine.sync.plan import build_plan
from gitops_tui.headless import HeadlessEngine

T0 = 1_700_000_000.0
"""A fixed clock: every timestamp in the sample fleet is relative to this."""

REPO = "https://git.example.com/platform/apps.git"
REV_GUESTBOOK = "4f2c9a1d0b7e6c5a4f3e2d1c0b9a8f7e6d5c4b3a"
REV_PAYMENTS = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"
REV_MONITORING = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
REV_FRONTEND = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"


def _meta(name: str, namespace: str, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if annotations:
        meta["annotations"] = annotations
    return meta


def config_map(
    name: str, namespace: str, data: dict[str, str], annotations: dict[str, str] | None = None
) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(name, namespace, annotations),
        "data": data,
    }


def service(name: str, namespace: str, port: int = 80) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, namespace),
        "spec": {"selector": {"app": name}, "ports": [{"port": port, "targetPort": 8080}]},
    }


def deployment(name: str, namespace: str, replicas: int, image: str) -> Manifest:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, namespace),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": image}]},
            },
        },
    }


def hook_job(name: str, namespace: str, phase: str) -> Manifest:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(
            name,
            namespace,
            {"argocd.argoproj.io/hook": phase, "argocd.argoproj.io/sync-wave": "-1"},
        ),
        "spec": {"template": {"spec": {"containers": [{"name": "migrate", "image": "migrate:1"}]}}},
    }


@dataclass
class FakeApp:
    """One app: its snapshot plus the desired and live objects behind it."""

    snapshot: AppSnapshot
    desired: list[Manifest] = field(default_factory=list)
    live: list[Manifest] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)


def _key(obj: Manifest) -> ResourceKey:
    return ResourceKey.of(obj)


def _node(
    obj: Manifest,
    status: SyncStatus | None,
    health: HealthStatus | None,
    *children: ResourceNode,
    **extra: Any,
) -> ResourceNode:
    return ResourceNode(
        key=_key(obj),
        version=str(obj["apiVersion"]).rsplit("/", 1)[-1],
        status=status,
        health=health,
        children=children,
        **extra,
    )


def _child(
    kind: str, group: str, namespace: str, name: str, health: HealthStatus, *children: ResourceNode
) -> ResourceNode:
    return ResourceNode(
        key=ResourceKey(group, kind, namespace, name),
        version="v1",
        status=None,
        health=health,
        children=children,
    )


def _op(
    op_id: str,
    app: str,
    phase: OperationPhase,
    revision: str,
    *,
    message: str = "",
    started: float = T0 - 3600,
    finished: float | None = T0 - 3590,
    results: tuple[ResourceResult, ...] = (),
    initiated_by: str = "user",
    prune: bool = False,
    dry_run: bool = False,
) -> OperationState:
    return OperationState(
        id=op_id,
        app=app,
        phase=phase,
        message=message,
        revision=revision,
        started_at=started,
        finished_at=finished,
        initiated_by=initiated_by,
        prune=prune,
        dry_run=dry_run,
        results=results,
    )


def guestbook() -> FakeApp:
    ns = "guestbook"
    cfg_desired = config_map("guestbook-config", ns, {"GREETING": "hello", "LOG_LEVEL": "info"})
    cfg_live = config_map("guestbook-config", ns, {"GREETING": "hi", "LOG_LEVEL": "info"})
    svc = service("guestbook-ui", ns)
    dep_desired = deployment("guestbook-ui", ns, 3, "guestbook:1.2")
    dep_live = deployment("guestbook-ui", ns, 1, "guestbook:1.1")
    old = config_map("old-config", ns, {"STALE": "yes"})
    kept = config_map("keep-me", ns, {"A": "1"}, {"argocd.argoproj.io/sync-options": "Prune=false"})
    migrate = hook_job("db-migrate", ns, "PreSync")
    pods = (
        _child("Pod", "", ns, "guestbook-ui-7d9f8-abcde", HealthStatus.HEALTHY),
        _child("Pod", "", ns, "guestbook-ui-7d9f8-fghij", HealthStatus.HEALTHY),
    )
    resources = (
        _node(cfg_desired, SyncStatus.OUT_OF_SYNC, None, changed_paths=("data.GREETING",)),
        _node(old, SyncStatus.OUT_OF_SYNC, None, requires_pruning=True),
        _node(kept, SyncStatus.OUT_OF_SYNC, None, requires_pruning=True),
        _node(svc, SyncStatus.SYNCED, HealthStatus.HEALTHY),
        _node(
            dep_desired,
            SyncStatus.OUT_OF_SYNC,
            HealthStatus.HEALTHY,
            _child("ReplicaSet", "apps", ns, "guestbook-ui-7d9f8", HealthStatus.HEALTHY, *pods),
            changed_paths=("spec.replicas", "spec.template.spec.containers[0].image"),
        ),
    )
    last = _op(
        "op-41",
        "guestbook",
        OperationPhase.SUCCEEDED,
        REV_GUESTBOOK,
        message="successfully synced (all tasks run)",
        results=(
            ResourceResult(_key(svc), ResultCode.SYNCED, "service/guestbook-ui unchanged"),
            ResourceResult(
                _key(dep_live), ResultCode.SYNCED, "deployment.apps/guestbook-ui configured"
            ),
        ),
    )
    snapshot = AppSnapshot(
        name="guestbook",
        project="default",
        sync=SyncStatus.OUT_OF_SYNC,
        health=HealthStatus.HEALTHY,
        health_message="",
        revision=REV_GUESTBOOK,
        target_revision="main",
        repo_url=REPO,
        path="guestbook",
        destination=Destination("https://kubernetes.default.svc", "in-cluster", ns),
        resources=resources,
        last_sync=last,
        parent="frontend",
        compared_at=T0,
    )
    history = [
        HistoryEntry(
            40,
            "guestbook",
            REV_MONITORING,
            REPO,
            "guestbook",
            _op(
                "op-40",
                "guestbook",
                OperationPhase.SUCCEEDED,
                REV_MONITORING,
                started=T0 - 86400,
                finished=T0 - 86380,
            ),
        ),
        HistoryEntry(41, "guestbook", REV_GUESTBOOK, REPO, "guestbook", last),
    ]
    return FakeApp(
        snapshot,
        desired=[cfg_desired, svc, dep_desired, migrate],
        live=[cfg_live, svc, dep_live, old, kept],
        history=history,
    )


def payments() -> FakeApp:
    ns = "payments"
    dep = deployment("payments-api", ns, 2, "payments:7.0")
    svc = service("payments-api", ns, 443)
    snapshot = AppSnapshot(
        name="payments",
        project="finance",
        sync=SyncStatus.SYNCED,
        health=HealthStatus.DEGRADED,
        health_message="Deployment payments-api: 0/2 replicas available",
        revision=REV_PAYMENTS,
        target_revision="v7.0.0",
        repo_url=REPO,
        path="payments",
        destination=Destination("https://prod.example.com:6443", "prod", ns),
        automated=True,
        auto_prune=True,
        self_heal=True,
        conditions=(Condition("SyncError", "Deployment payments-api: progress deadline exceeded"),),
        resources=(
            _node(svc, SyncStatus.SYNCED, HealthStatus.HEALTHY),
            _node(
                dep,
                SyncStatus.SYNCED,
                HealthStatus.DEGRADED,
                health_message="0/2 replicas available",
            ),
        ),
        last_sync=_op(
            "op-7",
            "payments",
            OperationPhase.FAILED,
            REV_PAYMENTS,
            message="one or more objects failed to apply",
            initiated_by="automated",
        ),
        compared_at=T0,
    )
    return FakeApp(snapshot, desired=[svc, dep], live=[svc, dep])


def monitoring() -> FakeApp:
    ns = "monitoring"
    dep = deployment("prometheus", ns, 1, "prom:2.50")
    snapshot = AppSnapshot(
        name="monitoring",
        project="platform",
        sync=SyncStatus.SYNCED,
        health=HealthStatus.HEALTHY,
        health_message="",
        revision=REV_MONITORING,
        target_revision="main",
        repo_url=REPO,
        path="monitoring",
        destination=Destination("https://kubernetes.default.svc", "in-cluster", ns),
        automated=True,
        resources=(_node(dep, SyncStatus.SYNCED, HealthStatus.HEALTHY),),
        last_sync=_op(
            "op-3", "monitoring", OperationPhase.SUCCEEDED, REV_MONITORING, initiated_by="automated"
        ),
        parent="frontend",
        compared_at=T0,
    )
    return FakeApp(snapshot, desired=[dep], live=[dep])


def frontend() -> FakeApp:
    ns = "web"
    dep_desired = deployment("frontend", ns, 4, "frontend:3")
    dep_live = deployment("frontend", ns, 4, "frontend:2")
    running = _op(
        "op-88",
        "frontend",
        OperationPhase.RUNNING,
        REV_FRONTEND,
        message="waiting for healthy state of apps/Deployment/frontend",
        started=T0 - 30,
        finished=None,
        results=(ResourceResult(_key(dep_live), ResultCode.RUNNING, "rolling out"),),
    )
    snapshot = AppSnapshot(
        name="frontend",
        project="default",
        sync=SyncStatus.OUT_OF_SYNC,
        health=HealthStatus.PROGRESSING,
        health_message="",
        revision=REV_FRONTEND,
        target_revision="main",
        repo_url=REPO,
        path="frontend",
        destination=Destination("https://kubernetes.default.svc", "in-cluster", ns),
        resources=(_node(dep_desired, SyncStatus.OUT_OF_SYNC, HealthStatus.PROGRESSING),),
        operation=running,
        compared_at=T0,
    )
    return FakeApp(snapshot, desired=[dep_desired], live=[dep_live])


def legacy() -> FakeApp:
    snapshot = AppSnapshot(
        name="legacy-batch",
        project="default",
        sync=SyncStatus.UNKNOWN,
        health=HealthStatus.MISSING,
        health_message="",
        revision="",
        target_revision="release-1",
        repo_url=REPO,
        path="legacy",
        destination=Destination("https://edge-1.example.com:6443", "edge-1", "batch"),
        conditions=(
            Condition("ComparisonError", "cluster edge-1 is unreachable: connection refused"),
        ),
        parent="guestbook",
    )
    return FakeApp(snapshot)


def sample_apps() -> list[FakeApp]:
    return [guestbook(), payments(), monitoring(), frontend(), legacy()]


SAMPLE_CONTEXTS = ("kind-dev", "prod", "edge-1")

SAMPLE_CLUSTERS = (
    ClusterState("in-cluster", "https://kubernetes.default.svc", True),
    ClusterState("prod", "https://prod.example.com:6443", True),
    ClusterState("edge-1", "https://edge-1.example.com:6443", False, "connection refused"),
)


class FakeEngine:
    """Implements ``EngineAPI`` in memory (see the module docstring)."""

    def __init__(
        self,
        apps: list[FakeApp] | None = None,
        *,
        read_only: bool = False,
        generation: int = 1,
        clusters: tuple[ClusterState, ...] = SAMPLE_CLUSTERS,
        appsets: tuple[AppSetSnapshot, ...] = (),
        appset_previews: dict[str, AppSetPreview] | None = None,
    ) -> None:
        self.apps: dict[str, FakeApp] = {
            a.snapshot.name: a for a in (sample_apps() if apps is None else apps)
        }
        self._read_only = read_only
        self.clusters = clusters
        self.appsets = appsets  # fake_appsets.py has a sample
        self.appset_previews = dict(appset_previews or {})
        self.appset_threads: list[str] = []  # the thread of each appset call
        self.generation = generation
        self.calls: list[tuple[str, Any]] = []
        self.subscribers: list[Callable[[FleetSnapshot], None]] = []
        self.gate: threading.Event | None = None
        self.operations_end = threading.Event()  # set it to let started operations end
        self.closed = threading.Event()
        self.fail: dict[str, BaseException] = {}
        self.fail_sync: dict[str, BaseException] = {}
        self.plan_errors: dict[str, str] = {}
        self.delete_plans: dict[str, AppDeletePlan] = {}  # plan_app_delete's answers
        self.offered_actions: list[ResourceAction] | None = None  # None: restart for workloads
        self.context_names: list[str] = list(SAMPLE_CONTEXTS)
        self._default_context: str | None = SAMPLE_CONTEXTS[0]
        self._lock = threading.Lock()
        self._operation_ended = threading.Condition(self._lock)
        self._op_counter = 100
        self._current = self._build()
        self.inspection = FakeInspection()  # live_object / events (tests/ui/fake_inspect.py)
        self.inspection.events_by_app["guestbook"] = sample_events("guestbook", "guestbook")
        self.pod_logs = FakeLogs()  # logs (tests/ui/fake_inspect.py)

    # -- test controls ---------------------------------------------------------------

    def _build(self) -> FleetSnapshot:
        return FleetSnapshot.build(
            self.generation,
            [a.snapshot for a in self.apps.values()],
            read_only=self._read_only,
            clusters=self.clusters,
            appsets=self.appsets,
        )

    def publish(self, snapshot: FleetSnapshot | None = None, *, wait: bool = True) -> FleetSnapshot:
        """Publish ``snapshot`` (default: the current apps at the next generation) from a thread."""
        with self._lock:
            if snapshot is None:
                self.generation += 1
                snapshot = self._build()
            if snapshot.generation > self._current.generation:
                self._current = snapshot
            subscribers = list(self.subscribers)

        def deliver() -> None:
            for callback in subscribers:
                callback(snapshot)

        thread = threading.Thread(target=deliver, name="fake-engine-publish", daemon=True)
        thread.start()
        if wait:
            thread.join(5)
        return snapshot

    def update_app(self, name: str, **changes: Any) -> FleetSnapshot:
        """Change one app's snapshot fields and publish the next generation."""
        app = self.apps[name]
        app.snapshot = replace(app.snapshot, **changes)
        return self.publish()

    def names(self, call: str) -> list[Any]:
        return [args for name, args in self.calls if name == call]

    def _record(self, name: str, args: Any) -> None:
        with self._lock:
            self.calls.append((name, args))

    def _blocking(self, name: str) -> None:
        gate = self.gate
        if gate is not None:
            gate.wait(60)
        if name in self.fail:
            raise self.fail[name]

    def _mutation(self, action: str) -> None:
        if self._read_only:
            raise ReadOnlyError(action)

    # -- EngineAPI -------------------------------------------------------------------

    @property
    def read_only(self) -> bool:
        return self._read_only

    def subscribe(self, callback: Callable[[FleetSnapshot], None]) -> Unsubscribe:
        self._record("subscribe", None)
        with self._lock:
            self.subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self.subscribers:
                    self.subscribers.remove(callback)

        return unsubscribe

    def snapshot(self) -> FleetSnapshot:
        return self._current

    def refresh(self, app: str | None = None, *, hard: bool = False) -> None:
        self._record("refresh", (app, hard))

    def diffs(self, app: str, *, context: int = 3) -> list[ResourceDiff]:
        self._record("diffs", (app, context))
        self._blocking("diffs")
        fake = self._app(app)
        desired = {
            _key(o): o
            for o in fake.desired
            if "argocd.argoproj.io/hook" not in (o["metadata"].get("annotations") or {})
        }
        live = {_key(o): o for o in fake.live}
        keys = sorted(set(desired) | set(live))
        return [diff_resource(k, desired.get(k), live.get(k), context=context) for k in keys]

    def preview(self, request: SyncRequest) -> SyncPreview:
        self._record("preview", request)
        self._blocking("preview")
        return self._plan(request)

    def _plan(self, request: SyncRequest) -> SyncPreview:
        fake = self._app(request.app)
        live = {_key(o): o for o in fake.live}
        desired_keys = {_key(o) for o in fake.desired}
        modified = {
            _key(o): diff_resource(_key(o), o, live.get(_key(o))).modified for o in fake.desired
        }
        options = {"ApplyOutOfSyncOnly": "true"} if request.apply_out_of_sync_only else {}
        plan = build_plan(
            copy.deepcopy(fake.desired),
            live,
            modified,
            [o for o in fake.live if _key(o) not in desired_keys],
            app_options=options,
            selected=request.resources,
            prune=request.prune,
        )
        return SyncPreview(request=request, plan=plan, revision=fake.snapshot.revision)

    def sync(self, request: SyncRequest) -> str:
        """Like the real engine: refused while the app's operation runs; otherwise a
        ``Running`` operation is published at once, then (once ``operations_end`` is set)
        ``Succeeded`` with a result per planned task, or ``Failed`` if terminated."""
        self._record("sync", request)
        self._mutation("sync" if not request.prune else "sync with prune")
        self._blocking("sync")
        fake = self._app(request.app)
        if request.app in self.fail_sync:
            raise self.fail_sync[request.app]
        with self._lock:
            current = fake.snapshot.operation
            if current is not None and not current.phase.done:
                raise EngineError(f"an operation is already running on {request.app}")
            self._op_counter += 1
            op_id = f"op-{self._op_counter}"
            running = OperationState(
                id=op_id,
                app=request.app,
                phase=OperationPhase.RUNNING,
                message="starting",
                revision=fake.snapshot.revision,
                started_at=T0,
                initiated_by=request.initiated_by,
                dry_run=request.dry_run,
                prune=request.prune,
            )
            fake.snapshot = replace(fake.snapshot, operation=running)
        self.publish(wait=False)
        tasks = self._plan(request).plan.tasks
        results = tuple(
            ResourceResult(
                key=t.key,
                status=ResultCode.PRUNED if t.is_prune else ResultCode.SYNCED,
                message="pruned" if t.is_prune else "configured",
                wave=t.wave,
            )
            for t in tasks
        )
        threading.Thread(
            target=self._finish, args=(fake, op_id, results), name="fake-engine-sync", daemon=True
        ).start()
        return op_id

    def _finish(self, fake: FakeApp, op_id: str, results: tuple[ResourceResult, ...]) -> None:
        self.operations_end.wait(60)
        with self._lock:
            op = fake.snapshot.operation
            if op is None or op.id != op_id:
                return
            if op.phase is OperationPhase.TERMINATING:
                done = replace(
                    op, phase=OperationPhase.FAILED, message="terminated by user", finished_at=T0
                )
            else:
                done = replace(
                    op,
                    phase=OperationPhase.SUCCEEDED,
                    message="successfully synced",
                    finished_at=T0,
                    results=results,
                )
            fake.snapshot = replace(fake.snapshot, operation=done)
            self._operation_ended.notify_all()
        self.publish(wait=False)

    def terminate(self, app: str) -> bool:
        self._record("terminate", app)
        self._mutation("terminate")
        fake = self._app(app)
        with self._lock:
            op = fake.snapshot.operation
            if op is None or op.phase.done:
                return False
            fake.snapshot = replace(
                fake.snapshot,
                operation=replace(op, phase=OperationPhase.TERMINATING, message="terminating"),
            )
        self.publish(wait=False)
        return True

    def history(self, app: str) -> list[HistoryEntry]:
        self._record("history", app)
        self._blocking("history")
        return list(self._app(app).history)

    def rollback(self, app: str, history_id: int) -> str:
        self._record("rollback", (app, history_id))
        self._mutation("rollback")
        if not any(h.id == history_id for h in self._app(app).history):
            raise EngineError(f"{app} has no history entry {history_id}")
        self._op_counter += 1
        return f"op-{self._op_counter}"

    def actions(self, app: str, key: ResourceKey) -> list[ResourceAction]:
        """The built-in ``restart`` for workloads (as the engine offers it)."""
        self._record("actions", (app, key))
        self._blocking("actions")
        if self.offered_actions is not None:
            return list(self.offered_actions)
        workload = key.group == "apps" and key.kind in ("Deployment", "StatefulSet", "DaemonSet")
        return [ResourceAction("restart")] if workload else []

    def run_action(self, app: str, key: ResourceKey, name: str) -> ActionOutcome:
        self._record("run_action", (app, key, name))
        self._mutation(f"action {name}")
        self._blocking("run_action")
        return ActionOutcome(app, key, name, (f"patched {key.kind} {key.namespace}/{key.name}",))

    def delete_resource(self, app: str, key: ResourceKey) -> str:
        """Deletes nothing: records the call (after the read-only check, as the engine)."""
        self._record("delete_resource", (app, key))
        self._mutation(f"delete {key.kind}")
        self._blocking("delete_resource")
        where = f"{key.namespace}/{key.name}" if key.namespace else key.name
        return f"deleted {key.kind} {where}"

    def delete_app(self, app: str, cascade: str) -> str:
        """Deletes nothing: records the call (after the read-only check, as the backends)."""
        self._record("delete_app", (app, cascade))
        self._mutation(f"delete of Application {app}")
        self._blocking("delete_app")
        self._app(app)
        return f"Application {app}: deletion requested ({cascade})"

    def plan_app_delete(self, app: str) -> AppDeletePlan:
        """The local engine's plan: the app's existing resources go (highest wave first),
        hooks are listed as kept (a fixed reason); ``delete_plans`` overrides it."""
        self._record("plan_app_delete", app)
        self._mutation(f"delete the resources of {app}")
        self._blocking("plan_app_delete")
        if app in self.delete_plans:
            return self.delete_plans[app]
        nodes = [n for n in self._app(app).snapshot.resources if n.exists]
        goes = [n for n in nodes if not n.hook]
        goes.sort(key=lambda n: (-n.sync_wave, n.key.kind, n.key.name))
        return AppDeletePlan(
            app,
            "in-cluster",
            tuple(PlannedDeletion(n.key, f"uid-{n.key.name}", n.sync_wave) for n in goes),
            tuple(KeptResource(n.key, "not owned: a hook of another app") for n in nodes if n.hook),
            planned_at=0.0,
        )

    def delete_app_resources(self, plan: AppDeletePlan, cascade: str) -> str:
        """Deletes nothing: records the call (after the read-only check, as the engine)."""
        self._record("delete_app_resources", (plan.app, cascade, len(plan.deletions)))
        self._mutation(f"delete the resources of {plan.app}")
        self._blocking("delete_app_resources")
        return (
            f"deleted {len(plan.deletions)} resources of {plan.app} in reverse wave order, "
            f"{len(plan.kept)} kept; the Application stays in Git; sync recreates them"
        )

    def fleet_preview(
        self, apps: Iterable[str] | None = None, *, prune: bool = False
    ) -> dict[str, SyncPreview | str]:
        """Recorded as ``(frozenset of names or None, prune)``."""
        names = None if apps is None else list(apps)
        self._record("fleet_preview", (None if names is None else frozenset(names), prune))
        self._blocking("fleet_preview")
        if names is None:
            names = [
                a.snapshot.name
                for a in self.apps.values()
                if a.snapshot.sync == SyncStatus.OUT_OF_SYNC
            ]
        out: dict[str, SyncPreview | str] = {}
        for name in names:
            if name in self.plan_errors:
                out[name] = self.plan_errors[name]
                continue
            try:
                out[name] = self._plan(SyncRequest(app=name, prune=prune))
            except EngineError as exc:
                out[name] = str(exc)
        return out

    def contexts(self) -> list[str]:
        self._record("contexts", None)
        if "contexts" in self.fail:
            raise self.fail["contexts"]
        return list(self.context_names)

    @property
    def default_context(self) -> str | None:
        return self._default_context

    def set_default_context(self, name: str) -> None:
        self._record("set_default_context", name)
        self._blocking("set_default_context")
        if name not in self.context_names:
            raise EngineError(f"unknown context {name!r} (known: {', '.join(self.context_names)})")
        self._default_context = name

    # -- what the headless commands need beyond EngineAPI (HeadlessEngine) ----------

    def app_names(self) -> list[str]:
        return sorted(self.apps)

    def wait_until_compared(
        self, timeout: float = 120.0, apps: Iterable[str] | None = None
    ) -> bool:
        return True  # the fake's apps are compared from the start

    def uncompared(self, apps: Iterable[str] | None = None) -> list[str]:
        return []

    def wait_for_operation(
        self, app: str, op_id: str, timeout: float = 600.0
    ) -> OperationState | None:
        """The operation once it has ended (``operations_end`` lets it end)."""

        def ended() -> OperationState | None:
            op = self._app(app).snapshot.operation
            return op if op is not None and op.id == op_id and op.phase.done else None

        with self._operation_ended:
            return self._operation_ended.wait_for(ended, timeout)

    def live_object(self, app: str, key: ResourceKey) -> LiveObject:
        self._record("live_object", (app, key))
        self._blocking("live_object")
        fake = self._app(app)
        return self.inspection.live_object_of(
            app, fake.snapshot.resources, fake.desired, fake.live, key
        )

    def events(
        self, app: str, key: ResourceKey | None = None, *, limit: int = 200
    ) -> list[ClusterEvent]:
        self._record("events", (app, key))
        self._blocking("events")
        fake = self._app(app)
        return self.inspection.events_of(app, fake.snapshot.resources, key, limit)

    def logs(
        self,
        app: str,
        pod: ResourceKey,
        container: str | None = None,
        *,
        follow: bool = False,
        previous: bool = False,
        since_seconds: int | None = None,
        tail_lines: int | None = None,
    ) -> LogStream:
        options = LogOptions(container, follow, previous, since_seconds, tail_lines)
        self._record("logs", (app, pod, options))
        self._blocking("logs")
        return self.pod_logs.open(app, self._app(app).snapshot.resources, pod, options)

    def pod_connection(self, app: str, pod: ResourceKey) -> PodConnection:
        self._record("pod_connection", (app, pod))
        self._mutation(f"exec or port-forward into {pod.display}")
        self._blocking("pod_connection")
        resources = self._app(app).snapshot.resources
        return fake_pod_connection(app, resources, pod, self._default_context or "")

    def appset_preview(self, name: str) -> AppSetPreview:
        self._record("appset_preview", name)
        self.appset_threads.append(threading.current_thread().name)
        self._blocking("appset_preview")
        if name not in self.appset_previews:
            raise EngineError(f"no ApplicationSet named {name!r}")
        return self.appset_previews[name]

    def appset_apply(self, name: str) -> AppSetApplied:
        self._record("appset_apply", name)
        self.appset_threads.append(threading.current_thread().name)
        self._mutation(f"appset apply {name}")
        self._blocking("appset_apply")
        preview = self.appset_previews.get(name)
        if preview is None:
            raise EngineError(f"no ApplicationSet named {name!r}")
        verbs = {"create": "created", "update": "updated", "delete": "removed"}
        return AppSetApplied(
            name, done=tuple(f"{verbs[c.action]} {c.name}" for c in preview.pending)
        )

    def close(self, *, wait_for_operations: bool = False) -> None:
        self._record("close", None)
        self._blocking("close")
        self.closed.set()

    def _app(self, name: str) -> FakeApp:
        try:
            return self.apps[name]
        except KeyError:
            raise EngineError(f"no application named {name!r}") from None


def _conforms(engine: FakeEngine) -> EngineAPI:
    """mypy checks here that ``FakeEngine`` implements the ``EngineAPI`` protocol."""
    return engine


def _conforms_headless(engine: FakeEngine) -> HeadlessEngine:
    """... and the ``HeadlessEngine`` one (what the headless commands need)."""
    return engine
