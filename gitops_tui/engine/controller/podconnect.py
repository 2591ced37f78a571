"""Reading what ``kubectl exec`` / ``kubectl port-forward`` need about a pod of an app's
tree (a GET of the pod: its containers and ports). Shared by the local engine and the
Argo CD backend; the read-only check is the caller's (before this is called)."""

from __future__ import annotations

from gitops_tui.engine.cache.cluster import ClusterConnection
from gitops_tui.engine.cache.kubeclient import KubeApiError, path_segment
from gitops_tui.engine.errors import EngineError
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.podconnect import PodConnection, pod_connection_from
from gitops_tui.engine.podlogs import CONNECT_TIMEOUT_S, READ_TIMEOUT_S
from gitops_tui.engine.redact import redact_text


def read_pod_connection(conn: ClusterConnection, app: str, pod: ResourceKey) -> PodConnection:
    path = (
        f"/api/v1/namespaces/{path_segment('namespace', pod.namespace)}"
        f"/pods/{path_segment('name', pod.name)}"
    )
    try:
        manifest = conn.client.request("GET", path, timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S))
    except KubeApiError as exc:
        if exc.status == 404:
            raise EngineError(f"{pod.display} is gone from {app}'s cluster") from None
        raise EngineError(
            f"could not read {pod.display} from {app}'s cluster: {redact_text(str(exc))}"
        ) from None
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
