"""What applying an ApplicationSet would change: a pure plan over generated and existing apps.

:func:`plan` compares the Applications a set generates now with those that exist
(from files or a cluster, as raw documents) and lists each create, update and
delete, marked with whether ``spec.syncPolicy.applicationsSync`` allows it:

==============  ======  ======  ======
policy          create  update  delete
==============  ======  ======  ======
create-only     yes     no      no
create-update   yes     yes     no
create-delete   yes     no      yes
sync (default)  yes     yes     yes
==============  ======  ======  ======

Ownership, as Argo CD's controller decides it: an existing Application whose
``ownerReferences`` name this ApplicationSet is the set's; one owned by another
ApplicationSet or controller is a conflict (never touched); one with no owner and
a generated name is adopted (an update). Only the set's own apps are ever
deleted. Updates compare ``spec`` and ``metadata`` labels, annotations and
finalizers after ``ignoreApplicationDifferences`` (the existing value is kept at
each JSON pointer / simple jq path) and ``preservedFields`` (plus Argo CD's
preserved annotations). A delete cascades to the app's resources when the app
carries the resources finalizer; deleting the set itself
(:func:`plan_set_deletion`) cascades unless ``preserveResourcesOnDeletion``.
A set whose generation failed plans nothing (a partial output must not delete).
"""

from __future__ import annotations

import copy
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gitops_tui.engine.app.application import DEFAULT_APP_NAMESPACE
from gitops_tui.engine.app.applicationset.model import (
    RESOURCES_FINALIZER,
    ApplicationSet,
    ApplicationsSync,
    Generated,
    GenerationError,
    error_condition,
)
from gitops_tui.engine.model import Condition, Manifest

PRESERVED_ANNOTATIONS = ("notified.notifications.argoproj.io", "argocd.argoproj.io/refresh")
"""Annotations Argo CD's ApplicationSet controller never overwrites on an existing app."""

MAX_FIELDS = 20
"""Changed field paths listed per update."""


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Change:
    """One planned change. ``allowed`` is False when the policy skips it (``reason`` says why)."""

    name: str
    action: Action
    allowed: bool
    reason: str = ""
    fields: tuple[str, ...] = ()
    adopt: bool = False
    cascade: bool = False
    desired: Mapping[str, Any] | None = None
    existing: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Conflict:
    name: str
    message: str


@dataclass(frozen=True)
class Plan:
    appset: str
    policy: ApplicationsSync
    changes: tuple[Change, ...] = ()
    unchanged: tuple[str, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    conditions: tuple[Condition, ...] = ()

    def of(self, action: Action) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action is action)

    @property
    def pending(self) -> tuple[Change, ...]:
        """The changes the policy allows: what an apply would do."""
        return tuple(c for c in self.changes if c.allowed)


# --------------------------------------------------------------------------- ownership


