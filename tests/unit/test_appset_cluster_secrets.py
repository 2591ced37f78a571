"""The clusters generator over Argo CD's clusters: cluster Secrets plus the implicit in-cluster.

Argo CD v3.2's ``applicationset/utils/clusterUtils.go`` ``ListClusters`` and
``applicationset/generators/cluster.go``: order, parameters, selectors, ``values``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from appset_helpers import app_template, appset_doc, names, only_condition, run

from gitops_tui.engine.app.applicationset import GenerationError, Inputs
from gitops_tui.engine.app.applicationset.cluster_secrets import argocd_clusters

CONFIG = json.dumps({"bearerToken": "s3cr3t-token", "tlsClientConfig": {"insecure": True}})


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret(
    name: str,
    server: str,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    project: str | None = None,
) -> dict[str, Any]:
    data = {"name": b64(name), "server": b64(server), "config": b64(CONFIG)}
    if project is not None:
        data["project"] = b64(project)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": f"cluster-{name}",
            "namespace": "argocd",
            "labels": {"argocd.argoproj.io/secret-type": "cluster", **(labels or {})},
            "annotations": {
                # what `kubectl apply` leaves on a Secret: its whole data, config included
                "kubectl.kubernetes.io/last-applied-configuration": json.dumps(
                    {"stringData": {"config": CONFIG}}
                ),
                **(annotations or {}),
            },
        },
        "data": data,
    }


SECRETS = [
    secret("prod", "https://prod.example.com", {"env": "prod"}, {"owner": "team-a"}, "payments"),
    secret("Dev_Cluster", "https://dev.example.com", {"env": "dev"}),
]


def argocd_inputs(secrets: list[dict[str, Any]] = SECRETS) -> Inputs:
    return Inputs(clusters=argocd_clusters(secrets), argocd_clusters=True)


def test_secrets_map_to_clusters_and_in_cluster_is_added_last() -> None:
    clusters = argocd_clusters(SECRETS)
    assert [(c.name, c.server, c.project, c.secret) for c in clusters] == [
        ("prod", "https://prod.example.com", "payments", True),
        ("Dev_Cluster", "https://dev.example.com", "", True),
        ("in-cluster", "https://kubernetes.default.svc", "", False),
    ]
    assert clusters[0].labels == {"argocd.argoproj.io/secret-type": "cluster", "env": "prod"}
    assert clusters[0].annotations == {"owner": "team-a"}  # last-applied dropped
    assert "s3cr3t" not in repr(clusters)


def test_a_secret_for_the_in_cluster_address_replaces_the_implicit_entry() -> None:
    own = secret("local", "https://kubernetes.default.svc/", {"env": "local"})
    assert [c.name for c in argocd_clusters([own])] == ["local"]


def test_config_is_never_decoded() -> None:
    broken = secret("prod", "https://prod.example.com")
    broken["data"]["config"] = "!!! not base64 !!!"
    assert argocd_clusters([broken])[0].name == "prod"


def test_more_secrets_than_the_limit_is_an_error() -> None:
    with pytest.raises(GenerationError, match="3 cluster Secrets, more than the limit of 2"):
        argocd_clusters([secret(f"c{i}", f"https://c{i}") for i in range(3)], limit=2)


def test_fasttemplate_params_in_argo_cds_order_in_cluster_first() -> None:
    doc = appset_doc(
        [{"clusters": {"values": {"tier": "t-{{name}}"}}}],
        app_template(
            name="app-{{nameNormalized}}",
            server="{{server}}",
            path="{{metadata.labels.env}}/{{metadata.annotations.owner}}/{{project}}",
            labels={"tier": "{{values.tier}}"},
        ),
    )
    generated = run(doc, argocd_inputs())
    assert names(generated) == ["app-in-cluster", "app-prod", "app-dev-cluster"]
    local, prod, dev = generated.applications
    assert local.source.path == "{{metadata.labels.env}}/{{metadata.annotations.owner}}/"
    assert prod.source.path == "prod/team-a/payments"
    assert prod.destination.server == "https://prod.example.com"
    assert dev.source.path == "dev/{{metadata.annotations.owner}}/"
    assert local.raw["metadata"]["labels"] == {"tier": "t-in-cluster"}
    assert "s3cr3t" not in json.dumps([a.raw for a in generated.applications])


def test_a_selector_leaves_in_cluster_out_and_matches_secret_labels() -> None:
    selected = {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]}
    doc = appset_doc(
        [{"clusters": {"selector": selected}}], app_template(name="{{nameNormalized}}")
    )
    assert names(run(doc, argocd_inputs())) == ["dev-cluster"]
    doc = appset_doc(
        [{"clusters": {"selector": {"matchLabels": {"env": "prod"}}}}],
        app_template(name="{{name}}"),
    )
    assert names(run(doc, argocd_inputs())) == ["prod"]
    # the secret-type label is a Secret's own label: it selects every Secret, not in-cluster
    doc = appset_doc(
        [
            {
                "clusters": {
                    "selector": {"matchLabels": {"argocd.argoproj.io/secret-type": "cluster"}}
                }
            }
        ],
        app_template(name="{{nameNormalized}}"),
    )
    assert names(run(doc, argocd_inputs())) == ["prod", "dev-cluster"]


def test_gotemplate_metadata_only_for_secrets() -> None:
    doc = appset_doc(
        [{"clusters": {}}],
        app_template(
            name="{{ .nameNormalized }}",
            path='{{ if .metadata }}{{ index .metadata.labels "env" }}{{ else }}none{{ end }}',
        ),
        goTemplate=True,
    )
    generated = run(doc, argocd_inputs())
    assert [(a.name, a.source.path) for a in generated.applications] == [
        ("in-cluster", "none"),
        ("prod", "prod"),
        ("dev-cluster", "dev"),
    ]
    # in-cluster has no metadata at all: with missingkey=error, Go's template refuses it
    doc["spec"]["goTemplateOptions"] = ["missingkey=error"]
    assert 'no entry for key "metadata"' in only_condition(run(doc, argocd_inputs()))


def test_a_cluster_read_error_is_a_condition_of_sets_using_clusters_only() -> None:
    inputs = Inputs(argocd_clusters=True, clusters_error="cannot read Argo CD's cluster Secrets")
    assert "cannot read Argo CD's cluster Secrets" in only_condition(
        run(appset_doc([{"clusters": {}}]), inputs)
    )
    listed = appset_doc([{"list": {"elements": [{"name": "a"}]}}])
    assert names(run(listed, inputs)) == ["a"]


def test_flat_list_gives_one_parameter_set_with_every_cluster() -> None:
    doc = appset_doc(
        [{"clusters": {"flatList": True}}],
        app_template(
            name="all",
            path="{{ range .clusters }}{{ .nameNormalized }};{{ end }}",
        ),
        goTemplate=True,
    )
    generated = run(doc, argocd_inputs())
    assert names(generated) == ["all"]
    assert generated.applications[0].source.path == "in-cluster;prod;dev-cluster;"
