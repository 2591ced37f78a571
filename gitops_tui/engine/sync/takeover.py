"""Which fields a sync takes over from other field managers (server-side apply conflicts).

A sync applies with ``force=true`` by default, as Argo CD's server-side apply
does: after ``kubectl scale`` or ``kubectl edit`` the first sync restores Git's
values. What that takes from whom is read from ``metadata.managedFields``: the
fields another manager owns in the live object and no longer owns in the
prediction (the forced server-side dry run of the comparison) while our manager
does. Refusing instead is opt-in: ``--no-force-conflicts`` or the sync option
``ServerSideApplyForceConflicts=false`` (app or object).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from gitops_tui.engine.cache.kubeclient import FIELD_MANAGER, KubeApiError
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.sync.plan import SyncPlan, TaskAction

FORCE_CONFLICTS_OPTION = "ServerSideApplyForceConflicts"
MAX_FIELDS_SHOWN = 4
MAX_MANAGERS_SHOWN = 4
MAX_NAME = 64
MAX_DEPTH = 32


def _clean(text: str) -> str:
    """A manager name or key from the cluster, printable and bounded."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= MAX_NAME else text[:MAX_NAME] + "..."


def _segment(key: str) -> str:
    """One ``fieldsV1`` key as a path segment: ``f:spec`` -> ``.spec``."""
    if key.startswith("f:"):
        return "." + key[2:]
    if key.startswith("k:"):
        try:
            ident = json.loads(key[2:])
        except ValueError:
            return f"[{key[2:]}]"
        if isinstance(ident, Mapping):
            return "[" + ",".join(f"{k}={v}" for k, v in ident.items()) + "]"
        return f"[{ident}]"
    if key.startswith("v:"):
        return f"[{key[2:]}]"
    if key.startswith("i:"):
        return f"[{key[2:]}]"
    return "." + key


def field_paths(fields: Any, prefix: str = "", depth: int = 0) -> set[str]:
    """The leaf paths of a ``fieldsV1`` tree (``.`` means the node itself)."""
    out: set[str] = set()
    if not isinstance(fields, Mapping) or depth > MAX_DEPTH:
        return out
    for key, value in fields.items():
        if key == ".":
            if prefix:
                out.add(prefix)
            continue
        path = prefix + _segment(str(key))
        if isinstance(value, Mapping) and value:
            out |= field_paths(value, path, depth + 1)
        else:
            out.add(path)
    return out


def owned_fields(obj: Manifest) -> dict[str, set[str]]:
    """Manager name -> field paths it owns (all its entries: apply, update, subresources)."""
    owners: dict[str, set[str]] = {}
    for entry in (obj.get("metadata") or {}).get("managedFields") or []:
        if not isinstance(entry, Mapping):
            continue
        manager = str(entry.get("manager") or "(unnamed manager)")
        owners.setdefault(manager, set()).update(field_paths(entry.get("fieldsV1")))
    return owners


def taken_fields(
    live: Manifest, predicted: Manifest, manager: str = FIELD_MANAGER
) -> dict[str, list[str]]:
    """Other manager -> the fields (sorted) a forced apply takes from it."""
    before = owned_fields(live)
    after = owned_fields(predicted)
    ours = after.get(manager, set())
    taken: dict[str, list[str]] = {}
    for other, paths in sorted(before.items()):
        if other == manager:
            continue
        lost = (paths - after.get(other, set())) & ours
        if lost:
            taken[other] = sorted(lost)
    return taken


