"""Reading what ``kubectl exec`` / ``kubectl port-forward`` need about a pod of an app's
tree (a GET of the pod: its containers and ports). Shared by the local engine and the
Argo CD backend; the read-only check is the caller's (before this is called)."""

from __future__ import annotations

from gitops_tui.engine.cache.cluster import ClusterConnection
from gitops_tui.engine.controller.podlogs import read_pod
from gitops_tui.engine.errors import EngineError
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.podconnect import PodConnection, pod_connection_from


def read_pod_connection(conn: ClusterConnection, app: str, pod: ResourceKey) -> PodConnection:
    manifest = read_pod(conn.client, app, pod)
    kubeconfig = conn.target.kubeconfig
    connection = pod_connection_from(
        manifest if isinstance(manifest, dict) else {},
        kubeconfig=str(kubeconfig.expanduser()) if kubeconfig is not None else None,
        context=conn.name,
        namespace=pod.namespace,
        pod=pod.name,
    )
    if not connection.containers:
        raise EngineError(f"{pod.display} has no container to connect to")
    return connection
