"""The Argo CD backend against a real Argo CD: what it shows is what Argo CD says,
and what it does goes through Argo CD (the operation field, the refresh annotation)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import commit, make_repo
from helpers import application, deployment, dump_all, kubectl, run_cli, wait_for

from gitops_tui.argocd.backend import ArgoCDBackend, ArgoCDOptions
from gitops_tui.engine.api import EngineError, OperationPhase, ResultCode, SyncRequest
from gitops_tui.engine.model import ResourceKey, SyncStatus
from gitops_tui.engine.sync.plan import TaskAction
from gitops_tui.sandbox.podlogs import append_pod_log

pytestmark = [pytest.mark.cluster, pytest.mark.argocd]

SYNC_TIMEOUT = 90.0


def cm(name: str, value: str = "1", **annotations: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"v": value}}


@contextmanager
def backend(kubeconfig: Path, **options: Any) -> Iterator[ArgoCDBackend]:
    engine = ArgoCDBackend(
        ArgoCDOptions(kubeconfig=kubeconfig, tree_interval_s=1.0, **options)
    ).start()
    try:
        yield engine
    finally:
        engine.close()


@pytest.fixture
def apps(sandbox: Any, argocd: Any) -> Iterator[list[str]]:
    """Names of the Application objects a test creates; deleted afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        kubectl(
            sandbox.kubeconfig,
            "-n",
            "argocd",
            "delete",
            "applications.argoproj.io",
            name,
            "--ignore-not-found",
            "--wait=false",
            check=False,
        )


def create_app(kubeconfig: Path, names: list[str], doc: dict[str, Any]) -> str:
    names.append(doc["metadata"]["name"])
    kubectl(kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump(doc))
    return str(doc["metadata"]["name"])


def app_json(kubeconfig: Path, name: str) -> dict[str, Any]:
    out = kubectl(kubeconfig, "-n", "argocd", "get", "applications.argoproj.io", name, "-o", "json")
    return dict(json.loads(out.stdout))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def synced(engine: ArgoCDBackend, name: str) -> None:
    op = engine.sync(SyncRequest(app=name))
    final = engine.wait_for_operation(name, op, timeout=SYNC_TIMEOUT)
    assert final is not None and final.phase == OperationPhase.SUCCEEDED, final
    wait_for(
        lambda: engine.snapshot().by_name[name].sync == SyncStatus.SYNCED,
        timeout=30,
        what=f"{name} Synced after its sync",
    )