def takeover_note(taken: Mapping[str, list[str]], *, force: bool) -> str:
    """One line for the plan: which fields are taken from which manager (bounded)."""
    if not taken:
        return ""
    parts = []
    for manager, paths in list(taken.items())[:MAX_MANAGERS_SHOWN]:
        shown = ", ".join(_clean(p) for p in paths[:MAX_FIELDS_SHOWN])
        if len(paths) > MAX_FIELDS_SHOWN:
            shown += f" and {len(paths) - MAX_FIELDS_SHOWN} more"
        parts.append(f'{shown} from "{_clean(manager)}"')
    if len(taken) > MAX_MANAGERS_SHOWN:
        parts.append(f"{len(taken) - MAX_MANAGERS_SHOWN} more managers")
    if force:
        return "takes " + "; ".join(parts)
    return "conflicts: " + "; ".join(parts) + " (force conflicts is off: this apply will fail)"


def forces_conflicts(
    options: Mapping[str, str], app_options: Mapping[str, str], *, force: bool, default: bool
) -> bool:
    """Whether a server-side apply of an object forces conflicts.

    ``force`` (``--force``) or ``Force=true`` always does; else the object's, then
    the app's ``ServerSideApplyForceConflicts``; else ``default`` (on, unless
    ``--no-force-conflicts``).
    """
    if force or _true(options, "Force") or _true(app_options, "Force"):
        return True
    for source in (options, app_options):
        value = source.get(FORCE_CONFLICTS_OPTION)
        if value is not None:
            return value.strip().lower() != "false"
    return default


def _true(options: Mapping[str, str], name: str) -> bool:
    value = options.get(name)
    return value is not None and value.strip().lower() == "true"


def with_takeovers(
    plan: SyncPlan,
    objects: Mapping[ResourceKey, tuple[Manifest | None, Manifest | None]],
    app_options: Mapping[str, str],
    *,
    force: bool,
    default: bool,
) -> SyncPlan:
    """The plan with a note on each update naming the fields it takes (or would conflict on).

    ``objects`` maps keys to (live, predicted) from the comparison.
    """
    tasks = []
    for task in plan.tasks:
        live, predicted = objects.get(task.key, (None, None))
        server_side = not (
            _false(task.options, "ServerSideApply")
            or (_false(app_options, "ServerSideApply") and "ServerSideApply" not in task.options)
            or _true(task.options, "Replace")
            or _true(app_options, "Replace")
        )
        if (
            task.action is TaskAction.UPDATE
            and not task.skipped
            and live is not None
            and predicted is not None
            and server_side
        ):
            forced = forces_conflicts(task.options, app_options, force=force, default=default)
            note = takeover_note(taken_fields(live, predicted), force=forced)
            if note:
                task = replace(task, note=f"{task.note}; {note}" if task.note else note)
        tasks.append(task)
    return replace(plan, tasks=tuple(tasks))


def _false(options: Mapping[str, str], name: str) -> bool:
    value = options.get(name)
    return value is not None and value.strip().lower() == "false"


def conflict_message(exc: KubeApiError) -> str | None:
    """The managers and fields of a server-side apply conflict, or None when it is not one."""
    if exc.status != 409:
        return None
    owners: dict[str, list[str]] = {}
    for cause in exc.details.get("causes") or []:
        if not isinstance(cause, Mapping) or cause.get("reason") != "FieldManagerConflict":
            continue
        message = str(cause.get("message") or "")
        found = re.search(r'conflict with "([^"]+)"', message)
        manager = found.group(1) if found else "another field manager"
        path = str(cause.get("field") or "")
        if not path and ": ." in message:
            path = message.rsplit(": ", 1)[1]
        owners.setdefault(manager, []).append(path or "(unknown field)")
    if not owners:
        found_all = re.findall(r'conflict with "([^"]+)"[^:]*: (\.\S+)', exc.message)
        for manager, path in found_all:
            owners.setdefault(manager, []).append(path)
    if not owners:
        return None
    parts = [f'{", ".join(paths)} (managed by "{manager}")' for manager, paths in owners.items()]
    return (
        "field ownership conflict: " + "; ".join(parts) + ". Force conflicts is off for this "
        f"sync (--no-force-conflicts or {FORCE_CONFLICTS_OPTION}=false); sync without it, or "
        "with --force (or the Force=true sync option), to take these fields over"
    )