def _meta(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = doc.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _name(doc: Mapping[str, Any]) -> str:
    name = _meta(doc).get("name")
    return name if isinstance(name, str) else ""


def _namespace(doc: Mapping[str, Any]) -> str:
    namespace = _meta(doc).get("namespace")
    return namespace if isinstance(namespace, str) and namespace else DEFAULT_APP_NAMESPACE


def owner(doc: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(kind, name)`` of the controlling owner (or the ApplicationSet owner), if any."""
    refs = _meta(doc).get("ownerReferences")
    if not isinstance(refs, list):
        return None
    fallback: tuple[str, str] | None = None
    for ref in refs:
        if not isinstance(ref, Mapping):
            continue
        kind, name = ref.get("kind"), ref.get("name")
        if not isinstance(kind, str) or not isinstance(name, str):
            continue
        api = ref.get("apiVersion")
        if kind == "ApplicationSet" and isinstance(api, str) and api.startswith("argoproj.io/"):
            return kind, name
        if ref.get("controller") is True:
            fallback = (kind, name)
    return fallback


def _owned_by(doc: Mapping[str, Any], appset: ApplicationSet) -> bool:
    return owner(doc) == ("ApplicationSet", appset.name) and _namespace(doc) == appset.namespace


def _cascades(doc: Mapping[str, Any]) -> bool:
    finalizers = _meta(doc).get("finalizers")
    return isinstance(finalizers, list) and any(
        isinstance(f, str) and (f == RESOURCES_FINALIZER or f.startswith(RESOURCES_FINALIZER + "/"))
        for f in finalizers
    )


# --------------------------------------------------------------------------- ignore differences

_JQ_STEP = re.compile(r'\.([A-Za-z_][A-Za-z0-9_-]*)|\["([^"]*)"\]|\[(\d+)\]')


def jq_to_pointer(expression: str) -> list[str]:
    """A simple jq path (``.spec.source["x"].y[0]``) as pointer tokens; others are errors."""
    tokens: list[str] = []
    pos = 0
    text = expression.strip()
    while pos < len(text):
        match = _JQ_STEP.match(text, pos)
        if match is None:
            raise GenerationError(
                f"ignoreApplicationDifferences: jq path {expression!r} is not supported "
                '(only .field, ["key"] and [index] steps)'
            )
        tokens.append(next(g for g in match.groups() if g is not None))
        pos = match.end()
    if not tokens:
        raise GenerationError(f"ignoreApplicationDifferences: empty jq path {expression!r}")
    return tokens


def pointer_tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


_MISSING = object()


def _get(doc: Any, tokens: Sequence[str]) -> Any:
    for token in tokens:
        if isinstance(doc, Mapping) and token in doc:
            doc = doc[token]
        elif isinstance(doc, list) and token.isdigit() and int(token) < len(doc):
            doc = doc[int(token)]
        else:
            return _MISSING
    return doc


def _set(doc: Any, tokens: Sequence[str], value: Any) -> None:
    """Set (or with ``_MISSING`` remove) the value at ``tokens``, creating maps on the way."""
    for token in tokens[:-1]:
        if isinstance(doc, dict):
            if token not in doc or not isinstance(doc[token], dict | list):
                if value is _MISSING:
                    return
                doc[token] = {}
            doc = doc[token]
        elif isinstance(doc, list) and token.isdigit() and int(token) < len(doc):
            doc = doc[int(token)]
        else:
            return
    last = tokens[-1]
    if isinstance(doc, dict):
        if value is _MISSING:
            doc.pop(last, None)
        else:
            doc[last] = copy.deepcopy(value)
    elif (
        isinstance(doc, list) and last.isdigit() and int(last) < len(doc) and value is not _MISSING
    ):
        doc[int(last)] = copy.deepcopy(value)


def _ignored_paths(appset: ApplicationSet, name: str) -> list[list[str]]:
    paths: list[list[str]] = []
    for entry in appset.ignore_differences:
        if entry.name and entry.name != name:
            continue
        paths.extend(pointer_tokens(p) for p in entry.json_pointers if p)
        paths.extend(jq_to_pointer(e) for e in entry.jq_path_expressions)
    return paths


def effective_desired(
    appset: ApplicationSet, desired: Manifest, existing: Mapping[str, Any]
) -> dict[str, Any]:
    """What an update would write: ``desired`` with ignored and preserved fields kept."""
    out = copy.deepcopy(dict(desired))
    for tokens in _ignored_paths(appset, _name(desired)):
        if tokens:
            _set(out, tokens, _get(existing, tokens))
    meta = out.setdefault("metadata", {})
    for field, keys in (
        ("annotations", PRESERVED_ANNOTATIONS + appset.preserved_annotations),
        ("labels", appset.preserved_labels),
    ):
        old = _meta(existing).get(field)
        if not isinstance(old, Mapping):
            continue
        for key in keys:
            if key in old:
                meta.setdefault(field, {})[key] = old[key]
    return out


def compared_fields(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The fields an update compares (and a preview diffs)."""
    meta = _meta(doc)
    return {
        "spec": doc.get("spec") or {},
        "metadata": {
            "labels": meta.get("labels") or {},
            "annotations": meta.get("annotations") or {},
            "finalizers": meta.get("finalizers") or [],
        },
    }


def changed_fields(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted paths whose values differ (maps walked, other values compared whole)."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            out.extend(changed_fields(old.get(key), new.get(key), f"{prefix}{key}."))
        return out
    return [] if old == new else [prefix.rstrip(".")]


# --------------------------------------------------------------------------- the plan


def plan(generated: Generated, existing: Sequence[Mapping[str, Any]]) -> Plan:
    """The changes applying ``generated`` would make over ``existing`` Application documents."""
    appset = generated.appset
    if not isinstance(appset, ApplicationSet):
        return Plan(appset.name, ApplicationsSync.SYNC, conditions=generated.conditions)
    policy = appset.applications_sync
    if not generated.ok:
        return Plan(appset.name, policy, conditions=generated.conditions)
    by_name = {
        _name(doc): doc for doc in existing if _name(doc) and _namespace(doc) == appset.namespace
    }
    changes: list[Change] = []
    unchanged: list[str] = []
    conflicts: list[Conflict] = []
    wanted: set[str] = set()
    try:
        for app in generated.applications:
            wanted.add(app.name)
            current = by_name.get(app.name)
            if current is None:
                changes.append(Change(app.name, Action.CREATE, True, desired=app.raw))
                continue
            found = owner(current)
            if found is not None and found != ("ApplicationSet", appset.name):
                conflicts.append(
                    Conflict(
                        app.name,
                        f"Application {app.name!r} exists and is owned by {found[0]} "
                        f"{found[1]!r}: ApplicationSet {appset.name!r} leaves it alone",
                    )
                )
                continue
            desired = effective_desired(appset, app.raw, current)
            fields = changed_fields(compared_fields(current), compared_fields(desired))
            adopt = found is None
            if not fields and not adopt:
                unchanged.append(app.name)
                continue
            if adopt:
                fields.append("metadata.ownerReferences")
            changes.append(
                Change(
                    app.name,
                    Action.UPDATE,
                    policy.may_update,
                    ""
                    if policy.may_update
                    else f"applicationsSync {policy.value}: updates are skipped",
                    tuple(fields[:MAX_FIELDS]),
                    adopt=adopt,
                    desired=desired,
                    existing=current,
                )
            )
    except GenerationError as exc:
        return Plan(appset.name, policy, conditions=(error_condition(str(exc)),))
    for name, doc in sorted(by_name.items()):
        if name in wanted or not _owned_by(doc, appset):
            continue
        changes.append(
            Change(
                name,
                Action.DELETE,
                policy.may_delete,
                ""
                if policy.may_delete
                else f"applicationsSync {policy.value}: deletions are skipped",
                cascade=_cascades(doc),
                existing=doc,
            )
        )
    order = {Action.CREATE: 0, Action.UPDATE: 1, Action.DELETE: 2}
    changes.sort(key=lambda c: (order[c.action], c.name))
    return Plan(appset.name, policy, tuple(changes), tuple(sorted(unchanged)), tuple(conflicts))


def plan_set_deletion(appset: ApplicationSet, existing: Sequence[Mapping[str, Any]]) -> Plan:
    """Deleting the ApplicationSet itself: its own apps are deleted with it (Kubernetes
    garbage collection); their resources too, unless ``preserveResourcesOnDeletion``."""
    changes = [
        Change(
            _name(doc),
            Action.DELETE,
            True,
            cascade=_cascades(doc) and not appset.preserve_resources_on_deletion,
            existing=doc,
        )
        for doc in sorted(existing, key=_name)
        if _owned_by(doc, appset)
    ]
    return Plan(appset.name, appset.applications_sync, tuple(changes))
