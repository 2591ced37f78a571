"""App of Apps: Application objects inside an app's manifests become child apps.

ApplicationSet objects a parent renders are handled the same way: syncing the
parent registers them as sets (``application_sets``) whose parent is the app.

A parent renders ``argoproj.io/v1alpha1`` ``Application`` documents. Syncing the
parent registers them as apps of their own (compared, shown, synced like any
other), updates changed ones, and with prune removes those Git no longer lists.
When the destination cluster serves the Application CRD the objects are also
applied there, as Argo CD would; otherwise they only live in gitops-tui.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from gitops_tui.engine.health.dispatch import aggregate_health
from gitops_tui.engine.model import (
    APPLICATION_GROUP,
    APPLICATION_KIND,
    HealthStatus,
    Manifest,
    ResourceKey,
)


def is_application(obj: Manifest) -> bool:
    key = ResourceKey.of(obj)
    return key.group == APPLICATION_GROUP and key.kind == APPLICATION_KIND


APPLICATIONSET_KIND = "ApplicationSet"


def is_applicationset(obj: Manifest) -> bool:
    key = ResourceKey.of(obj)
    return key.group == APPLICATION_GROUP and key.kind == APPLICATIONSET_KIND


def split_sets(manifests: Iterable[Manifest]) -> tuple[list[Manifest], list[Manifest]]:
    """(other objects, ApplicationSet documents)."""
    others: list[Manifest] = []
    sets: list[Manifest] = []
    for obj in manifests:
        (sets if is_applicationset(obj) else others).append(obj)
    return others, sets


def split_children(manifests: Iterable[Manifest]) -> tuple[list[Manifest], list[Manifest]]:
    """(other objects, Application documents)."""
    others: list[Manifest] = []
    children: list[Manifest] = []
    for obj in manifests:
        (children if is_application(obj) else others).append(obj)
    return others, children


def ancestors(name: str, parent_of: Callable[[str], str | None], *, limit: int = 64) -> list[str]:
    """The chain of parents above ``name`` (nearest first)."""
    chain: list[str] = []
    current = parent_of(name)
    while current is not None and current not in chain and len(chain) < limit:
        chain.append(current)
        current = parent_of(current)
    return chain


@dataclass(frozen=True, slots=True)
class ChildPlan:
    """What registering a parent's child documents will do."""

    add: tuple[str, ...]
    update: tuple[str, ...]
    remove: tuple[str, ...]
    cycles: tuple[str, ...]
    conflicts: tuple[str, ...]


def plan_children(
    parent: str,
    docs: Sequence[Manifest],
    *,
    existing_children: Iterable[str],
    owner_of: Callable[[str], str | None],
    parent_of: Callable[[str], str | None],
    prune: bool,
) -> ChildPlan:
    """Decide which children to add, update and remove; report cycles and name clashes.

    ``owner_of(name)`` is the parent that registered an existing app (None for a
    top-level app, or "" when no such app exists).
    """
    above = set(ancestors(parent, parent_of)) | {parent}
    wanted: list[str] = []
    cycles: list[str] = []
    conflicts: list[str] = []
    for doc in docs:
        name = str((doc.get("metadata") or {}).get("name") or "")
        if not name:
            continue
        if name in above:
            cycles.append(f"{parent} -> {name}: {name} is already above {parent}; not followed")
            continue
        owner = owner_of(name)
        if owner not in ("", parent):
            where = f"app {owner!r}" if owner else "a top-level Application file"
            conflicts.append(f"child app {name!r} is already defined by {where}")
            continue
        wanted.append(name)
    current = set(existing_children)
    add = tuple(n for n in wanted if owner_of(n) == "")
    update = tuple(n for n in wanted if owner_of(n) == parent)
    remove = tuple(sorted(current - set(wanted))) if prune else ()
    return ChildPlan(add, update, remove, tuple(cycles), tuple(conflicts))


# -- health of a parent ----------------------------------------------------------------

HealthItem = tuple[HealthStatus | None, bool]
"""(health, is_hook) of one managed object, as ``aggregate_health`` takes it."""


@dataclass(frozen=True, slots=True)
class ChildHealth:
    """One child app as its parent sees it."""

    name: str
    registered: bool
    health: HealthStatus | None


def child_health_input(child: ChildHealth) -> HealthStatus | None:
    """What a child app contributes to its parent's health.

    Not registered yet: Missing (the Application the parent wants does not exist).
    Registered: its own health, except that Missing and Unknown do not affect the
    parent (Argo CD's rule for child Applications); None then (present, no say).
    """
    if not child.registered:
        return HealthStatus.MISSING
    if child.health in (None, HealthStatus.MISSING, HealthStatus.UNKNOWN):
        return None
    return child.health


def parent_health(
    own_items: Sequence[HealthItem],
    own_message: str,
    children: Sequence[ChildHealth],
) -> tuple[HealthStatus, str]:
    """(health, message) of an app from its own objects and the child apps it lists.

    Registered children count like managed objects (``aggregate_health``): the
    worst child wins. Children not registered yet make the parent Missing only
    when nothing else it wants exists (no own object present, no registered child).
    The message names the child that decided the health, if one did.
    """
    own = aggregate_health(own_items)
    registered = [(child_health_input(c), False) for c in children if c.registered]
    health = aggregate_health([*own_items, *registered])
    present = registered or any(
        not hook and item != HealthStatus.MISSING for item, hook in own_items
    )
    if (
        not present
        and any(not c.registered for c in children)
        and HealthStatus.MISSING.severity > health.severity
    ):
        health = HealthStatus.MISSING  # nothing the parent wants exists yet
    if health == own:
        return health, own_message
    if health == HealthStatus.MISSING:
        return health, "the child apps are not registered yet: sync the parent"
    for child in children:
        if child_health_input(child) == health:
            return health, f"child app {child.name!r} is {health.value}"
    return health, own_message


def children_changed(
    shown: Mapping[str, HealthStatus | None], current: Callable[[str], HealthStatus | None]
) -> bool:
    """True when a child's health differs from the one its parent's snapshot shows."""
    return any(current(name) != health for name, health in shown.items())
