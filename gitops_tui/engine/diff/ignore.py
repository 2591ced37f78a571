"""Applying ``ignoreDifferences`` rules to an object: JSON pointers, jq paths, managers.

Upstream: ``util/argo/normalizers/diff_normalizer.go`` and
``util/argo/managedfields/managed_fields.go``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import jsonpointer

from gitops_tui.engine.app.ignore_rules import IgnoreRule, path_program
from gitops_tui.engine.diff.json_paths import (
    Path,
    PathElement,
    list_index,
    remove_paths,
    resolve_path,
)
from gitops_tui.engine.model import Manifest, ResourceKey


def apply_ignore_rules(
    obj: Manifest, key: ResourceKey, rules: Sequence[IgnoreRule], live: Manifest | None
) -> Manifest:
    """A copy of ``obj`` without what the rules matching ``key`` name.

    ``live`` is the unstripped live object whose ``metadata.managedFields`` say
    which fields ``managedFieldsManagers`` own. Paths that do not exist are
    skipped; maps and lists left empty by a removal are removed too.
    """
    result = copy.deepcopy(obj)
    matching = [rule for rule in rules if rule.matches(key)]
    paths: set[Path] = set()
    for rule in matching:
        paths.update(_pointer_paths(result, rule.json_pointers))
        paths.update(_jq_paths(result, rule.jq_path_expressions))
        paths.update(_managed_paths(result, live, rule.managed_fields_managers))
    remove_paths(result, paths)
    return result


def _pointer_paths(doc: Manifest, pointers: Iterable[str]) -> Iterator[Path]:
    for pointer in pointers:
        path = resolve_path(doc, jsonpointer.JsonPointer(pointer).parts)
        if path:
            yield path


def _jq_paths(doc: Manifest, expressions: Iterable[str]) -> Iterator[Path]:
    for expression in expressions:
        try:
            found = path_program(expression).input_value(doc).first()
        except ValueError:
            continue  # e.g. iterating a missing list: nothing to ignore, as upstream
        for raw in found:
            path = resolve_path(doc, raw)
            if path:
                yield path


def _managed_paths(doc: Manifest, live: Manifest | None, managers: Sequence[str]) -> Iterator[Path]:
    if not managers or live is None:
        return
    entries = (live.get("metadata") or {}).get("managedFields") or []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("manager") not in managers:
            continue
        fields = entry.get("fieldsV1")
        if not isinstance(fields, dict):
            continue
        for owned in owned_field_paths(fields):
            path = _resolve_field_path(doc, owned)
            if path:
                yield path


def owned_field_paths(fields_v1: Mapping[str, Any]) -> Iterator[tuple[str, ...]]:
    """The leaf paths of a ``fieldsV1`` tree, as tuples of ``f:``/``k:``/``v:``/``i:`` steps.

    ``.`` marks the node itself as owned: a node holding only ``.`` is a leaf.
    """
    for step, child in fields_v1.items():
        if step == ".":
            continue
        children = {k: v for k, v in child.items() if k != "."} if isinstance(child, dict) else {}
        if not children:
            yield (step,)
            continue
        for rest in owned_field_paths(children):
            yield (step, *rest)


def _resolve_field_path(doc: Any, steps: Iterable[str]) -> Path | None:
    """Follow fieldsV1 steps through ``doc``; None when a step does not exist there."""
    current = doc
    path: list[PathElement] = []
    for step in steps:
        element = _field_step(current, step)
        if element is None:
            return None
        path.append(element)
        current = current[element]
    return tuple(path)


def _field_step(current: Any, step: str) -> PathElement | None:
    kind, _, body = step.partition(":")
    if kind == "f":
        return body if isinstance(current, dict) and body in current else None
    if not isinstance(current, list):
        return None
    if kind == "i":
        return list_index(current, body)
    try:
        wanted = json.loads(body)
    except ValueError:
        return None
    for index, item in enumerate(current):
        if kind == "v" and item == wanted:
            return index
        if kind == "k" and _has_key_fields(item, wanted):
            return index
    return None


def _has_key_fields(item: Any, wanted: Any) -> bool:
    if not isinstance(item, dict) or not isinstance(wanted, dict):
        return False
    return all(name in item and item[name] == value for name, value in wanted.items())
