"""Argo CD's clusters for the ``clusters`` generator: its cluster Secrets, plus in-cluster.

What Argo CD v3.2's ApplicationSet controller lists (``applicationset/utils/
clusterUtils.go`` ``ListClusters``, ``applicationset/generators/cluster.go``): every
Secret labelled ``argocd.argoproj.io/secret-type=cluster`` in Argo CD's namespace, in
the API's list order, with ``name``, ``server`` and ``project`` from its data and its
own labels and annotations; then, when no Secret's server is
``https://kubernetes.default.svc``, the implicit ``in-cluster`` entry (no Secret: no
labels, so a selector leaves it out). The generator's order and parameters are in
:mod:`.generators`.

Only ``name``, ``server`` and ``project`` are decoded: the ``config`` key (credentials)
and every other data key are never read, so they cannot reach parameters, logs, the
screen or JSON. ``kubectl.kubernetes.io/last-applied-configuration`` is dropped too: a
Secret applied with ``kubectl apply`` carries its whole data (``config`` included) in
that annotation (Argo CD passes it on as a parameter; gitops-tui does not).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

from gitops_tui.engine.app.applicationset.model import ClusterInfo, GenerationError

SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
SECRET_TYPE_CLUSTER = "cluster"
IN_CLUSTER_NAME = "in-cluster"
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MAX_CLUSTER_SECRETS = 10_000
"""Most cluster Secrets read; more is an error naming the limit (as other generators)."""
MAX_FIELD = 4096
"""Longest ``name``/``server``/``project`` value taken from a Secret."""
READ_KEYS = ("name", "server", "project")
"""The only data keys ever decoded."""


def _decoded(data: Mapping[str, Any], key: str, where: str) -> str:
    raw = data.get(key)
    if not isinstance(raw, str) or not raw:
        return ""
    try:
        value = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise GenerationError(f"{where}: data.{key} is not base64") from exc
    if len(value) > MAX_FIELD:
        raise GenerationError(f"{where}: data.{key} is longer than {MAX_FIELD} bytes")
    return value.decode("utf-8", errors="replace")


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


def cluster_of_secret(secret: Mapping[str, Any]) -> ClusterInfo:
    """One cluster Secret (as the API returns it: ``data`` base64) as a cluster."""
    meta = secret.get("metadata") if isinstance(secret.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    where = f"cluster Secret {str(meta.get('name') or '?')[:253]!r}"
    data = secret.get("data") if isinstance(secret.get("data"), Mapping) else {}
    assert isinstance(data, Mapping)
    name, server, project = (_decoded(data, key, where) for key in READ_KEYS)
    annotations = _strings(meta.get("annotations"))
    annotations.pop(LAST_APPLIED, None)
    return ClusterInfo(
        name=name,
        server=server,
        labels=_strings(meta.get("labels")),
        annotations=annotations,
        project=project,
        secret=True,
    )


def argocd_clusters(
    secrets: Sequence[Mapping[str, Any]], *, limit: int = MAX_CLUSTER_SECRETS
) -> tuple[ClusterInfo, ...]:
    """Argo CD's cluster list: the cluster Secrets in order, then the implicit in-cluster
    entry unless a Secret names ``https://kubernetes.default.svc``."""
    if len(secrets) > limit:
        raise GenerationError(
            f"clusters generator: {len(secrets)} cluster Secrets, more than the limit of {limit}"
        )
    clusters = [
        cluster_of_secret(s)
        for s in secrets
        if _strings((s.get("metadata") or {}).get("labels")).get(SECRET_TYPE_LABEL)
        == SECRET_TYPE_CLUSTER
    ]
    if not any(c.server.rstrip("/") == IN_CLUSTER_SERVER for c in clusters):
        clusters.append(ClusterInfo(name=IN_CLUSTER_NAME, server=IN_CLUSTER_SERVER))
    return tuple(clusters)
