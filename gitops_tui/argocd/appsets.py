"""ApplicationSets over the Argo CD backend: the ApplicationSet controller's own view.

Argo CD's ApplicationSet controller generates and writes the Applications; the
console shows what it reports instead of generating anything itself: each
``ApplicationSet`` object's conditions (``ErrorOccurred``, ``ParametersGenerated``
false, ``ResourcesUpToDate`` false: what went wrong, in the controller's words),
its policy, and its Applications (those whose ``ownerReferences`` name it, and
those in ``status.resources``). The "preview" over this backend is that status:
the controller's resources and conditions; apply is the controller's job.
Every string comes from the cluster: bounded here, made printable by the UI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gitops_tui.argocd.status import _list, _map, appset_owner, name, parse_time, text
from gitops_tui.engine.api import AppSetChange, AppSetPreview, AppSetSnapshot
from gitops_tui.engine.model import Condition

MAX_SET_CONDITIONS = 20
MAX_SET_RESOURCES = 10_000

TROUBLE = {"ErrorOccurred": "True", "ParametersGenerated": "False", "ResourcesUpToDate": "False"}
"""Condition type -> the status that means trouble."""

CONTROLLER = "reported by Argo CD's ApplicationSet controller (gitops-tui generates nothing here)"


def _conditions(obj: Mapping[str, Any]) -> tuple[Condition, ...]:
    """The conditions that say something is wrong, in the controller's words."""
    out: list[Condition] = []
    for raw in _list(_map(obj.get("status")).get("conditions"), MAX_SET_CONDITIONS):
        cond = _map(raw)
        kind, status = name(cond.get("type")), name(cond.get("status"))
        if TROUBLE.get(kind) == status:
            out.append(Condition(kind, text(cond.get("message"))))
    return tuple(out)


def _resources(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        _map(r)
        for r in _list(_map(obj.get("status")).get("resources"), MAX_SET_RESOURCES)
        if name(_map(r).get("name"))
    ]


def set_apps(obj: Mapping[str, Any], apps: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """The set's Applications: owned by it, or listed in its status."""
    set_name = name(_map(obj.get("metadata")).get("name"))
    owned = {
        name(_map(app.get("metadata")).get("name")) for app in apps if appset_owner(app) == set_name
    }
    listed = {name(r.get("name")) for r in _resources(obj)}
    return tuple(sorted((owned | listed) - {""}))


def _policy(obj: Mapping[str, Any]) -> str:
    policy = _map(_map(obj.get("spec")).get("syncPolicy")).get("applicationsSync")
    return name(policy) or "sync"


def appset_snapshot(
    obj: Mapping[str, Any], apps: Iterable[Mapping[str, Any]], namespace: str
) -> AppSetSnapshot:
    meta = _map(obj.get("metadata"))
    times = [
        parse_time(_map(c).get("lastTransitionTime"))
        for c in _list(_map(obj.get("status")).get("conditions"), MAX_SET_CONDITIONS)
    ]
    return AppSetSnapshot(
        name=name(meta.get("name")),
        namespace=name(meta.get("namespace")) or namespace,
        origin=f"argocd:{namespace}",
        policy=_policy(obj),
        conditions=_conditions(obj),
        applications=set_apps(obj, apps),
        generated_at=max(times, default=0.0),
    )


def controller_preview(obj: Mapping[str, Any], apps: Iterable[Mapping[str, Any]]) -> AppSetPreview:
    """The set as its controller reports it: every condition and each Application.

    An app the controller lists but that does not exist (yet) shows as one to add; an
    owned app it no longer lists, as one to remove (the controller acts on both)."""
    set_name = name(_map(obj.get("metadata")).get("name"))
    existing = {
        name(_map(app.get("metadata")).get("name")) for app in apps if appset_owner(app) == set_name
    }
    listed = {name(r.get("name")): r for r in _resources(obj)}
    added = tuple(
        AppSetChange(app, "create", True, reason="listed by the controller, not created yet")
        for app in sorted(set(listed) - existing)
    )
    removed = tuple(
        AppSetChange(app, "delete", True, reason="owned, no longer listed by the controller")
        for app in sorted(existing - set(listed))
        if listed
    )
    unchanged = tuple(sorted(set(listed) & existing)) if listed else tuple(sorted(existing))
    return AppSetPreview(
        name=set_name,
        policy=_policy(obj),
        added=added,
        removed=removed,
        unchanged=unchanged,
        conditions=_conditions(obj),
        source=CONTROLLER,
    )
