"""Paths into JSON documents: resolving, deleting (pruning what is left empty), formatting."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from gitops_tui.engine.model import Manifest

PathElement = str | int
"""One step into a JSON document: a map key or a list index."""

Path = tuple[PathElement, ...]


def resolve_path(doc: Any, steps: Iterable[Any]) -> Path | None:
    """The concrete path ``steps`` leads to in ``doc``, or None when it does not exist."""
    current = doc
    path: list[PathElement] = []
    for step in steps:
        if isinstance(current, dict) and isinstance(step, str) and step in current:
            path.append(step)
            current = current[step]
            continue
        index = list_index(current, step)
        if index is None:
            return None
        path.append(index)
        current = current[index]
    return tuple(path)


def list_index(container: Any, step: Any) -> int | None:
    """The index ``step`` (an int, or a string of digits; negative counts from the end) names."""
    if not isinstance(container, list) or isinstance(step, bool):
        return None
    if isinstance(step, str):
        if not re.fullmatch(r"0|[1-9][0-9]*", step):
            return None
        step = int(step)
    if not isinstance(step, int):
        return None
    index = step + len(container) if step < 0 else step
    return index if 0 <= index < len(container) else None


def path_sort_key(path: Path) -> tuple[tuple[bool, PathElement], ...]:
    """Orders paths step by step, list indexes before map keys at the same depth."""
    return tuple((isinstance(step, str), step) for step in path)


def remove_paths(doc: Manifest, paths: Iterable[Path]) -> None:
    """Delete ``paths`` (last list items first), then prune maps/lists they left empty."""
    ordered = sorted(set(paths), key=path_sort_key, reverse=True)
    parents: set[Path] = set()
    for path in ordered:
        if _delete(doc, path):
            parents.update(path[:depth] for depth in range(1, len(path)))
    for parent in sorted(parents, key=lambda p: (len(p), path_sort_key(p)), reverse=True):
        container = _get(doc, parent)
        if isinstance(container, dict | list) and not container:
            _delete(doc, parent)


def _has_step(container: Any, step: PathElement) -> bool:
    if isinstance(container, dict):
        return isinstance(step, str) and step in container
    if isinstance(container, list):
        return isinstance(step, int) and 0 <= step < len(container)
    return False


def _get(doc: Any, path: Path) -> Any:
    current = doc
    for step in path:
        if not _has_step(current, step):
            return None
        current = current[step]
    return current


def _delete(doc: Any, path: Path) -> bool:
    container = _get(doc, path[:-1])
    if not _has_step(container, path[-1]):
        return False
    del container[path[-1]]
    return True


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def format_path(path: Sequence[PathElement]) -> str:
    """``('spec', 'containers', 0, 'image')`` -> ``spec.containers[0].image``."""
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        elif _PLAIN_KEY.fullmatch(step):
            text += f".{step}" if text else step
        else:
            text += f"[{json.dumps(step)}]"
    return text
