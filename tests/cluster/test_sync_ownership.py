"""A sync touches only what its app provably owns, and a plan that cannot fully apply applies nothing.

Against the real sandbox, through the executor (``run_sync``) and the engine:
hooks never delete another app's namesake, a pruned Namespace says what goes
with it (and is refused while it holds objects the app still wants), every
kind is checked before a namespace is created, ``generateName`` hooks never
turn into a LIST, and a sync after ``kubectl scale`` takes Git's fields back
(refusing is opt-in). What was written is read back from the API server's
audit log (a marker request makes sure the log has caught up).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from audit import audit_events, written_objects
from gitrepo import commit, make_repo
from helpers import application, dump_all, kubectl, running_engine, wait_for
from kubernetes import client

from gitops_tui.engine.api import SyncRequest
from gitops_tui.engine.cache.cluster import ClusterConnection, UnknownKindError
from gitops_tui.engine.cache.kubeclient import InvalidNameError, KubeTarget
from gitops_tui.engine.cache.tracking import INSTANCE_LABEL, tracking_id, with_tracking
from gitops_tui.engine.model import Manifest, ResourceKey, SyncStatus
from gitops_tui.engine.snapshot import OperationPhase, OperationState
from gitops_tui.engine.sync.plan import SyncPlan, TaskAction, build_plan
from gitops_tui.engine.sync.run import SyncSettings, run_sync

pytestmark = pytest.mark.cluster

REVISION = "89abcdef0123456789abcdef0123456789abcdef"
HOOK = "argocd.argoproj.io/hook"


# -- helpers -----------------------------------------------------------------------------


@pytest.fixture
def conn(sandbox) -> Iterator[ClusterConnection]:  # type: ignore[no-untyped-def]
    connection = ClusterConnection("sandbox", KubeTarget(sandbox.kubeconfig, None))
    connection.start()
    yield connection
    connection.close()


@pytest.fixture
def core(kube_api) -> client.CoreV1Api:  # type: ignore[no-untyped-def]
    return client.CoreV1Api(kube_api)


def cm(name: str, namespace: str | None = None, **annotations: str) -> Manifest:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": "v"}}


def hook_cm(name: str, namespace: str) -> Manifest:
    """A PreSync hook (a ConfigMap is complete as soon as it exists)."""
    return cm(name, namespace, **{HOOK: "PreSync"})


def plan_for(
    conn: ClusterConnection,
    app: str,
    desired: Sequence[Manifest],
    *,
    app_options: dict[str, str] | None = None,
) -> SyncPlan:
    tracked = [with_tracking(obj, app) for obj in desired]
    live: dict[ResourceKey, Manifest] = {}
    for obj in tracked:
        key = ResourceKey.of(obj)
        try:
            found = conn.get(key)
        except UnknownKindError:
            found = None
        if found is not None:
            live[key] = found
    return build_plan(tracked, live, {}, [], app_options=app_options or {})


def settings(app: str, namespace: str, **overrides: Any) -> SyncSettings:
    values: dict[str, Any] = {
        "app": app,
        "revision": REVISION,
        "destination_namespace": namespace,
        "app_options": {},
        "wave_timeout_s": 60.0,
        "hook_timeout_s": 60.0,
    }
    values.update(overrides)
    return SyncSettings(**values)


def sync(conn: ClusterConnection, plan: SyncPlan, config: SyncSettings) -> OperationState:
    return run_sync(
        conn,
        plan,
        config,
        operation_id=uuid.uuid4().hex,
        on_progress=lambda _state: None,
        cancel=threading.Event(),
    )


def audit(box, kubeconfig: Path, namespace: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Our completed requests in ``namespace`` (and on the Namespace itself), in log order
    (``tests/audit.py``: a marker request makes sure the log has caught up)."""
    return audit_events(box, kubeconfig, 0, namespace, cluster_scoped=False)


def deletes(events: list[dict[str, Any]]) -> list[str]:
    """Every DELETE, dry run or not (a dry-run delete is still an attempt on the object)."""
    return [w for w in written_objects(events, dry_run=None) if w.startswith("delete")]


def operation(engine, app: str, request: SyncRequest, timeout: float = 90) -> OperationState:  # type: ignore[no-untyped-def]
    op_id = engine.sync(request)
    final = engine.wait_for_operation(app, op_id, timeout=timeout)
    assert final is not None, "the operation did not finish"
    return final


