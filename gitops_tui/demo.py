"""``gitops-tui demo``: a sandbox cluster, a Git repository of sample apps, and the console.

Re-running reuses what exists: the sandbox if it runs, the repository and its
Application manifests if they were made before (a marker file says so).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git
import yaml

from gitops_tui.paths import state_dir
from gitops_tui.sandbox.controlplane import Sandbox
from gitops_tui.sandbox.toolchain import ALL_TOOLS, ensure_tools, require_tool

MARKER = ".demo-ready"


def _deployment(name: str, image: str, replicas: int = 2, **annotations: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if annotations:
        meta["annotations"] = annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [{"name": name, "image": image, "ports": [{"containerPort": 80}]}]
                },
            },
        },
    }


def service(name: str, target_port: int = 80) -> dict[str, Any]:
    """A Service on port 80 selecting ``app: <name>`` (the benchmarks build theirs here too)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": target_port}]},
    }


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def _hook_job(name: str, phase: str) -> dict[str, Any]:
    """A hook Job (kwok completes its Pod, so the hook finishes in about a second)."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "annotations": {
                "argocd.argoproj.io/hook": phase,
                "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
            },
        },
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "task", "image": "busybox:1.36"}],
                }
            },
        },
    }


def dump_manifests(*docs: dict[str, Any]) -> str:
    return yaml.safe_dump_all(list(docs), sort_keys=False)


def repo_files() -> dict[str, str]:
    """The sample apps' manifests, first commit."""
    return {
        "guestbook/deployment.yaml": dump_manifests(_deployment("guestbook", "nginx:1.27")),
        "guestbook/service.yaml": dump_manifests(service("guestbook")),
        "kustomize-app/kustomization.yaml": "resources:\n- deployment.yaml\n- config.yaml\nnamePrefix: kz-\n"
        "commonLabels:\n  team: platform\n",
        "kustomize-app/deployment.yaml": dump_manifests(
            _deployment("api", "nginx:1.27", replicas=1)
        ),
        "kustomize-app/config.yaml": dump_manifests(configmap("api-config", LOG_LEVEL="info")),
        "helm-app/Chart.yaml": "apiVersion: v2\nname: podinfo\nversion: 0.1.0\n",
        "helm-app/values.yaml": "replicas: 2\nimage: nginx:1.27\ngreeting: hello\n",
        "helm-app/templates/deployment.yaml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n"
            "  replicas: {{ .Values.replicas }}\n  selector:\n    matchLabels: {app: {{ .Release.Name }}}\n"
            "  template:\n    metadata:\n      labels: {app: {{ .Release.Name }}}\n    spec:\n"
            "      containers:\n      - name: web\n        image: {{ .Values.image }}\n"
        ),
        "helm-app/templates/config.yaml": (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-greeting\n"
            "data:\n  greeting: {{ .Values.greeting | quote }}\n"
        ),
        "waves/00-config.yaml": dump_manifests(
            {
                **configmap("db-config", URL="postgres://db"),
                "metadata": {
                    "name": "db-config",
                    "annotations": {"argocd.argoproj.io/sync-wave": "-1"},
                },
            }
        ),
        "waves/10-backend.yaml": dump_manifests(
            _deployment("backend", "nginx:1.27", 1, **{"argocd.argoproj.io/sync-wave": "1"})
        ),
        "waves/20-frontend.yaml": dump_manifests(
            _deployment("frontend", "nginx:1.27", 1, **{"argocd.argoproj.io/sync-wave": "2"})
        ),
        "waves/hooks.yaml": dump_manifests(
            _hook_job("migrate-db", "PreSync"), _hook_job("smoke-test", "PostSync")
        ),
        "drifted/deployment.yaml": dump_manifests(_deployment("drifted", "nginx:1.27", replicas=2)),
        "prune-me/keep.yaml": dump_manifests(configmap("keep-me", state="wanted")),
        "prune-me/stale.yaml": dump_manifests(
            configmap("stale-config", state="soon removed from Git")
        ),
        "broken/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [this is not valid\n",
    }


def _application(name: str, repo: Path, path: str, namespace: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "project": "default",
        "source": {"repoURL": f"file://{repo}", "targetRevision": "HEAD", "path": path},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
        "syncPolicy": {"syncOptions": ["CreateNamespace=true"]},
    }
    body.update(spec)
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": body,
    }


def write_applications(apps_dir: Path, repo: Path) -> None:
    apps_dir.mkdir(parents=True, exist_ok=True)
    docs = [
        _application("guestbook", repo, "guestbook", "guestbook"),
        _application("kustomize-app", repo, "kustomize-app", "kustomize"),
        _application(
            "helm-app",
            repo,
            "helm-app",
            "helm",
            source={
                "repoURL": f"file://{repo}",
                "targetRevision": "HEAD",
                "path": "helm-app",
                "helm": {"valuesObject": {"greeting": "hello from gitops-tui"}},
            },
        ),
        _application("waves", repo, "waves", "waves"),
        _application("drifted", repo, "drifted", "drifted"),
        _application("prune-me", repo, "prune-me", "prune-me"),
        _application("broken", repo, "broken", "broken"),
    ]
    for doc in docs:
        (apps_dir / f"{doc['metadata']['name']}.yaml").write_text(
            yaml.safe_dump(doc, sort_keys=False)
        )
    # an Application that is itself invalid: both destination server and name
    invalid = _application("invalid-spec", repo, "guestbook", "guestbook")
    invalid["spec"]["destination"]["name"] = "in-cluster"
    (apps_dir / "invalid-spec.yaml").write_text(yaml.safe_dump(invalid, sort_keys=False))


