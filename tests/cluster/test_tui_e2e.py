"""End to end: the installed ``gitops-tui`` in a real terminal (tmux) syncs an app in the sandbox."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import make_repo
from helpers import application, dump_all, kubectl

pytestmark = pytest.mark.cluster


@pytest.fixture(autouse=True, scope="module")
def tmux_available() -> None:
    """No silent skip: `make test` installs tmux (scripts/ensure-test-deps.sh)."""
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: run `make test` (it installs tmux) or install tmux")


def cm(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


class Terminal:
    """A tmux session running one command: type keys, read the screen."""

    def __init__(
        self, command: list[str], env: dict[str, str], size: tuple[int, int] = (120, 32)
    ) -> None:
        self.name = f"gitops-e2e-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={_quote(v)}" for k, v in env.items())
        shell_line = f"env {exports} {' '.join(_quote(c) for c in command)}; sleep 0.2"
        subprocess.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                self.name,
                "-x",
                str(size[0]),
                "-y",
                str(size[1]),
                shell_line,
            ],
            check=True,
            timeout=10,
        )

    def screen(self) -> str:
        out = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return out.stdout

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True, timeout=10)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not on screen after {timeout} s:\n{self.screen()}")

    def wait_gone(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text not in self.screen():
                return
            time.sleep(0.2)
        raise AssertionError(f"{text!r} still on screen after {timeout} s:\n{self.screen()}")

    def alive(self) -> bool:
        return (
            subprocess.run(
                ["tmux", "has-session", "-t", self.name],
                capture_output=True,
                timeout=10,
                check=False,
            ).returncode
            == 0
        )

    def close(self) -> None:
        subprocess.run(
            ["tmux", "kill-session", "-t", self.name], capture_output=True, timeout=10, check=False
        )


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


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