def wait_revision(engine, app: str, sha: str) -> None:  # type: ignore[no-untyped-def]
    engine.refresh(app)
    try:
        wait_for(
            lambda: engine.snapshot().by_name[app].revision == sha,
            timeout=60,
            what=f"{app} to compare revision {sha[:7]}",
        )
    except AssertionError:
        snap = engine.snapshot().by_name[app]
        raise AssertionError(f"{snap.revision} {snap.sync} {snap.conditions}") from None


# -- 7: a hook never deletes what is not its own -----------------------------------------


def test_a_hook_never_deletes_a_namesake_it_does_not_own(  # type: ignore[no-untyped-def]
    conn, sandbox, sandbox_box, namespace, core
) -> None:
    app = f"app-{namespace}"
    other = f"other-{namespace}"
    # another app's object, an untracked object, and this app's ordinary resource
    theirs = with_tracking(cm("shared", namespace), other)
    core.create_namespaced_config_map(namespace, theirs)
    core.create_namespaced_config_map(namespace, cm("loose", namespace))
    core.create_namespaced_config_map(namespace, with_tracking(cm("plain", namespace), app))
    uids = {
        name: core.read_namespaced_config_map(name, namespace).metadata.uid
        for name in ("shared", "loose", "plain")
    }
    before = len(audit(sandbox_box, sandbox.kubeconfig, namespace))

    expected = {
        "shared": f"belongs to app {other!r}",
        "loose": "is not tracked by this app",
        "plain": "an ordinary resource of this app, not a hook",
    }
    for name, reason in expected.items():
        state = sync(
            conn,
            plan_for(conn, app, [hook_cm(name, namespace), cm("after", namespace)]),
            settings(app, namespace),
        )
        assert state.phase is OperationPhase.FAILED, (name, state.message)
        assert f"ConfigMap {namespace}/{name}" in state.message
        assert reason in state.message
        assert "nothing was deleted" in state.message
        assert "(dry run)" in state.message  # refused before anything was written

    for name, uid in uids.items():
        live = core.read_namespaced_config_map(name, namespace)
        assert live.metadata.uid == uid and live.metadata.deletion_timestamp is None, name
    events = audit(sandbox_box, sandbox.kubeconfig, namespace)[before:]
    assert deletes(events) == []  # not even a dry-run delete
    assert written_objects(events) == []  # and "after" was not applied either

    # this app's own hook from an earlier sync is replaced as before (BeforeHookCreation)
    first = sync(conn, plan_for(conn, app, [hook_cm("mine", namespace)]), settings(app, namespace))
    assert first.phase is OperationPhase.SUCCEEDED, first.message
    old_uid = core.read_namespaced_config_map("mine", namespace).metadata.uid
    again = sync(conn, plan_for(conn, app, [hook_cm("mine", namespace)]), settings(app, namespace))
    assert again.phase is OperationPhase.SUCCEEDED, again.message
    assert core.read_namespaced_config_map("mine", namespace).metadata.uid != old_uid


# -- 9: every kind checked before a namespace is created --------------------------------


def test_create_namespace_with_a_missing_crd_applies_nothing(  # type: ignore[no-untyped-def]
    conn, sandbox, sandbox_box, namespace, core
) -> None:
    app = f"app-{namespace}"
    dest = f"{namespace}-new"
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    desired = [
        {**service, "metadata": {"name": "web", "namespace": dest}},
        {**service, "metadata": {"name": "api", "namespace": dest}},
        {
            "apiVersion": f"{namespace}.example.com/v1",
            "kind": "Gadget",
            "metadata": {"name": "g", "namespace": dest},
        },
    ]
    options = {"CreateNamespace": "true"}
    try:
        state = sync(
            conn,
            plan_for(conn, app, desired, app_options=options),
            settings(app, dest, app_options=options),
        )
        assert state.phase is OperationPhase.FAILED
        assert f"Gadget {dest}/g" in state.message
        assert "is its CRD installed?" in state.message
        assert "nothing was changed" in state.message
        with pytest.raises(client.ApiException) as missing:
            core.read_namespace(dest)
        assert missing.value.status == 404
        assert written_objects(audit(sandbox_box, sandbox.kubeconfig, dest)) == []
    finally:
        try:
            core.delete_namespace(dest)
        except client.ApiException as exc:
            if exc.status != 404:
                raise


# -- 10: generateName hooks never become a LIST ------------------------------------------


def job_hook(generate_name: str) -> Manifest:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "generateName": generate_name,
            "annotations": {HOOK: "PreSync"},
        },
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


