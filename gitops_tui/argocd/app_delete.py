"""Deleting an Application itself in Argo CD mode, with Argo CD's cascade semantics.

Argo CD decides what happens to an app's resources by the Application's finalizers
(``pkg/apis/application/v1alpha1``; the controller's ``finalizeApplicationDeletion``):

- ``resources-finalizer.argocd.argoproj.io`` (or its ``/foreground`` form): the
  controller deletes the app's resources with foreground propagation, waits until
  they are gone, then removes the finalizer and the Application goes;
- ``resources-finalizer.argocd.argoproj.io/background``: the same with background
  propagation;
- none of them: the Application goes at once and its resources stay (orphan).

Over the Kubernetes API this does what Argo CD's API server does for ``DELETE
/api/v1/applications/{name}`` (``server/application/application.go``): set or unset
the finalizer with a merge patch (other finalizers are kept), then delete the
Application. The patch carries the ``resourceVersion`` read just before (a
concurrent change is a conflict, read again), and the delete a ``uid``
precondition, so only the Application the operator saw is deleted. A finalizer
cannot be added to an object already being deleted: then the delete is only
repeated, as Argo CD does, and the message says the existing finalizers decide.

Over the API server it is Argo CD's own call: ``cascade=true&propagationPolicy=
foreground|background``, or ``cascade=false`` (orphan). Read-only refuses in the
backends before either function runs; the clients refuse any write on their own too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitops_tui.app_delete_plan import check_cascade
from gitops_tui.engine.api import EngineError
from gitops_tui.engine.cache.kubeclient import KubeApiError

if TYPE_CHECKING:
    from gitops_tui.argocd.actions import AppActions
    from gitops_tui.argocd.server_client import ServerClient

FOREGROUND = "resources-finalizer.argocd.argoproj.io"
FOREGROUND_EXPLICIT = "resources-finalizer.argocd.argoproj.io/foreground"
BACKGROUND = "resources-finalizer.argocd.argoproj.io/background"
PROPAGATION_FINALIZERS = (FOREGROUND, FOREGROUND_EXPLICIT, BACKGROUND)
CONFLICT_RETRIES = 10

DELETE_UNAVAILABLE = (
    "deleting an app's resource over Argo CD goes through Argo CD's API server (its RBAC "
    "and audit), which this backend does not use yet: run `argocd app delete-resource`, "
    "or open the app with the local engine"
)


def wanted_finalizers(current: list[str], cascade: str) -> list[str]:
    """The Application's finalizers for ``cascade``: other finalizers kept in order, the
    propagation finalizer set (one only: the controller reads the first it finds)."""
    check_cascade(cascade)
    if cascade == "foreground" and any(f in (FOREGROUND, FOREGROUND_EXPLICIT) for f in current):
        keep = FOREGROUND if FOREGROUND in current else FOREGROUND_EXPLICIT
        return [f for f in current if f not in PROPAGATION_FINALIZERS or f == keep]
    kept = [f for f in current if f not in PROPAGATION_FINALIZERS]
    if cascade == "foreground":
        kept.append(FOREGROUND)
    elif cascade == "background":
        kept.append(BACKGROUND)
    return kept


def outcome(app: str, cascade: str) -> str:
    """What was done, in words."""
    if cascade == "orphan":
        return f"Application {app} deleted; its resources stay in the cluster (orphan)"
    return (
        f"Application {app}: deletion requested ({cascade}); Argo CD deletes its resources, "
        "then the Application"
    )


def delete_over_kube(actions: AppActions, app: str, uid: str, cascade: str) -> str:
    """Set the finalizer for ``cascade`` and delete Application ``app`` (``uid``: the one
    the operator saw). ``actions`` is the backend's Kubernetes API writer."""
    check_cascade(cascade)
    path = actions.path(app)
    for _ in range(CONFLICT_RETRIES):
        obj = actions.get(app)
        meta: dict[str, Any] = obj.get("metadata") or {}
        if uid and meta.get("uid") != uid:
            raise EngineError(
                f"Application {app} was replaced since it was shown (another uid): "
                "nothing deleted; look again and retry"
            )
        current = [str(f) for f in meta.get("finalizers") or []]
        wanted = wanted_finalizers(current, cascade)
        deleting = bool(meta.get("deletionTimestamp"))
        try:
            if wanted != current and not deleting:
                actions.patch(
                    app,
                    {
                        "metadata": {
                            "finalizers": wanted or None,
                            "resourceVersion": meta.get("resourceVersion"),
                        }
                    },
                )
            body = {
                "apiVersion": "v1",
                "kind": "DeleteOptions",
                "preconditions": {"uid": meta.get("uid")},
            }
            actions.delete(path, body)
        except KubeApiError as exc:
            if exc.status == 409:
                continue  # changed meanwhile: read again
            if exc.status == 404:
                return f"Application {app} is already gone"
            raise actions.action_error(f"delete Application {app}", exc) from None
        if deleting and wanted != current:
            return (
                f"Application {app} was already being deleted: its finalizers "
                f"({', '.join(current) or 'none'}) decide what happens to its resources"
            )
        return outcome(app, cascade)
    raise EngineError(f"could not delete {app}: the Application kept changing (conflicts)")


def delete_over_server(client: ServerClient, app: str, cascade: str) -> str:
    """Argo CD's ``DELETE /api/v1/applications/{name}`` with the cascade as its query."""
    from gitops_tui.argocd.server_client import ServerApiError, app_path, describe

    check_cascade(cascade)
    query = (
        {"cascade": "false"}
        if cascade == "orphan"
        else {"cascade": "true", "propagationPolicy": cascade}
    )
    try:
        client.request("DELETE", app_path(app), query=query)
    except ServerApiError as exc:
        if exc.not_found:
            return f"Application {app} is already gone"
        raise describe(exc, "delete the Application", app) from None
    return outcome(app, cascade)
