"""A matrix ApplicationSet of git directories x clusters over two real sandboxes: 100 apps,
the preview exact before the apply, removal per the set's policy, each app on its cluster.

The local engine reads a merged kubeconfig (two contexts, two control planes); the clusters
generator yields both contexts, the git generator 50 directories of a real repository.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import commit, make_repo
from helpers import kubectl
from test_multicluster import merged_kubeconfig, second_sandbox  # noqa: F401 (fixture)

from gitops_tui.engine.api import SyncRequest
from gitops_tui.engine.controller.engine import Engine, EngineOptions
from gitops_tui.engine.snapshot import OperationPhase

pytestmark = pytest.mark.cluster

DIRS = [f"svc-{i:02d}" for i in range(50)]
CONTEXTS = ("sandbox-test", "second")


def cm(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"


def matrix_set(url: str, namespace: str, policy: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": "fleet", "namespace": "argocd"},
        "spec": {
            "generators": [
                {
                    "matrix": {
                        "generators": [
                            {
                                "git": {
                                    "repoURL": url,
                                    "revision": "HEAD",
                                    "directories": [{"path": "apps/*"}],
                                }
                            },
                            {"clusters": {}},
                        ]
                    }
                }
            ],
            "syncPolicy": {"applicationsSync": policy},
            "template": {
                "metadata": {"name": "{{path.basename}}-{{name}}"},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": url, "targetRevision": "HEAD", "path": "{{path}}"},
                    "destination": {"server": "{{server}}", "namespace": namespace},
                },
            },
        },
    }


def names(dirs: list[str]) -> set[str]:
    return {f"{d}-{c}" for d in dirs for c in CONTEXTS}


def children(engine: Engine) -> set[str]:
    return {
        a.name
        for a in engine.publisher.build_fleet().apps
        if a.parent == "fleet" and a.parent_kind == "ApplicationSet"
    }


def test_matrix_of_directories_and_two_clusters_preview_apply_and_removal(
    sandbox: Any,
    second_sandbox: Any,  # noqa: F811
    namespace: str,
    tmp_path: Path,
) -> None:
    kubeconfig = merged_kubeconfig(
        tmp_path / "kubeconfig", sandbox.kubeconfig, second_sandbox.kubeconfig
    )
    kubectl(second_sandbox.kubeconfig, "create", "namespace", namespace)
    repo = make_repo(tmp_path / "repo", {f"apps/{d}/cm.yaml": cm(d) for d in DIRS})
    url = f"file://{repo.working_tree_dir}"
    set_file = tmp_path / "fleet.yaml"
    set_file.write_text(yaml.safe_dump(matrix_set(url, namespace, "sync")))
    engine = Engine(
        EngineOptions(
            app_paths=(set_file,),
            kubeconfig=kubeconfig,
            repo_cache_dir=tmp_path / "cache",
            history_path=tmp_path / "history.sqlite3",
            automation=False,
            watch_local_repos=False,
            repo_poll_interval_s=3600,
        )
    ).start()
    try:
        assert children(engine) == names(DIRS) and len(names(DIRS)) == 100
        fleet = engine.publisher.build_fleet()
        servers = {c: fleet.by_name[f"svc-00-{c}"].destination.server for c in CONTEXTS}
        assert servers == {  # each app on its own cluster
            "sandbox-test": sandbox.server,
            "second": second_sandbox.status().server,
        }

        # Git moves on: svc-00 goes, svc-50 comes. The preview says exactly that, and
        # changes nothing; the apply then does exactly that.
        commit(repo, {"apps/svc-50/cm.yaml": cm("svc-50")}, "svc-50 in, svc-00 out",
               delete=["apps/svc-00"])  # fmt: skip
        started = time.monotonic()
        preview = engine.appset_preview("fleet")
        preview_s = time.monotonic() - started
        assert {c.name for c in preview.added} == names(["svc-50"])
        assert {c.name for c in preview.removed} == names(["svc-00"])
        assert preview.changed == () and preview.conflicts == () and preview.conditions == ()
        assert set(preview.unchanged) == names(DIRS[1:])
        assert all(c.allowed for c in preview.changes)
        assert children(engine) == names(DIRS)  # nothing happened yet

        applied = engine.appset_apply("fleet")
        assert sorted(applied.done) == sorted(
            [f"created {n}" for n in names(["svc-50"])]
            + [f"removed {n}" for n in names(["svc-00"])]
        )
        assert children(engine) == names([*DIRS[1:], "svc-50"])
        assert engine.appset_preview("fleet").pending == ()

        # the new app syncs to its own cluster only
        target = "svc-50-second"
        assert engine.wait_until_compared(timeout=300, apps=[target])
        op = engine.sync(SyncRequest(target))
        done = engine.wait_for_operation(target, op, timeout=120)
        assert done is not None and done.phase == OperationPhase.SUCCEEDED, done
        on_second = kubectl(second_sandbox.kubeconfig, "-n", namespace, "get", "cm", "-o", "json")
        on_first = kubectl(sandbox.kubeconfig, "-n", namespace, "get", "cm", "-o", "json")
        assert "svc-50" in {i["metadata"]["name"] for i in json.loads(on_second.stdout)["items"]}
        assert "svc-50" not in {i["metadata"]["name"] for i in json.loads(on_first.stdout)["items"]}

        # under create-only the next removal is kept back, and the preview says so
        set_file.write_text(yaml.safe_dump(matrix_set(url, namespace, "create-only")))
        commit(repo, {}, "svc-01 out", delete=["apps/svc-01"])
        preview = engine.appset_preview("fleet")
        assert {(c.name, c.allowed) for c in preview.removed} == {
            (n, False) for n in names(["svc-01"])
        }
        applied = engine.appset_apply("fleet")
        assert applied.done == () and len(applied.skipped) == 2
        assert names(["svc-01"]) <= children(engine)
        print(f"\npreview of 100 apps over two clusters: {preview_s:.2f} s")
    finally:
        engine.close()
        kubectl(second_sandbox.kubeconfig, "delete", "namespace", namespace, "--wait=false",
                check=False)  # fmt: skip
