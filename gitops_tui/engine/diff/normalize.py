"""Normalising an object before comparison, the way Argo CD does.

``strip_server_fields`` drops what the API server owns; ``normalize`` makes values
JSON-shaped (Go's marshal/unmarshal round trip), folds Secret ``stringData`` into
``data`` and drops empty Role rules.

Upstream: ``gitops-engine/pkg/diff/diff.go`` (Normalize, NormalizeSecret, normalizeRole).
"""

from __future__ import annotations

import base64
import copy
import datetime
import json
import math
from collections.abc import Mapping
from typing import Any

from gitops_tui.engine.model import Manifest, group_of

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
        fold_string_data(normalized)
        null_data_to_empty(normalized)
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


def fold_string_data(secret: Manifest) -> None:
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


def null_data_to_empty(secret: Manifest) -> None:
    """A ``null`` Secret value equals an empty one (argo-cd #943)."""
    data = secret.get("data")
    if isinstance(data, dict):
        for name, value in data.items():
            if value is None:
                data[name] = ""


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")
