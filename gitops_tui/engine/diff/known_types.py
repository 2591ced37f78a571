"""``resource.customizations.knownTypeFields``: fields of a custom resource that embed a
Kubernetes type are re-formatted as that type before the diff, on both sides.

Argo CD (``util/argo/normalizers/knowntypes_normalizer.go``) round-trips each such
field through the Go type's JSON (un)marshalling. What that changes, and what is
done here the same way:

- ``core/Quantity``: the canonical form of a quantity (``1000m`` -> ``1``, ``0.5`` ->
  ``500m``, ``1024Mi`` -> ``1Gi``, a number ``1`` -> ``"1"``);
- ``meta/v1/Duration``: Go's duration text (``60s`` -> ``1m0s``, ``1h`` -> ``1h0m0s``);
- ``core/v1/<Type>``: every quantity inside the type (container ``resources``, pod
  ``overhead``, ``emptyDir.sizeLimit``, volume claim templates, quota ``hard``, limit
  ranges, ...) in canonical form; ``null`` values dropped; and, in ``PodSpec`` and
  ``Container``, the zero values Go omits (``false``, ``""``, empty lists) dropped,
  except where the Go field is a pointer (kept as written).

Not reproduced: Go's typed decoding of every other field (unknown fields dropped,
type errors). A field whose value cannot be read as its type is left as it is (Argo
CD logs the error and compares unnormalised). As in Argo CD, ``argoproj.io/Rollout``
gets ``spec.template.spec`` as ``core/v1/PodSpec`` unless configured otherwise.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any

QUANTITY = "core/Quantity"
DURATION = "meta/v1/Duration"
CORE_V1 = "core/v1/"
DEFAULT_FIELDS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "argoproj.io/Rollout": (("spec.template.spec", "core/v1/PodSpec"),),
}

# ------------------------------------------------------------------ Quantity

_QUANTITY = re.compile(r"^([+-]?)([0-9]*\.?[0-9]*)(|[KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)$")
_BINARY = {"": 0, "Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {v: k for k, v in _DECIMAL.items()}
_BINARY_SUFFIX = {v: k for k, v in _BINARY.items()}
_NANO = Fraction(1, 10**9)


def canonical_quantity(value: Any) -> str:
    """The canonical text of a Kubernetes quantity (``resource.Quantity``'s marshalling);
    ValueError when ``value`` is not one."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"not a quantity: {value!r}")
    text = str(value).strip() if not isinstance(value, float) else repr(value)
    found = _QUANTITY.match(text)
    if found is None or found.group(2) in ("", "."):
        raise ValueError(f"not a quantity: {value!r}")
    sign, number, suffix = found.groups()
    amount = Fraction(number)
    if suffix in _BINARY and suffix:
        fmt, amount = "binary", amount * 1024 ** _BINARY[suffix]
    elif suffix[:1] in ("e", "E") and len(suffix) > 1:
        fmt, amount = "exponent", amount * Fraction(10) ** int(suffix[1:])
    else:
        fmt, amount = "decimal", amount * Fraction(10) ** _DECIMAL[suffix]
    if amount % _NANO:  # precision is limited to nano: rounded up (away from zero)
        amount = (amount // _NANO + 1) * _NANO
    if sign == "-":
        amount = -amount
    if amount == 0:
        return "0"
    if fmt == "binary" and (abs(amount) < 1024 or amount.denominator != 1):
        fmt = "decimal"
    if fmt == "binary":
        units, power = int(amount), 0
        while units % 1024 == 0 and power < 6:
            units //= 1024
            power += 1
        return f"{units}{_BINARY_SUFFIX[power]}"
    mantissa: Fraction = amount
    exponent = 0
    while mantissa.denominator != 1:
        mantissa *= 10
        exponent -= 1
    whole = int(mantissa)
    while whole % 10 == 0:
        whole //= 10
        exponent += 1
    while exponent % 3:
        whole *= 10
        exponent -= 1
    if fmt == "exponent":
        return f"{whole}e{exponent}" if exponent else str(whole)
    if exponent not in _DECIMAL_SUFFIX:
        raise ValueError(f"quantity out of range: {value!r}")
    return f"{whole}{_DECIMAL_SUFFIX[exponent]}"


# ------------------------------------------------------------------ Duration

_UNITS = {
    "ns": 1,
    "us": 10**3,
    "\u00b5s": 10**3,
    "\u03bcs": 10**3,
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}
_DURATION_PART = re.compile(r"([0-9]*\.?[0-9]*)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")


def canonical_duration(value: Any) -> str:
    """Go's ``time.Duration`` text of a duration string (``metav1.Duration``)."""
    if not isinstance(value, str):
        raise ValueError(f"not a duration: {value!r}")
    text = value
    negative = text.startswith("-")
    text = text.lstrip("+-") if text[:1] in "+-" else text
    if text == "0":
        return "0s"
    total = Fraction(0)
    at = 0
    while at < len(text):
        found = _DURATION_PART.match(text, at)
        if found is None or found.group(1) in ("", "."):
            raise ValueError(f"not a duration: {value!r}")
        total += Fraction(found.group(1)) * _UNITS[found.group(2)]
        at = found.end()
    if not text:
        raise ValueError(f"not a duration: {value!r}")
    return go_duration(-int(total) if negative else int(total))


def go_duration(ns: int) -> str:
    """``time.Duration.String()``."""
    if ns == 0:
        return "0s"
    sign, u = ("-" if ns < 0 else ""), abs(ns)

    def frac(value: int, digits: int) -> str:
        whole, rest = divmod(value, 10**digits)
        tail = f"{rest:0{digits}d}".rstrip("0")
        return f"{whole}.{tail}" if tail else str(whole)

    if u < 10**9:
        if u < 10**3:
            return f"{sign}{u}ns"
        if u < 10**6:
            return f"{sign}{frac(u, 3)}\u00b5s"
        return f"{sign}{frac(u, 6)}ms"
    seconds, rest = divmod(u, 10**9)
    text = frac((seconds % 60) * 10**9 + rest, 9) + "s"
    minutes = seconds // 60
    if minutes:
        text = f"{minutes % 60}m{text}"
        if minutes // 60:
            text = f"{minutes // 60}h{text}"
    return sign + text


# ------------------------------------------------------------------ core/v1 types

Schema = Any  # "Q" (a quantity), ("map", schema), ("list", schema), or {field: schema}
_Q = "Q"
_QMAP = ("map", _Q)
_RR = {"limits": _QMAP, "requests": _QMAP, "claims": None}
_CONTAINER = {"resources": _RR}
_PVC_SPEC = {"resources": _RR}
_VOLUME = {
    "emptyDir": {"sizeLimit": _Q},
    "ephemeral": {"volumeClaimTemplate": {"spec": _PVC_SPEC}},
}
_POD_SPEC = {
    "containers": ("list", _CONTAINER),
    "initContainers": ("list", _CONTAINER),
    "ephemeralContainers": ("list", _CONTAINER),
    "volumes": ("list", _VOLUME),
    "overhead": _QMAP,
    "resources": _RR,
}
_LIMIT_ITEM = {k: _QMAP for k in ("max", "min", "default", "defaultRequest")}
_LIMIT_ITEM["maxLimitRequestRatio"] = _QMAP
SCHEMAS: Mapping[str, Schema] = {
    "PodSpec": _POD_SPEC,
    "PodTemplateSpec": {"spec": _POD_SPEC},
    "Container": _CONTAINER,
    "EphemeralContainer": _CONTAINER,
    "ResourceRequirements": _RR,
    "VolumeResourceRequirements": _RR,
    "ResourceList": _QMAP,
    "Volume": _VOLUME,
    "EmptyDirVolumeSource": {"sizeLimit": _Q},
    "PersistentVolumeClaimSpec": _PVC_SPEC,
    "PersistentVolumeClaimTemplate": {"spec": _PVC_SPEC},
    "PersistentVolumeSpec": {"capacity": _QMAP},
    "ResourceQuotaSpec": {"hard": _QMAP},
    "LimitRangeItem": _LIMIT_ITEM,
    "LimitRangeSpec": {"limits": ("list", _LIMIT_ITEM)},
}
# Go pointer fields keep their zero value (false, "") when written; other omitempty
# fields of these types drop it
_POINTERS = {
    "PodSpec": {
        "automountServiceAccountToken",
        "shareProcessNamespace",
        "enableServiceLinks",
        "hostUsers",
        "setHostnameAsFQDN",
        "runtimeClassName",
        "preemptionPolicy",
        "activeDeadlineSeconds",
        "terminationGracePeriodSeconds",
        "priority",
    },
    "Container": {"restartPolicy"},
    "EphemeralContainer": {"restartPolicy"},
}
_KEEP_EMPTY = {"PodSpec": {"containers"}, "Container": set(), "EphemeralContainer": set()}


def supported(type_name: str) -> bool:
    """Whether a ``type`` of ``knownTypeFields`` is one Argo CD knows (``core/v1/*`` are
    all accepted; those without quantities only lose their nulls)."""
    return type_name in (QUANTITY, DURATION) or bool(re.fullmatch(r"core/v1/[A-Z]\w*", type_name))


def _walk(value: Any, schema: Schema) -> Any:
    if schema is None:
        return value
    if schema == _Q:
        return canonical_quantity(value)
    if isinstance(schema, tuple) and schema[0] == "map" and isinstance(value, dict):
        return {k: _walk(v, schema[1]) for k, v in value.items()}
    if isinstance(schema, tuple) and schema[0] == "list" and isinstance(value, list):
        return [_walk(v, schema[1]) for v in value]
    if isinstance(schema, dict) and isinstance(value, dict):
        return {k: (_walk(v, schema[k]) if k in schema else v) for k, v in value.items()}
    return value


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _without_zero_values(value: Any, type_name: str) -> Any:
    """Go's omitempty on the scalar fields of ``PodSpec`` / ``Container`` (recursing into
    the containers of a pod spec)."""
    if not isinstance(value, dict) or type_name not in _POINTERS:
        return value
    out = {}
    for k, v in value.items():
        zero = v is False or v == "" or v == []
        if zero and k not in _POINTERS[type_name] and k not in _KEEP_EMPTY[type_name]:
            continue
        if type_name == "PodSpec" and k in ("containers", "initContainers") and isinstance(v, list):
            v = [_without_zero_values(c, "Container") for c in v]
        elif type_name == "PodSpec" and k == "ephemeralContainers" and isinstance(v, list):
            v = [_without_zero_values(c, "EphemeralContainer") for c in v]
        out[k] = v
    return out


def normalize_value(value: Any, type_name: str) -> Any:
    """``value`` re-formatted as ``type_name``; ValueError when it cannot be read so."""
    if type_name == QUANTITY:
        return canonical_quantity(value)
    if type_name == DURATION:
        return canonical_duration(value)
    if not type_name.startswith(CORE_V1):
        raise ValueError(f"type {type_name!r} is not supported")
    name = type_name[len(CORE_V1) :]
    cleaned = _without_nulls(value)
    if name == "PodTemplateSpec" and isinstance(cleaned, dict) and "spec" in cleaned:
        cleaned = {**cleaned, "spec": _without_zero_values(cleaned["spec"], "PodSpec")}
    else:
        cleaned = _without_zero_values(cleaned, name)
    return _walk(cleaned, SCHEMAS.get(name))


def _apply(obj: Any, path: Sequence[str], convert: Callable[[Any], Any]) -> None:
    """Replace the value at ``path`` (lists on the way: each item), as Argo CD's normalize."""
    if not isinstance(obj, dict) or not path:
        return
    head, rest = path[0], path[1:]
    if head not in obj:
        return
    value = obj[head]
    if not rest:
        if isinstance(value, list):
            obj[head] = [_converted(v, convert) for v in value]
        elif value is not None:
            obj[head] = _converted(value, convert)
        return
    if isinstance(value, list):
        for item in value:
            _apply(item, rest, convert)
    else:
        _apply(value, rest, convert)


def _converted(value: Any, convert: Callable[[Any], Any]) -> Any:
    try:
        return convert(value)
    except (ValueError, TypeError, ArithmeticError):
        return value  # as Argo CD: left unnormalised


def normalize_known_types(obj: dict[str, Any], fields: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A copy of ``obj`` with each (field path, type) of ``fields`` re-formatted."""
    if not fields:
        return obj
    out = copy.deepcopy(obj)
    for field_path, type_name in fields:
        _apply(out, field_path.split("."), _converter(type_name))
    return out


def _converter(type_name: str) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        return normalize_value(value, type_name)

    return convert
