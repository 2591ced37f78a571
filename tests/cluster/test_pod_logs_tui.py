"""The installed console in tmux at 80x24 over the real sandbox: list -> app -> a Pod's
log (a line the container writes now appears) -> back -> events -> live YAML -> back ->
a shell in the Pod (the real kubectl gets the terminal and gives it back) -> an action
(restart the Deployment, confirmed; the cluster has it) -> back to the list.

Keys are sent in bursts (``tmux send-keys -l``: several keys in one read, as over SSH).
The log lines come through kube-apiserver's ``pods/log`` from kwok's kubelet API
(``gitops_tui/sandbox/podlogs.py``); the shell through ``pods/exec`` to kwok, which runs
it on this machine (``gitops_tui/sandbox/podconnect.py``).
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

from gitops_tui.engine.health.actions import RESTARTED_AT
from gitops_tui.sandbox.podlogs import append_pod_log
from gitops_tui.sandbox.toolchain import require_tool

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
        # the sandbox's kubectl first: the console's shell (x) runs it
        "PATH": f"{require_tool('kubectl').parent}{os.pathsep}{os.environ.get('PATH', '')}",
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

        # a shell in the Pod: kubectl gets the terminal, the console comes back after it
        term.burst("x")
        term.wait_for("Shell into", timeout=60)
        # the command replaces the selected default (sh): it prints, then waits for a line
        term.burst(f"sh -c 'echo shell-{mark}-$((6*7)); read line'")
        term.keys("Enter")
        term.wait_for(f"shell-{mark}-42", timeout=60)  # the shell's answer, not the command
        assert "Pod web" not in term.screen()  # the console has left the screen to kubectl
        term.keys("Enter")
        screen = term.wait_for("Pod web", timeout=60)  # the console is drawn again
        term.wait_for("ended.", timeout=30)

        # an action: restart the Deployment, confirmed, seen on the cluster
        term.burst("kka")  # Pod -> ReplicaSet -> Deployment, the action menu: one read
        term.wait_for("Actions on Deployment", timeout=60)
        term.wait_for("restart", timeout=60)
        term.keys("Enter")
        term.wait_for("Run restart on", timeout=30)
        term.burst("y")

        def restarted() -> bool:
            annotations = kubectl(
                sandbox.kubeconfig, "-n", namespace, "get", "deployment", "web",
                "-o", "jsonpath={.spec.template.metadata.annotations}",
            ).stdout  # fmt: skip
            return RESTARTED_AT in annotations

        wait_for(restarted, timeout=60, what="the restart on the cluster")
        # its notice (a toast, wrapped to its width), whole: no last line lost
        start = (
            "\u258c restart on"  # the toast's left edge, then the text ("Running ..." is not it)
        )
        screen = term.wait_until(
            lambda s: start in s and notice_text(s, start).endswith("."),
            "the restart's notice, to its end",
            30,
        )
        toast = notice_text(screen, start)
        assert toast.startswith(f"restart on Deployment {namespace}/web:"), toast

        # back to the list (esc: the tree has the focus), its lines whole at 80 columns
        term.keys("Escape")
        screen = term.wait_until(lambda s: "Pod web" not in s and namespace in s, "the list", 30)
        lines = screen.splitlines()
        assert lines[0].lstrip().startswith("gitops-tui"), screen  # the header: one line
        assert lines[1].split()[:4] == ["NAME", "SYNC", "HEALTH", "LAST"], screen
        row = next(line for line in lines if namespace in line)
        assert f"in-cluster ({sandbox.context})/{namespace}" in row, row  # NAME, DESTINATION
        assert lines[-1].rstrip().endswith("palette"), screen  # the footer, to its end
        term.burst("q")
        assert term.wait_exit(15), "the console did not quit within 15 s"
    finally:
        term.close()


def notice_text(screen: str, start: str) -> str:
    """A notification's text as shown (its lines joined): from the line holding ``start``
    (the toast's left edge and its first words) down the same column, up to the toast's
    end (its empty bottom padding)."""
    lines = screen.splitlines()
    first = next(i for i, line in enumerate(lines) if start in line)
    column = lines[first].index(start)
    parts = []
    for line in lines[first:]:
        piece = line[column:].lstrip("\u258c").strip()  # without the toast's left edge
        if not piece:
            break
        parts.append(piece)
    return " ".join(parts)
