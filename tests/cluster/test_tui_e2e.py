"""End to end: the installed ``gitops-tui`` in a real terminal (tmux) syncs an app in the sandbox."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import make_repo
from helpers import application, dump_all, kubectl
from tmux_terminal import Terminal, tmux_available

pytestmark = pytest.mark.cluster


@pytest.fixture(autouse=True, scope="module")
def needs_tmux() -> None:
    tmux_available()


def cm(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


def test_sync_an_app_from_the_console(sandbox, namespace, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm("from-the-console")])})
    apps = tmp_path / "apps"
    apps.mkdir()
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    (apps / "app.yaml").write_text(yaml.safe_dump(doc))
    executable = Path(sys.executable).parent / "gitops-tui"
    assert executable.exists(), "the gitops-tui console script is installed in the test environment"
    env = {
        "GITOPS_TUI_STATE": str(tmp_path / "state"),
        "GITOPS_TUI_CONFIG_DIR": str(tmp_path / "config"),
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
    }
    term = Terminal(
        [str(executable), "--kubeconfig", str(sandbox.kubeconfig), "--apps", str(apps)], env
    )
    try:
        term.wait_for("OutOfSync")
        term.keys("s")
        term.wait_for("sync now")
        term.keys("y")
        term.wait_for("Succeeded")
        term.keys("Escape")
        term.wait_gone(
            "esc: close"
        )  # the dialog is gone (a key right after Escape would be Alt+key)
        term.wait_for("1 Synced")
        assert (
            kubectl(
                sandbox.kubeconfig, "-n", namespace, "get", "configmap", "from-the-console"
            ).returncode
            == 0
        )
        term.keys("q")
        deadline = time.monotonic() + 10
        while term.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not term.alive(), "the console did not quit within 10 s"
    finally:
        term.close()
