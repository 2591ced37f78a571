"""The Argo CD backend's pure parts: Application JSON -> snapshots, and the patches it sends.

The same behaviour is tested against a real Argo CD in tests/argocd; these pin the
mapping rules and the hostile-input handling quickly.
"""

from __future__ import annotations

from typing import Any

from gitops_tui.argocd import operations as ops
from gitops_tui.argocd.status import (
    LOCAL_HEALTH_NOTE,
    MAX_TEXT,
    OPERATION_ID_INFO,
    app_snapshot,
    history_entries,
)
from gitops_tui.engine.api import SyncRequest
from gitops_tui.engine.model import HealthStatus, ResourceKey, SyncStatus
from gitops_tui.engine.snapshot import OperationPhase, ResultCode
from gitops_tui.engine.sync.plan import TaskAction

ESC = "\x1b]0;owned\x07"


def app(**status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web", "namespace": "argocd", "resourceVersion": "42"},
        "spec": {
            "project": "default",
            "source": {"repoURL": "https://user:secret@git.example/r.git", "path": "web",
                       "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
            "syncPolicy": {"automated": {"prune": True}, "syncOptions": ["PruneLast=true"],
                           "retry": {"limit": 2}},
        },
        "status": status,
    }  # fmt: skip


def snap(obj: dict[str, Any], **kw: Any) -> Any:
    return app_snapshot(
        obj, origin="argocd:argocd", in_cluster_context="sandbox", read_only=False, **kw
    )


def test_verdicts_are_argo_cds_and_strings_are_made_safe() -> None:
    obj = app(
        sync={"status": "OutOfSync", "revision": "abc123"},
        health={"status": "Degraded", "message": f"bad {ESC}"},
        conditions=[{"type": "SyncError", "message": "x" * (MAX_TEXT + 50) + ESC}],
        resources=[
            {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "web",
             "name": "web", "status": "OutOfSync", "health": {"status": "Progressing"}},
            {"version": "v1", "kind": "ConfigMap", "namespace": "web", "name": f"c{ESC}",
             "status": "Synced", "requiresPruning": True, "syncWave": 3},
        ],
        reconciledAt="2026-12-01T12:00:00Z",
    )  # fmt: skip
    s = snap(obj, projects=frozenset({"default"}))
    assert (s.sync, s.health, s.revision, s.target_revision) == (
        SyncStatus.OUT_OF_SYNC, HealthStatus.DEGRADED, "abc123", "main",
    )  # fmt: skip
    assert "secret" not in s.repo_url
    assert s.automated and s.auto_prune and not s.self_heal
    assert s.destination.context == "sandbox" and s.compared_at > 0
    assert "\x1b" not in s.health_message and "\\x1b" in s.health_message
    assert len(s.conditions[0].message) <= MAX_TEXT + 3 + 20
    assert "\x1b" not in s.conditions[0].message
    deploy, config = s.resources
    assert deploy.health == HealthStatus.PROGRESSING and deploy.status == SyncStatus.OUT_OF_SYNC
    assert config.requires_pruning and config.sync_wave == 3 and config.health is None
    assert "\x1b" not in config.key.name


def test_unpersisted_resource_health_is_computed_locally_and_marked() -> None:
    obj = app(
        sync={"status": "Synced"},
        resources=[{"group": "apps", "kind": "Deployment", "namespace": "web", "name": "web"}],
    )
    key = ResourceKey("apps", "Deployment", "web", "web")
    s = snap(obj, live_health={key: (HealthStatus.HEALTHY, "")})
    assert s.resources[0].health == HealthStatus.HEALTHY
    assert s.resources[0].health_message == LOCAL_HEALTH_NOTE


def test_a_missing_project_and_a_disabled_automation() -> None:
    obj = app()
    obj["spec"]["project"] = "nope"
    obj["spec"]["syncPolicy"]["automated"]["enabled"] = False
    s = snap(obj, projects=frozenset({"default"}))
    assert [c.type for c in s.conditions] == ["InvalidSpecError"]
    assert not s.automated and not s.auto_prune
    assert s.sync == SyncStatus.UNKNOWN and s.health == HealthStatus.UNKNOWN


def test_operation_state_results_and_our_operation_id() -> None:
    obj = app(
        operationState={
            "phase": "Running",
            "message": "waiting for healthy state of /Service/lb",
            "startedAt": "2026-12-01T12:00:00Z",
            "operation": {
                "sync": {"revision": "abc", "prune": True},
                "initiatedBy": {"username": "gitops-tui"},
                "info": [{"name": OPERATION_ID_INFO, "value": "op-1"}],
            },
            "syncResult": {
                "revision": "abc",
                "resources": [
                    {"kind": "ConfigMap", "namespace": "web", "name": "a", "status": "Pruned"},
                    {"group": "batch", "kind": "Job", "namespace": "web", "name": "pre",
                     "hookType": "PreSync", "hookPhase": "Running", "syncPhase": "PreSync"},
                ],
            },
        }
    )  # fmt: skip
    op = snap(obj).operation
    assert op.id == "op-1" and op.phase == OperationPhase.RUNNING and not op.phase.done
    assert op.prune and op.initiated_by == "gitops-tui" and op.revision == "abc"
    assert [r.status for r in op.results] == [ResultCode.PRUNED, ResultCode.RUNNING]
    assert op.results[1].hook and op.results[1].phase == "PreSync"
    assert snap(obj).last_sync is None
    obj["status"]["operationState"]["operation"]["info"] = []
    obj["status"]["operationState"]["phase"] = "Succeeded"
    done = snap(obj)
    assert done.operation.id == "web@2026-12-01T12:00:00Z" and done.last_sync == done.operation


def test_history_newest_first() -> None:
    obj = app(
        history=[
            {"id": 0, "revision": "aaa", "deployedAt": "2026-12-01T10:00:00Z",
             "source": {"repoURL": "https://u:p@h/r", "path": "web"}},
            {"id": 1, "revision": "bbb", "deployedAt": "2026-12-01T11:00:00Z",
             "initiatedBy": {"automated": True}, "source": {"repoURL": "https://h/r"}},
        ]
    )  # fmt: skip
    entries = history_entries("web", obj)
    assert [(e.id, e.revision) for e in entries] == [(1, "bbb"), (0, "aaa")]
    assert entries[0].operation.initiated_by == "automated"
    assert "p@" not in entries[1].repo_url


def test_sync_operation_is_what_argo_cds_server_writes() -> None:
    obj = app()
    key = ResourceKey("", "ConfigMap", "web", "a")
    op = ops.sync_operation(
        obj,
        SyncRequest(app="web", prune=True, resources=frozenset({key})),
        operation_id="id1",
        username="gitops-tui",
    )
    sync = op["sync"]
    assert sync["syncOptions"] == ["PruneLast=true"]  # copied from the spec
    assert sync["revision"] == "main" and sync["prune"] and not sync["dryRun"]
    assert sync["source"]["path"] == "web" and sync["syncStrategy"] == {"hook": {}}
    assert sync["resources"] == [
        {"group": "", "kind": "ConfigMap", "namespace": "web", "name": "a"}
    ]
    assert op["retry"] == {"limit": 2}
    assert op["info"] == [{"name": OPERATION_ID_INFO, "value": "id1"}]
    forced = ops.sync_operation(
        obj, SyncRequest(app="web", force=True), operation_id="x", username="u"
    )
    assert forced["sync"]["syncStrategy"] == {"hook": {"force": True}}
    patch = ops.set_operation_patch("42", op)
    assert patch["metadata"] == {"resourceVersion": "42"}
    assert patch["status"] == {"operationState": None}


def test_rollback_terminate_refresh_patches() -> None:
    obj = app(history=[{"id": 3, "revision": "old", "source": {"repoURL": "r", "path": "p"}}])
    entry = ops.history_entry(obj, 3)
    assert entry is not None and ops.history_entry(obj, 4) is None
    op = ops.rollback_operation(obj, entry, operation_id="i", username="u")
    assert op["sync"]["revision"] == "old" and op["sync"]["source"] == {"repoURL": "r", "path": "p"}
    assert op["sync"]["syncStrategy"] == {"apply": {}}
    assert ops.automation_off_patch("7")["spec"] == {"syncPolicy": {"automated": None}}
    assert ops.terminate_patch("7")["status"] == {"operationState": {"phase": "Terminating"}}
    assert ops.refresh_patch(hard=True)["metadata"]["annotations"] == {
        "argocd.argoproj.io/refresh": "hard"
    }


def test_preview_plan_from_status_resources() -> None:
    obj = app(
        sync={"status": "OutOfSync"},
        resources=[
            {"kind": "ConfigMap", "namespace": "web", "name": "new", "status": "OutOfSync",
             "health": {"status": "Missing"}},
            {"kind": "ConfigMap", "namespace": "web", "name": "changed", "status": "OutOfSync"},
            {"kind": "ConfigMap", "namespace": "web", "name": "same", "status": "Synced"},
            {"kind": "ConfigMap", "namespace": "web", "name": "old", "status": "OutOfSync",
             "requiresPruning": True},
            {"group": "batch", "kind": "Job", "namespace": "web", "name": "hook", "hook": True},
        ]
    )  # fmt: skip
    actions = {t.key.name: t.action for t in ops.preview_plan(obj, SyncRequest(app="web")).tasks}
    assert actions == {
        "new": TaskAction.CREATE,
        "changed": TaskAction.UPDATE,
        "same": TaskAction.UNCHANGED,
        "old": TaskAction.PRUNE_SKIPPED,
    }
    pruning = ops.preview_plan(obj, SyncRequest(app="web", prune=True))
    assert {t.key.name: t.action for t in pruning.tasks}["old"] == TaskAction.PRUNE
    only = ops.preview_plan(
        obj,
        SyncRequest(app="web", resources=frozenset({ResourceKey("", "ConfigMap", "web", "new")})),
    )
    assert [t.key.name for t in only.tasks] == ["new"]
