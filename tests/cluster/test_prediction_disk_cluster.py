"""The on-disk prediction cache against the real API server, through the real CLI.

A second cold ``gitops-tui diff`` of unchanged objects sends no dry run (counted in
the API server's audit log: ``patch`` with ``dryRun``), except for the Secret, which
is never written to disk; a change to a live object by another manager is a new key:
that object is dry-run again and its drift shown. A ``sync`` leaves its applied
objects' predictions behind, and ``--no-cache`` neither reads nor writes them.
"""

from __future__ import annotations

import base64
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

SECRET_VALUE = "hunter2-do-not-store"


def objects() -> list[dict[str, Any]]:
    cms = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"cm{i}"},
            "data": {"k": "v"},
        }
        for i in range(3)
    ]
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds"},
        "stringData": {"password": SECRET_VALUE},
    }
    return [*cms, secret]


def flushed_mark(box: Any, kubeconfig: Path) -> int:
    """Where the log ends once every earlier request is in it (the audit log is buffered)."""
    audit_events(box, kubeconfig, audit_mark(box))
    return audit_mark(box)


def dry_runs(box: Any, kubeconfig: Path, mark: int, namespace: str) -> list[str]:
    """The objects a dry run was sent for since ``mark`` (their names, in log order)."""
    events = audit_events(box, kubeconfig, mark, namespace, cluster_scoped=False)
    return [
        str((e.get("objectRef") or {}).get("name"))
        for e in events
        if e.get("verb") == "patch" and "dryRun" in str(e.get("requestURI", ""))
    ]


@pytest.fixture
def app_setup(sandbox: Any, namespace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all(objects())})
    app_file = tmp_path / "apps.yaml"
    app_file.write_text(
        yaml.safe_dump(application(namespace, f"file://{repo.working_tree_dir}", "app", namespace))
    )
    cache = tmp_path / "cache"
    monkeypatch.setenv("GITOPS_TUI_CACHE", str(cache))  # run_cli passes the environment on
    common = ["--apps", str(app_file), "--kubeconfig", str(sandbox.kubeconfig)]
    return common, cache / "predictions"


def test_a_second_cold_diff_sends_no_dry_run_and_a_live_change_invalidates(
    sandbox: Any, sandbox_box: Any, namespace: str, tmp_path: Path, app_setup: Any
) -> None:
    common, store = app_setup
    # the objects exist, applied by us; --no-cache: nothing on disk yet
    synced = cli(["sync", *common, "--no-cache", namespace], tmp_path)
    assert synced.returncode == 0, (synced.stdout, synced.stderr)
    assert not store.exists() or not list(store.iterdir())

    def diff() -> tuple[int, list[str], str]:
        mark = flushed_mark(sandbox_box, sandbox.kubeconfig)
        result = cli(["diff", *common, namespace, "--exit-code"], tmp_path)
        assert result.returncode in (0, 1), (result.stdout, result.stderr)
        return (
            result.returncode,
            dry_runs(sandbox_box, sandbox.kubeconfig, mark, namespace),
            result.stdout,
        )

    code, first, _ = diff()
    assert code == 0 and sorted(first) == ["cm0", "cm1", "cm2", "creds"]
    code, second, _ = diff()
    assert code == 0 and second == ["creds"]  # the Secret only: never on disk
    written = b"".join(p.read_bytes() for p in store.iterdir())
    assert SECRET_VALUE.encode() not in written
    assert base64.b64encode(SECRET_VALUE.encode()) not in written
    assert b'"Secret"' not in written

    # another manager changes cm1 on the server: a new live signature, a dry run, the drift
    kubectl(sandbox.kubeconfig, "-n", namespace, "patch", "configmap", "cm1", "-p",
            json.dumps({"data": {"k": "changed"}}))  # fmt: skip
    code, third, out = diff()
    assert code == 1 and sorted(third) == ["cm1", "creds"], out
    assert "changed" in out


def test_a_sync_leaves_its_predictions_and_no_cache_ignores_them(
    sandbox: Any, sandbox_box: Any, namespace: str, tmp_path: Path, app_setup: Any
) -> None:
    common, store = app_setup
    synced = cli(["sync", *common, namespace], tmp_path)
    assert synced.returncode == 0, (synced.stdout, synced.stderr)
    mark = flushed_mark(sandbox_box, sandbox.kubeconfig)
    result = cli(["diff", *common, namespace, "--exit-code"], tmp_path)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert dry_runs(sandbox_box, sandbox.kubeconfig, mark, namespace) == ["creds"]
    mark = flushed_mark(sandbox_box, sandbox.kubeconfig)
    result = cli(["diff", *common, "--no-cache", namespace, "--exit-code"], tmp_path)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert sorted(dry_runs(sandbox_box, sandbox.kubeconfig, mark, namespace)) == [
        "cm0",
        "cm1",
        "cm2",
        "creds",
    ]