def test_a_generate_name_hook_is_never_compared_with_a_list(  # type: ignore[no-untyped-def]
    sandbox, namespace, tmp_path, conn
) -> None:
    with pytest.raises(InvalidNameError, match="no name"):
        conn.get(ResourceKey("batch", "Job", namespace, ""))
    with pytest.raises(InvalidNameError, match="invalid name"):
        conn.get(ResourceKey("", "ConfigMap", namespace, "../../secrets/x"))
    # names are quoted as one path segment, and the server still finds "system:..." names
    role = ResourceKey("rbac.authorization.k8s.io", "ClusterRole", "", "system:aggregate-to-admin")
    assert conn.get(role) is not None

    # an existing Job in the namespace: what a LIST would have returned
    kubectl(
        sandbox.kubeconfig,
        "-n",
        namespace,
        "create",
        "job",
        "unrelated",
        "--image=busybox",
        "--",
        "true",
    )
    repo = make_repo(
        tmp_path / "repo", {"app/all.yaml": dump_all([job_hook("migrate-"), cm("cfg")])}
    )
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    # one-shot mode (the CLI's): GETs instead of watches, where a nameless GET was a LIST
    with running_engine(sandbox.kubeconfig, tmp_path, [doc], watch=False) as engine:
        preview = engine.preview(SyncRequest(app=namespace))
    hooks = [t for t in preview.plan.tasks if t.action is TaskAction.HOOK]
    assert len(hooks) == 1
    assert hooks[0].key.name == ""
    assert hooks[0].live is None

    # run that plan on a one-shot connection: the hook is created, never "configured"
    oneshot = ClusterConnection("oneshot", KubeTarget(sandbox.kubeconfig, None))
    oneshot.start(watch=False)
    messages: list[str] = []

    def record(state: OperationState) -> None:
        messages.extend(r.message for r in state.results if r.hook)

    try:
        final = run_sync(
            oneshot,
            preview.plan,
            settings(namespace, namespace),
            operation_id=uuid.uuid4().hex,
            on_progress=record,
            cancel=threading.Event(),
        )
    finally:
        oneshot.close()
    assert final.phase is OperationPhase.SUCCEEDED, final.message
    (hook,) = [r for r in final.results if r.hook]
    assert hook.key.name.startswith("migrate-")
    assert "created, running" in messages
    assert not any("configured" in m for m in messages), messages


# -- 11: a sync after kubectl scale restores Git's values --------------------------------


def deployment(name: str, replicas: int) -> Manifest:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]},
            },
        },
    }


def test_sync_after_kubectl_scale_takes_the_fields_back(  # type: ignore[no-untyped-def]
    sandbox, sandbox_box, namespace, tmp_path, kube_api
) -> None:
    apps = client.AppsV1Api(kube_api)
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all([deployment("web", 1)])})
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [doc]) as engine:
        assert operation(engine, namespace, SyncRequest(app=namespace)).phase is (
            OperationPhase.SUCCEEDED
        )

        def scaled_out_of_sync() -> bool:
            return engine.snapshot().by_name[namespace].sync == SyncStatus.OUT_OF_SYNC

        kubectl(sandbox.kubeconfig, "-n", namespace, "scale", "deployment/web", "--replicas=3")
        live = apps.read_namespaced_deployment("web", namespace)
        scaler = next(
            m.manager
            for m in live.metadata.managed_fields
            if m.manager != "gitops-tui" and "f:replicas" in (m.fields_v1 or {}).get("f:spec", {})
        )
        wait_for(scaled_out_of_sync, what="the scale to show as drift")

        # opt-in refusal: a conflict, and nothing applied (the dry run failed)
        before = len(audit(sandbox_box, sandbox.kubeconfig, namespace))
        refused_plan = engine.preview(SyncRequest(app=namespace, force_conflicts=False))
        (task,) = refused_plan.plan.tasks
        assert ".spec.replicas" in task.note and f'"{scaler}"' in task.note
        assert "this apply will fail" in task.note
        refused = operation(engine, namespace, SyncRequest(app=namespace, force_conflicts=False))
        assert refused.phase is OperationPhase.FAILED
        assert "field ownership conflict" in refused.message and ".spec.replicas" in refused.message
        assert "nothing was changed" in refused.message
        assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 3
        assert written_objects(audit(sandbox_box, sandbox.kubeconfig, namespace)[before:]) == []

        # the default: the plan names what is taken from whom, and the sync restores Git
        preview = engine.preview(SyncRequest(app=namespace))
        (task,) = preview.plan.tasks
        assert task.action is TaskAction.UPDATE
        assert task.note == f'takes .spec.replicas from "{scaler}"'
        final = operation(engine, namespace, SyncRequest(app=namespace))
        assert final.phase is OperationPhase.SUCCEEDED, final.message
        assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 1

        # the sync option turns the refusal on for an app (and --force still overrides it)
        kubectl(sandbox.kubeconfig, "-n", namespace, "scale", "deployment/web", "--replicas=4")
        wait_for(scaled_out_of_sync, what="the second scale to show as drift")
    doc["spec"]["syncPolicy"] = {"syncOptions": ["ServerSideApplyForceConflicts=false"]}
    (tmp_path / "second").mkdir()
    with running_engine(sandbox.kubeconfig, tmp_path / "second", [doc]) as engine:
        refused = operation(engine, namespace, SyncRequest(app=namespace))
        assert refused.phase is OperationPhase.FAILED
        assert "field ownership conflict" in refused.message
        assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 4
        forced = operation(engine, namespace, SyncRequest(app=namespace, force=True))
        assert forced.phase is OperationPhase.SUCCEEDED, forced.message
        assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 1

    # the config file's forceConflicts: false (EngineOptions) turns it on for every app
    kubectl(sandbox.kubeconfig, "-n", namespace, "scale", "deployment/web", "--replicas=5")
    del doc["spec"]["syncPolicy"]
    (tmp_path / "third").mkdir()
    with running_engine(
        sandbox.kubeconfig, tmp_path / "third", [doc], force_conflicts=False
    ) as engine:
        refused = operation(engine, namespace, SyncRequest(app=namespace))
        assert refused.phase is OperationPhase.FAILED
        assert "field ownership conflict" in refused.message
        assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 5


