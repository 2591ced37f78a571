"""Compare a desired object with its live counterpart the way Argo CD does.

The pipeline (``diff_resource``) is pure: strip the fields the server owns ->
normalise (JSON round-trip, Secret ``stringData``, empty Role rules) -> apply
``ignoreDifferences`` -> mask Secret values -> compare -> YAML text and a
unified diff. Predicting the live object (server-side apply dry run) happens
before, in the cluster layer; here ``desired`` is that prediction, or the raw
desired object when no prediction was possible.

Tracking annotation: Argo CD does *not* drop ``argocd.argoproj.io/tracking-id``
from the comparison. Its repo-server writes the annotation into every generated
manifest (``reposerver/repository``, ``SetAppInstance``) before the controller
diffs, so both sides carry it and a differing id shows up as a difference. We
keep it the same way: callers add the tracking annotation to the desired object
(exactly as they do before applying it) before calling ``diff_resource``.

Upstream: ``gitops-engine/pkg/diff/diff.go`` (Normalize, NormalizeSecret,
normalizeRole, HideSecretData), ``util/argo/normalizers/diff_normalizer.go``
and ``util/argo/managedfields/managed_fields.go``.
"""

from __future__ import annotations

import base64
import copy
import datetime
import difflib
import itertools
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonpointer
import yaml
from deepdiff import DeepDiff

from gitops_tui.engine.app.ignore_rules import IgnoreRule, path_program
from gitops_tui.engine.model import Manifest, ResourceKey, group_of

LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
"""Client-side apply's copy of the last applied object (may hold Secret values)."""

_SERVER_METADATA_FIELDS = (
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
)
_RBAC_GROUP = "rbac.authorization.k8s.io"

PathElement = str | int
"""One step into a JSON document: a map key or a list index."""

Path = tuple[PathElement, ...]


# --------------------------------------------------------------------------
# Strip and normalise


def strip_server_fields(obj: Manifest) -> Manifest:
    """A deep copy of ``obj`` without the fields the API server owns.

    Drops ``status``, ``metadata.managedFields``/``resourceVersion``/``uid``/
    ``generation``/``creationTimestamp``/``selfLink`` and the last-applied
    annotation, then any ``annotations``/``labels`` map left empty.
    """
    stripped = copy.deepcopy(obj)
    stripped.pop("status", None)
    meta = stripped.get("metadata")
    if isinstance(meta, dict):
        for field in _SERVER_METADATA_FIELDS:
            meta.pop(field, None)
        annotations = meta.get("annotations")
        if isinstance(annotations, dict):
            annotations.pop(LAST_APPLIED_ANNOTATION, None)
        for map_name in ("annotations", "labels"):
            if map_name in meta and not meta[map_name]:
                del meta[map_name]
    return stripped


def normalize(obj: Manifest) -> Manifest:
    """A normalised copy: JSON-shaped values, Secret data folded, empty Role rules dropped."""
    normalized: Manifest = _json_value(obj)
    if is_secret(normalized):
        _fold_string_data(normalized)
        _null_data_to_empty(normalized)
    if _is_role(normalized) and "rules" in normalized and not normalized["rules"]:
        del normalized["rules"]
    return normalized


def is_secret(obj: Mapping[str, Any]) -> bool:
    """True for a core-group ``Secret``."""
    return obj.get("kind") == "Secret" and group_of(str(obj.get("apiVersion", ""))) == ""


def _is_role(obj: Manifest) -> bool:
    group = group_of(str(obj.get("apiVersion", "")))
    return group == _RBAC_GROUP and obj.get("kind") in ("Role", "ClusterRole")


