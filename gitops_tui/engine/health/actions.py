"""Resource actions as Argo CD defines them: ``discovery.lua`` lists, ``action.lua`` changes.

A customization ``resource.customizations.actions.<group>_<kind>`` (or the block
form's ``actions``; same sources as health scripts, later wins) holds::

    discovery.lua: |      # returns {name = {disabled = bool, displayName = ..., iconClass = ...}}
    definitions:
    - name: NAME
      action.lua: |       # returns the modified obj, or a list of {operation, resource}
    mergeBuiltinActions: false

As Argo CD's ``util/lua`` (learnt from, not copied): the key is matched exactly
(no globs for actions); the custom discovery runs first and the first script to
list a name wins; built-in actions are offered only when there is no custom block
or it sets ``mergeBuiltinActions``; an action's own definition wins over a built-in
of that name. Scripts run in the same sandbox and limits as health scripts, with
the default libraries only (Argo CD's action VM does not open the others).

An action script returns either the modified object (the old form: a ``patch`` of
that object) or a list of ``{operation = "patch"|"create", resource = obj}``.
Lua cannot tell an empty table from an empty list; as Argo CD does, an empty
table the script hands back where the object had a mapping (or a list) keeps the
object's type, so an untouched ``{}`` never becomes ``[]``.

Built in here, in Python: ``restart`` for Deployment, StatefulSet and DaemonSet
(what ``kubectl rollout restart`` does: the pod template's
``kubectl.kubernetes.io/restartedAt`` annotation set to now).

Nothing here reaches the cluster: ``engine/controller/actions.py`` checks the
result (which objects it may touch) and sends it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gitops_tui.engine.health.customizations import Customizations, Entry
from gitops_tui.engine.health.dispatch import _without_secret_values
from gitops_tui.engine.health.lua_runtime import (
    DEFAULT_LIMITS,
    LuaLimits,
    LuaScriptError,
    run_script,
)
from gitops_tui.engine.model import Manifest, ResourceKey, group_of

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
MAX_ACTIONS = 100
MAX_NAME_CHARS = 128
MAX_IMPACTED = 20


class ActionError(LuaScriptError):
    """An action cannot be listed or run: the message names the action and the reason."""

    title = "Resource action error"


@dataclass(frozen=True, slots=True)
class ResourceAction:
    """One action offered for a resource (Argo CD's ``ResourceAction``)."""

    name: str
    disabled: bool = False
    display_name: str = ""
    icon_class: str = ""
    origin: str = "built-in"


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """What running an action did: one line per object changed (none: nothing to change)."""

    app: str
    key: ResourceKey
    action: str
    changes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ImpactedResource:
    """What running an action asks for: ``patch`` the object to ``resource``, or ``create`` it."""

    operation: str
    resource: Manifest


@dataclass(frozen=True)
class ActionSpec:
    """A parsed ``actions`` customization."""

    discovery: str
    definitions: Mapping[str, str]
    merge_builtin: bool
    origin: str


def parse_spec(entry: Entry) -> ActionSpec:
    """The customization's value checked; ``ActionError`` naming its origin when malformed."""
    value, where = entry.value, entry.origin
    if not isinstance(value, Mapping):
        raise ActionError(f"{where}: actions must be a mapping")
    discovery = value.get("discovery.lua", "")
    if not isinstance(discovery, str):
        raise ActionError(f"{where}: discovery.lua must be a string")
    definitions: dict[str, str] = {}
    items = value.get("definitions") or []
    if not isinstance(items, list):
        raise ActionError(f"{where}: definitions must be a list of {{name, action.lua}}")
    for item in items:
        name = item.get("name") if isinstance(item, Mapping) else None
        script = item.get("action.lua") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not isinstance(script, str):
            raise ActionError(f"{where}: each definition needs a name and an action.lua")
        definitions.setdefault(name, script)
    merge = value.get("mergeBuiltinActions", False)
    merge_builtin = merge if isinstance(merge, bool) else str(merge).lower() == "true"
    return ActionSpec(discovery, definitions, merge_builtin, where)


def script_view(obj: Manifest) -> Manifest:
    """The object as scripts see it: a Secret's values masked (an error message may show
    them). Patches are computed against this view, so masked values are never written."""
    return _without_secret_values(obj)


def _key(obj: Manifest) -> tuple[str, str]:
    group, kind = group_of(str(obj.get("apiVersion", ""))), str(obj.get("kind", ""))
    return group, kind


def spec_for(customizations: Customizations, obj: Manifest) -> ActionSpec | None:
    group, kind = _key(obj)
    entry = customizations.actions.get(f"{group}/{kind}" if group else kind)
    return parse_spec(entry) if entry is not None else None


# ------------------------------------------------------------------------------ built-ins


def _restart(obj: Manifest) -> list[ImpactedResource]:
    new = copy.deepcopy(dict(obj))
    spec = new.setdefault("spec", {})
    template = spec.setdefault("template", {}) if isinstance(spec, dict) else None
    if not isinstance(template, dict):
        raise ActionError("restart: the object has no pod template")
    meta = template.get("metadata")
    if not isinstance(meta, dict):
        meta = template["metadata"] = {}
    annotations = meta.get("annotations")
    if not isinstance(annotations, dict):
        annotations = meta["annotations"] = {}
    annotations[RESTARTED_AT] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return [ImpactedResource("patch", new)]


_Builtin = Callable[[Manifest], list[ImpactedResource]]
BUILTIN: Mapping[tuple[str, str], Mapping[str, _Builtin]] = {
    ("apps", "Deployment"): {"restart": _restart},
    ("apps", "StatefulSet"): {"restart": _restart},
    ("apps", "DaemonSet"): {"restart": _restart},
}


# ------------------------------------------------------------------------------ discovery


def discover(
    obj: Manifest, customizations: Customizations, *, limits: LuaLimits = DEFAULT_LIMITS
) -> list[ResourceAction]:
    """The actions offered for ``obj``, sorted by name. ``ActionError`` when the
    customization or its discovery script fails."""
    spec = spec_for(customizations, obj)
    found: dict[str, ResourceAction] = {}
    if spec is not None and spec.discovery.strip():
        listed = run_script(spec.discovery, obj, limits=limits, name="discovery.lua")
        for action in _listed(listed, spec.origin):
            found.setdefault(action.name, action)
    if spec is None or spec.merge_builtin:
        for name in BUILTIN.get(_key(obj), {}):
            found.setdefault(name, ResourceAction(name))
    return [found[name] for name in sorted(found)]


def _listed(value: Any, origin: str) -> list[ResourceAction]:
    if value is None or value == [] or value == {}:
        return []
    if not isinstance(value, dict):
        raise ActionError(f"discovery.lua ({origin}): expect a table of actions by name")
    if len(value) > MAX_ACTIONS:
        raise ActionError(f"discovery.lua ({origin}): more than {MAX_ACTIONS} actions")
    actions = []
    for name, info in value.items():
        if not name or len(name) > MAX_NAME_CHARS or not name.isprintable():
            raise ActionError(f"discovery.lua ({origin}): invalid action name {name[:40]!r}")
        info = info if isinstance(info, dict) else {}
        disabled = info.get("disabled")
        actions.append(
            ResourceAction(
                name=name,
                disabled=disabled if isinstance(disabled, bool) else False,
                display_name=_short(info.get("displayName")),
                icon_class=_short(info.get("iconClass")),
                origin=origin,
            )
        )
    return actions


def _short(value: Any) -> str:
    return value[:MAX_NAME_CHARS] if isinstance(value, str) else ""


# ------------------------------------------------------------------------------ running


def run(
    obj: Manifest,
    name: str,
    customizations: Customizations,
    *,
    limits: LuaLimits = DEFAULT_LIMITS,
) -> list[ImpactedResource]:
    """What action ``name`` asks to change on ``obj``. The action must be offered by
    discovery and enabled; ``ActionError`` otherwise or when its script fails."""
    offered = {a.name: a for a in discover(obj, customizations, limits=limits)}
    what = f"action {name[:MAX_NAME_CHARS]!r} on {obj.get('kind')}"
    if name not in offered:
        raise ActionError(f"{what}: not offered for this resource")
    if offered[name].disabled:
        raise ActionError(f"{what}: disabled by its discovery script")
    spec = spec_for(customizations, obj)
    script = spec.definitions.get(name) if spec is not None else None
    if script is None:
        builtin = BUILTIN.get(_key(obj), {}).get(name)
        if builtin is None:
            raise ActionError(f"{what}: no action.lua defines it")
        return builtin(obj)
    value = run_script(script, obj, limits=limits, name=f"{name}/action.lua")
    return impacted(value, obj, f"{name}/action.lua")


def impacted(value: Any, obj: Manifest, name: str) -> list[ImpactedResource]:
    """An action script's result as a list of operations (see the module's docstring)."""
    if isinstance(value, dict) and value:
        return [ImpactedResource("patch", _cleaned(value, obj))]
    if not isinstance(value, list) or not value:
        raise ActionError(f"{name}: expect the modified object or a list of operations")
    if len(value) > MAX_IMPACTED:
        raise ActionError(f"{name}: more than {MAX_IMPACTED} operations")
    out = []
    for item in value:
        operation = item.get("operation") if isinstance(item, dict) else None
        resource = item.get("resource") if isinstance(item, dict) else None
        if operation not in ("patch", "create"):
            raise ActionError(f"{name}: unsupported operation {str(operation)[:40]!r}")
        if not isinstance(resource, dict) or not resource:
            raise ActionError(f"{name}: each operation needs a resource")
        if operation == "patch":
            resource = _cleaned(resource, obj)
        out.append(ImpactedResource(operation, resource))
    return out


def _cleaned(new: Any, old: Any) -> Any:
    """An empty Lua table where ``old`` holds a mapping or a list keeps ``old``'s type."""
    if isinstance(new, dict) and isinstance(old, Mapping):
        return {k: _cleaned(v, old[k]) if k in old else v for k, v in new.items()}
    if new in ({}, []) and isinstance(old, Mapping | list):
        return type(old)() if isinstance(old, list) else {}
    if isinstance(new, list) and isinstance(old, list):
        return [_cleaned(v, old[i]) if i < len(old) else v for i, v in enumerate(new)]
    return new


def merge_patch(old: Any, new: Any) -> Any:
    """The JSON merge patch (RFC 7386) turning ``old`` into ``new`` (lists are replaced)."""
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return new
    patch: dict[str, Any] = {}
    for key in old:
        if key not in new:
            patch[key] = None
    for key, value in new.items():
        if key not in old:
            patch[key] = value
        elif old[key] != value:
            patch[key] = (
                merge_patch(old[key], value)
                if isinstance(old[key], Mapping) and isinstance(value, Mapping)
                else value
            )
    return patch