# -- 8: pruning a Namespace says what goes with it ---------------------------------------


def namespace_doc(name: str) -> Manifest:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def test_pruning_a_namespace_names_what_goes_with_it(  # type: ignore[no-untyped-def]
    sandbox, sandbox_box, namespace, tmp_path, core
) -> None:
    inner = f"{namespace}-inner"
    repo = make_repo(
        tmp_path / "repo",
        {
            "app/ns.yaml": dump_all([namespace_doc(inner)]),
            "app/cm.yaml": dump_all([cm("inside", inner)]),
            "app/keep.yaml": dump_all([cm("keep")]),
        },
    )
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    try:
        with running_engine(sandbox.kubeconfig, tmp_path, [doc]) as engine:
            first = operation(engine, namespace, SyncRequest(app=namespace))
            assert first.phase is OperationPhase.SUCCEEDED, first.message
            # someone else's object in the app's namespace
            core.create_namespaced_config_map(inner, cm("stranger", inner))
            core.create_namespaced_config_map(inner, with_tracking(cm("theirs", inner), "other"))

            # Git drops the Namespace but still wants a ConfigMap in it: refused
            sha = commit(repo, delete=["app/ns.yaml"], message="drop the namespace")
            wait_revision(engine, namespace, sha)
            preview = engine.preview(SyncRequest(app=namespace, prune=True))
            assert any(
                f"Namespace {inner} would be pruned, but this app still wants 1 object(s)" in e
                and f"ConfigMap {inner}/inside" in e
                for e in preview.plan.errors
            ), preview.plan.errors
            before = len(audit(sandbox_box, sandbox.kubeconfig, inner))
            refused = operation(engine, namespace, SyncRequest(app=namespace, prune=True))
            assert refused.phase is OperationPhase.FAILED
            assert "still wants 1 object(s)" in refused.message
            # also when only the deletion is selected (the prune dialog's request)
            only = SyncRequest(
                app=namespace,
                prune=True,
                resources=frozenset({ResourceKey.parse(f"/Namespace//{inner}")}),
            )
            assert engine.preview(only).plan.errors
            assert deletes(audit(sandbox_box, sandbox.kubeconfig, inner)[before:]) == []
            assert core.read_namespace(inner).metadata.deletion_timestamp is None

            # Git drops both: the plan counts what goes with the Namespace
            sha = commit(repo, delete=["app/cm.yaml"], message="drop everything")
            wait_revision(engine, namespace, sha)
            preview = engine.preview(SyncRequest(app=namespace, prune=True))
            assert preview.plan.errors == ()
            (cascade,) = preview.plan.cascades
            assert (cascade.namespace, cascade.managed, cascade.unmanaged) == (inner, 1, 2)
            assert cascade.kinds == (("ConfigMap", 2),)
            ns_task = next(t for t in preview.plan.tasks if t.key.kind == "Namespace")
            assert ns_task.action is TaskAction.PRUNE
            assert "3 more object(s) go with it" in ns_task.note
            assert "2 NOT managed by this app" in ns_task.note
    finally:
        try:
            core.delete_namespace(inner)
        except client.ApiException as exc:
            if exc.status != 404:
                raise


