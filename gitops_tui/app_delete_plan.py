"""What deleting an Application (or, with the local engine, its resources) takes with it,
in words, for every front end.

The console's typed confirmation and ``gitops-tui delete-app`` list the same thing:
for a cascade (foreground, background) the app's resources that exist in the
cluster (Argo CD deletes each; what they own goes with them); for orphan, none.
Names come from the cluster and Git: they are made printable here.
"""

from __future__ import annotations

from gitops_tui.engine.api import APP_DELETE_CASCADES, AppDeletePlan, AppSnapshot, EngineError
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.textsafe import printable

MAX_LISTED = 12

ARGOCD_ORIGINS = ("argocd:", "argocd-server:")
"""Origins of apps an Argo CD backend serves (their Application is deleted); any other
app is the local engine's, read from Git (its resources are deleted, the Application stays)."""

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


# ---------------------------------------------------------------- local engine


def resource_line(key: ResourceKey, wave: int | None = None) -> str:
    where = f"{key.namespace}/{key.name}" if key.namespace else key.name
    text = printable(f"{key.kind} {where}"[:200])
    return f"{text}  (wave {wave})" if wave is not None else text


def plan_lines(plan: AppDeletePlan, limit: int = MAX_LISTED) -> list[str]:
    """What deleting the app's resources deletes (in order, with its wave) and keeps
    (with the reason), at most ``limit`` lines each, then "... and N more"."""
    lines = [
        f"To delete ({len(plan.deletions)}), highest sync wave first:"
        if plan.deletions
        else "To delete: nothing (no live resource this app owns)."
    ]
    for item in plan.deletions[:limit]:
        note = f"  [{printable(item.note)}]" if item.note else ""
        lines.append(f"  {resource_line(item.key, item.wave)}{note}")
    if len(plan.deletions) > limit:
        lines.append(f"  ... and {len(plan.deletions) - limit} more")
    if plan.kept:
        lines.append(f"Kept ({len(plan.kept)}):")
        for kept in plan.kept[:limit]:
            lines.append(f"  {resource_line(kept.key)}: {printable(kept.reason)}")
        if len(plan.kept) > limit:
            lines.append(f"  ... and {len(plan.kept) - limit} more")
    return lines


def plan_as_dict(plan: AppDeletePlan) -> dict[str, object]:
    """The plan as JSON-ready data (``-o json``); names made printable."""

    def key_dict(key: ResourceKey) -> dict[str, str]:
        return {
            "group": printable(key.group),
            "kind": printable(key.kind),
            "namespace": printable(key.namespace),
            "name": printable(key.name),
        }

    return {
        "app": printable(plan.app),
        "cluster": printable(plan.cluster),
        "delete": [
            key_dict(d.key) | {"uid": printable(d.uid), "wave": d.wave, "note": printable(d.note)}
            for d in plan.deletions
        ],
        "keep": [key_dict(k.key) | {"reason": printable(k.reason)} for k in plan.kept],
    }
