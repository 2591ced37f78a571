"""Reading YAML and JSON manifests safely, as Kubernetes reads them.

Shared by Application loading, rendering and the config file: refuses alias bombs,
recursive aliases, Python tags, nesting deeper than ``MAX_NESTING_DEPTH``, oversized,
binary and non-UTF-8 files, and yields JSON-compatible data (timestamps stay strings).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from gitops_tui.engine.errors import GitOpsError

MAX_MANIFEST_BYTES = 16 * 1024 * 1024
"""Largest YAML/JSON file read (16 MiB)."""

ALIAS_EXPANSION_BUDGET = 100_000
"""How many more nodes than it spells out a YAML document may expand to through aliases."""

MAX_NESTING_DEPTH = 100
"""Deepest nesting of mappings and lists a YAML/JSON document may have.

Real manifests (CRD schemas included) stay far below it; deeper documents would
exhaust Python's recursion while being copied and compared.
"""

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

_BaseLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader when PyYAML was built with it, else the pure-Python one."""

_KEPT_AS_STRING = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"}


class _KubernetesLoader(_BaseLoader):  # type: ignore[misc]
    """Safe loader resolving scalars as Kubernetes does: dates and ``=`` stay strings."""


_KubernetesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _KEPT_AS_STRING]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


class ManifestFileError(GitOpsError, ValueError):
    """A YAML/JSON file or text that cannot be read into plain data safely."""

    title = "Unreadable manifest"


def read_manifest_text(path: Path, *, limit: int = MAX_MANIFEST_BYTES) -> str:
    """Read a YAML/JSON file as text, refusing oversized, binary and non-UTF-8 files."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ManifestFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise ManifestFileError(f"{path}: manifest larger than {_size_text(limit)}")
    return decode_manifest_bytes(data, str(path))


def decode_manifest_bytes(data: bytes, origin: str) -> str:
    """UTF-8 (or BOM-marked UTF-16) bytes to text; binary content is an error."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ManifestFileError(f"{origin}: not valid UTF-16 text: {exc.reason}") from exc
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ManifestFileError(
            f"{origin}: binary content (NUL byte at offset {nul}), not a YAML/JSON text"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestFileError(
            f"{origin}: not valid UTF-8 text (byte offset {exc.start})"
        ) from exc


def load_manifest_documents(text: str, origin: str, *, as_json: bool = False) -> list[Any]:
    """Parse a (multi-document) YAML text, or one JSON document, into plain data.

    Empty YAML documents come back as ``None`` so that document indexes stay
    meaningful. Raises ``ManifestFileError`` with line and column on bad syntax,
    on alias expansion beyond ``ALIAS_EXPANSION_BUDGET`` and on non-JSON values.
    """
    try:
        if as_json:
            doc = json.loads(text)
            _check_depth(doc)
            return [doc]
        docs = [_plain(doc) for doc in _guarded_yaml_documents(text)]
        for doc in docs:
            _check_depth(doc)  # aliases may nest deeper than the text does
        return docs
    except json.JSONDecodeError as exc:
        raise ManifestFileError(
            f"{origin}: line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    except yaml.MarkedYAMLError as exc:
        raise ManifestFileError(f"{origin}: {_yaml_problem(exc)}") from exc
    except yaml.YAMLError as exc:
        raise ManifestFileError(f"{origin}: {exc}") from exc
    except RecursionError as exc:
        raise ManifestFileError(_too_deep(origin)) from exc
    except _UnsafeYaml as exc:
        raise ManifestFileError(f"{origin}: {exc}") from exc


class _UnsafeYaml(GitOpsError):
    """Raised inside the loader for alias bombs, cycles, deep nesting and non-JSON values."""

    title = "Unsafe YAML"


def _too_deep(origin: str) -> str:
    return f"{origin}: nested more than {MAX_NESTING_DEPTH} levels deep (refused)"


def _check_depth(doc: Any) -> None:
    """Refuse parsed data nested deeper than ``MAX_NESTING_DEPTH`` (iteratively)."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_NESTING_DEPTH:
            raise _UnsafeYaml(f"nested more than {MAX_NESTING_DEPTH} levels deep (refused)")
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children)


def _guarded_yaml_documents(text: str) -> Iterator[Any]:
    loader = _KubernetesLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            _check_alias_expansion(node)
            yield loader.construct_document(node)
    finally:
        loader.dispose()


def _check_alias_expansion(root: yaml.Node) -> None:
    """Refuse recursive aliases and documents that aliases blow up (billion laughs)."""
    expanded: dict[int, int] = {}
    in_progress: set[int] = set()
    stack: list[tuple[yaml.Node, bool, int]] = [(root, False, 1)]
    while stack:
        node, children_done, depth = stack.pop()
        key = id(node)
        children = _child_nodes(node)
        if children and depth > MAX_NESTING_DEPTH:
            raise _UnsafeYaml(f"nested more than {MAX_NESTING_DEPTH} levels deep (refused)")
        if children_done:
            in_progress.discard(key)
            expanded[key] = 1 + sum(expanded[id(child)] for child in children)
            continue
        if key in expanded:
            continue
        if key in in_progress:
            raise _UnsafeYaml("recursive YAML alias")
        in_progress.add(key)
        stack.append((node, True, depth))
        stack.extend((child, False, depth + 1) for child in children if id(child) not in expanded)
    total = expanded[id(root)]
    if total > len(expanded) + ALIAS_EXPANSION_BUDGET:
        raise _UnsafeYaml(
            f"YAML aliases expand to {total} nodes from {len(expanded)} written "
            "(refusing a possible alias bomb)"
        )


def _child_nodes(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    return []


def _plain(value: Any) -> Any:
    """Deep-copy constructed YAML into JSON-compatible data (string keys, no dates/bytes)."""
    if isinstance(value, dict):
        return {_plain_key(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise _UnsafeYaml(f"unsupported YAML value of type {type(value).__name__}: {value!r:.60}")


def _plain_key(key: Any) -> str:
    """Mapping keys as Kubernetes' YAML-to-JSON conversion writes them."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, int | float):
        return str(key)
    raise _UnsafeYaml(f"unsupported YAML mapping key of type {type(key).__name__}")


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    if mark is None:
        return problem
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"


def _size_text(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB" if size >= 1024 * 1024 else f"{size} bytes"
