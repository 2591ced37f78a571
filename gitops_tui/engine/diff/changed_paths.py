"""Which paths differ between two JSON documents (the "changed: ..." summary of a diff).

Our own walk instead of DeepDiff (whose import, with the numpy and pydantic it pulls
in when installed, cost a cold ``gitops-tui diff`` more than its whole compare). The
paths are DeepDiff's for the same documents:

- maps: a key only on one side is one path; a key on both sides is walked; two maps
  that share less than a third of their keys are one path (the map itself);
- lists of scalars only: aligned with ``difflib`` (an inserted or removed item is one
  path, at its index on its own side) unless pairing items by index reports fewer
  paths (then by index, as DeepDiff picks);
- other lists: by index, items past the shorter list are one path each;
- two scalars differ when their values or their JSON types do (``1`` and ``1.0``,
  ``1`` and ``true`` differ).

Every path is reported once, sorted step by step (list indexes before map keys).
"""

from __future__ import annotations

import difflib
from typing import Any

from gitops_tui.engine.diff.json_paths import Path, format_path, path_sort_key

_SCALARS = (str, int, float, bool, type(None))
SHARED_KEYS_TO_WALK = 0.33  # DeepDiff's threshold_to_diff_deeper


def changed_paths(live: Any, desired: Any) -> tuple[str, ...]:
    """Short paths such as ``spec.template.spec.containers[0].image``; () when equal."""
    found: set[Path] = set()
    _walk(live, desired, (), found)
    return tuple(format_path(path) for path in sorted(found, key=path_sort_key))


def _walk(a: Any, b: Any, path: Path, found: set[Path]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        union = a.keys() | b.keys()
        if len(union) > 1 and len(a.keys() & b.keys()) / len(union) < SHARED_KEYS_TO_WALK:
            found.add(path)  # mostly different maps: one path for the map
            return
        for key in union:
            if key not in a or key not in b:
                found.add((*path, key))
            else:
                _walk(a[key], b[key], (*path, key), found)
    elif isinstance(a, list) and isinstance(b, list):
        if all(isinstance(x, _SCALARS) for x in a) and all(isinstance(y, _SCALARS) for y in b):
            by_index = _by_index(a, b, path)
            aligned = _aligned(a, b, path)
            found.update(aligned if len(aligned) < len(by_index) else by_index)
        else:
            for index in range(max(len(a), len(b))):
                if index >= len(a) or index >= len(b):
                    found.add((*path, index))
                else:
                    _walk(a[index], b[index], (*path, index), found)
    elif not _same(a, b):
        found.add(path)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _by_index(a: list[Any], b: list[Any], path: Path) -> set[Path]:
    out: set[Path] = set()
    for index in range(max(len(a), len(b))):
        if index >= len(a) or index >= len(b) or not _same(a[index], b[index]):
            out.add((*path, index))
    return out


def _aligned(a: list[Any], b: list[Any], path: Path) -> set[Path]:
    out: set[Path] = set()
    # typed items: difflib must not take 1 for True (Python's == does)
    left = [(type(x).__name__, x) for x in a]
    right = [(type(y).__name__, y) for y in b]
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "delete":
            out.update((*path, i) for i in range(i1, i2))
        elif tag == "insert":
            out.update((*path, j) for j in range(j1, j2))
        elif tag == "replace":  # paired by position inside the block
            for k in range(max(i2 - i1, j2 - j1)):
                same = k < i2 - i1 and k < j2 - j1 and left[i1 + k] == right[j1 + k]
                if not (same and i1 == j1):
                    out.add((*path, i1 + k))
    return out
