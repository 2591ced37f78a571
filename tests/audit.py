"""Reading the sandbox API server's audit log: which requests the console/engine sent.

``audit_events`` makes a marker GET last and waits until it is in the log, so every
earlier request has been flushed; without the marker a test may read a log that
has not caught up yet and see "no writes" whatever was sent.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from helpers import wait_for

from gitops_tui.engine.cache.kubeclient import KubeApiError, KubeClient, KubeTarget

WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
"""Every mutating verb; ``patch`` is how server-side apply and its dry runs are sent."""


def audit_mark(box: Any) -> int:
    """Where the audit log ends now (pass to ``audit_events`` as ``since``)."""
    return Path(box.audit_log).stat().st_size


def audit_events(
    box: Any,
    kubeconfig: Path,
    since: int,
    namespace: str | None = None,
    *,
    cluster_scoped: bool = True,
) -> list[dict[str, Any]]:
    """Completed ``gitops-tui/...`` requests after byte ``since`` of the audit log, in log order.

    With ``namespace``: those in (or on) that namespace, plus every cluster-scoped
    one (a write outside any namespace is as much a write) unless ``cluster_scoped``
    is False (only the namespace's own objects and the Namespace itself). A marker GET
    is made last and waited for, so every earlier request is in the log.
    """
    marker = f"audit-marker-{uuid.uuid4().hex[:10]}"
    client = KubeClient(KubeTarget(kubeconfig, None))
    try:
        client.request("GET", f"/api/v1/namespaces/default/configmaps/{marker}")
    except KubeApiError as exc:
        assert exc.status == 404, exc
    finally:
        client.close()
    path = Path(box.audit_log)

    def read() -> tuple[list[dict[str, Any]]] | None:
        with path.open("rb") as handle:
            handle.seek(since)
            data = handle.read()
        found = []
        for line in data.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("stage") != "ResponseComplete" or not str(
                event.get("userAgent", "")
            ).startswith("gitops-tui/"):
                continue
            ref = event.get("objectRef") or {}
            if ref.get("name") == marker:
                return (found,)
            if (
                namespace is None
                or ref.get("namespace") == namespace
                or (ref.get("resource") == "namespaces" and ref.get("name") == namespace)
                or (cluster_scoped and not ref.get("namespace"))
            ):
                found.append(event)
        return None

    return wait_for(read, timeout=15, what="the audit log to catch up")[0]


def write_events(
    events: list[dict[str, Any]], *, dry_run: bool | None = False
) -> list[dict[str, Any]]:
    """The mutating requests among ``events`` (``dry_run``: only dry runs / only real
    ones / ``None`` both)."""
    return [
        e
        for e in events
        if e.get("verb") in WRITE_VERBS
        and (dry_run is None or ("dryRun=All" in str(e.get("requestURI", ""))) == dry_run)
    ]


def writes(events: list[dict[str, Any]], *, dry_run: bool | None = False) -> list[str]:
    """``verb URI`` of the mutating requests (``dry_run`` as in ``write_events``)."""
    return [f"{e['verb']} {e.get('requestURI')}" for e in write_events(events, dry_run=dry_run)]


def written_objects(events: list[dict[str, Any]], *, dry_run: bool | None = False) -> list[str]:
    """``verb resource/name`` of the mutating requests (``dry_run`` as in ``write_events``)."""
    return [
        f"{e['verb']} {e['objectRef'].get('resource')}/{e['objectRef'].get('name')}"
        for e in write_events(events, dry_run=dry_run)
    ]
