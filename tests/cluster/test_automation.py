"""Automated sync against the real sandbox: retries, self-heal backoff, prune, allowEmpty,
an automated App of Apps parent; rollback to fewer objects; a changed kubeconfig entry.

Negative checks ("automation stayed off") wait for the engine's own automation loop
to run a counted number of passes (``engine.automation.wait_passes``), each pass
re-deciding every app, so the wait is measured against the loop, not guessed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import commit, make_repo
from helpers import application, dump_all, kubectl, running_engine, wait_for

from gitops_tui.engine.api import SyncRequest
from gitops_tui.engine.app.parse import parse_application
from gitops_tui.engine.controller.engine import AUTOMATION_PERIOD_S, Engine, EngineOptions
from gitops_tui.engine.model import ConditionType, SyncStatus
from gitops_tui.engine.snapshot import OperationPhase, ResultCode
from gitops_tui.ui.filtering import AppFilter

pytestmark = pytest.mark.cluster


def cm(name: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": data or {"k": "v"},
    }


def live_cm(kubeconfig: Path, namespace: str, name: str) -> dict[str, Any] | None:
    done = kubectl(kubeconfig, "-n", namespace, "get", "cm", name, "-o", "json", check=False)
    return json.loads(done.stdout) if done.returncode == 0 else None


def conditions(engine: Engine, app: str) -> dict[str, str]:
    return {c.type: c.message for c in engine.snapshot().by_name[app].conditions}


def cli(tmp: Path, kubeconfig: Path, apps: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GITOPS_TUI_STATE": str(tmp / "state")}
    env["GITOPS_TUI_CONFIG_DIR"] = str(tmp / "config")
    command = [sys.executable, "-m", "gitops_tui.cli", *args]
    command += ["--apps", str(apps), "--kubeconfig", str(kubeconfig)]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=env, check=False
    )


def write_app(apps: Path, doc: dict[str, Any]) -> None:
    apps.mkdir(parents=True, exist_ok=True)
    (apps / f"{doc['metadata']['name']}.yaml").write_text(yaml.safe_dump(doc))


def stays_off(engine: Engine, passes: int = 3) -> None:
    """Let the automation loop re-decide every app ``passes`` times."""
    assert engine.automation.wait_passes(passes, timeout=passes * AUTOMATION_PERIOD_S + 30)


def test_failed_automated_sync_retries_limit_times_after_the_first_attempt(
    sandbox, namespace, tmp_path
) -> None:
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm("UPPERCASE-not-allowed")])})
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace, automated={})
    doc["spec"]["syncPolicy"]["retry"] = {
        "limit": 1,
        "backoff": {"duration": "1s", "factor": 2, "maxDuration": "1m"},
    }
    with running_engine(sandbox.kubeconfig, tmp_path, [doc], automation=True) as engine:
        wait_for(
            lambda: "retried 1 time" in conditions(engine, namespace).get("SyncError", ""),
            timeout=60,
            what="the first attempt and one retry, then a SyncError condition",
        )
        entries = sorted(engine.history(namespace), key=lambda e: e.id)
        assert [e.operation.phase for e in entries] == [OperationPhase.FAILED] * 2
        first, retry = entries[0].operation, entries[1].operation
        assert first.finished_at is not None
        # the first retry waits backoff.duration (1 s) after the first attempt finished
        assert retry.started_at - first.finished_at >= 1.0
        message = conditions(engine, namespace)["SyncError"]
        assert "UPPERCASE-not-allowed" in message and "no more retries" in message
        snap = engine.snapshot().by_name[namespace]
        assert snap.automation is not None and snap.automation.kind == "failed"
        # a second retry would be due 2 s after the retry finished: it never comes
        stays_off(engine)
        assert len(engine.history(namespace)) == 2


def test_self_heal_backs_off_and_says_until_when(sandbox, namespace, tmp_path) -> None:
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm("cfg", k="git")])})
    doc = application(
        namespace,
        f"file://{repo.working_tree_dir}",
        "app",
        namespace,
        automated={"selfHeal": True},
    )
    kc = sandbox.kubeconfig

    def drift_and_wait_healed() -> None:
        kubectl(
            kc,
            "-n",
            namespace,
            "patch",
            "cm",
            "cfg",
            "--type=merge",
            "-p",
            '{"data":{"k":"drift"}}',
        )
        wait_for(
            lambda: (live_cm(kc, namespace, "cfg") or {}).get("data", {}).get("k") == "git",
            timeout=60,
            step=0.1,
            what="self-heal",
        )

    with running_engine(kc, tmp_path, [doc], automation=True) as engine:
        wait_for(lambda: engine.snapshot().by_name[namespace].sync == SyncStatus.SYNCED, timeout=60)
        drift_and_wait_healed()  # heal 1: at once
        drift_and_wait_healed()  # heal 2: 2 s after heal 1 finished
        wait_for(
            lambda: (
                len(engine.history(namespace)) == 3
                and engine.history(namespace)[0].operation.phase.done
            )
        )
        ops = [e.operation for e in sorted(engine.history(namespace), key=lambda e: e.id)]
        assert ops[2].started_at - (ops[1].finished_at or 0) >= 2.0
        # heal 3 waits 6 s: the app says so, with the attempt and the time
        kubectl(
            kc,
            "-n",
            namespace,
            "patch",
            "cm",
            "cfg",
            "--type=merge",
            "-p",
            '{"data":{"k":"drift"}}',
        )
        status = wait_for(
            lambda: engine.snapshot().by_name[namespace].automation,
            timeout=30,
            what="the self-heal backoff status",
        )
        assert status.kind == "self-heal" and status.attempt == 3
        assert status.next_at == pytest.approx((ops[2].finished_at or 0) + 6.0, abs=0.01)
        message = conditions(engine, namespace)[ConditionType.SELF_HEAL_BACKOFF]
        assert "self-heal attempt 3 waits until" in message
        wait_for(
            lambda: (live_cm(kc, namespace, "cfg") or {}).get("data", {}).get("k") == "git",
            timeout=60,
            step=0.1,
            what="heal 3",
        )
        heal3 = max(engine.history(namespace), key=lambda e: e.id).operation
        assert heal3.started_at >= status.next_at
        wait_for(
            lambda: engine.snapshot().by_name[namespace].automation is None, what="status cleared"
        )


def test_automated_prune_deletes_and_automation_without_prune_keeps(
    sandbox, namespace, tmp_path
) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "p/cm.yaml": dump_all([cm("p-keep"), cm("p-gone")]),
            "k/cm.yaml": dump_all([cm("k-keep"), cm("k-gone")]),
        },
    )
    url = f"file://{repo.working_tree_dir}"
    pruning = application(f"{namespace}-p", url, "p", namespace, automated={"prune": True})
    keeping = application(f"{namespace}-k", url, "k", namespace, automated={"prune": False})
    kc = sandbox.kubeconfig
    with running_engine(kc, tmp_path, [pruning, keeping], automation=True) as engine:
        for name in ("p-gone", "k-gone"):
            wait_for(lambda n=name: live_cm(kc, namespace, n), timeout=60, what=f"{name} created")
        head = commit(
            repo,
            {"p/cm.yaml": dump_all([cm("p-keep")]), "k/cm.yaml": dump_all([cm("k-keep")])},
            "drop one each",
        )
        wait_for(lambda: live_cm(kc, namespace, "p-gone") is None, timeout=60, what="auto prune")
        wait_for(
            lambda: any(
                e.operation.revision == head and e.operation.phase == OperationPhase.SUCCEEDED
                for e in engine.history(f"{namespace}-k")
            ),
            timeout=60,
            what="the non-pruning app synced the new revision",
        )
        stays_off(engine)
        assert live_cm(kc, namespace, "k-gone") is not None
        snap = engine.snapshot().by_name[f"{namespace}-k"]
        assert snap.sync == SyncStatus.OUT_OF_SYNC
        assert [n.key.name for n in snap.resources if n.requires_pruning] == ["k-gone"]


def test_allow_empty_off_refuses_to_delete_everything_and_says_why(
    sandbox, namespace, tmp_path
) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {"off/cm.yaml": dump_all([cm("off-1")]), "on/cm.yaml": dump_all([cm("on-1")])},
    )
    url = f"file://{repo.working_tree_dir}"
    refusing = application(f"{namespace}-off", url, "off", namespace, automated={"prune": True})
    allowing = application(
        f"{namespace}-on", url, "on", namespace, automated={"prune": True, "allowEmpty": True}
    )
    kc = sandbox.kubeconfig
    with running_engine(kc, tmp_path, [refusing, allowing], automation=True) as engine:
        for name in ("off-1", "on-1"):
            wait_for(lambda n=name: live_cm(kc, namespace, n), timeout=60, what=f"{name} created")
        commit(
            repo,
            {"off/README.md": "nothing here\n", "on/README.md": "nothing here\n"},
            "empty both",
            delete=["off/cm.yaml", "on/cm.yaml"],
        )
        wait_for(lambda: live_cm(kc, namespace, "on-1") is None, timeout=60, what="allowEmpty sync")
        message = wait_for(
            lambda: conditions(engine, f"{namespace}-off").get("SyncError"),
            timeout=60,
            what="the refusal as a condition",
        )
        assert "refused: it would delete every resource (allowEmpty is off)" in message
        snap = engine.snapshot().by_name[f"{namespace}-off"]
        assert snap.automation is not None and snap.automation.kind == "refused"
        stays_off(engine)
        assert live_cm(kc, namespace, "off-1") is not None
        assert len(engine.history(f"{namespace}-off")) == 1


def test_automated_app_of_apps_parent_registers_its_children(sandbox, namespace, tmp_path) -> None:
    repo = make_repo(tmp_path / "repo", {"child/cm.yaml": dump_all([cm("child-cm")])})
    url = f"file://{repo.working_tree_dir}"
    child = application(f"{namespace}-child", url, "child", namespace, automated={})
    commit(repo, {"parent/apps.yaml": dump_all([child])}, "parent lists a child")
    parent = application(namespace, url, "parent", namespace, automated={"prune": True})
    kc = sandbox.kubeconfig
    with running_engine(kc, tmp_path, [parent], automation=True) as engine:
        # nobody syncs by hand: the parent syncs itself, the child appears and syncs itself
        wait_for(
            lambda: f"{namespace}-child" in engine.snapshot().by_name,
            timeout=60,
            what="the automated parent registered its child",
        )
        wait_for(lambda: live_cm(kc, namespace, "child-cm"), timeout=60, what="the child synced")
        wait_for(
            lambda: engine.snapshot().by_name[namespace].sync == SyncStatus.SYNCED,
            timeout=60,
            what="the parent Synced",
        )
        assert engine.snapshot().by_name[f"{namespace}-child"].parent == namespace
        assert not conditions(engine, namespace)


def test_rollback_to_a_revision_with_fewer_objects(sandbox, namespace, tmp_path) -> None:
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm("a", version="1")])})
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    kc = sandbox.kubeconfig
    with running_engine(kc, tmp_path, [doc]) as engine:
        op = engine.sync(SyncRequest(app=namespace))
        assert (
            engine.wait_for_operation(namespace, op, timeout=60).phase == OperationPhase.SUCCEEDED
        )  # type: ignore[union-attr]
        first = engine.history(namespace)[0]
        commit(repo, {"app/cm.yaml": dump_all([cm("a", version="2"), cm("b")])}, "v2: one more")
        engine.refresh(namespace)
        wait_for(
            lambda: len(engine.snapshot().by_name[namespace].resources) == 2, what="v2 compared"
        )
        op = engine.sync(SyncRequest(app=namespace))
        assert (
            engine.wait_for_operation(namespace, op, timeout=60).phase == OperationPhase.SUCCEEDED
        )  # type: ignore[union-attr]
        assert live_cm(kc, namespace, "b") is not None

        op = engine.rollback(namespace, first.id)
        final = engine.wait_for_operation(namespace, op, timeout=60)
        assert final is not None and final.phase == OperationPhase.SUCCEEDED, final
        assert final.revision == first.revision
        # v1 knows nothing of b: a rollback without prune skips it (Argo CD: PruneSkipped)
        assert {r.key.name: r.status for r in final.results} == {
            "a": ResultCode.SYNCED,
            "b": ResultCode.PRUNE_SKIPPED,
        }
        assert (live_cm(kc, namespace, "a") or {})["data"] == {"version": "1"}
        # a rollback does not prune (Argo CD's default): b stays, and Git (HEAD) still wants it
        assert live_cm(kc, namespace, "b") is not None
        wait_for(
            lambda: engine.snapshot().by_name[namespace].sync == SyncStatus.OUT_OF_SYNC,
            what="OutOfSync against HEAD after the rollback",
        )
        assert [e.operation.initiated_by for e in engine.history(namespace)][0] == "rollback"


def test_cli_rollback_succeeds(sandbox, namespace, tmp_path) -> None:
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm("a", version="1")])})
    apps = tmp_path / "apps"
    write_app(apps, application(namespace, f"file://{repo.working_tree_dir}", "app", namespace))
    kc = sandbox.kubeconfig
    assert cli(tmp_path, kc, apps, "sync", namespace).returncode == 0
    commit(repo, {"app/cm.yaml": dump_all([cm("a", version="2"), cm("b")])}, "v2")
    assert cli(tmp_path, kc, apps, "sync", namespace).returncode == 0
    assert (live_cm(kc, namespace, "a") or {})["data"] == {"version": "2"}
    history = json.loads(cli(tmp_path, kc, apps, "history", namespace, "-o", "json").stdout)
    first = min(history, key=lambda h: h["id"])
    done = cli(tmp_path, kc, apps, "rollback", namespace, str(first["id"]))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Succeeded: " in done.stdout and f"(revision {first['revision'][:7]})" in done.stdout
    assert (live_cm(kc, namespace, "a") or {})["data"] == {"version": "1"}
    after = json.loads(cli(tmp_path, kc, apps, "history", namespace, "-o", "json").stdout)
    assert len(after) == 3


def test_changed_kubeconfig_entry_reconnects_the_cluster(sandbox, namespace, tmp_path) -> None:
    from gitrepo import free_port

    good = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    context = good["current-context"]
    server = good["clusters"][0]["cluster"]["server"]
    broken = json.loads(json.dumps(good))
    broken["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{free_port()}"
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(broken))
    repo = make_repo(
        tmp_path / "repo", {"a/cm.yaml": dump_all([cm("a")]), "b/cm.yaml": dump_all([cm("b")])}
    )
    url = f"file://{repo.working_tree_dir}"
    # one app by the in-cluster alias (its connection must be rebuilt), one by address
    # (it resolves to a context only once the entry names that address)
    alias = application(f"{namespace}-alias", url, "a", namespace)
    by_address = application(f"{namespace}-addr", url, "b", namespace)
    by_address["spec"]["destination"]["server"] = server
    engine = Engine(
        EngineOptions(
            kubeconfig=kubeconfig,
            repo_cache_dir=tmp_path / "cache",
            history_path=tmp_path / "history.sqlite3",
            automation=False,
        ),
        apps=[parse_application(d, "test") for d in (alias, by_address)],
    ).start()
    try:
        for name in (f"{namespace}-alias", f"{namespace}-addr"):
            wait_for(
                lambda n=name: ConditionType.CLUSTER_UNREACHABLE in conditions(engine, n),
                timeout=60,
                what=f"{name} unreachable with the old entry",
            )
        assert engine.kubeconfig_watched.wait(30)
        shutil.copyfile(sandbox.kubeconfig, tmp_path / "kubeconfig.new")
        (tmp_path / "kubeconfig.new").replace(kubeconfig)
        for name in (f"{namespace}-alias", f"{namespace}-addr"):
            wait_for(
                lambda n=name: engine.snapshot().by_name[n].sync == SyncStatus.OUT_OF_SYNC,
                timeout=60,
                what=f"{name} compared through the new entry",
            )
            assert ConditionType.CLUSTER_UNREACHABLE not in conditions(engine, name)
        # the app reaches the cluster by server address; `cluster:CONTEXT` finds it
        snap = engine.snapshot().by_name[f"{namespace}-addr"]
        assert snap.destination.context == context
        assert AppFilter.parse(f"cluster:{context}").matches(snap)
    finally:
        engine.close()