def test_list_agrees_with_argocd_objects_and_shows_the_live_tree(
    sandbox: Any, argocd: Any, apps: list[str], namespace: str, tmp_path: Path
) -> None:
    repo = make_repo(
        tmp_path / "repo", {"web/all.yaml": dump_all([cm("web-config"), deployment("web")])}
    )
    url = f"file://{repo.working_tree_dir}"
    auto = create_app(
        sandbox.kubeconfig,
        apps,
        application(unique("auto"), url, "web", namespace, automated={"prune": True}),
    )
    manual = create_app(
        sandbox.kubeconfig, apps, application(unique("manual"), url, "missing-dir", namespace)
    )
    kc = sandbox.kubeconfig

    def settled() -> bool:
        a, m = app_json(kc, auto), app_json(kc, manual)
        return (
            a.get("status", {}).get("sync", {}).get("status") == "Synced"
            and a["status"].get("health", {}).get("status") == "Healthy"
            and "operation" not in a
            and bool(m.get("status", {}).get("conditions"))
        )

    wait_for(settled, timeout=SYNC_TIMEOUT, what="Argo CD to sync the automated app", step=0.5)
    with backend(kc) as engine:
        assert engine.wait_until_compared(timeout=30)

        def agrees() -> bool:
            for name in (auto, manual):
                theirs = app_json(kc, name)["status"]
                ours = engine.snapshot().by_name.get(name)
                if ours is None:
                    return False
                expected = {
                    "sync": theirs["sync"]["status"],
                    "health": theirs["health"]["status"],
                    "revision": theirs["sync"].get("revision", ""),
                    "conditions": [(c["type"], c["message"]) for c in theirs.get("conditions", [])],
                    "resources": sorted(
                        (
                            r.get("kind"),
                            r.get("name"),
                            r.get("status"),
                            (r.get("health") or {}).get("status"),
                        )
                        for r in theirs.get("resources", [])
                    ),
                }
                got = {
                    "sync": ours.sync.value,
                    "health": ours.health.value,
                    "revision": ours.revision,
                    "conditions": [(c.type, c.message) for c in ours.conditions],
                    "resources": sorted(
                        (
                            r.key.kind,
                            r.key.name,
                            r.status and r.status.value,
                            r.health and r.health.value,
                        )
                        for r in ours.resources
                    ),
                }
                if got != expected:
                    agrees.last = (name, got, expected)  # type: ignore[attr-defined]
                    return False
            return True

        wait_for(agrees, timeout=15, what="the backend to agree with kubectl", step=0.2)
        manual_app = engine.snapshot().by_name[manual]
        assert manual_app.sync == SyncStatus.UNKNOWN  # missing path: Argo CD cannot compare
        assert any(c.type == "ComparisonError" for c in manual_app.conditions)

        # the resource tree: Deployment -> ReplicaSet -> Pod, read from the live cluster
        def tree() -> bool:
            nodes = engine.snapshot().by_name[auto].resources
            web = next(n for n in nodes if n.key.kind == "Deployment")
            return bool(web.children) and bool(web.children[0].children)

        wait_for(tree, timeout=30, what="Deployment children in the tree")
        web = next(
            n for n in engine.snapshot().by_name[auto].resources if n.key.kind == "Deployment"
        )
        assert web.children[0].key.kind == "ReplicaSet"
        assert web.children[0].children[0].key.kind == "Pod"

        # live YAML and events, read from the cluster Argo CD manages (GETs and lists)
        shown = engine.live_object(auto, web.key)
        assert shown.live is not None and shown.live["kind"] == "Deployment"
        assert "managedFields" not in shown.live["metadata"] and shown.managed_fields
        assert shown.desired is None  # Argo CD's repo server has it, not the Application
        pod = web.children[0].children[0].key
        assert engine.live_object(auto, pod).live is not None  # live children too
        # a container's log, through the API server's pods/log (kwok serves the sandbox's file)
        mark = f"argocd-log-{uuid.uuid4().hex[:8]}"
        append_pod_log(Path(sandbox.directory), [mark])
        assert list(engine.logs(auto, pod, tail_lines=1)) == [mark]
        with pytest.raises(EngineError, match="not one of"):
            engine.logs(auto, ResourceKey("", "Pod", namespace, "not-in-the-app"))
        with pytest.raises(EngineError, match="not one of"):
            engine.live_object(auto, ResourceKey("", "ConfigMap", namespace, "not-in-the-app"))
        wait_for(
            lambda: any(e.object == web.key for e in engine.events(auto)),
            timeout=30,
            what="the Deployment's events (ScalingReplicaSet)",
        )
        assert all(e.object == web.key for e in engine.events(auto, web.key))
        with pytest.raises(EngineError, match="API server"):
            engine.actions(auto, web.key)

    # the command line, --argocd: the same verdicts as JSON
    done = run_cli(["--kubeconfig", str(kc), "--argocd", "list", "-o", "json"], tmp_path)
    assert done.returncode == 0, done.stderr
    listed = {a["name"]: a for a in json.loads(done.stdout)}
    assert listed[auto]["sync"] == "Synced" and listed[auto]["health"] == "Healthy"
    assert listed[auto]["origin"] == "argocd:argocd"
    assert listed[manual]["sync"] == "Unknown"


