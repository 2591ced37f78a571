"""What a cold ``gitops-tui diff`` asks the API server (counted in its audit log).

The objects of the app's kinds come from the per-namespace lists the one-shot command
makes anyway (as fresh as a GET: listed in the same run), not from one GET per object.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from audit import audit_events, audit_mark
from gitrepo import make_repo
from helpers import application, dump_all, kubectl
from helpers import run_cli as cli

pytestmark = pytest.mark.cluster


def objects() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"cm{i}"},
            "data": {"k": "v"},
        }
        for i in range(4)
    ] + [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "runner"}}]


def test_a_cold_diff_reads_live_objects_from_its_lists_not_one_get_each(
    sandbox: Any, sandbox_box: Any, namespace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all(objects())})
    app_file = tmp_path / "apps.yaml"
    app_file.write_text(
        yaml.safe_dump(application(namespace, f"file://{repo.working_tree_dir}", "app", namespace))
    )
    monkeypatch.setenv("GITOPS_TUI_CACHE", str(tmp_path / "cache"))
    common = ["--apps", str(app_file), "--kubeconfig", str(sandbox.kubeconfig), namespace]
    synced = cli(["sync", *common], tmp_path)
    assert synced.returncode == 0, (synced.stdout, synced.stderr)
    # drift made just before the diff: the listed state must show it
    kubectl(sandbox.kubeconfig, "-n", namespace, "patch", "configmap", "cm2", "-p",
            json.dumps({"data": {"k": "drifted"}}))  # fmt: skip

    audit_events(sandbox_box, sandbox.kubeconfig, audit_mark(sandbox_box))  # flush
    mark = audit_mark(sandbox_box)
    result = cli(["diff", *common, "--exit-code"], tmp_path)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "drifted" in result.stdout and "cm2" in result.stdout
    assert "cm1" not in result.stdout  # unchanged objects: no diff
    events = audit_events(sandbox_box, sandbox.kubeconfig, mark, namespace, cluster_scoped=False)
    gets = [
        (e["objectRef"].get("resource"), e["objectRef"].get("name"))
        for e in events
        if e.get("verb") == "get" and (e.get("objectRef") or {}).get("name")
    ]
    lists = {(e.get("objectRef") or {}).get("resource") for e in events if e.get("verb") == "list"}
    assert gets == [], gets
    assert {"configmaps", "serviceaccounts"} <= lists
