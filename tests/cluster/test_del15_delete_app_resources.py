"""Deleting a local app's resources against the real control plane: the plan (read fresh),
then exactly that plan carried out, highest sync wave first (read from the audit log);
Delete=false, an object another app's Git also has, and what was re-created or appeared
since the plan stay; a history entry of kind delete; the app re-compared (Missing).
Read-only, by the flag or by the context, refuses and sends nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from audit import WRITE_VERBS, audit_events, audit_mark
from gitrepo import make_repo
from helpers import application, dump_all, kubectl, run_cli, running_engine, wait_for
from test_resource_actions_cluster import deployment, get, live_in, settings, start

from gitops_tui.engine.api import (
    AppDeletePlan,
    EngineError,
    PlannedDeletion,
    ReadOnlyError,
    ResultCode,
)
from gitops_tui.engine.cache.tracking import with_tracking
from gitops_tui.engine.model import ResourceKey, SyncStatus

pytestmark = pytest.mark.cluster


def cm(namespace: str, name: str, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"a": "1"}}


def apply(sandbox: Any, obj: dict[str, Any]) -> None:
    kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump(obj))


def uid(sandbox: Any, namespace: str, kind: str, name: str) -> str | None:
    found = get(sandbox, namespace, kind, name, check=False)
    return found["metadata"]["uid"] if found else None


def test_the_app_s_owned_resources_go_highest_wave_first_and_the_rest_stays(
    sandbox, sandbox_box, namespace: str, tmp_path: Path
) -> None:
    app, other = namespace, f"{namespace}-b"
    ours = [
        deployment(namespace),
        settings(namespace),
        cm(namespace, "late", {"argocd.argoproj.io/sync-wave": "3"}),
        cm(namespace, "early", {"argocd.argoproj.io/sync-wave": "-1"}),
        cm(namespace, "kept", {"argocd.argoproj.io/sync-options": "Delete=false"}),
        cm(namespace, "shared"),
    ]
    for obj in ours:
        apply(sandbox, with_tracking(obj, app))
    repo = make_repo(
        tmp_path / "repo",
        {"a/all.yaml": dump_all(ours), "b/all.yaml": dump_all([cm(namespace, "shared")])},
    )
    url = f"file://{repo.working_tree_dir}"
    docs = [application(app, url, "a", namespace), application(other, url, "b", namespace)]
    web = ResourceKey("apps", "Deployment", namespace, "web")
    with running_engine(sandbox.kubeconfig, tmp_path, docs, argocd_namespace=namespace) as engine:
        wait_for(lambda: live_in(engine, app, web), what="the Deployment compared")
        plan = engine.plan_app_delete(app)
        assert [(d.key.kind, d.key.name, d.wave) for d in plan.deletions] == [
            ("ConfigMap", "late", 3),
            ("Deployment", "web", 0),
            ("ConfigMap", "settings", 0),
            ("ConfigMap", "early", -1),
        ]
        kept = {k.key.name: k.reason for k in plan.kept}
        assert kept["kept"] == "Delete=false (argocd.argoproj.io/sync-options)"
        assert kept["shared"] == f"shared: app {other!r} also has it in Git"
        assert plan.deletions[1].uid == uid(sandbox, namespace, "deployment", "web")

        # between the plan and the confirmation: "early" re-created (a new uid), and an
        # object of the app appears: neither is in the confirmed plan, neither is deleted
        old_early = uid(sandbox, namespace, "configmap", "early")
        kubectl(sandbox.kubeconfig, "-n", namespace, "delete", "configmap", "early")
        apply(sandbox, with_tracking(ours[3], app))
        apply(sandbox, with_tracking(cm(namespace, "newcomer"), app))
        assert uid(sandbox, namespace, "configmap", "early") not in (None, old_early)

        mark = audit_mark(sandbox_box)
        result = engine.delete_app_resources(plan, "foreground")
        assert result.startswith(f"deleted 3 resources of {app} in reverse wave order, 2 kept")
        assert result.endswith("the Application stays in Git; sync recreates them")
        events = audit_events(sandbox_box, sandbox.kubeconfig, mark, namespace)
        deletes = [e for e in events if e.get("verb") in WRITE_VERBS]
        assert [(e["verb"], e["objectRef"]["name"]) for e in deletes] == [
            ("delete", "late"),
            ("delete", "web"),
            ("delete", "settings"),
        ]
        # each wave was gone before the next began: the first wave-0 DELETE came after
        # a GET that found "late" gone (404)
        late_gone = next(
            i
            for i, e in enumerate(events)
            if e.get("verb") == "get"
            and (e.get("objectRef") or {}).get("name") == "late"
            and (e.get("responseStatus") or {}).get("code") == 404
        )
        assert late_gone < events.index(deletes[1])

        for name in ("late", "settings"):
            assert get(sandbox, namespace, "configmap", name, check=False) is None
        assert get(sandbox, namespace, "deployment", "web", check=False) is None
        for name in ("kept", "shared", "early", "newcomer"):
            assert get(sandbox, namespace, "configmap", name, check=False) is not None

        [entry, *_] = engine.history(app)
        assert entry.operation.kind == "delete"
        assert entry.operation.phase.value == "Succeeded"
        results = {r.key.name: r for r in entry.operation.results}
        assert results["late"].status is ResultCode.PRUNED and results["late"].wave == 3
        assert results["early"].status is ResultCode.PRUNE_SKIPPED
        assert "re-created since the plan" in results["early"].message
        assert results["kept"].message.startswith("kept: Delete=false")
        with pytest.raises(EngineError, match="is a deletion of its resources, not a sync"):
            engine.rollback(app, entry.id)

        # re-compared: what went is Missing, the app OutOfSync; the other app untouched
        def missing() -> bool:
            found = engine.snapshot().by_name[app]
            nodes = {r.key.name: r for r in found.resources}
            return found.sync == SyncStatus.OUT_OF_SYNC and not nodes["web"].exists

        wait_for(missing, what=f"{app} re-compared with its resources gone")
        shared = [r for r in engine.snapshot().by_name[other].resources if r.key.name == "shared"]
        assert shared and shared[0].exists


def sandbox_context(sandbox: Any) -> str:
    config = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    return str(config["current-context"])


@pytest.mark.parametrize("how", ["flag", "context"])
def test_read_only_refuses_and_sends_nothing(
    sandbox, sandbox_box, namespace: str, tmp_path: Path, how: str
) -> None:
    cfg = ResourceKey("", "ConfigMap", namespace, "settings")
    options: dict[str, Any] = (
        {"read_only": True}
        if how == "flag"
        else {"read_only_contexts": frozenset({sandbox_context(sandbox)})}
    )
    live_uid = ""
    mark = audit_mark(sandbox_box)
    with start(sandbox, namespace, tmp_path, [settings(namespace)], **options) as engine:
        wait_for(lambda: live_in(engine, namespace, cfg), what="the ConfigMap compared")
        live_uid = uid(sandbox, namespace, "configmap", "settings") or ""
        plan = AppDeletePlan(namespace, "in-cluster", (PlannedDeletion(cfg, live_uid, 0),), ())
        for call in (
            lambda: engine.plan_app_delete(namespace),
            lambda: engine.delete_app_resources(plan, "foreground"),
            lambda: engine.delete_app(namespace, "foreground"),
        ):
            with pytest.raises(ReadOnlyError, match="read-only"):
                call()
        assert engine.history(namespace) == []
    events = audit_events(sandbox_box, sandbox.kubeconfig, mark, namespace)
    assert [e for e in events if e.get("verb") in WRITE_VERBS] == []
    assert any(e.get("verb") in ("get", "list", "watch") for e in events)  # it did read
    assert uid(sandbox, namespace, "configmap", "settings") == live_uid


def test_orphan_is_refused_in_words_and_sends_nothing(
    sandbox, sandbox_box, namespace: str, tmp_path: Path
) -> None:
    cfg = ResourceKey("", "ConfigMap", namespace, "settings")
    with start(sandbox, namespace, tmp_path, [settings(namespace)]) as engine:
        wait_for(lambda: live_in(engine, namespace, cfg), what="the ConfigMap compared")
        mark = audit_mark(sandbox_box)
        with pytest.raises(EngineError, match="orphan deletes nothing with the local engine"):
            engine.delete_app(namespace, "orphan")
        events = audit_events(sandbox_box, sandbox.kubeconfig, mark, namespace)
    assert [e for e in events if e.get("verb") in WRITE_VERBS] == []
    assert get(sandbox, namespace, "configmap", "settings", check=False) is not None


def test_the_command_prints_the_plan_and_deletes_only_with_yes(
    sandbox, namespace: str, tmp_path: Path
) -> None:
    objects = [
        cm(namespace, "goes"),
        cm(namespace, "stays", {"argocd.argoproj.io/sync-options": "Delete=false"}),
    ]
    for obj in objects:
        apply(sandbox, with_tracking(obj, namespace))
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all(objects)})
    app_file = tmp_path / "apps.yaml"
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    app_file.write_text(yaml.safe_dump(doc))
    common = ["--apps", str(app_file), "--kubeconfig", str(sandbox.kubeconfig)]

    asked = run_cli(["delete-app", *common, namespace], tmp_path)  # stdin is no terminal
    assert asked.returncode == 2, (asked.stdout, asked.stderr)
    assert "confirm with --yes" in asked.stderr
    assert f"ConfigMap {namespace}/goes  (wave 0)" in asked.stdout
    assert f"ConfigMap {namespace}/stays: Delete=false" in asked.stdout
    assert get(sandbox, namespace, "configmap", "goes", check=False) is not None

    done = run_cli(["delete-app", *common, namespace, "--yes", "-o", "json"], tmp_path)
    assert done.returncode == 0, (done.stdout, done.stderr)
    payload = json.loads(done.stdout)
    assert payload["deleted"] is True
    assert [d["name"] for d in payload["plan"]["delete"]] == ["goes"]
    assert {(r["name"], r["status"]) for r in payload["results"]} == {
        ("goes", "Pruned"),
        ("stays", "PruneSkipped"),
    }
    assert get(sandbox, namespace, "configmap", "goes", check=False) is None
    assert get(sandbox, namespace, "configmap", "stays", check=False) is not None
    history = run_cli(["history", *common, namespace, "-o", "json"], tmp_path)
    assert "sync recreates them" in json.loads(history.stdout)[0]["message"]