def test_a_sync_never_succeeds_while_its_objects_are_being_deleted(  # type: ignore[no-untyped-def]
    conn, namespace, core
) -> None:
    """Its namespace is being deleted (someone pruned it): the applied object goes with it."""
    app = f"app-{namespace}"
    doomed = f"{namespace}-doomed"
    core.create_namespace({"metadata": {"name": doomed}})
    held = with_tracking(cm("held", doomed), app)
    held["metadata"]["finalizers"] = ["example.com/hold"]  # keeps the namespace Terminating
    core.create_namespaced_config_map(doomed, held)
    try:
        core.delete_namespace(doomed)
        wait_for(
            lambda: core.read_namespaced_config_map("held", doomed).metadata.deletion_timestamp,
            what="the namespace controller to delete the ConfigMap",
        )
        desired = [{**cm("held", doomed), "data": {"k": "changed"}}]
        state = sync(conn, plan_for(conn, app, desired), settings(app, doomed))
        assert state.phase is OperationPhase.FAILED, state.message
        assert f"ConfigMap {doomed}/held" in state.message
        assert "being deleted" in state.message
    finally:
        core.patch_namespaced_config_map("held", doomed, {"metadata": {"finalizers": None}})


# -- issue 18: label tracking prunes from the engine's own comparison --------------------


def test_label_tracking_syncs_and_prunes_only_its_own_objects(  # type: ignore[no-untyped-def]
    sandbox, sandbox_box, namespace, tmp_path, core
) -> None:
    app = namespace
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all([cm("keep"), cm("stale")])})
    doc = application(app, f"file://{repo.working_tree_dir}", "app", namespace)
    # look-alikes: another app's label, the annotation of this app (not its method), none
    other = cm("other-app", namespace)
    other["metadata"]["labels"] = {INSTANCE_LABEL: f"{app}-other"}
    annotated = cm("annotated", namespace)
    annotated["metadata"]["annotations"] = {
        "argocd.argoproj.io/tracking-id": tracking_id(
            app, ResourceKey("", "ConfigMap", namespace, "annotated")
        )
    }
    for obj in (other, annotated, cm("untracked", namespace)):
        core.create_namespaced_config_map(namespace, obj)
    with running_engine(sandbox.kubeconfig, tmp_path, [doc], tracking="label") as engine:
        first = operation(engine, app, SyncRequest(app=app))
        assert first.phase is OperationPhase.SUCCEEDED, first.message
        labels = core.read_namespaced_config_map("stale", namespace).metadata.labels
        assert labels[INSTANCE_LABEL] == app
        annotations = core.read_namespaced_config_map("stale", namespace).metadata.annotations
        assert "argocd.argoproj.io/tracking-id" not in (annotations or {})

        sha = commit(repo, {"app/all.yaml": dump_all([cm("keep")])}, "drop stale")
        wait_revision(engine, app, sha)
        preview = engine.preview(SyncRequest(app=app, prune=True))
        pruned = sorted(t.key.name for t in preview.plan.tasks if t.action is TaskAction.PRUNE)
        assert pruned == ["stale"]
        before = len(audit(sandbox_box, sandbox.kubeconfig, namespace))
        final = operation(engine, app, SyncRequest(app=app, prune=True))
        assert final.phase is OperationPhase.SUCCEEDED, final.message
        events = audit(sandbox_box, sandbox.kubeconfig, namespace)[before:]
        assert deletes(events) == ["delete configmaps/stale", "delete configmaps/stale"]
        assert written_objects(events, dry_run=True).count("delete configmaps/stale") == 1
        wait_for(
            lambda: (
                "stale"
                not in {c.metadata.name for c in core.list_namespaced_config_map(namespace).items}
            ),
            what="stale to be deleted",
        )
        names = {c.metadata.name for c in core.list_namespaced_config_map(namespace).items}
        assert {"keep", "other-app", "annotated", "untracked"} <= names