def test_commit_and_refresh_turn_the_app_out_of_sync(
    sandbox: Any, argocd: Any, apps: list[str], namespace: str, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm("conf", "1")])})
    name = create_app(
        sandbox.kubeconfig,
        apps,
        application(unique("refresh"), f"file://{repo.working_tree_dir}", "app", namespace),
    )
    with backend(sandbox.kubeconfig) as engine:
        assert engine.wait_until_compared(timeout=SYNC_TIMEOUT, apps=[name])
        synced(engine, name)
        first = engine.snapshot().by_name[name].revision
        new = commit(repo, {"app/cm.yaml": dump_all([cm("conf", "2")])}, "change")
        # Argo CD polls every 180 s here (app-resync): only the annotation makes this quick
        engine.refresh(name)
        wait_for(
            lambda: engine.snapshot().by_name[name].sync == SyncStatus.OUT_OF_SYNC,
            timeout=30,
            what="OutOfSync after the refresh",
        )
        app = engine.snapshot().by_name[name]
        assert app.revision == new != first
        conf = next(r for r in app.resources if r.key.name == "conf")
        assert conf.status == SyncStatus.OUT_OF_SYNC
        wait_for(
            lambda: (
                "argocd.argoproj.io/refresh"
                not in app_json(sandbox.kubeconfig, name)["metadata"].get("annotations", {})
            ),
            timeout=30,
            what="Argo CD to remove the refresh annotation",
        )
        # no diff provider: a clear message instead of an empty diff
        with pytest.raises(EngineError, match="needs repository access"):
            engine.diffs(name)
    # the command line renders the desired state locally (read-only) for the diff
    done = run_cli(
        ["--kubeconfig", str(sandbox.kubeconfig), "--argocd", "diff", name, "--exit-code"],
        tmp_path,
    )
    assert done.returncode == 1, done.stderr
    assert "ConfigMap" in done.stdout and "v: '2'" in done.stdout.replace('"', "'")


def test_sync_with_prune_copies_the_sync_options_and_prunes(
    sandbox: Any, argocd: Any, apps: list[str], namespace: str, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app/cms.yaml": dump_all([cm("keep"), cm("gone")])})
    name = create_app(
        sandbox.kubeconfig,
        apps,
        application(
            unique("prune"),
            f"file://{repo.working_tree_dir}",
            "app",
            namespace,
            sync_options=["PruneLast=true"],
        ),
    )
    with backend(sandbox.kubeconfig) as engine:
        assert engine.wait_until_compared(timeout=SYNC_TIMEOUT, apps=[name])
        synced(engine, name)
        commit(repo, {"app/cms.yaml": dump_all([cm("keep")])}, "drop gone")
        engine.refresh(name)
        gone = ResourceKey("", "ConfigMap", namespace, "gone")

        def prune_pending() -> bool:
            app = engine.snapshot().by_name[name]
            return any(r.key == gone and r.requires_pruning for r in app.resources)

        wait_for(prune_pending, timeout=30, what="gone to require pruning")
        actions = {t.key: t.action for t in engine.preview(SyncRequest(app=name)).plan.tasks}
        assert actions[gone] == TaskAction.PRUNE_SKIPPED
        actions = {
            t.key: t.action for t in engine.preview(SyncRequest(app=name, prune=True)).plan.tasks
        }
        assert actions[gone] == TaskAction.PRUNE
        op = engine.sync(SyncRequest(app=name, prune=True))
        final = engine.wait_for_operation(name, op, timeout=SYNC_TIMEOUT)
        assert final is not None and final.phase == OperationPhase.SUCCEEDED, final
        assert {r.key: r.status for r in final.results}[gone] == ResultCode.PRUNED
        assert final.initiated_by == "gitops-tui" and final.prune
    left = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "configmap", "gone", check=False)
    assert left.returncode != 0 and "NotFound" in left.stderr
    operation = app_json(sandbox.kubeconfig, name)["status"]["operationState"]["operation"]
    # Argo CD does not read spec.syncPolicy.syncOptions for a manual sync: we copy them in
    assert operation["sync"]["syncOptions"] == ["PruneLast=true"]
    assert operation["initiatedBy"] == {"username": "gitops-tui"}


