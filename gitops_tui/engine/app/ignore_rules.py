"""``spec.ignoreDifferences[]``: the rules of an Application, parsed and validated.

Applying them to an object is the diff's job (``engine.diff.ignore``);
here they are part of the app model, checked when the Application is read so that a
bad pointer or jq expression is a message on that app.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jq
import jsonpointer

from gitops_tui.engine.model import ResourceKey


@dataclass(frozen=True)
class IgnoreRule:
    """One ``spec.ignoreDifferences[]`` item; validated when built."""

    group: str
    kind: str
    name: str = ""
    namespace: str = ""
    json_pointers: tuple[str, ...] = ()
    jq_path_expressions: tuple[str, ...] = ()
    managed_fields_managers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.kind:
            raise ValueError("ignoreDifferences item needs a kind (a glob such as '*' is allowed)")
        for pointer in self.json_pointers:
            _check_json_pointer(pointer)
        for expression in self.jq_path_expressions:
            path_program(expression)

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> IgnoreRule:
        """Build from an Argo CD ``ignoreDifferences[]`` item; ValueError when malformed."""
        if not isinstance(spec, Mapping):
            raise ValueError(f"ignoreDifferences item must be a mapping, got {spec!r}")
        return cls(
            group=_spec_text(spec, "group"),
            kind=_spec_text(spec, "kind"),
            name=_spec_text(spec, "name"),
            namespace=_spec_text(spec, "namespace"),
            json_pointers=_spec_texts(spec, "jsonPointers"),
            jq_path_expressions=_spec_texts(spec, "jqPathExpressions"),
            managed_fields_managers=_spec_texts(spec, "managedFieldsManagers"),
        )

    def matches(self, key: ResourceKey) -> bool:
        """Group and kind are globs; name and namespace must be equal when given."""
        return (
            fnmatch.fnmatchcase(key.group, self.group)
            and fnmatch.fnmatchcase(key.kind, self.kind)
            and (not self.name or self.name == key.name)
            and (not self.namespace or self.namespace == key.namespace)
        )


def _spec_text(spec: Mapping[str, Any], field: str) -> str:
    value = spec.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"ignoreDifferences.{field} must be a string, got {value!r}")
    return value


def _spec_texts(spec: Mapping[str, Any], field: str) -> tuple[str, ...]:
    values = spec.get(field)
    if values is None:
        return ()
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"ignoreDifferences.{field} must be a list of strings, got {values!r}")
    return tuple(values)


def _check_json_pointer(pointer: str) -> None:
    try:
        parts = jsonpointer.JsonPointer(pointer).parts
    except jsonpointer.JsonPointerException as err:
        raise ValueError(f"invalid JSON pointer {pointer!r} in ignoreDifferences: {err}") from err
    if not parts:
        raise ValueError(f"JSON pointer {pointer!r} names the whole object; name a field")


@functools.lru_cache(maxsize=256)
def path_program(expression: str) -> Any:
    """The compiled ``[path(expression)]`` jq program; ValueError when it does not compile."""
    try:
        return jq.compile(f"[path({expression})]")
    except ValueError as err:
        message = str(err).strip().splitlines()[0] if str(err).strip() else "syntax error"
        raise ValueError(f"invalid jq path expression {expression!r}: {message}") from err
