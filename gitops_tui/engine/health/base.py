"""What every health rule shares: ``HealthResult`` and small readers of status fields.

The readers follow Go's zero values (a missing integer is 0, a missing string is
""), so rules read like their upstream counterparts; a value of the wrong type
raises ``TypeError``/``ValueError``, which ``resource_health`` turns into Unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gitops_tui.engine.model import HealthStatus, Manifest


@dataclass(frozen=True)
class HealthResult:
    """One object's health and Argo CD's explanation of it.

    ``rule`` says which rule judged it (``built-in``, or the Lua script's origin);
    like ``script_error`` it is informative and left out of equality."""

    status: HealthStatus
    message: str = ""
    rule: str = field(default="", compare=False)
    script_error: bool = field(default=False, compare=False)
    """A customization script failed (the message says how); the status is Unknown."""


HealthCheck = Callable[[Manifest], HealthResult]


def dig(obj: Mapping[str, Any], *path: str) -> Any:
    value: Any = obj
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def int_at(obj: Mapping[str, Any], *path: str) -> int:
    """Integer at ``path`` (0 when absent), like Go's zero value."""
    value = dig(obj, *path)
    return 0 if value is None else int(value)


def opt_int_at(obj: Mapping[str, Any], *path: str) -> int | None:
    value = dig(obj, *path)
    return None if value is None else int(value)


def str_at(obj: Mapping[str, Any], *path: str) -> str:
    value = dig(obj, *path)
    return "" if value is None else str(value)


def list_at(obj: Mapping[str, Any], *path: str) -> list[Any]:
    value = dig(obj, *path)
    return list(value) if isinstance(value, list) else []


def conditions(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [c for c in list_at(obj, "status", "conditions") if isinstance(c, Mapping)]


def condition(obj: Mapping[str, Any], cond_type: str) -> Mapping[str, Any] | None:
    return next((c for c in conditions(obj) if c.get("type") == cond_type), None)


def generation(obj: Mapping[str, Any]) -> int:
    return int_at(obj, "metadata", "generation")


def observed(obj: Mapping[str, Any]) -> int:
    return int_at(obj, "status", "observedGeneration")


def true_condition(obj: Mapping[str, Any], cond_type: str) -> Mapping[str, Any] | None:
    """The condition ``cond_type`` when its status is "True"."""
    found = condition(obj, cond_type)
    return found if found is not None and found.get("status") == "True" else None


def message_of(cond: Mapping[str, Any] | None, default: str = "") -> str:
    """A condition's message (else its reason, else ``default``)."""
    if cond is None:
        return default
    return str(cond.get("message") or cond.get("reason") or default)


def require_mapping(obj: Mapping[str, Any], *path: str) -> Mapping[str, Any] | None:
    """The mapping at ``path``: None when absent, ``TypeError`` (-> Unknown) when not a mapping."""
    value = dig(obj, *path)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"{'.'.join(path)} is {type(value).__name__}, not a mapping")
    return value


def require_conditions(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """``status.conditions``, raising ``TypeError`` (-> Unknown) when it is malformed."""
    require_mapping(obj, "status")
    value = dig(obj, "status", "conditions")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(c, Mapping) for c in value):
        raise TypeError("status.conditions is not a list of conditions")
    return value