def test_terminate_stops_a_running_sync(
    sandbox: Any, argocd: Any, apps: list[str], namespace: str, tmp_path: Path
) -> None:
    # wave -1 never gets healthy (a LoadBalancer Service gets no address in the
    # sandbox): Argo CD waits before wave 0, the operation stays Running
    lb = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "lb", "annotations": {"argocd.argoproj.io/sync-wave": "-1"}},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 80}], "selector": {"app": "x"}},
    }
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all([lb, cm("after")])})
    name = create_app(
        sandbox.kubeconfig,
        apps,
        application(unique("term"), f"file://{repo.working_tree_dir}", "app", namespace),
    )
    with backend(sandbox.kubeconfig) as engine:
        assert engine.wait_until_compared(timeout=SYNC_TIMEOUT, apps=[name])
        assert engine.terminate(name) is False  # nothing running: nothing to stop
        op = engine.sync(SyncRequest(app=name))

        def waiting() -> bool:
            current = engine.snapshot().by_name[name].operation
            return (
                current is not None
                and current.id == op
                and current.phase == OperationPhase.RUNNING
                and "healthy state" in current.message
            )

        wait_for(waiting, timeout=SYNC_TIMEOUT, what="the sync to wait on wave -1")
        with pytest.raises(EngineError, match="another operation is already in progress"):
            engine.sync(SyncRequest(app=name))
        # the controller's stale write of Running over Terminating, made certain:
        # the terminate is set again until the operation ends
        with argocd.paused("controller"):
            assert engine.terminate(name) is True
            kubectl(sandbox.kubeconfig, "-n", "argocd", "patch", "applications.argoproj.io",
                    name, "--type", "merge",
                    "-p", '{"status": {"operationState": {"phase": "Running"}}}')  # fmt: skip
        final = engine.wait_for_operation(name, op, timeout=SYNC_TIMEOUT)
        assert final is not None and final.phase == OperationPhase.FAILED, (
            final, engine.snapshot().by_name[name].operation,
        )  # fmt: skip
        assert "terminated" in final.message.lower()
    after = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "configmap", "after", check=False)
    assert after.returncode != 0  # wave 0 never ran


def test_rollback_turns_automation_off_and_syncs_the_old_revision(
    sandbox: Any, argocd: Any, apps: list[str], namespace: str, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm("conf", "one")])})
    first = repo.head.commit.hexsha
    name = create_app(
        sandbox.kubeconfig,
        apps,
        application(
            unique("rollback"), f"file://{repo.working_tree_dir}", "app", namespace, automated={}
        ),
    )
    with backend(sandbox.kubeconfig) as engine:
        wait_for(
            lambda: len(engine.history(name)) == 1 if name in engine.app_names() else False,
            timeout=SYNC_TIMEOUT,
            what="the automated first sync in the history",
        )
        second = commit(repo, {"app/cm.yaml": dump_all([cm("conf", "two")])}, "two")
        engine.refresh(name)
        wait_for(
            lambda: [e.revision for e in engine.history(name)] == [second, first],
            timeout=SYNC_TIMEOUT,
            what="the automated sync of the second commit",
        )
        entry = next(e for e in engine.history(name) if e.revision == first)
        op = engine.rollback(name, entry.id)
        final = engine.wait_for_operation(name, op, timeout=SYNC_TIMEOUT)
        assert final is not None and final.phase == OperationPhase.SUCCEEDED, final
        assert final.revision == first
        assert engine.snapshot().by_name[name].automated is False
    spec = app_json(sandbox.kubeconfig, name)["spec"]
    assert "automated" not in spec.get("syncPolicy", {})
    data = kubectl(
        sandbox.kubeconfig, "-n", namespace, "get", "configmap", "conf", "-o", "jsonpath={.data.v}"
    )
    assert data.stdout == "one"
