"""``gitops-tui appset ... --from-cluster``: generating against an Argo CD installation.

With ``--from-cluster``, when Argo CD's namespace (``argocdNamespace``, default
``argocd``) of the chosen context's cluster holds an Argo CD (its ``argocd-cm``), the
``clusters`` generator reads what Argo CD's own ApplicationSet controller reads: the
cluster Secrets there plus the implicit ``in-cluster`` (``read_argocd_clusters``; the
Secrets' ``config`` is never read). Without an Argo CD there, the kubeconfig contexts
are the clusters, as in local mode. ``preview --from-cluster`` compares with the
Applications of each set's namespace in that cluster (what ``apply`` would change).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gitops_tui.config import ConfigError, Settings
from gitops_tui.engine.app.applicationset import ClusterInfo
from gitops_tui.engine.cache.argocd_clusters import argocd_installed, read_argocd_clusters
from gitops_tui.engine.cache.kubeclient import (
    KubeApiError,
    KubeClient,
    KubeTarget,
    list_contexts,
    path_segment,
)


def cluster_client(settings: Settings) -> KubeClient:
    """A client of the context ``--from-cluster`` reads (``--context`` or the current one)."""
    _contexts, current = list_contexts(settings.kubeconfig)
    context = settings.context or current
    policy = settings.read_only_policy()
    return KubeClient(KubeTarget(settings.kubeconfig, context, read_only=policy.covers(context)))


def argocd_cluster_inputs(
    settings: Settings, labels: Sequence[str]
) -> tuple[ClusterInfo, ...] | None:
    """Argo CD's clusters (None: no Argo CD in ``argocdNamespace``, use the contexts)."""
    namespace = settings.argocd_namespace
    client = cluster_client(settings)
    try:
        if not argocd_installed(client, namespace):
            return None
        if labels:
            raise ConfigError(
                "--cluster-label labels kubeconfig contexts; with --from-cluster the clusters "
                f"are Argo CD's cluster Secrets in {namespace!r}, labelled there"
            )
        return read_argocd_clusters(client, namespace)
    except KubeApiError as exc:
        raise ConfigError(
            f"cannot read Argo CD's cluster Secrets in namespace {namespace!r}: {exc}"
        ) from None
    finally:
        client.close()


def cluster_applications(settings: Settings) -> Callable[[str], list[dict[str, Any]]]:
    """The Application objects of a namespace in the ``--from-cluster`` cluster (cached)."""
    seen: dict[str, list[dict[str, Any]]] = {}

    def applications(namespace: str) -> list[dict[str, Any]]:
        if namespace not in seen:
            client = cluster_client(settings)
            try:
                listing = client.request(
                    "GET",
                    f"/apis/argoproj.io/v1alpha1/namespaces/"
                    f"{path_segment('namespace', namespace)}/applications",
                )
            except KubeApiError as exc:
                raise ConfigError(
                    f"cannot list the Applications of namespace {namespace!r}: {exc}"
                ) from None
            finally:
                client.close()
            items = listing.get("items") if isinstance(listing, dict) else None
            seen[namespace] = [i for i in items or [] if isinstance(i, dict)]
        return seen[namespace]

    return applications
