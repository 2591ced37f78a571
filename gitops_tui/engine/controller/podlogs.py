"""Opening a container's log for an app: only pods of its resource tree, through the API
server's ``pods/log`` (a GET: allowed in read-only). Shared by the local engine and
the Argo CD backend (both read the cluster with a ``KubeClient``)."""

from __future__ import annotations

from gitops_tui.engine.cache.kubeclient import KubeApiError, KubeClient, path_segment
from gitops_tui.engine.errors import EngineError
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.podlogs import (
    CONNECT_TIMEOUT_S,
    READ_TIMEOUT_S,
    LogOptions,
    LogStream,
    containers_of,
    default_container,
)
from gitops_tui.engine.redact import redact_text
from gitops_tui.engine.textsafe import printable


def check_pod(app: str, keys: set[ResourceKey], pod: ResourceKey) -> None:
    if pod.kind != "Pod" or pod.group:
        raise EngineError(f"{pod.display} is not a Pod: only pods have container logs")
    if pod not in keys:
        raise EngineError(f"{pod.display} is not one of {app}'s resources")


def pod_path(pod: ResourceKey) -> str:
    return (
        f"/api/v1/namespaces/{path_segment('namespace', pod.namespace)}"
        f"/pods/{path_segment('name', pod.name)}"
    )


def read_pod(client: KubeClient, app: str, pod: ResourceKey) -> object:
    """The pod's manifest from its cluster; a message naming the pod and the app when
    it is gone or cannot be read."""
    try:
        return client.request("GET", pod_path(pod), timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S))
    except KubeApiError as exc:
        if exc.status == 404:
            raise EngineError(f"{pod.display} is gone from {app}'s cluster") from None
        raise EngineError(
            f"could not read {pod.display} from {app}'s cluster: {redact_text(str(exc))}"
        ) from None


def open_pod_logs(
    client: KubeClient, app: str, keys: set[ResourceKey], pod: ResourceKey, options: LogOptions
) -> LogStream:
    """The log of one container of ``pod`` (a pod of ``keys``, the app's tree); blocking
    until the API server answers (at most ``CONNECT_TIMEOUT_S`` to connect)."""
    check_pod(app, keys, pod)
    options = options.checked()
    base = pod_path(pod)
    manifest = read_pod(client, app, pod)
    main, other = containers_of(manifest if isinstance(manifest, dict) else {})
    container = options.container or default_container(
        manifest if isinstance(manifest, dict) else {}
    )
    if container is None:
        raise EngineError(f"{pod.display} has no containers")
    if container not in main + other:
        raise EngineError(
            f"{pod.display} has no container {printable(container)!r}; "
            f"its containers: {', '.join(main + other)}"
        )
    try:
        source = client.open_stream(
            f"{base}/log",
            query=options.query(container),
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=None if options.follow else READ_TIMEOUT_S,
        )
    except KubeApiError as exc:
        raise EngineError(
            f"could not read the log of {pod.display} ({container}): {redact_text(str(exc))}"
        ) from None
    return LogStream(source, pod=pod.display, container=container, follow=options.follow)
