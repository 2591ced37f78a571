"""Predictions against the real API server: status updates cost no dry run, spec changes do.

Dry runs are counted in the API server's audit log (``patch`` with ``dryRun``).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from audit import audit_events, audit_mark
from gitrepo import make_repo
from helpers import application, dump_all, kubectl, running_engine, wait_for

from gitops_tui.engine.api import SyncRequest
from gitops_tui.engine.cache.cluster import ClusterConnection
from gitops_tui.engine.cache.kubeclient import KubeTarget
from gitops_tui.engine.diff.compare import PredictionCache, live_signature, predict
from gitops_tui.engine.diff.resource_diff import diff_resource
from gitops_tui.engine.model import ResourceKey, SyncStatus

pytestmark = pytest.mark.cluster


def deployment(namespace: str, replicas: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }


def flushed_mark(sandbox_box: Any, kubeconfig: Any) -> int:
    """Where the log ends once every earlier request is in it (the audit log is buffered)."""
    audit_events(sandbox_box, kubeconfig, audit_mark(sandbox_box))
    return audit_mark(sandbox_box)


def dry_runs(sandbox_box: Any, kubeconfig: Any, mark: int, namespace: str) -> int:
    events = audit_events(sandbox_box, kubeconfig, mark, namespace, cluster_scoped=False)
    return sum(
        1 for e in events if e.get("verb") == "patch" and "dryRun" in str(e.get("requestURI", ""))
    )


def test_status_updates_cost_no_dry_run_but_a_spec_change_by_another_manager_does(
    sandbox, sandbox_box, namespace
) -> None:
    conn = ClusterConnection("sandbox", KubeTarget(sandbox.kubeconfig, None))
    try:
        desired = deployment(namespace)
        key = ResourceKey.of(desired)
        conn.apply(copy.deepcopy(desired), force=True)

        def settled() -> dict[str, Any] | None:
            live = conn.get(key)
            assert live is not None
            meta, status = live["metadata"], live.get("status") or {}
            annotations = meta.get("annotations") or {}
            done = status.get("observedGeneration") == meta.get("generation")
            return live if done and "deployment.kubernetes.io/revision" in annotations else None

        live = wait_for(settled, timeout=60, what="the deployment controller to settle")
        cache = PredictionCache()
        fp = PredictionCache.fingerprint(desired)

        def predicted_and_kept() -> dict[str, Any] | None:
            # a dry run answered from a newer object than our GET is not kept: again
            current = conn.get(key)
            assert current is not None
            predict(conn, desired, current, cache)
            kept = cache.get(conn.name, key, fp, live_signature(current))
            return current if kept is not None else None

        live = wait_for(predicted_and_kept, timeout=60, what="a prediction kept in the cache")

        mark = flushed_mark(sandbox_box, sandbox.kubeconfig)
        status_rv = live["metadata"]["resourceVersion"]
        conn.client.request(
            "PATCH",
            f"/apis/apps/v1/namespaces/{namespace}/deployments/web/status",
            body={"status": {"conditions": [{"type": "Bench", "status": "True"}]}},
            content_type="application/merge-patch+json",
        )
        after_status = conn.get(key)
        assert after_status is not None
        assert after_status["metadata"]["resourceVersion"] != status_rv
        predicted, _ = predict(conn, desired, after_status, cache)
        assert predicted["status"] == after_status["status"]  # the live status, laid over
        assert not diff_resource(key, predicted, after_status, rules=()).modified
        assert dry_runs(sandbox_box, sandbox.kubeconfig, mark, namespace) == 0

        mark = flushed_mark(sandbox_box, sandbox.kubeconfig)
        kubectl(
            sandbox.kubeconfig,
            "patch",
            "deployment",
            "web",
            "-n",
            namespace,
            "--type=merge",
            "-p",
            '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}}',
        )
        after_spec = conn.get(key)
        assert after_spec is not None
        predicted, _ = predict(conn, desired, after_spec, cache)
        assert dry_runs(sandbox_box, sandbox.kubeconfig, mark, namespace) == 1
        assert diff_resource(key, predicted, after_spec, rules=()).modified  # the image drifted
    finally:
        conn.close()


def test_the_compare_after_a_sync_needs_no_dry_run_of_what_the_sync_applied(
    sandbox, sandbox_box, namespace, tmp_path
) -> None:
    """The whole-plan dry run stays; the re-compare after it reuses the apply responses."""
    cms = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}"}, "data": {"i": "1"}}
        for i in range(3)
    ]
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all(cms)})
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [doc]) as engine:
        mark = flushed_mark(sandbox_box, sandbox.kubeconfig)
        op_id = engine.sync(SyncRequest(app=namespace, initiated_by="test"))
        final = engine.wait_for_operation(namespace, op_id, timeout=60)
        assert final is not None and final.phase.value == "Succeeded", final
        finished = final.finished_at or 0.0

        def compared_after_sync() -> bool:
            app = next(a for a in engine.snapshot().apps if a.name == namespace)
            return app.sync == SyncStatus.SYNCED and app.compared_at > finished

        wait_for(compared_after_sync, timeout=60, what="the compare after the sync")
        events = audit_events(sandbox_box, sandbox.kubeconfig, mark, namespace)
        patches = [e for e in events if e.get("verb") == "patch"]
        dry = [e for e in patches if "dryRun" in str(e.get("requestURI", ""))]
        assert len(patches) - len(dry) == 3  # the applies
        assert len(dry) == 3  # the sync's dry run of the whole plan, and nothing after it