def prepare(directory: Path, say: Any = print) -> tuple[Path, Path]:
    """Everything the demo needs; returns (kubeconfig, apps dir)."""
    ensure_tools(ALL_TOOLS)
    box = Sandbox(directory / "sandbox", name="gitops-demo")
    status = box.status()
    if status is None or not status.running:
        say("starting the sandbox cluster ...")
        status = box.up(nodes=2)
    kubeconfig = status.kubeconfig
    repo_dir, apps_dir = directory / "repo", directory / "apps"
    if (directory / MARKER).exists():
        return kubeconfig, apps_dir
    say("creating the demo Git repository and Application manifests ...")
    if not (repo_dir / ".git").exists():
        repo = git.Repo.init(repo_dir, initial_branch="main")
        with repo.config_writer() as cfg:
            cfg.set_value("user", "name", "gitops-tui demo")
            cfg.set_value("user", "email", "demo@gitops-tui.invalid")
        for rel, text in repo_files().items():
            path = repo_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        repo.git.add("--all")
        repo.git.commit("-q", "-m", "sample apps")
    write_applications(apps_dir, repo_dir)
    _initial_state(kubeconfig, apps_dir, repo_dir, directory, say)
    (directory / MARKER).write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))
    return kubeconfig, apps_dir


def _initial_state(
    kubeconfig: Path, apps_dir: Path, repo_dir: Path, directory: Path, say: Any
) -> None:
    """Sync some apps, then make one drift and leave one with an object to prune."""
    from gitops_tui.engine.api import SyncRequest
    from gitops_tui.engine.controller.engine import Engine, EngineOptions

    say("syncing guestbook, drifted and prune-me so the demo starts with history ...")
    engine = Engine(
        EngineOptions(
            app_paths=(apps_dir,), kubeconfig=kubeconfig, automation=False, watch_local_repos=False
        )
    ).start()
    try:
        engine.wait_until_compared(timeout=120)
        for name in ("guestbook", "drifted", "prune-me"):
            op = engine.sync(SyncRequest(app=name, initiated_by="demo-setup"))
            final = engine.wait_for_operation(name, op, timeout=120)
            say(f"  {name}: {final.phase.value if final else 'timed out'}")
    finally:
        engine.close()
    repo = git.Repo(repo_dir)
    repo.git.rm("-q", "prune-me/stale.yaml")
    repo.git.commit("-q", "-m", "prune-me: drop the stale ConfigMap")
    subprocess.run(
        [
            str(require_tool("kubectl")),
            "--kubeconfig",
            str(kubeconfig),
            "-n",
            "drifted",
            "scale",
            "deployment/drifted",
            "--replicas=5",
        ],
        check=False,
        capture_output=True,
        timeout=60,
    )


@dataclass(frozen=True)
class DemoSetup:
    """What ``prepare_demo`` made ready: the console opens over these (see ``cli``)."""

    kubeconfig: Path
    apps_dir: Path
    directory: Path

    def console_argv(self) -> list[str]:
        """The arguments that open the console over the demo (``gitops-tui ...``)."""
        return ["--kubeconfig", str(self.kubeconfig), "--apps", str(self.apps_dir)]


def prepare_demo(directory: Path | None) -> DemoSetup | None:
    """Start (or reuse) the demo's sandbox, repository and apps; None when that failed
    (the reason is on stderr). Opening the console is the caller's job."""
    directory = (directory or state_dir() / "demo").expanduser().resolve()
    directory.mkdir(parents=True, exist_ok=True)
    try:
        kubeconfig, apps_dir = prepare(directory)
    except Exception as exc:
        print(f"error: the demo could not be prepared: {exc}", file=sys.stderr)
        return None
    setup = DemoSetup(kubeconfig=kubeconfig, apps_dir=apps_dir, directory=directory)
    run = program()
    again = shlex.join(setup.console_argv())
    print(f"demo ready. Open it again any time with:\n  {run} {again}")
    print(
        f"stop the sandbox with: {run} sandbox down --dir {shlex.quote(str(directory / 'sandbox'))}"
    )
    return setup


def program(argv0: str | None = None) -> str:
    """How to run this gitops-tui in a printed command that works as printed: ``gitops-tui``
    when PATH finds this very program, else its absolute path (``make demo`` runs
    ``.venv/bin/gitops-tui``, which is not on PATH)."""
    me = Path(sys.argv[0] if argv0 is None else argv0)
    found = shutil.which("gitops-tui")
    if found is not None and (me.name != "gitops-tui" or Path(found).resolve() == me.resolve()):
        return "gitops-tui"
    if me.name == "gitops-tui" and me.is_file():
        return shlex.quote(str(me.absolute()))
    return "gitops-tui"
