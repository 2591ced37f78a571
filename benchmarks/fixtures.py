"""Git repositories and manifests of the benchmark fleets."""

from __future__ import annotations

import base64
import copy
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_tui.demo import configmap as config_map
from gitops_tui.demo import dump_manifests
from gitops_tui.demo import service as demo_service

NAMESPACES = 20
SINGLE_OBJECTS = 50


def git_repo(path: Path) -> Any:
    import git

    path.mkdir(parents=True, exist_ok=True)
    repo = git.Repo.init(path, initial_branch="main")
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "gitops-tui bench")
        cfg.set_value("user", "email", "bench@example.com")
        cfg.set_value("commit", "gpgsign", "false")
        cfg.set_value("core", "autocrlf", "false")
    return repo


def git_commit(repo: Any, files: dict[str, str], message: str) -> str:
    root = Path(repo.working_tree_dir)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    repo.git.add("--all")
    repo.git.commit("--quiet", "--allow-empty", "-m", message)
    return str(repo.head.commit.hexsha)


def dump_all(docs: Sequence[dict[str, Any]]) -> str:
    return dump_manifests(*docs)


def deployment(name: str, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "serviceAccountName": name,
                    "containers": [
                        {
                            "name": "web",
                            "image": "registry.local/bench/web:1.0",
                            "ports": [{"containerPort": 8080}],
                        }
                    ],
                },
            },
        },
    }


def service(name: str) -> dict[str, Any]:
    return demo_service(name, target_port=8080)


def service_account(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}


def secret(name: str) -> dict[str, Any]:
    token = base64.b64encode(f"token-of-{name}".encode()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "type": "Opaque",
        "data": {"token": token},
    }


def app_objects(name: str, replicas: int, revision: str = "r0") -> list[dict[str, Any]]:
    """The 10 objects of a fleet app; ``revision`` changes ``<name>-config-0`` (scenario 3)."""
    objs = [
        service_account(name),
        secret(f"{name}-secret"),
        config_map(f"{name}-config-0", revision=revision),
    ]
    objs += [config_map(f"{name}-config-{i}", mode="v1", index=str(i)) for i in range(1, 6)]
    objs += [service(name), deployment(name, replicas)]
    return objs


def single_app_objects(replicas: int) -> list[dict[str, Any]]:
    """The 50 objects of scenarios 4 and 5."""
    objs: list[dict[str, Any]] = []
    for i in range(10):
        name = f"web-{i}"
        objs += [service_account(name), service(name), deployment(name, replicas)]
    objs += [config_map(f"settings-{i}", mode="v1", index=str(i)) for i in range(15)]
    objs += [secret(f"secret-{i}") for i in range(5)]
    assert len(objs) == SINGLE_OBJECTS
    return objs


def application(
    name: str, repo_url: str, path: str, namespace: str, *, create_namespace: bool = True
) -> dict[str, Any]:
    sync_options = ["CreateNamespace=true"] if create_namespace else []
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {"repoURL": repo_url, "targetRevision": "HEAD", "path": path},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
            "syncPolicy": {"syncOptions": sync_options},
        },
    }


def as_applied(objs: Sequence[dict[str, Any]], app: str, namespace: str) -> list[dict[str, Any]]:
    """What gitops-tui applies for ``objs``: destination namespace and tracking mark added."""
    from gitops_tui.engine.cache.tracking import with_tracking

    out = []
    for obj in objs:
        item = copy.deepcopy(obj)
        item["metadata"]["namespace"] = namespace
        out.append(with_tracking(item, app))
    return out


def fleet_name(i: int) -> str:
    return f"app-{i:04d}"


def fleet_namespace(i: int) -> str:
    return f"bench-{i % NAMESPACES:02d}"


@dataclass
class Fleet:
    repo: Any
    url: str
    apps_file: Path
    names: list[str]
    namespaces: dict[str, str]
