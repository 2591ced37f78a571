"""Typed reading of Application manifest fields, collecting problems by field path.

Every check of ``parse`` and ``source_spec`` reports through one ``Problems`` per
Application, so the ``InvalidApplication`` lists every problem at once, each message
starting with the field path (``spec.destination: ...``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

FieldKind = Literal["string", "boolean", "mapping", "list", "string list", "string map"]

DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
"""A DNS-1123 subdomain: the form of ``metadata.name`` and of Helm release names."""


class Problems:
    """Collects ``<field path>: <message>`` strings while one Application is checked."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.messages.append(f"{path}: {message}")


def type_name(value: Any) -> str:
    """The YAML word for ``value``'s type, as messages name it (``mapping``, ``list``...)."""
    if value is None:
        return "null"
    return {dict: "mapping", list: "list", str: "string", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def _is_kind(value: Any, kind: FieldKind) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "mapping":
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    if kind == "string list":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return isinstance(value, dict) and all(isinstance(item, str) for item in value.values())


def get_field(
    obj: Mapping[str, Any], key: str, kind: FieldKind, path: str, problems: Problems
) -> Any:
    """``obj[key]`` if of ``kind``; ``None`` if absent or wrong (the latter reported)."""
    value = obj.get(key)
    if value is None:
        return None
    if not _is_kind(value, kind):
        problems.add(f"{path}.{key}", f"must be a {kind}, got {type_name(value)}")
        return None
    return value


def _is_set(value: Any) -> bool:
    return value not in (None, "", False, [], {})


def check_section_fields(
    section: Mapping[str, Any],
    path: str,
    kinds: Mapping[str, FieldKind],
    unsupported: frozenset[str],
    problems: Problems,
) -> None:
    """Each key of a tool section is known, of its kind, and not one we do not implement."""
    for key in section:
        if key in unsupported:
            if _is_set(section[key]):
                problems.add(f"{path}.{key}", "not supported by gitops-tui")
        elif key not in kinds:
            problems.add(f"{path}.{key}", "unknown field")
        else:
            get_field(section, key, kinds[key], path, problems)


def check_named_items(items: Any, path: str, required: Sequence[str], problems: Problems) -> None:
    """Each item of a list field must be a mapping with the ``required`` string keys."""
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        item_path = f"{path}[{index}]"
        if not isinstance(item, dict):
            problems.add(item_path, f"must be a mapping, got {type_name(item)}")
            continue
        for key in required:
            if not isinstance(item.get(key), str) or not item[key]:
                problems.add(f"{item_path}.{key}", "required (a non-empty string)")


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a list, else an empty one (a wrong type is reported elsewhere)."""
    return value if isinstance(value, list) else []
