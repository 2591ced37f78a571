"""The clusters generator against an Argo CD installation: its cluster Secrets, read from a
real API server (``--from-cluster`` with ``argocdNamespace`` holding ``argocd-cm``).

Secrets are created with ``kubectl apply`` (so they carry the last-applied annotation
with their whole data, ``config`` included): the generated apps and every output must
never show the credentials."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import dump_all, kubectl, wait_for
from test_appset_apply import argo_crds  # noqa: F401 (the Application CRDs, a fixture)

from gitops_tui import appset_cli
from gitops_tui.cli import build_parser
from gitops_tui.engine.cache.argocd_clusters import argocd_installed, read_argocd_clusters
from gitops_tui.engine.cache.kubeclient import KubeClient, KubeTarget
from gitops_tui.engine.controller.engine import Engine, EngineOptions

pytestmark = pytest.mark.cluster

TOKEN = "s3cr3t-bearer-token"
CONFIG = json.dumps({"bearerToken": TOKEN, "tlsClientConfig": {"insecure": True}})


def cluster_secret(
    namespace: str, obj: str, name: str, server: str, labels: dict[str, str], **data: str
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": obj,
            "namespace": namespace,
            "labels": {"argocd.argoproj.io/secret-type": "cluster", **labels},
            "annotations": {"team": f"owner-of-{name}"},
        },
        "stringData": {"name": name, "server": server, "config": CONFIG, **data},
    }


def install(kubeconfig: Path, namespace: str) -> None:
    """An "Argo CD" as the generator sees one: argocd-cm and cluster Secrets (plus a
    Secret of another type, which is not a cluster)."""
    docs = [
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "argocd-cm", "namespace": namespace}, "data": {}},
        # API list order is by object name: a-... before b-...
        cluster_secret(namespace, "b-prod", "prod", "https://prod.example.com:6443",
                       {"env": "prod"}, project="payments"),
        cluster_secret(namespace, "a-dev", "dev_one", "https://dev.example.com:6443",
                       {"env": "dev"}),
        {"apiVersion": "v1", "kind": "Secret",
         "metadata": {"name": "repo", "namespace": namespace,
                      "labels": {"argocd.argoproj.io/secret-type": "repository"}},
         "stringData": {"url": "https://git.example.com", "password": TOKEN}},
    ]  # fmt: skip
    kubectl(kubeconfig, "apply", "-f", "-", stdin=dump_all(docs))


def appset(namespace: str, selector: dict[str, Any] | None = None) -> dict[str, Any]:
    clusters: dict[str, Any] = {"values": {"ns": "ns-{{nameNormalized}}"}}
    if selector:
        clusters["selector"] = selector
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": "fleet", "namespace": namespace},
        "spec": {
            "generators": [{"clusters": clusters}],
            "template": {
                "metadata": {
                    "name": "gb-{{nameNormalized}}",
                    "labels": {"env": "{{metadata.labels.env}}", "project": "{{project}}"},
                    "annotations": {"team": "{{metadata.annotations.team}}"},
                },
                "spec": {
                    "project": "default",
                    "source": {"repoURL": "https://git.example.com/a.git", "path": "gb",
                               "targetRevision": "HEAD"},
                    "destination": {"server": "{{server}}", "namespace": "{{values.ns}}"},
                },
            },
        },
    }  # fmt: skip


def appset_list(kubeconfig: Path, tmp: Path, namespace: str, set_file: Path) -> tuple[int, str]:
    config = tmp / "config.yaml"
    config.write_text(yaml.safe_dump({"argocdNamespace": namespace}))
    parsed = build_parser().parse_args(
        ["appset", "list", str(set_file), "-o", "json", "--from-cluster", namespace,
         "--kubeconfig", str(kubeconfig), "--config", str(config)]
    )  # fmt: skip
    out = io.StringIO()
    return appset_cli.run(parsed, out=out), out.getvalue()


def test_cluster_secrets_are_read_as_argo_cd_lists_them(sandbox, namespace) -> None:
    install(sandbox.kubeconfig, namespace)
    client = KubeClient(KubeTarget(sandbox.kubeconfig, None, read_only=True))
    try:
        assert argocd_installed(client, namespace)
        assert not argocd_installed(client, "default")
        clusters = read_argocd_clusters(client, namespace)
    finally:
        client.close()
    assert [(c.name, c.server, c.project) for c in clusters] == [
        ("dev_one", "https://dev.example.com:6443", ""),
        ("prod", "https://prod.example.com:6443", "payments"),
        ("in-cluster", "https://kubernetes.default.svc", ""),
    ]
    assert clusters[1].labels == {"argocd.argoproj.io/secret-type": "cluster", "env": "prod"}
    assert clusters[1].annotations == {"team": "owner-of-prod"}  # no last-applied
    assert TOKEN not in repr(clusters)


def test_appset_list_from_cluster_generates_from_argo_cds_clusters(
    sandbox, namespace, tmp_path
) -> None:
    install(sandbox.kubeconfig, namespace)
    set_file = tmp_path / "set.yaml"
    set_file.write_text(yaml.safe_dump(appset(namespace)))
    code, text = appset_list(sandbox.kubeconfig, tmp_path, namespace, set_file)
    assert code == 0, text
    assert TOKEN not in text
    [listed] = json.loads(text)
    apps = {a["name"]: a for a in listed["applications"]}
    assert list(apps) == ["gb-in-cluster", "gb-dev-one", "gb-prod"]
    assert apps["gb-prod"]["destination"] == {
        "server": "https://prod.example.com:6443", "name": "", "namespace": "ns-prod"
    }  # fmt: skip
    assert apps["gb-in-cluster"]["destination"]["namespace"] == "ns-in-cluster"
    # a selector: Secrets only (in-cluster has no labels to match)
    set_file.write_text(
        yaml.safe_dump(
            appset(namespace, {"matchExpressions": [{"key": "env", "operator": "In",
                                                     "values": ["prod", "dev"]}]})
        )
    )  # fmt: skip
    code, text = appset_list(sandbox.kubeconfig, tmp_path, namespace, set_file)
    assert code == 0, text
    assert [a["name"] for a in json.loads(text)[0]["applications"]] == ["gb-dev-one", "gb-prod"]
    # no Argo CD in that namespace any more: the kubeconfig contexts are the clusters
    kubectl(sandbox.kubeconfig, "-n", namespace, "delete", "configmap", "argocd-cm")
    code, text = appset_list(sandbox.kubeconfig, tmp_path, namespace, set_file)
    assert code == 0, text
    assert json.loads(text)[0]["applications"] == []


def test_the_engine_from_cluster_generates_from_argo_cds_clusters(
    sandbox, namespace, tmp_path
) -> None:
    install(sandbox.kubeconfig, namespace)
    set_file = tmp_path / "set.yaml"
    set_file.write_text(yaml.safe_dump(appset(namespace, {"matchLabels": {"env": "prod"}})))
    engine = Engine(
        EngineOptions(
            app_paths=[set_file],
            kubeconfig=sandbox.kubeconfig,
            repo_cache_dir=tmp_path / "repo-cache",
            history_path=tmp_path / "history.sqlite3",
            automation=False,
            watch_local_repos=False,
            from_cluster=namespace,
            argocd_namespace=namespace,
        )
    ).start()
    try:
        wait_for(lambda: engine.application_sets.runs > 0, 60, "the set generated")
        [fleet] = [s for s in engine.snapshot().appsets if s.name == "fleet"]
        assert fleet.applications == ("gb-prod",), fleet
        app = engine.snapshot().by_name["gb-prod"]
        assert app.parent == "fleet"
        preview = engine.appset_preview("fleet")
        assert preview.unchanged == ("gb-prod",) and preview.pending == ()
        assert TOKEN not in json.dumps(dict(engine.application_sets.sets["fleet"].appset.raw))
    finally:
        engine.close()


@pytest.mark.usefixtures("argo_crds")
def test_appset_preview_from_cluster_compares_with_the_clusters_applications(
    sandbox, namespace, tmp_path
) -> None:
    install(sandbox.kubeconfig, namespace)
    existing = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "gb-prod", "namespace": namespace},
        "spec": {"project": "default"},
    }
    kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=dump_all([existing]))
    set_file = tmp_path / "set.yaml"
    set_file.write_text(yaml.safe_dump(appset(namespace)))
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"argocdNamespace": namespace}))
    parsed = build_parser().parse_args(
        ["appset", "preview", str(set_file), "-o", "json", "--from-cluster", namespace,
         "--kubeconfig", str(sandbox.kubeconfig), "--config", str(config)]
    )  # fmt: skip
    out = io.StringIO()
    code = appset_cli.run(parsed, out=out)
    assert code == 0, out.getvalue()
    assert TOKEN not in out.getvalue()
    [preview] = json.loads(out.getvalue())
    assert sorted(c["name"] for c in preview["create"]) == ["gb-dev-one", "gb-in-cluster"]
    assert [(u["name"], u["adopt"]) for u in preview["update"]] == [("gb-prod", True)]
