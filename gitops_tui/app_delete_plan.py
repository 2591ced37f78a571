"""What deleting an Application takes with it, in words, for every front end.

The console's typed confirmation and ``gitops-tui delete-app`` list the same thing:
for a cascade (foreground, background) the app's resources that exist in the
cluster (Argo CD deletes each; what they own goes with them); for orphan, none.
Names come from the cluster and Git: they are made printable here.
"""

from __future__ import annotations

from gitops_tui.engine.api import APP_DELETE_CASCADES, AppSnapshot, EngineError
from gitops_tui.engine.textsafe import printable

MAX_LISTED = 12

CASCADE_WORDS = {
    "foreground": "foreground: Argo CD deletes the app's resources (and what they own), "
    "waits until they are gone, then deletes the Application",
    "background": "background: Argo CD deletes the app's resources (their dependents are "
    "garbage-collected in the background), then the Application",
    "orphan": "orphan: only the Application is deleted; its resources stay in the cluster, "
    "unmanaged",
}


def check_cascade(cascade: str) -> str:
    if cascade not in APP_DELETE_CASCADES:
        raise EngineError(
            f"unknown cascade {printable(cascade[:40])!r}: one of {', '.join(APP_DELETE_CASCADES)}"
        )
    return cascade


def doomed_resources(app: AppSnapshot, cascade: str) -> list[str]:
    """``Deployment shop/web`` for each of the app's resources in the cluster the
    deletion removes (none for orphan)."""
    check_cascade(cascade)
    if cascade == "orphan":
        return []
    return [printable(node.key.display) for node in app.resources if node.exists]


def listing(app: AppSnapshot, cascade: str, limit: int = MAX_LISTED) -> list[str]:
    """The lines shown before the confirmation: the cascade in words, then what goes."""
    doomed = doomed_resources(app, cascade)
    lines = [CASCADE_WORDS[cascade]]
    if cascade == "orphan":
        lines.append("Deleted: the Application only (its resources stay).")
        return lines
    lines.append(
        f"Deleted with it ({len(doomed)}):" if doomed else "Deleted with it: none in the cluster."
    )
    lines.extend(f"  {line}" for line in doomed[:limit])
    if len(doomed) > limit:
        lines.append(f"  ... and {len(doomed) - limit} more")
    return lines
