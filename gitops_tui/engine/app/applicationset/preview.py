"""What a front end shows of an ApplicationSet's plan: added, changed, removed apps.

:func:`preview_of` turns a :class:`~.policy.Plan` into immutable values for a
screen or a command: each change with whether the set's ``applicationsSync``
allows it (and why not), and for an update a unified diff of the fields Argo CD's
controller compares (``spec``, labels, annotations, finalizers) as YAML; a create
shows the new app's spec. Diffs are bounded (``MAX_DIFF_LINES`` per app).
:class:`AppSetApplied` is what an apply did.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from gitops_tui.engine.app.applicationset.policy import Action, Change, Plan, compared_fields
from gitops_tui.engine.model import Condition

MAX_DIFF_LINES = 400
"""Diff lines kept per app (the rest is counted on a last line)."""


@dataclass(frozen=True, slots=True)
class AppSetChange:
    """One generated app that would be added, changed or removed."""

    name: str
    action: str  # "create" | "update" | "delete"
    allowed: bool
    reason: str = ""  # why the policy skips it
    fields: tuple[str, ...] = ()  # changed field paths of an update
    diff: tuple[str, ...] = ()  # unified diff lines (``+``/``-``/`` ``/``@@``)
    adopt: bool = False  # an existing app without owner, taken over
    cascade: bool = False  # a delete that also deletes the app's resources


@dataclass(frozen=True, slots=True)
class AppSetPreview:
    """The generators' output now against the apps that exist, per the set's policy.

    ``conditions`` set: nothing would be generated (the apps stay as they are)."""

    name: str
    policy: str
    added: tuple[AppSetChange, ...] = ()
    changed: tuple[AppSetChange, ...] = ()
    removed: tuple[AppSetChange, ...] = ()
    unchanged: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()
    source: str = ""  # where the generated output came from, in words

    @property
    def changes(self) -> tuple[AppSetChange, ...]:
        return (*self.added, *self.changed, *self.removed)

    @property
    def pending(self) -> tuple[AppSetChange, ...]:
        """What an apply would do (the changes the policy allows)."""
        return tuple(c for c in self.changes if c.allowed)


@dataclass(frozen=True, slots=True)
class AppSetApplied:
    """What an apply did: ``done`` lines (``created a``), what the policy kept back."""

    name: str
    done: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()


def _yaml_lines(doc: Any) -> list[str]:
    text = yaml.safe_dump(doc, sort_keys=True, default_flow_style=False, allow_unicode=True)
    return text.splitlines()


def spec_diff(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> tuple[str, ...]:
    """Unified diff of the compared fields of two Application documents (bounded)."""
    before = _yaml_lines(compared_fields(old)) if old is not None else []
    after = _yaml_lines(compared_fields(new)) if new is not None else []
    lines = [
        line
        for line in difflib.unified_diff(before, after, "existing", "generated", n=3, lineterm="")
        if not line.startswith(("---", "+++"))
    ]
    if len(lines) > MAX_DIFF_LINES:
        more = len(lines) - MAX_DIFF_LINES
        lines = [*lines[:MAX_DIFF_LINES], f"... {more} more diff lines"]
    return tuple(lines)


def _change(change: Change) -> AppSetChange:
    if change.action is Action.DELETE:
        diff: tuple[str, ...] = ()
    else:
        diff = spec_diff(change.existing, change.desired)
    return AppSetChange(
        name=change.name,
        action=change.action.value,
        allowed=change.allowed,
        reason=change.reason,
        fields=change.fields,
        diff=diff,
        adopt=change.adopt,
        cascade=change.cascade,
    )


def preview_of(result: Plan, *, conflicts: tuple[str, ...] = (), source: str = "") -> AppSetPreview:
    """``result`` as a preview; ``conflicts``: more messages (names defined elsewhere)."""
    return AppSetPreview(
        name=result.appset,
        policy=result.policy.value,
        added=tuple(_change(c) for c in result.of(Action.CREATE)),
        changed=tuple(_change(c) for c in result.of(Action.UPDATE)),
        removed=tuple(_change(c) for c in result.of(Action.DELETE)),
        unchanged=result.unchanged,
        conflicts=(*(c.message for c in result.conflicts), *conflicts),
        conditions=result.conditions,
        source=source,
    )
