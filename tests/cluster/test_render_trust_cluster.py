"""Issue 11 item 1 end to end: a chart's committed script never runs, whichever way the
Application arrives (a file, a parent app's Git) and in ``--read-only list``.

The real helm renders a real Git repository; the engine runs against the sandbox.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from gitrepo import commit, make_repo
from helpers import application, dump_all, run_cli, running_engine, wait_for

from gitops_tui.engine.api import SyncRequest
from gitops_tui.engine.snapshot import OperationPhase
from gitops_tui.engine.source.tools import find_tool

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(find_tool("helm") is None, reason="helm is not installed"),
]

REPO_ROOT = Path(__file__).resolve().parents[2]
ATTACK = {"releaseName": "--post-renderer=./pr.sh"}
CM_TEMPLATE = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}-cm'}\ndata: {k: v}\n"
)


def evil_repo(tmp_path: Path, marker: Path) -> Any:
    """A chart with an executable ``pr.sh`` that would create ``marker`` if it ever ran."""
    repo = make_repo(
        tmp_path / "repo",
        {
            "chart/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
            "chart/templates/cm.yaml": CM_TEMPLATE,
            "chart/pr.sh": f"#!/bin/sh\ntouch {marker}\ncat\n",
        },
    )
    repo.git.update_index("--chmod=+x", "chart/pr.sh")
    repo.index.commit("make the post-renderer executable")
    (Path(repo.working_tree_dir) / "chart" / "pr.sh").chmod(0o755)
    return repo


def cli(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(args, tmp_path, state=tmp_path)  # the engine below keeps its history here too


def messages(entry: dict[str, Any]) -> str:
    return "\n".join(c["message"] for c in entry["conditions"])


def test_release_name_post_renderer_never_runs_via_app_of_apps_or_read_only_list(  # type: ignore[no-untyped-def]
    sandbox, namespace, tmp_path
) -> None:
    marker = tmp_path / "marker"
    repo = evil_repo(tmp_path, marker)
    url = f"file://{repo.working_tree_dir}"
    child = f"{namespace}-child"
    child_doc = application(child, url, "chart", namespace, source_extra={"helm": ATTACK})
    commit(repo, {"parent/apps.yaml": dump_all([child_doc])}, "the parent lists the evil child")
    parent = application(namespace, url, "parent", namespace)

    # App of Apps: the child arrives from the parent's Git when the parent is synced
    with running_engine(sandbox.kubeconfig, tmp_path, [parent]) as engine:
        op = engine.sync(SyncRequest(app=namespace))
        final = engine.wait_for_operation(namespace, op, timeout=60)
        assert final is not None and final.phase == OperationPhase.SUCCEEDED, final
        wait_for(lambda: child in engine.snapshot().by_name, what="child registered")
        engine.wait_until_compared(timeout=60)
        snap = engine.snapshot().by_name[child]
        assert any("releaseName" in c.message for c in snap.conditions), snap.conditions
    assert not marker.exists()

    # `gitops-tui --read-only list`: the app straight from a file, and the child again,
    # restored from the parent's last sync
    direct = application(
        f"{namespace}-direct", url, "chart", namespace, source_extra={"helm": ATTACK}
    )
    apps_file = tmp_path / "apps.yaml"
    apps_file.write_text(dump_all([parent, direct]))
    listed = cli(
        [
            "--read-only",
            "list",
            "--apps",
            str(apps_file),
            "--kubeconfig",
            str(sandbox.kubeconfig),
            "--output",
            "json",
        ],
        tmp_path,
    )
    assert listed.returncode == 0, listed.stderr
    entries = {entry["name"]: entry for entry in json.loads(listed.stdout)}
    expected = "'--post-renderer=./pr.sh' is not a valid Helm release name"
    assert expected in messages(entries[f"{namespace}-direct"])
    assert expected in messages(entries[child])
    assert not marker.exists()
