"""`make demo`'s first step, for real: `gitops-tui demo --no-ui` prepares a sandbox,
a Git repository and the sample apps, prints how to open the console, and the
console's headless twin then sees the apps in the state the demo promises."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.cluster


def _cli(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gitops_tui.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("demo")
    try:
        yield directory
    finally:
        _cli("sandbox", "down", "--dir", str(directory / "sandbox"), timeout=120)


def test_demo_prepares_apps_and_names_the_console_command(demo_dir: Path) -> None:
    done = _cli("demo", "--no-ui", "--dir", str(demo_dir), timeout=600)
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.strip().startswith("gitops-tui --"))
    argv = line.split()[1:]
    assert argv[0] == "--kubeconfig" and argv[2] == "--apps"
    assert Path(argv[1]).is_file() and Path(argv[3]).is_dir()

    listed = _cli(*argv, "list", "-o", "json", timeout=300)
    apps = {app["name"]: app for app in json.loads(listed.stdout)}
    assert {"guestbook", "drifted", "prune-me", "helm-app", "invalid-spec"} <= set(apps)
    assert apps["guestbook"]["sync"] == "Synced"
    assert apps["drifted"]["sync"] == "OutOfSync"  # scaled by hand after its sync
    assert apps["prune-me"]["sync"] == "OutOfSync"  # a committed deletion left to prune

    again = _cli("demo", "--no-ui", "--dir", str(demo_dir), timeout=300)  # idempotent
    assert again.returncode == 0, again.stderr
    assert line in again.stdout
