"""Masking Secret values on both sides of a comparison, as Argo CD does.

Upstream: ``gitops-engine/pkg/diff/diff.go`` (HideSecretData).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

from gitops_tui.engine.diff.normalize import (
    LAST_APPLIED_ANNOTATION,
    fold_string_data,
    is_secret,
    null_data_to_empty,
)
from gitops_tui.engine.model import Manifest

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
    fold_string_data(secret)
    null_data_to_empty(secret)
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