def _json_value(value: Any) -> Any:
    """What ``value`` becomes after Go's JSON marshal/unmarshal (1.0 -> 1, keys -> strings)."""
    if isinstance(value, Mapping):
        return {_json_key(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"value of type {type(value).__name__} cannot be represented in JSON")


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    return json.dumps(_json_value(key))


def _fold_string_data(secret: Manifest) -> None:
    """Move ``stringData`` into base64 ``data`` as the API server does (string values only)."""
    string_data = secret.get("stringData")
    if not isinstance(string_data, dict):
        return
    data = secret.get("data")
    folded: dict[str, Any] = dict(data) if isinstance(data, dict) else {}
    for name, value in string_data.items():
        folded[name] = _b64(value) if isinstance(value, str) else value
    del secret["stringData"]
    if folded or "data" in secret:
        secret["data"] = folded


def _null_data_to_empty(secret: Manifest) -> None:
    """A ``null`` Secret value equals an empty one (argo-cd #943)."""
    data = secret.get("data")
    if isinstance(data, dict):
        for name, value in data.items():
            if value is None:
                data[name] = ""


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


# --------------------------------------------------------------------------
# ignoreDifferences


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
    _remove_paths(result, paths)
    return result


def _pointer_paths(doc: Manifest, pointers: Iterable[str]) -> Iterator[Path]:
    for pointer in pointers:
        path = _resolve(doc, jsonpointer.JsonPointer(pointer).parts)
        if path:
            yield path


def _jq_paths(doc: Manifest, expressions: Iterable[str]) -> Iterator[Path]:
    for expression in expressions:
        try:
            found = path_program(expression).input_value(doc).first()
        except ValueError:
            continue  # e.g. iterating a missing list: nothing to ignore, as upstream
        for raw in found:
            path = _resolve(doc, raw)
            if path:
                yield path


def _resolve(doc: Any, steps: Iterable[Any]) -> Path | None:
    """The concrete path ``steps`` leads to in ``doc``, or None when it does not exist."""
    current = doc
    path: list[PathElement] = []
    for step in steps:
        if isinstance(current, dict) and isinstance(step, str) and step in current:
            path.append(step)
            current = current[step]
            continue
        index = _list_index(current, step)
        if index is None:
            return None
        path.append(index)
        current = current[index]
    return tuple(path)


def _list_index(container: Any, step: Any) -> int | None:
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
        return _list_index(current, body)
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


def _path_sort_key(path: Path) -> tuple[tuple[bool, PathElement], ...]:
    return tuple((isinstance(step, str), step) for step in path)


def _remove_paths(doc: Manifest, paths: Iterable[Path]) -> None:
    """Delete ``paths`` (last list items first), then prune maps/lists they left empty."""
    ordered = sorted(set(paths), key=_path_sort_key, reverse=True)
    parents: set[Path] = set()
    for path in ordered:
        if _delete(doc, path):
            parents.update(path[:depth] for depth in range(1, len(path)))
    for parent in sorted(parents, key=lambda p: (len(p), _path_sort_key(p)), reverse=True):
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


# --------------------------------------------------------------------------
# Secret masking

_FIRST_MASK_LENGTH = 8
_MASK_LENGTH_STEP = 4


def mask_secret_pair(
    desired: Manifest | None, live: Manifest | None
) -> tuple[Manifest | None, Manifest | None]:
    """Replace every Secret ``data`` value on both sides with a run of ``+``.

    Per data key, each distinct value (desired first, then live, then the
    last-applied copies) gets the next mask (8, 12, 16 ... ``+``): equal values
    share a mask, different values never do. ``stringData`` is folded first.
    Non-Secret objects are returned unchanged.
    """
    sides = [_secret_copy(desired), _secret_copy(live)]
    last_applied = [_last_applied_secret(side) for side in sides]
    documents = [doc for doc in (*sides, *last_applied) if doc is not None]
    if not documents:
        return desired, live
    _mask_data(documents)
    for side, applied in zip(sides, last_applied, strict=True):
        if side is not None:
            _store_last_applied(side, applied)
    masked_desired = sides[0] if sides[0] is not None else desired
    masked_live = sides[1] if sides[1] is not None else live
    return masked_desired, masked_live


def mask_secret(obj: Manifest) -> Manifest:
    """``obj`` with its Secret values masked (unchanged when not a Secret)."""
    masked, _ = mask_secret_pair(obj, None)
    return masked if masked is not None else obj


def _secret_copy(obj: Manifest | None) -> Manifest | None:
    """A deep copy with ``stringData`` folded and data made maskable; None for non-Secrets."""
    if obj is None or not is_secret(obj):
        return None
    secret = copy.deepcopy(obj)
    _fold_string_data(secret)
    _null_data_to_empty(secret)
    if "data" in secret and secret["data"] is not None and not isinstance(secret["data"], dict):
        secret["data"] = "+" * _FIRST_MASK_LENGTH
    return secret


def _last_applied_secret(secret: Manifest | None) -> Manifest | None:
    """The Secret stored in the last-applied annotation, parsed and folded, if any."""
    annotations = _annotations(secret)
    text = annotations.get(LAST_APPLIED_ANNOTATION)
    if not isinstance(text, str):
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    parsed.setdefault("apiVersion", "v1")
    parsed.setdefault("kind", "Secret")
    return _secret_copy(parsed)


def _store_last_applied(secret: Manifest, masked_applied: Manifest | None) -> None:
    annotations = _annotations(secret)
    if LAST_APPLIED_ANNOTATION not in annotations:
        return
    if masked_applied is None:
        annotations[LAST_APPLIED_ANNOTATION] = "+" * _FIRST_MASK_LENGTH
        return
    annotations[LAST_APPLIED_ANNOTATION] = json.dumps(
        masked_applied, sort_keys=True, separators=(",", ":")
    )


def _annotations(obj: Manifest | None) -> dict[str, Any]:
    meta = (obj or {}).get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    return annotations if isinstance(annotations, dict) else {}


def _mask_data(documents: Sequence[Manifest]) -> None:
    data_maps = [doc["data"] for doc in documents if isinstance(doc.get("data"), dict)]
    names = sorted({name for data in data_maps for name in data})
    for name in names:
        masks: dict[str, str] = {}
        for data in data_maps:
            if name not in data:
                continue
            value = _comparable_text(data[name])
            if value not in masks:
                masks[value] = "+" * (_FIRST_MASK_LENGTH + _MASK_LENGTH_STEP * len(masks))
            data[name] = masks[value]


def _comparable_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


# --------------------------------------------------------------------------
# Compare and render


@dataclass(frozen=True)
class ResourceDiff:
    """The rendered comparison of one resource (Secret values already masked).

    ``modified`` is also true for a create (no live) and a prune (no desired).
    """

    key: ResourceKey
    modified: bool
    desired_yaml: str
    live_yaml: str
    unified: str
    changed_paths: tuple[str, ...]

    @property
    def is_create(self) -> bool:
        return not self.live_yaml and bool(self.desired_yaml)

    @property
    def is_prune(self) -> bool:
        return not self.desired_yaml and bool(self.live_yaml)


def diff_resource(
    key: ResourceKey,
    desired: Manifest | None,
    live: Manifest | None,
    *,
    rules: Sequence[IgnoreRule] = (),
    context: int = 3,
) -> ResourceDiff:
    """Compare ``desired`` (predicted live, or raw desired) with ``live``.

    ``context`` is the number of unified-diff context lines; -1 shows the whole file.
    """
    if context < -1:
        raise ValueError(f"context must be -1 (whole file) or >= 0, got {context}")
    prepared_desired = _prepare(desired, key, rules, live)
    prepared_live = _prepare(live, key, rules, live)
    modified = _canonical(prepared_desired) != _canonical(prepared_live)
    masked_desired, masked_live = mask_secret_pair(prepared_desired, prepared_live)
    desired_yaml = to_yaml(masked_desired)
    live_yaml = to_yaml(masked_live)
    return ResourceDiff(
        key=key,
        modified=modified,
        desired_yaml=desired_yaml,
        live_yaml=live_yaml,
        unified=unified_text(key, live_yaml, desired_yaml, context) if modified else "",
        changed_paths=changed_paths(masked_live, masked_desired) if modified else (),
    )


def _prepare(
    obj: Manifest | None, key: ResourceKey, rules: Sequence[IgnoreRule], live: Manifest | None
) -> Manifest | None:
    if obj is None:
        return None
    normalized = normalize(strip_server_fields(obj))
    if not any(rule.matches(key) for rule in rules):
        return normalized
    return apply_ignore_rules(normalized, key, rules, live)


def _canonical(obj: Manifest | None) -> str:
    """JSON text that tells ``True`` from ``1`` (Python's ``==`` does not)."""
    return json.dumps(obj, sort_keys=True)


_TOP_LEVEL_ORDER = ("apiVersion", "kind", "metadata")


def to_yaml(obj: Manifest | None) -> str:
    """YAML with apiVersion, kind, metadata first and every other key sorted; "" for None."""
    if obj is None:
        return ""
    first = {name: obj[name] for name in _TOP_LEVEL_ORDER if name in obj}
    rest = {name: obj[name] for name in sorted(obj) if name not in first}
    ordered = {name: _sorted_keys(value) for name, value in {**first, **rest}.items()}
    return yaml.safe_dump(ordered, sort_keys=False, default_flow_style=False, allow_unicode=True)


def _sorted_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: _sorted_keys(value[name]) for name in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def side_label(side: str, key: ResourceKey) -> str:
    """``live/Deployment/default/web``; a cluster-scoped object has no namespace part."""
    parts = (
        [side, key.kind, key.namespace, key.name] if key.namespace else [side, key.kind, key.name]
    )
    return "/".join(parts)


def unified_text(key: ResourceKey, live_yaml: str, desired_yaml: str, context: int = 3) -> str:
    """A unified diff from live to desired; ``context=-1`` keeps every line."""
    live_lines = live_yaml.splitlines()
    desired_lines = desired_yaml.splitlines()
    lines = max(len(live_lines), len(desired_lines)) if context == -1 else context
    diff_lines = difflib.unified_diff(
        live_lines,
        desired_lines,
        fromfile=side_label("live", key),
        tofile=side_label("desired", key),
        n=lines,
        lineterm="",
    )
    text = "\n".join(diff_lines)
    return text + "\n" if text else ""


def changed_paths(live: Manifest | None, desired: Manifest | None) -> tuple[str, ...]:
    """Short paths such as ``spec.template.spec.containers[0].image``; () for create/prune."""
    if live is None or desired is None:
        return ()
    tree = DeepDiff(live, desired, view="tree")
    found = {
        tuple(level.path(output_format="list")) for levels in tree.values() for level in levels
    }
    return tuple(format_path(path) for path in sorted(found, key=_path_sort_key))


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


def side_by_side(diff: ResourceDiff, width: int) -> list[tuple[str, str, str]]:
    """Rows of (live text, desired text, tag) for a two-column viewer.

    ``width`` is the width of one column: longer lines continue on extra rows
    with the same tag, so nothing is cut off.
    """
    if width < 1:
        raise ValueError(f"column width must be positive, got {width}")
    left = diff.live_yaml.splitlines()
    right = diff.desired_yaml.splitlines()
    rows: list[tuple[str, str, str]] = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        pairs = itertools.zip_longest(left[i1:i2], right[j1:j2], fillvalue="")
        for live_line, desired_line in pairs:
            rows.extend(_wrapped_rows(live_line, desired_line, tag, width))
    return rows


def _wrapped_rows(left: str, right: str, tag: str, width: int) -> Iterator[tuple[str, str, str]]:
    left_chunks = _chunks(left, width)
    right_chunks = _chunks(right, width)
    for left_chunk, right_chunk in itertools.zip_longest(left_chunks, right_chunks, fillvalue=""):
        yield left_chunk, right_chunk, tag


def _chunks(line: str, width: int) -> list[str]:
    return [line[start : start + width] for start in range(0, len(line), width)] or [""]


def app_diff_text(diffs: Iterable[ResourceDiff]) -> str:
    """The modified resources in key order, each under an ``argocd app diff`` style header."""
    blocks = [
        f"===== {d.key.group}/{d.key.kind} {d.key.namespace}/{d.key.name} ======\n{d.unified}"
        for d in sorted((d for d in diffs if d.modified), key=lambda d: d.key)
    ]
    return "\n".join(blocks)
