"""App of Apps: Application objects inside an app's manifests become child apps.

A parent renders ``argoproj.io/v1alpha1`` ``Application`` documents. Syncing the
parent registers them as apps of their own (compared, shown, synced like any
other), updates changed ones, and with prune removes those Git no longer lists.
When the destination cluster serves the Application CRD the objects are also
applied there, as Argo CD would; otherwise they only live in gitops-tui.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from gitops_tui.engine.model import Manifest, ResourceKey

APPLICATION_GROUP = "argoproj.io"
APPLICATION_KIND = "Application"


def is_application(obj: Manifest) -> bool:
    key = ResourceKey.of(obj)
    return key.group == APPLICATION_GROUP and key.kind == APPLICATION_KIND


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
