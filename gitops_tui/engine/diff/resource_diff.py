"""Compare a desired object with its live counterpart the way Argo CD does.

The pipeline (``diff_resource``) is pure: strip the fields the server owns ->
normalise (JSON round-trip, Secret ``stringData``, empty Role rules, the
``knownTypeFields`` customizations: ``known_types``) -> apply
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

The steps live in ``normalize``, ``ignore`` (with ``json_paths``) and ``masking``;
this module holds the ``ResourceDiff`` and its text renderings (YAML, unified diff,
side by side).
"""

from __future__ import annotations

import difflib
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from gitops_tui.engine.app.ignore_rules import IgnoreRule
from gitops_tui.engine.diff.changed_paths import changed_paths
from gitops_tui.engine.diff.ignore import apply_ignore_rules
from gitops_tui.engine.diff.known_types import DEFAULT_FIELDS, normalize_known_types
from gitops_tui.engine.diff.masking import mask_secret_pair
from gitops_tui.engine.diff.normalize import normalize, strip_server_fields
from gitops_tui.engine.health.customizations import active as active_customizations
from gitops_tui.engine.model import Manifest, ResourceKey


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
    # equal sides (a Synced object, the common case) render to the same text: render
    # once and share the string (CPU of YAML emission and memory per resource halved).
    # Equal canonical JSON means equal types and values, so the YAML is the same.
    same = not modified and (
        (masked_desired is prepared_desired and masked_live is prepared_live)
        or _canonical(masked_desired) == _canonical(masked_live)
    )
    live_yaml = desired_yaml if same else to_yaml(masked_live)
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
    fields = known_type_fields(key.group, key.kind)
    if fields:
        normalized = normalize_known_types(normalized, fields)
    if not any(rule.matches(key) for rule in rules):
        return normalized
    return apply_ignore_rules(normalized, key, rules, live)


def known_type_fields(group: str, kind: str) -> tuple[tuple[str, str], ...]:
    """The ``knownTypeFields`` in force for (group, kind) (exact key, as Argo CD)."""
    key = f"{group}/{kind}" if group else kind
    entry = active_customizations().known_type_fields.get(key)
    return tuple(entry.value) if entry is not None else DEFAULT_FIELDS.get(key, ())


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
