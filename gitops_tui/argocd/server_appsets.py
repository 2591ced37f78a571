"""ApplicationSets over Argo CD's API server: what its ApplicationSet controller reports.

``GET /api/v1/applicationsets/{name}`` (what ``argocd appset get`` reads) gives the set
with the controller's status; the preview is built from it and the apps the server
lists, exactly as over the Kubernetes API (``controller_status.controller_preview``):
nothing is generated here. Applying is the controller's job, so it is refused in words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from gitops_tui.argocd.server_client import ServerApiError, ServerClient, describe
from gitops_tui.engine.api import AppSetApplied, AppSetPreview, EngineError
from gitops_tui.engine.app.applicationset.controller_status import controller_preview
from gitops_tui.engine.textsafe import printable


def appset_path(name: str) -> str:
    return f"/api/v1/applicationsets/{quote(name, safe='')}"


def server_appset_preview(
    client: ServerClient, name: str, apps: Iterable[Mapping[str, Any]]
) -> AppSetPreview:
    """Blocking: the set as the server has it, beside the apps listed now."""
    try:
        obj = client.request("GET", appset_path(name))
    except ServerApiError as exc:
        if exc.not_found:
            raise EngineError(
                f"no ApplicationSet named {printable(name)!r} on {client.target.server}"
            ) from None
        raise describe(exc, "read ApplicationSet", name) from None
    if not isinstance(obj, Mapping):
        raise EngineError(
            f"ApplicationSet {printable(name)!r}: the server's answer is not an object"
        )
    return controller_preview(obj, apps)


def server_appset_apply(name: str) -> AppSetApplied:
    raise EngineError(
        f"Argo CD's ApplicationSet controller applies ApplicationSet {printable(name)!r} "
        "itself: change the set (in Git or through Argo CD) and the controller follows; "
        "gitops-tui does not write its Applications over the Argo CD API server"
    )
