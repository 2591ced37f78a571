"""A cold one-shot ``diff`` of a plain-directory app loads no feature it does not use.

Every module imported costs each cold ``gitops-tui diff`` start-up time (0.52 s of
its 0.8 s of CPU was importing, most of it features a diff never runs). The
ApplicationSet engine, inspection, resource actions (Lua), resource deletion, pod
logs and the ``appset`` command load on first use. A real run of ``main`` in a
fresh interpreter: a real Git repository, a kubeconfig whose cluster refuses
connections (the command ends in an error; what it imported is the point).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from gitrepo import make_repo

from gitops_tui.engine.app.loading import may_hold_applicationsets

# each of these is loaded only by the feature it serves
FEATURES = (
    "textual",
    "lupa",
    "git",  # GitPython: the console's watch of local repositories
    "gitops_tui.ui",
    "gitops_tui.appset_cli",
    "gitops_tui.engine.app.applicationset.generation",
    "gitops_tui.engine.app.applicationset.generators",
    "gitops_tui.engine.app.applicationset.goparse",
    "gitops_tui.engine.app.applicationset.gofuncs",
    "gitops_tui.engine.app.applicationset.policy",
    "gitops_tui.engine.app.applicationset.preview",
    "gitops_tui.engine.controller.application_sets",
    "gitops_tui.engine.controller.cluster_apps",
    "gitops_tui.engine.controller.inspect",
    "gitops_tui.engine.controller.actions",
    "gitops_tui.engine.controller.resource_delete",
    "gitops_tui.engine.health.actions",
)

KUBECONFIG = """apiVersion: v1
kind: Config
current-context: c
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:9"}
users:
- name: u
  user: {token: t}
contexts:
- name: c
  context: {cluster: c, user: u, namespace: default}
"""

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: ns\ndata: {a: b}\n"


def _app(repo: Path) -> dict[str, object]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "plain", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {"repoURL": str(repo), "targetRevision": "main", "path": "app"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "ns"},
        },
    }


def test_a_cold_diff_of_a_plain_app_loads_no_unused_feature(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, {"app/cm.yaml": CM})
    apps = tmp_path / "apps"
    apps.mkdir()
    (apps / "plain.yaml").write_text(yaml.safe_dump(_app(repo)))
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    argv = ["diff", "plain", "--apps", str(apps), "--kubeconfig", str(kubeconfig)]
    argv += ["--no-cache", "--compare-timeout", "120"]
    code = (
        "import json, sys\n"
        "from gitops_tui.cli import main\n"
        f"rc = main({argv!r})\n"
        f"print(json.dumps([rc, sorted(m for m in {FEATURES!r} if m in sys.modules)]))\n"
    )
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env=env,
    )
    rc, loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert "127.0.0.1:9" in out.stderr  # it got as far as the cluster
    assert rc == 2
    assert loaded == [], loaded


def test_only_files_that_cannot_hold_a_set_skip_the_set_engine(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "app.yaml").write_text("kind: Application\nmetadata: {name: a}\n")
    assert not may_hold_applicationsets([plain])
    spelled = tmp_path / "spelled"
    spelled.mkdir()
    (spelled / "set.yaml").write_text("apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\n")
    assert may_hold_applicationsets([spelled])
    escaped = tmp_path / "escaped"  # "\u0041pplicationSet" is "ApplicationSet" to a parser
    escaped.mkdir()
    (escaped / "set.json").write_text('{"kind": "\\u0041pplicationSet"}')
    assert yaml.safe_load((escaped / "set.json").read_text())["kind"] == "ApplicationSet"
    assert may_hold_applicationsets([escaped])
    assert may_hold_applicationsets([tmp_path / "missing.yaml"])  # unreadable: in doubt
