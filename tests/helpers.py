"""Small helpers shared by the cluster tests: Application documents, engines, waiting."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import git
import yaml

from gitops_tui.engine.app.application import Application
from gitops_tui.engine.app.parse import parse_application
from gitops_tui.engine.controller.engine import Engine, EngineOptions
from gitops_tui.sandbox.toolchain import require_tool

T = TypeVar("T")


def wait_for(
    predicate: Callable[[], T], timeout: float = 30.0, what: str = "condition", step: float = 0.05
) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def application(
    name: str,
    repo_url: str,
    path: str,
    namespace: str,
    *,
    revision: str = "HEAD",
    automated: dict[str, Any] | None = None,
    sync_options: list[str] | None = None,
    extra_spec: dict[str, Any] | None = None,
    source_extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "project": "default",
        "source": {
            "repoURL": repo_url,
            "targetRevision": revision,
            "path": path,
            **(source_extra or {}),
        },
        "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
    }
    policy: dict[str, Any] = {}
    if automated is not None:
        policy["automated"] = automated
    if sync_options:
        policy["syncOptions"] = sync_options
    if policy:
        spec["syncPolicy"] = policy
    spec.update(extra_spec or {})
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": spec,
    }


@contextmanager
def running_engine(
    kubeconfig: Path, tmp: Path, apps: list[dict[str, Any]], **options: Any
) -> Iterator[Engine]:
    parsed = [parse_application(doc, f"test:{doc['metadata']['name']}") for doc in apps]
    opts = EngineOptions(
        kubeconfig=kubeconfig,
        repo_cache_dir=tmp / "repo-cache",
        history_path=tmp / "history.sqlite3",
        automation=options.pop("automation", False),
        watch_local_repos=options.pop("watch_local_repos", True),
        **options,
    )
    engine = Engine(opts, apps=parsed).start()
    try:
        assert engine.wait_until_compared(timeout=60), "engine did not compare every app in 60 s"
        yield engine
    finally:
        engine.close()


def kubectl(
    kubeconfig: Path, *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(require_tool("kubectl")), "--kubeconfig", str(kubeconfig), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=check,
    )


def deployment(name: str) -> dict[str, Any]:
    """A one-replica Deployment labelled ``app: name`` (its Pods come from the
    ReplicaSet controller; kwok runs them)."""
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "example.invalid/app:1"}]},
            },
        },
    }


def dump_all(docs: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False)


REPO_ROOT = Path(__file__).resolve().parents[1]


def run_cli(
    args: list[str],
    tmp_path: Path,
    *,
    timeout: float = 180,
    state: Path | None = None,
    **run_options: Any,
) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess, its state and config under ``tmp_path``.

    The user's cache (built tools, Git mirrors) is shared, as a user's would be.
    """
    env = {
        **os.environ,
        "GITOPS_TUI_STATE": str(state if state is not None else tmp_path / "state"),
        "GITOPS_TUI_CONFIG_DIR": str(tmp_path / "config"),
    }
    return subprocess.run(
        [sys.executable, "-m", "gitops_tui.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO_ROOT,
        check=False,
        **run_options,
    )


def cm(name: str, value: str = "1") -> dict[str, Any]:
    """A one-key ConfigMap named ``name``."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"v": value},
    }


def app_for(repo: git.Repo, path: str, name: str) -> Application:
    """An app of ``repo`` (as a file:// URL) at ``path``, destination namespace prod."""
    doc = application(name, f"file://{repo.working_tree_dir}", path, "prod")
    app = parse_application(doc, "test")
    assert isinstance(app, Application)
    return app
