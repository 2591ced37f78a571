"""Rendering through the real kustomize (or ``kubectl kustomize``) and helm binaries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.engine.app.application import Source
from gitops_tui.engine.source.render import RenderError, render_source
from gitops_tui.engine.source.tools import find_tool


@pytest.fixture(scope="module")
def kustomize_available() -> None:
    """No silent skip: without the tools these tests fail and say how to get them."""
    if find_tool("kustomize") is None and find_tool("kubectl") is None:
        pytest.fail(
            "neither kustomize nor kubectl is available: run `make tools` "
            "(`make unit` and `make test` do it for you)"
        )


@pytest.fixture(scope="module")
def helm_available() -> None:
    if find_tool("helm") is None:
        pytest.fail("helm is not available: run `make tools` (`make unit` and `make test` do it)")


needs_kustomize = pytest.mark.usefixtures("kustomize_available")
needs_helm = pytest.mark.usefixtures("helm_available")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def by_kind(manifests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["kind"]: m for m in manifests}


# --------------------------------------------------------------------------- kustomize

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.0"}]},
        },
    },
}
SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web"},
    "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
}


def kustomize_repo(root: Path, overlay_file: str = "kustomization.yaml") -> Path:
    write(root / "base" / "deploy.yaml", json.dumps(DEPLOYMENT))
    write(root / "base" / "service.yaml", json.dumps(SERVICE))
    write(root / "base" / "kustomization.yaml", "resources: [deploy.yaml, service.yaml]\n")
    write(root / "overlay" / overlay_file, "# keep me\nresources: [../base]\n")
    write(
        root / "components" / "debug" / "kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        "commonAnnotations: {debug: 'on'}\n",
    )
    return root


def kustomize(root: Path, **options: Any) -> dict[str, dict[str, Any]]:
    source = Source(repo_url="r", path="overlay", kustomize=options or None)
    return by_kind(render_source(source, root, app_name="web", namespace="dest"))


@needs_kustomize
def test_plain_kustomize_build(tmp_path: Path) -> None:
    objects = kustomize(kustomize_repo(tmp_path))
    assert set(objects) == {"Deployment", "Service"}
    assert objects["Deployment"] == DEPLOYMENT
    assert "namespace" not in objects["Service"]["metadata"]


@needs_kustomize
def test_name_prefix_suffix_and_namespace(tmp_path: Path) -> None:
    objects = kustomize(
        kustomize_repo(tmp_path), namePrefix="prod-", nameSuffix="-v2", namespace="shop"
    )
    assert objects["Deployment"]["metadata"] == {"name": "prod-web-v2", "namespace": "shop"}
    assert objects["Service"]["metadata"]["name"] == "prod-web-v2"


@needs_kustomize
def test_images_override(tmp_path: Path) -> None:
    objects = kustomize(kustomize_repo(tmp_path), images=["nginx=registry.local/nginx:1.25"])
    [container] = objects["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.local/nginx:1.25"


@needs_kustomize
def test_replicas_override(tmp_path: Path) -> None:
    objects = kustomize(kustomize_repo(tmp_path), replicas=[{"name": "web", "count": "4"}])
    assert objects["Deployment"]["spec"]["replicas"] == 4


@needs_kustomize
def test_common_labels_reach_metadata_and_selectors(tmp_path: Path) -> None:
    objects = kustomize(kustomize_repo(tmp_path), commonLabels={"team": "shop"})
    deployment = objects["Deployment"]
    assert deployment["metadata"]["labels"] == {"team": "shop"}
    assert deployment["spec"]["selector"]["matchLabels"] == {"app": "web", "team": "shop"}
    assert objects["Service"]["spec"]["selector"] == {"app": "web", "team": "shop"}


@needs_kustomize
def test_common_annotations_patches_and_components(tmp_path: Path) -> None:
    objects = kustomize(
        kustomize_repo(tmp_path),
        commonAnnotations={"owner": "team-a"},
        patches=[
            {
                "target": {"kind": "Deployment", "name": "web"},
                "patch": '[{"op": "replace", "path": "/spec/replicas", "value": 7}]',
            }
        ],
        components=["../components/debug"],
    )
    assert objects["Deployment"]["spec"]["replicas"] == 7
    assert objects["Service"]["metadata"]["annotations"] == {"owner": "team-a", "debug": "on"}


@needs_kustomize
def test_options_never_modify_the_checkout(tmp_path: Path) -> None:
    root = kustomize_repo(tmp_path / "repo", overlay_file="Kustomization")
    before = snapshot(root)
    objects = kustomize(root, namePrefix="x-", images=["nginx:2"], commonLabels={"a": "b"})
    assert objects["Deployment"]["metadata"]["name"] == "x-web"
    assert snapshot(root) == before


@needs_kustomize
def test_kustomize_error_is_reported(tmp_path: Path) -> None:
    write(tmp_path / "overlay" / "kustomization.yaml", "resources: [missing.yaml]\n")
    with pytest.raises(RenderError) as caught:
        kustomize(tmp_path)
    assert caught.value.tool == "kustomize"
    assert caught.value.path == "overlay"
    assert "missing.yaml" in caught.value.stderr


# --------------------------------------------------------------------------- helm

CONFIGMAP_TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
  namespace: {{ .Release.Namespace }}
data:
  replicas: {{ .Values.replicas | quote }}
  tier: {{ .Values.tier | quote }}
  tag: {{ .Values.image.tag | quote }}
"""
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "names": {"kind": "Widget", "plural": "widgets"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object"}},
            }
        ],
    },
}


