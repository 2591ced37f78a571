"""Reading Argo CD's clusters from a cluster: its cluster Secrets, for the clusters generator.

``read_argocd_clusters`` lists the Secrets labelled
``argocd.argoproj.io/secret-type=cluster`` in Argo CD's namespace (one LIST, at most
``MAX_CLUSTER_SECRETS``: more is an error naming the limit) and maps them with
:func:`~gitops_tui.engine.app.applicationset.cluster_secrets.argocd_clusters` (only
``name``, ``server``, ``project``, labels and annotations are kept: the response's
``config`` is dropped unread). ``argocd_installed`` says whether a namespace holds an
Argo CD (its ``argocd-cm`` ConfigMap, which every install has): the engine and the
``appset`` command use the Secrets only then, kubeconfig contexts otherwise.
"""

from __future__ import annotations

from gitops_tui.engine.app.applicationset.cluster_secrets import (
    MAX_CLUSTER_SECRETS,
    SECRET_TYPE_CLUSTER,
    SECRET_TYPE_LABEL,
    argocd_clusters,
)
from gitops_tui.engine.app.applicationset.model import ClusterInfo, GenerationError
from gitops_tui.engine.cache.kubeclient import KubeApiError, KubeClient, path_segment

ARGOCD_CM = "argocd-cm"


def argocd_installed(client: KubeClient, namespace: str) -> bool:
    """Whether ``namespace`` holds Argo CD's ``argocd-cm`` (404: no; other errors raise)."""
    try:
        client.request(
            "GET",
            f"/api/v1/namespaces/{path_segment('namespace', namespace)}/configmaps/{ARGOCD_CM}",
        )
    except KubeApiError as exc:
        if exc.status == 404:
            return False
        raise
    return True


def read_argocd_clusters(
    client: KubeClient, namespace: str, *, limit: int = MAX_CLUSTER_SECRETS
) -> tuple[ClusterInfo, ...]:
    """Argo CD's clusters in ``namespace``: its cluster Secrets, then the implicit in-cluster.

    Raises ``KubeApiError`` (the API refused or is unreachable) or ``GenerationError``
    (more Secrets than ``limit``)."""
    listing = client.request(
        "GET",
        f"/api/v1/namespaces/{path_segment('namespace', namespace)}/secrets",
        query={"labelSelector": f"{SECRET_TYPE_LABEL}={SECRET_TYPE_CLUSTER}", "limit": limit},
    )
    items = listing.get("items") if isinstance(listing, dict) else None
    secrets = [i for i in (items if isinstance(items, list) else []) if isinstance(i, dict)]
    if (listing.get("metadata") or {}).get("continue"):
        raise GenerationError(
            f"clusters generator: more than {limit} cluster Secrets in namespace "
            f"{namespace!r} (the limit)"
        )
    return argocd_clusters(secrets, limit=limit)
