"""ApplicationSets against the sandbox: generated apps sync, follow Git per policy, and a
broken set leaves the others alone (real engine, real Git, real control plane)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import commit, make_repo
from helpers import dump_all, kubectl, wait_for

from gitops_tui.engine.api import SyncRequest
from gitops_tui.engine.controller.engine import Engine, EngineOptions
from gitops_tui.engine.model import SyncStatus
from gitops_tui.engine.snapshot import OperationPhase
from gitops_tui.headless import cmd_list

pytestmark = pytest.mark.cluster


def cm(name: str) -> str:
    return dump_all(
        [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}]
    )


def appset(
    name: str, url: str, namespace: str, *, pattern: str = "apps/*", policy: str = "sync"
) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "generators": [
                {"git": {"repoURL": url, "revision": "HEAD", "directories": [{"path": pattern}]}}
            ],
            "syncPolicy": {"applicationsSync": policy},
            "template": {
                "metadata": {"name": f"{name}-{{{{path.basename}}}}"},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": url, "targetRevision": "HEAD", "path": "{{path}}"},
                    "destination": {
                        "server": "https://kubernetes.default.svc",
                        "namespace": namespace,
                    },
                },
            },
        },
    }


@contextmanager
def engine_on(kubeconfig: Path, tmp: Path, *paths: Path) -> Iterator[Engine]:
    engine = Engine(
        EngineOptions(
            app_paths=paths,
            kubeconfig=kubeconfig,
            repo_cache_dir=tmp / "repo-cache",
            history_path=tmp / "history.sqlite3",
            automation=False,
            watch_local_repos=False,
        )
    ).start()
    try:
        assert engine.wait_until_compared(timeout=60), "engine did not compare every app in 60 s"
        yield engine
    finally:
        engine.close()


def children(engine: Engine, name: str) -> set[str]:
    return {
        a.name
        for a in engine.snapshot().apps
        if a.parent == name and a.parent_kind == "ApplicationSet"
    }


def refreshed(engine: Engine) -> None:
    runs = engine.application_sets.runs
    engine.refresh()
    wait_for(lambda: engine.application_sets.runs > runs, what="the sets generated again")
    engine.publisher.build_fleet()  # a snapshot built after the run (none older than it)
    assert engine.wait_until_compared(timeout=60)


def sync(engine: Engine, name: str) -> None:
    op = engine.sync(SyncRequest(app=name))
    final = engine.wait_for_operation(name, op, timeout=60)
    assert final is not None and final.phase == OperationPhase.SUCCEEDED, final


def test_git_directories_set_apps_sync_and_list_names_the_set(sandbox, namespace, tmp_path) -> None:
    repo = make_repo(
        tmp_path / "repo", {"apps/a/cm.yaml": cm("a-cm"), "apps/b/cm.yaml": cm("b-cm")}
    )
    url = f"file://{repo.working_tree_dir}"
    set_file = tmp_path / "set.yaml"
    set_file.write_text(yaml.safe_dump(appset(namespace, url, namespace)))
    with engine_on(sandbox.kubeconfig, tmp_path, set_file) as engine:
        apps = {f"{namespace}-a", f"{namespace}-b"}
        assert children(engine, namespace) == apps
        snap = engine.snapshot().by_name
        assert all(snap[name].sync == SyncStatus.OUT_OF_SYNC for name in apps)
        for name in sorted(apps):
            sync(engine, name)
        wait_for(
            lambda: all(engine.snapshot().by_name[n].sync == SyncStatus.SYNCED for n in apps),
            what="the generated apps Synced",
        )
        assert (
            kubectl(
                sandbox.kubeconfig, "-n", namespace, "get", "configmap", "a-cm", "b-cm"
            ).returncode
            == 0
        )
        out = io.StringIO()
        assert cmd_list(engine, output="json", out=out) == 0
        listed = {a["name"]: a for a in json.loads(out.getvalue())}
        config = yaml.safe_load(sandbox.kubeconfig.read_text())
        for name in apps:
            assert listed[name]["parentRef"] == {
                "kind": "ApplicationSet",
                "name": namespace,
                "parentRef": None,
            }
            assert listed[name]["cluster"]["context"] == config["current-context"]
            assert listed[name]["cluster"]["reachable"] is True


@pytest.mark.parametrize(("policy", "kept"), [("create-only", True), ("sync", False)])
def test_a_commit_adding_and_removing_directories_changes_apps_per_policy(
    sandbox, namespace, tmp_path, policy: str, kept: bool
) -> None:
    repo = make_repo(
        tmp_path / "repo", {"apps/a/cm.yaml": cm("a-cm"), "apps/b/cm.yaml": cm("b-cm")}
    )
    url = f"file://{repo.working_tree_dir}"
    set_file = tmp_path / "set.yaml"
    set_file.write_text(yaml.safe_dump(appset(namespace, url, namespace, policy=policy)))
    with engine_on(sandbox.kubeconfig, tmp_path, set_file) as engine:
        sync(engine, f"{namespace}-b")
        commit(repo, {"apps/c/cm.yaml": cm("c-cm")}, "add c, remove b", delete=["apps/b"])
        refreshed(engine)
        expected = {f"{namespace}-a", f"{namespace}-c"} | ({f"{namespace}-b"} if kept else set())
        assert children(engine, namespace) == expected
        sync(engine, f"{namespace}-c")
        wait_for(
            lambda: engine.snapshot().by_name[f"{namespace}-c"].sync == SyncStatus.SYNCED,
            what="the new app Synced",
        )
        [the_set] = engine.snapshot().appsets
        assert bool(the_set.skipped) == kept
        # forgetting an app leaves its objects in the cluster (no cascade in local mode)
        assert (
            kubectl(sandbox.kubeconfig, "-n", namespace, "get", "configmap", "b-cm").returncode == 0
        )


def test_a_broken_set_does_not_affect_another(sandbox, namespace, tmp_path) -> None:
    repo = make_repo(tmp_path / "repo", {"apps/a/cm.yaml": cm("a-cm")})
    url = f"file://{repo.working_tree_dir}"
    sets = tmp_path / "sets"
    sets.mkdir()
    (sets / "good.yaml").write_text(yaml.safe_dump(appset(f"{namespace}-good", url, namespace)))
    (sets / "broken.yaml").write_text(
        yaml.safe_dump(appset(f"{namespace}-broken", url, namespace, pattern="/etc/*"))
    )
    with engine_on(sandbox.kubeconfig, tmp_path, sets) as engine:
        good = f"{namespace}-good-a"
        assert children(engine, f"{namespace}-good") == {good}
        assert children(engine, f"{namespace}-broken") == set()
        sets_now = {s.name: s for s in engine.snapshot().appsets}
        [condition] = sets_now[f"{namespace}-broken"].conditions
        assert condition.type == "ErrorOccurred" and "/etc/*" in condition.message
        assert sets_now[f"{namespace}-good"].conditions == ()
        sync(engine, good)
        wait_for(
            lambda: engine.snapshot().by_name[good].sync == SyncStatus.SYNCED,
            what="the good set's app Synced",
        )