def helm_repo(root: Path) -> Path:
    write(root / "chart" / "Chart.yaml", "apiVersion: v2\nname: demo\nversion: 0.1.0\n")
    write(
        root / "chart" / "values.yaml",
        "replicas: 1\ntier: chart-default\nimage: {tag: latest}\n",
    )
    write(root / "chart" / "values-prod.yaml", "replicas: 3\ntier: prod-file\n")
    write(root / "chart" / "templates" / "configmap.yaml", CONFIGMAP_TEMPLATE)
    write(root / "chart" / "crds" / "widgets.yaml", json.dumps(CRD))
    return root


def helm(
    root: Path, *, ref_roots: dict[str, Path] | None = None, **options: Any
) -> dict[str, dict[str, Any]]:
    source = Source(repo_url="r", path="chart", helm=options or None)
    return by_kind(
        render_source(source, root, app_name="web", namespace="dest", ref_roots=ref_roots or {})
    )


@needs_helm
def test_helm_template_with_release_name_and_namespace(tmp_path: Path) -> None:
    objects = helm(helm_repo(tmp_path))
    configmap = objects["ConfigMap"]
    assert configmap["metadata"] == {"name": "web-config", "namespace": "dest"}
    assert configmap["data"] == {"replicas": "1", "tier": "chart-default", "tag": "latest"}
    assert "CustomResourceDefinition" in objects
    custom = helm(helm_repo(tmp_path), releaseName="shop", namespace="other")
    assert custom["ConfigMap"]["metadata"] == {"name": "shop-config", "namespace": "other"}


@needs_helm
def test_helm_value_precedence(tmp_path: Path) -> None:
    root = helm_repo(tmp_path)
    data = helm(root, valueFiles=["values-prod.yaml"])["ConfigMap"]["data"]
    assert data == {"replicas": "3", "tier": "prod-file", "tag": "latest"}
    data = helm(root, valueFiles=["values-prod.yaml"], values="tier: inline\n")["ConfigMap"]["data"]
    assert data["tier"] == "inline"
    assert data["replicas"] == "3"
    data = helm(root, values="tier: inline\n", valuesObject={"tier": "object"})["ConfigMap"]["data"]
    assert data["tier"] == "object"
    data = helm(
        root,
        valuesObject={"tier": "object"},
        parameters=[
            {"name": "tier", "value": "param"},
            {"name": "image.tag", "value": "1.10", "forceString": True},
        ],
    )["ConfigMap"]["data"]
    assert data["tier"] == "param"
    assert data["tag"] == "1.10"


@needs_helm
def test_helm_ref_value_file(tmp_path: Path) -> None:
    root = helm_repo(tmp_path / "charts")
    config = tmp_path / "config"
    write(config / "envs" / "prod.yaml", "tier: from-ref\n")
    objects = helm(root, ref_roots={"cfg": config}, valueFiles=["$cfg/envs/prod.yaml"])
    assert objects["ConfigMap"]["data"]["tier"] == "from-ref"


@needs_helm
def test_helm_skip_crds(tmp_path: Path) -> None:
    objects = helm(helm_repo(tmp_path), skipCrds=True)
    assert set(objects) == {"ConfigMap"}


@needs_helm
def test_helm_missing_value_file(tmp_path: Path) -> None:
    root = helm_repo(tmp_path)
    with pytest.raises(RenderError, match="value file not found"):
        helm(root, valueFiles=["values-missing.yaml"])
    objects = helm(root, valueFiles=["values-missing.yaml"], ignoreMissingValueFiles=True)
    assert objects["ConfigMap"]["data"]["tier"] == "chart-default"


@needs_helm
def test_helm_template_error_carries_stderr(tmp_path: Path) -> None:
    root = helm_repo(tmp_path)
    write(root / "chart" / "templates" / "broken.yaml", "{{ .Values.nope.deeper }}\n")
    with pytest.raises(RenderError) as caught:
        helm(root)
    assert caught.value.tool == "helm"
    assert "nil pointer" in caught.value.stderr or "nope" in caught.value.stderr
