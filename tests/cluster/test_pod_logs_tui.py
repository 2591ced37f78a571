"""The installed console in tmux at 80x24 over the real sandbox: list -> app -> a Pod's
log (a line the container writes now appears) -> back -> events -> live YAML -> back.

Keys are sent in bursts (``tmux send-keys -l``: several keys in one read, as over SSH).
The log lines come through kube-apiserver's ``pods/log`` from kwok's kubelet API
(``gitops_tui/sandbox/podlogs.py``).
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from gitrepo import make_repo
from helpers import application, dump_all, kubectl, run_cli, wait_for
from test_pod_logs import deployment
from tmux_terminal import Terminal, tmux_available

from gitops_tui.sandbox.podlogs import append_pod_log

pytestmark = pytest.mark.cluster

SIZE = (80, 24)


@pytest.fixture(autouse=True, scope="module")
def needs_tmux() -> None:
    tmux_available()


def test_walk_list_app_logs_events_yaml_at_80x24(sandbox, namespace, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app/all.yaml": dump_all([deployment("web")])})
    apps = tmp_path / "apps"
    apps.mkdir()
    doc = application(namespace, f"file://{repo.working_tree_dir}", "app", namespace)
    (apps / "app.yaml").write_text(yaml.safe_dump(doc))
    common = ["--kubeconfig", str(sandbox.kubeconfig), "--apps", str(apps)]
    synced = run_cli(["sync", *common, namespace], tmp_path)
    assert synced.returncode == 0, synced.stderr

    def running() -> bool:
        out = kubectl(
            sandbox.kubeconfig, "-n", namespace, "get", "pods",
            "-o", "jsonpath={.items[*].status.phase}", check=False,
        ).stdout  # fmt: skip
        return out == "Running"

    wait_for(running, timeout=90, what="the Deployment's Pod running")
    executable = Path(sys.executable).parent / "gitops-tui"
    env = {
        "GITOPS_TUI_STATE": str(tmp_path / "state"),
        "GITOPS_TUI_CONFIG_DIR": str(tmp_path / "config"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
    }
    term = Terminal([str(executable), *common], env, SIZE)
    mark = uuid.uuid4().hex[:8]
    try:
        term.wait_until(
            lambda s: namespace in s and "\u2665" in s, "the app, compared and healthy", 60
        )
        term.keys("Enter")
        term.wait_for("Pod web", timeout=60)  # the app view's tree, down to the Pod
        term.burst("jjjl")  # Deployment, ReplicaSet, Pod, logs: one read
        screen = term.wait_for("following", timeout=60)
        status = next(line for line in screen.splitlines() if "follow on" in line)
        assert status.rstrip().endswith("following"), f"the status line is cut: {status!r}"
        append_pod_log(Path(sandbox.directory), [f"tmux {mark} written now"])
        term.wait_for(f"tmux {mark} written now", timeout=60)
        term.keys("Escape")
        term.wait_gone("following")
        term.burst("e")
        term.wait_for("Events of Pod", timeout=60)
        term.keys("Escape")
        term.wait_gone("Events of Pod")
        term.burst("y")
        term.wait_for("LIVE (cluster, ", timeout=60)  # loaded: the caption has the time
        term.wait_for("kind: Pod")
        term.keys("Escape")
        term.wait_gone("LIVE (cluster")
        term.burst("q")
        assert term.wait_exit(15), "the console did not quit within 15 s"
    finally:
        term.close()
