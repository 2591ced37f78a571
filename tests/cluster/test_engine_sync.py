"""Sync through the engine and the headless CLI: exit codes, automation, self-heal, crashes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import commit, make_repo
from helpers import application, dump_all, kubectl, running_engine, wait_for

from gitops_tui.engine.model import SyncStatus
from gitops_tui.engine.snapshot import OperationPhase
from gitops_tui.engine.sync.history import HistoryStore

pytestmark = pytest.mark.cluster


def deployment(name: str, replicas: int = 1, wave: int | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if wave is not None:
        meta["annotations"] = {"argocd.argoproj.io/sync-wave": str(wave)}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]},
            },
        },
    }


def cm(name: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": data or {"k": "v"},
    }


def cli(
    tmp: Path, kubeconfig: Path, apps_dir: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GITOPS_TUI_STATE": str(tmp / "state"),
        "GITOPS_TUI_CONFIG_DIR": str(tmp / "config"),
    }
    env.pop("KUBEBUILDER_ASSETS", None)
    command = [
        sys.executable,
        "-m",
        "gitops_tui.cli",
        *args,
        "--apps",
        str(apps_dir),
        "--kubeconfig",
        str(kubeconfig),
    ]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def write_app(apps_dir: Path, doc: dict[str, Any]) -> None:
    apps_dir.mkdir(parents=True, exist_ok=True)
    (apps_dir / f"{doc['metadata']['name']}.yaml").write_text(yaml.safe_dump(doc))


def test_cli_sync_diff_list_history_and_exit_codes(sandbox, namespace, tmp_path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "app/all.yaml": dump_all([deployment("web"), cm("cfg")]),
            "bad/cm.yaml": dump_all([cm("UPPERCASE-not-allowed")]),
        },
    )
    url = f"file://{repo.working_tree_dir}"
    apps = tmp_path / "apps"
    write_app(apps, application(namespace, url, "app", namespace))
    write_app(apps, application(f"{namespace}-bad", url, "bad", namespace))

    diff = cli(tmp_path, sandbox.kubeconfig, apps, "diff", namespace, "--exit-code")
    assert diff.returncode == 1, diff.stderr
    assert "===== apps/Deployment" in diff.stdout

    dry = cli(tmp_path, sandbox.kubeconfig, apps, "sync", namespace, "--dry-run")
    assert dry.returncode == 0, dry.stderr + dry.stdout
    assert "(dry run)" in dry.stdout
    assert (
        kubectl(
            sandbox.kubeconfig, "-n", namespace, "get", "configmap", "cfg", check=False
        ).returncode
        != 0
    )

    synced = cli(tmp_path, sandbox.kubeconfig, apps, "sync", namespace)
    assert synced.returncode == 0, synced.stderr + synced.stdout
    assert (
        "Synced" in synced.stdout and "Deployment" in synced.stdout and "Succeeded" in synced.stdout
    )

    assert cli(tmp_path, sandbox.kubeconfig, apps, "diff", namespace, "--exit-code").returncode == 0
    listing = json.loads(cli(tmp_path, sandbox.kubeconfig, apps, "list", "-o", "json").stdout)
    mine = next(a for a in listing if a["name"] == namespace)
    assert mine["sync"] == "Synced"
    assert {r["kind"] for r in mine["resources"]} == {"Deployment", "ConfigMap"}
    assert mine["lastSync"]["phase"] == "Succeeded"

    history = json.loads(
        cli(tmp_path, sandbox.kubeconfig, apps, "history", namespace, "-o", "json").stdout
    )
    assert len(history) == 1 and history[0]["phase"] == "Succeeded"
    assert history[0]["revision"] == repo.head.commit.hexsha

    failed = cli(tmp_path, sandbox.kubeconfig, apps, "sync", f"{namespace}-bad")
    assert failed.returncode == 1
    assert "UPPERCASE-not-allowed" in failed.stdout + failed.stderr

    unknown = cli(tmp_path, sandbox.kubeconfig, apps, "sync", "no-such-app")
    assert unknown.returncode == 2 and "no app named 'no-such-app'" in unknown.stderr

    refused = cli(tmp_path, sandbox.kubeconfig, apps, "--read-only", "sync", namespace)
    assert refused.returncode == 2 and "read-only" in refused.stderr


def test_rollback_turns_automation_off_and_syncs_the_recorded_revision(
    sandbox, namespace, tmp_path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm("cfg", version="1")])})
    url = f"file://{repo.working_tree_dir}"
    doc = application(
        namespace, url, "app", namespace, automated={"prune": False, "selfHeal": False}
    )
    with running_engine(sandbox.kubeconfig, tmp_path, [doc], automation=True) as engine:
        wait_for(
            lambda: (
                (engine.snapshot().by_name[namespace].last_sync or None) is not None
                and engine.snapshot().by_name[namespace].last_sync.phase == OperationPhase.SUCCEEDED
            ),  # type: ignore[union-attr]
            timeout=30,
            what="automated first sync",
        )
        first = engine.history(namespace)[0]
        commit(repo, {"app/cm.yaml": dump_all([cm("cfg", version="2")])}, "v2")
        wait_for(
            lambda: (
                len(engine.history(namespace)) == 2
                and engine.history(namespace)[0].operation.phase == OperationPhase.SUCCEEDED
            ),
            timeout=30,
            what="automated sync follows the new commit",
        )
        live = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "cm", "cfg", "-o", "json").stdout
        assert json.loads(live)["data"]["version"] == "2"

        op = engine.rollback(namespace, first.id)
        final = engine.wait_for_operation(namespace, op, timeout=60)
        assert final is not None and final.phase == OperationPhase.SUCCEEDED
        assert final.revision == first.revision
        live = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "cm", "cfg", "-o", "json").stdout
        assert json.loads(live)["data"]["version"] == "1"
        app = engine.snapshot().by_name[namespace]
        assert not app.automated  # automation turned off, so it does not sync v2 right back
        # The negative check. Automation decides after every compare and every
        # automation period: make a compare that sees Git (v2) differ from live (v1),
        # then wait for three passes of the loop itself.
        engine.refresh(namespace)
        wait_for(
            lambda: (
                engine.snapshot().by_name[namespace].compared_at > app.compared_at
                and engine.snapshot().by_name[namespace].sync == SyncStatus.OUT_OF_SYNC
            ),
            timeout=30,
            what="a compare after the rollback that sees v2 in Git",
        )
        # measured, not guessed: the automation loop re-decides every app three times
        assert engine.automation.wait_passes(3, timeout=60)
        assert len(engine.history(namespace)) == 3
        assert engine.snapshot().by_name[namespace].operation is None or (
            engine.snapshot().by_name[namespace].operation.id == op  # type: ignore[union-attr]
        )
        live = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "cm", "cfg", "-o", "json").stdout
        assert json.loads(live)["data"]["version"] == "1"


def test_self_heal_reverts_drift_within_seconds(sandbox, namespace, tmp_path) -> None:
    repo = make_repo(tmp_path / "repo", {"app/d.yaml": dump_all([deployment("web", replicas=2)])})
    doc = application(
        namespace,
        f"file://{repo.working_tree_dir}",
        "app",
        namespace,
        automated={"prune": True, "selfHeal": True},
    )
    with running_engine(sandbox.kubeconfig, tmp_path, [doc], automation=True) as engine:
        wait_for(
            lambda: engine.snapshot().by_name[namespace].sync == SyncStatus.SYNCED,
            timeout=60,
            what="automated sync",
        )
        # another field manager takes replicas: selfHeal must force it back (Argo CD re-applies)
        kubectl(
            sandbox.kubeconfig,
            "-n",
            namespace,
            "patch",
            "deployment",
            "web",
            "--type=merge",
            "-p",
            '{"spec":{"replicas":5}}',
        )
        started = time.monotonic()
        wait_for(
            lambda: (
                json.loads(
                    kubectl(
                        sandbox.kubeconfig, "-n", namespace, "get", "deploy", "web", "-o", "json"
                    ).stdout
                )["spec"]["replicas"]
                == 2
            ),
            timeout=30,
            step=0.2,
            what="self-heal",
        )
        assert time.monotonic() - started < 15


def test_sync_killed_mid_way_is_completed_by_the_next_and_history_stays_readable(
    sandbox, namespace, tmp_path
) -> None:
    objects = [cm(f"early-{i}") for i in range(5)]
    objects += [deployment(f"wave1-{i}", wave=1) for i in range(3)]
    objects += [
        cm(f"late-{i}")
        | {"metadata": {"name": f"late-{i}", "annotations": {"argocd.argoproj.io/sync-wave": "2"}}}
        for i in range(5)
    ]
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all(objects)})
    apps = tmp_path / "apps"
    write_app(apps, application(namespace, f"file://{repo.working_tree_dir}", "app", namespace))
    env = {
        **os.environ,
        "GITOPS_TUI_STATE": str(tmp_path / "state"),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gitops_tui.cli",
            "sync",
            namespace,
            "--apps",
            str(apps),
            "--kubeconfig",
            str(sandbox.kubeconfig),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    store_path = tmp_path / "state" / "history.sqlite3"

    def some_applied() -> bool:
        if not store_path.exists():
            return False
        with HistoryStore(store_path) as store:
            entries = store.entries(namespace)
        return bool(entries) and any(
            r.status.value == "Synced" for r in entries[0].operation.results
        )

    try:
        wait_for(some_applied, timeout=60, what="the first wave applied")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    with HistoryStore(store_path) as store:
        interrupted = store.entries(namespace)[0].operation
    assert interrupted.phase == OperationPhase.ERROR
    assert "interrupted" in interrupted.message

    rerun = subprocess.run(
        [
            sys.executable,
            "-m",
            "gitops_tui.cli",
            "sync",
            namespace,
            "--apps",
            str(apps),
            "--kubeconfig",
            str(sandbox.kubeconfig),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    names = kubectl(
        sandbox.kubeconfig, "-n", namespace, "get", "cm,deploy", "-o", "name"
    ).stdout.split()
    assert sum(n.startswith("configmap/late-") for n in names) == 5
    assert sum(n.startswith("deployment.apps/wave1-") for n in names) == 3
    with HistoryStore(store_path) as store:
        phases = [e.operation.phase for e in store.entries(namespace)]
    assert phases == [OperationPhase.SUCCEEDED, OperationPhase.ERROR]


def test_fleet_plan_then_bulk_sync_of_two_apps(sandbox, namespace, tmp_path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {"a/cm.yaml": dump_all([cm("a1"), cm("a2")]), "b/cm.yaml": dump_all([cm("b1")])},
    )
    url = f"file://{repo.working_tree_dir}"
    apps = tmp_path / "apps"
    write_app(apps, application(f"{namespace}-a", url, "a", namespace))
    write_app(apps, application(f"{namespace}-b", url, "b", namespace))
    plan = cli(tmp_path, sandbox.kubeconfig, apps, "plan", "-o", "json")
    assert plan.returncode == 0, plan.stderr
    report = json.loads(plan.stdout)
    assert {e["app"] for e in report["apps"]} == {f"{namespace}-a", f"{namespace}-b"}
    assert report["totals"]["Create"] == 3
    text = cli(tmp_path, sandbox.kubeconfig, apps, "plan").stdout
    assert "total over 2 apps: 3 create" in text
    assert (
        kubectl(sandbox.kubeconfig, "-n", namespace, "get", "cm", "a1", check=False).returncode != 0
    )  # nothing applied

    bulk = cli(tmp_path, sandbox.kubeconfig, apps, "sync", f"{namespace}-a", f"{namespace}-b")
    assert bulk.returncode == 0, bulk.stdout + bulk.stderr
    assert f"{namespace}-a: Succeeded" in bulk.stdout and f"{namespace}-b: Succeeded" in bulk.stdout
    after = cli(tmp_path, sandbox.kubeconfig, apps, "plan")
    assert "nothing to sync" in after.stdout
