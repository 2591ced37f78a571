"""Kubernetes label selectors over generator parameters and cluster labels.

A generator's ``selector`` keeps the parameter sets its ``matchLabels`` and
``matchExpressions`` (``In``, ``NotIn``, ``Exists``, ``DoesNotExist``) accept,
evaluated over the flattened parameters (``values.env``, ``path[0]``...), as Argo
CD filters them. The ``clusters`` generator's own ``selector`` uses the same rules
over the cluster's labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops_tui.engine.app.applicationset.gofuncs import go_str
from gitops_tui.engine.app.applicationset.model import GenerationError

_OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})


def flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested maps and lists as dotted keys (``a.b``, ``a.0``), values printed as Go does."""
    out: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        elif isinstance(value, list):
            out.update(flatten({str(i): v for i, v in enumerate(value)}, name + "."))
        else:
            out[name] = go_str(value, top=False)
    return out


def check_selector(selector: Any, where: str) -> Mapping[str, Any]:
    """``selector`` validated: a mapping of string ``matchLabels`` and valid expressions."""
    if selector is None:
        return {}
    if not isinstance(selector, Mapping):
        raise GenerationError(f"{where}: must be a mapping (matchLabels, matchExpressions)")
    unknown = set(selector) - {"matchLabels", "matchExpressions"}
    if unknown:
        raise GenerationError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    labels = selector.get("matchLabels") or {}
    if not isinstance(labels, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        raise GenerationError(f"{where}.matchLabels: must map strings to strings")
    expressions = selector.get("matchExpressions") or []
    if not isinstance(expressions, list):
        raise GenerationError(f"{where}.matchExpressions: must be a list")
    for i, expr in enumerate(expressions):
        path = f"{where}.matchExpressions[{i}]"
        if not isinstance(expr, Mapping) or not isinstance(expr.get("key"), str):
            raise GenerationError(f"{path}: needs a key")
        operator = expr.get("operator")
        if operator not in _OPERATORS:
            raise GenerationError(
                f"{path}.operator: {operator!r} is not one of {', '.join(sorted(_OPERATORS))}"
            )
        values = expr.get("values") or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise GenerationError(f"{path}.values: must be a list of strings")
        if operator in ("In", "NotIn") and not values:
            raise GenerationError(f"{path}.values: must be non-empty for {operator}")
        if operator in ("Exists", "DoesNotExist") and values:
            raise GenerationError(f"{path}.values: must be empty for {operator}")
    return selector


def matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether ``labels`` satisfy ``selector`` (an empty selector matches everything)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, operator = expr["key"], expr["operator"]
        values = expr.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True
