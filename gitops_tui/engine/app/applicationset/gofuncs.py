"""Values and functions of the goTemplate subset: Go's printing, truth, the builtins and the
Sprig / Argo CD functions ApplicationSet templates commonly use.

Values are JSON-like (``dict``, ``list``, ``str``, ``int``/``float``, ``bool``, ``None``)
as Argo CD's parameters are after a JSON round trip; :data:`NO_VALUE` is Go's invalid
value (a missing map key), printed ``<no value>``. Printing follows ``fmt.Sprint``
(numbers as Go prints a ``float64``, ``map[a:1 b:2]``, ``[x y]``); ``toJson`` follows
``encoding/json`` (sorted keys, ``<>&`` escaped, integral numbers without ``.0``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import yaml

from gitops_tui.engine.errors import GitOpsError

MAX_STRING = 1024 * 1024
"""Longest string a function may build (``repeat``, ``printf``...)."""


class TemplateError(GitOpsError, ValueError):
    """A goTemplate that cannot be parsed or run; the message names the construct."""

    title = "Template error"


class _NoValue:
    """Go's invalid reflect.Value: what a missing map key evaluates to."""

    _instance: _NoValue | None = None

    def __new__(cls) -> _NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE = _NoValue()


# --------------------------------------------------------------------------- printing


def go_float(value: float) -> str:
    """``fmt.Sprint(float64)``: shortest digits, ``%e`` when the exponent is < -4 or >= 6
    (so ``1e+06``, as Go prints a JSON number of a million)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digits, exponent = Decimal(repr(float(value))).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(str(d) for d in digits)
    exp10 = len(text) + exponent - 1  # position of the first digit
    prefix = "-" if sign else ""
    if exp10 < -4 or exp10 >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if exponent >= 0:
        return prefix + text + "0" * exponent
    point = len(text) + exponent
    if point > 0:
        return prefix + text[:point] + "." + text[point:]
    return prefix + "0." + "0" * (-point) + text


def as_go_numbers(value: Any) -> Any:
    """``value`` with every number a float, as Go's ``json.Unmarshal`` into ``any`` gives
    them to Argo CD's templates (so ``{{.n}}`` prints ``1e+06`` for a million)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, Mapping):
        return {k: as_go_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_go_numbers(v) for v in value]
    return value


def _number_str(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    return go_float(value)


def go_str(value: Any, *, top: bool = True) -> str:
    """``fmt.Sprint(value)`` as text/template prints a pipeline's value."""
    if value is NO_VALUE or (value is None and top):
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number_str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        items = " ".join(f"{k}:{go_str(value[k], top=False)}" for k in sorted(value))
        return f"map[{items}]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_str(v, top=False) for v in value) + "]"
    return str(value)


def truth(value: Any) -> bool:
    """Go template truth: false, 0, nil, empty strings, lists and maps are false."""
    if value is NO_VALUE or value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str | list | tuple | Mapping):
        return len(value) > 0
    return True


def _plain(value: Any) -> Any:
    """``value`` for JSON/YAML: integral floats as ints (as Go prints them), no NO_VALUE."""
    if value is NO_VALUE:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def to_json(value: Any) -> str:
    """``encoding/json`` Marshal: compact, sorted keys, HTML characters escaped."""
    text = json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):  # fmt: skip
        text = text.replace(char, escaped)
    return text


# --------------------------------------------------------------------------- argument checks


def _string(value: Any, func: str) -> str:
    if isinstance(value, str):
        return value
    if value is NO_VALUE or value is None:
        raise TemplateError(f"{func}: invalid value; expected string")
    raise TemplateError(f"{func}: wrong type for value; expected string; got {_kind(value)}")


def _int(value: Any, func: str) -> int:
    if isinstance(value, bool):
        raise TemplateError(f"{func}: expected an integer, got bool")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return 0  # sprig's toInt of a non-number
    raise TemplateError(f"{func}: expected an integer, got {_kind(value)}")


def _kind(value: Any) -> str:
    if value is NO_VALUE or value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, list | tuple):
        return "list"
    return type(value).__name__


def _bounded(text: str, func: str) -> str:
    if len(text) > MAX_STRING:
        raise TemplateError(f"{func}: result longer than {MAX_STRING} characters")
    return text


def empty(value: Any) -> bool:
    """Sprig's ``empty``: nil, false, 0, "" and empty collections."""
    return not truth(value)


# --------------------------------------------------------------------------- builtins


def _index(item: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(item, Mapping):
            if not isinstance(key, str):
                raise TemplateError(f"index: cannot index a map with a {_kind(key)}")
            item = item.get(key, NO_VALUE)
        elif isinstance(item, list | tuple | str):
            position = _int(key, "index")
            if not 0 <= position < len(item):
                raise TemplateError(f"index: index out of range: {position}")
            item = item[position]
        elif item is None or item is NO_VALUE:
            raise TemplateError("index: index of untyped nil")
        else:
            raise TemplateError(f"index: can't index item of type {_kind(item)}")
    return item


def _len(value: Any) -> int:
    if isinstance(value, str | list | tuple | Mapping):
        return len(value)
    raise TemplateError(f"len: len of type {_kind(value)}")


def _comparable(a: Any, b: Any) -> tuple[Any, Any]:
    if a is NO_VALUE:
        a = None
    if b is NO_VALUE:
        b = None
    number = (int, float)
    if isinstance(a, bool) != isinstance(b, bool) or (
        isinstance(a, number) != isinstance(b, number) and a is not None and b is not None
    ):
        raise TemplateError(f"incompatible types for comparison: {_kind(a)} and {_kind(b)}")
    return a, b


def _eq(first: Any, *others: Any) -> bool:
    if not others:
        raise TemplateError("eq: missing argument for comparison")
    for other in others:
        a, b = _comparable(first, other)
        if a == b:
            return True
    return False


def _order(name: str, check: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        x, y = _comparable(a, b)
        if not (isinstance(x, int | float | str) and type(x) is type(y) or
                isinstance(x, int | float) and isinstance(y, int | float)):  # fmt: skip
            raise TemplateError(f"{name}: invalid type for comparison")
        return check(x, y)

    return compare


def _and(thunks: Sequence[Callable[[], Any]]) -> Any:
    if not thunks:
        raise TemplateError("and: wrong number of args: want at least 1 got 0")
    value: Any = None
    for thunk in thunks:
        value = thunk()
        if not truth(value):
            return value
    return value


def _or(thunks: Sequence[Callable[[], Any]]) -> Any:
    if not thunks:
        raise TemplateError("or: wrong number of args: want at least 1 got 0")
    value: Any = None
    for thunk in thunks:
        value = thunk()
        if truth(value):
            return value
    return value


_VERB = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])")


def _printf(fmt: Any, *args: Any) -> str:
    fmt = _string(fmt, "printf")
    values = list(args)
    out: list[str] = []
    pos = 0
    for match in _VERB.finditer(fmt):
        out.append(fmt[pos : match.start()])
        pos = match.end()
        flags, width, precision, verb = match.groups()
        if verb == "%":
            out.append("%")
            continue
        if not values:
            out.append(f"%!{verb}(MISSING)")
            continue
        value = values.pop(0)
        if verb in "sv":
            text = go_str(value, top=False) if value is not NO_VALUE else "<nil>"
        elif verb == "d" and isinstance(value, int | float) and not isinstance(value, bool):
            text = str(int(value))
        elif verb == "q":
            text = json.dumps(go_str(value, top=False), ensure_ascii=False)
        elif verb == "f" and isinstance(value, int | float):
            text = f"{float(value):.{int(precision) if precision else 6}f}"
        else:
            raise TemplateError(f"printf: verb %{verb} is not supported")
        if width:
            size = int(width)
            text = text.ljust(size) if "-" in flags else text.rjust(size)
        out.append(text)
    out.append(fmt[pos:])
    if values:
        out.append("%!(EXTRA " + ", ".join(go_str(v, top=False) for v in values) + ")")
    return _bounded("".join(out), "printf")


def _print(*args: Any) -> str:
    out = ""
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out += " "
        out += go_str(arg, top=False)
    return _bounded(out, "print")


# --------------------------------------------------------------------------- Sprig and Argo CD

_INVALID_DNS_CHARS = re.compile(r"[^-a-z0-9.]")


def sanitize_name(name: str) -> str:
    """Argo CD's ``SanitizeName`` (``normalize``, ``*Normalized`` parameters): lowercase,
    anything but ``[-a-z0-9.]`` becomes ``-``, at most 253 characters, no leading or
    trailing ``-``/``.``."""
    name = _INVALID_DNS_CHARS.sub("-", name.lower())[:253]
    return name.strip("-.")


def _default(default: Any, *given: Any) -> Any:
    if not given or empty(given[0]):
        return default
    return given[0]


def _trunc(count: Any, text: Any) -> str:
    n = _int(count, "trunc")
    s = _string(text, "trunc")
    if n < 0 and len(s) + n > 0:
        return s[len(s) + n :]
    if n >= 0 and len(s) > n:
        return s[:n]
    return s


def _to_string(value: Any) -> str:
    if value is NO_VALUE or value is None:
        return "<nil>" if value is None else ""
    return go_str(value, top=False)


def _quote(*values: Any) -> str:
    return " ".join(json.dumps(_to_string(v), ensure_ascii=False) for v in values if v is not None)


def _to_yaml(value: Any) -> str:
    text = yaml.safe_dump(
        _plain(value), default_flow_style=False, sort_keys=True, allow_unicode=True
    )
    if text.endswith("...\n"):  # a bare scalar: PyYAML adds a document end marker
        text = text[: -len("...\n")]
    return text.rstrip("\n")


def _dict(*pairs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(0, len(pairs), 2):
        key = _to_string(pairs[i])
        out[key] = pairs[i + 1] if i + 1 < len(pairs) else ""
    return out


def _get(mapping: Any, key: Any) -> Any:
    if not isinstance(mapping, Mapping):
        raise TemplateError(f"get: expected a map, got {_kind(mapping)}")
    return mapping.get(_string(key, "get"), "")


def _has_key(mapping: Any, key: Any) -> bool:
    if not isinstance(mapping, Mapping):
        raise TemplateError(f"hasKey: expected a map, got {_kind(mapping)}")
    return _string(key, "hasKey") in mapping


def _join(sep: Any, items: Any) -> str:
    if isinstance(items, str):
        return items
    if not isinstance(items, list | tuple):
        raise TemplateError(f"join: expected a list, got {_kind(items)}")
    return _bounded(_string(sep, "join").join(_to_string(i) for i in items), "join")


def _repeat(count: Any, text: Any) -> str:
    n, s = _int(count, "repeat"), _string(text, "repeat")
    if n * len(s) > MAX_STRING:
        raise TemplateError(f"repeat: result longer than {MAX_STRING} characters")
    return s * max(n, 0)


def _required(message: Any, value: Any) -> Any:
    if value is NO_VALUE or value is None or (isinstance(value, str) and not value):
        raise TemplateError(_to_string(message))
    return value


def _fail(message: Any) -> Any:
    raise TemplateError(_to_string(message))


def _b64dec(text: Any) -> str:
    try:
        return base64.b64decode(_string(text, "b64dec"), validate=True).decode("utf-8", "replace")
    except ValueError as exc:
        raise TemplateError(f"b64dec: {exc}") from exc


def _substr(start: Any, end: Any, text: Any) -> str:
    s, a, b = _string(text, "substr"), _int(start, "substr"), _int(end, "substr")
    if a < 0:
        return s[:b]
    if b < 0 or b > len(s):
        return s[a:]
    return s[a:b]


def _indent(spaces: Any, text: Any) -> str:
    pad = " " * _int(spaces, "indent")
    return _bounded(pad + _string(text, "indent").replace("\n", "\n" + pad), "indent")


def _arith(name: str, op: Callable[[int, int], int]) -> Callable[..., int]:
    def run(*args: Any) -> int:
        values = [_int(a, name) for a in args]
        if not values:
            raise TemplateError(f"{name}: needs arguments")
        result = values[0]
        for v in values[1:]:
            result = op(result, v)
        return result

    return run


def _div(a: int, b: int) -> int:
    if b == 0:
        raise TemplateError("div: division by zero")
    return int(a / b)


def _str1(name: str, fn: Callable[[str], Any]) -> Callable[[Any], Any]:
    return lambda value: fn(_string(value, name))


def _str2(name: str, fn: Callable[[str, str], Any]) -> Callable[[Any, Any], Any]:
    return lambda a, b: fn(_string(a, name), _string(b, name))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    # Go's builtins
    "index": _index,
    "len": _len,
    "not": lambda value: not truth(value),
    "eq": _eq,
    "ne": lambda a, b: not _eq(a, b),
    "lt": _order("lt", lambda a, b: a < b),
    "le": _order("le", lambda a, b: a <= b),
    "gt": _order("gt", lambda a, b: a > b),
    "ge": _order("ge", lambda a, b: a >= b),
    "printf": _printf,
    "print": _print,
    # Sprig strings
    "lower": _str1("lower", str.lower),
    "upper": _str1("upper", str.upper),
    "title": _str1("title", lambda s: re.sub(r"\b[a-z]", lambda m: m.group().upper(), s)),
    "trim": _str1("trim", str.strip),
    "trimPrefix": _str2("trimPrefix", lambda p, s: s[len(p) :] if p and s.startswith(p) else s),
    "trimSuffix": _str2("trimSuffix", lambda x, s: s[: -len(x)] if x and s.endswith(x) else s),
    "trimAll": _str2("trimAll", lambda c, s: s.strip(c)),
    "hasPrefix": _str2("hasPrefix", lambda p, s: s.startswith(p)),
    "hasSuffix": _str2("hasSuffix", lambda x, s: s.endswith(x)),
    "contains": _str2("contains", lambda sub, s: sub in s),
    "replace": lambda old, new, s: _bounded(
        _string(s, "replace").replace(_string(old, "replace"), _string(new, "replace")), "replace"
    ),
    "trunc": _trunc,
    "substr": _substr,
    "nospace": _str1("nospace", lambda s: re.sub(r"\s", "", s)),
    "repeat": _repeat,
    "quote": _quote,
    "squote": lambda *v: " ".join(f"'{_to_string(x)}'" for x in v if x is not None),
    "cat": lambda *v: " ".join(_to_string(x) for x in v if x is not None),
    "indent": _indent,
    "nindent": lambda n, s: "\n" + _indent(n, s),
    "splitList": _str2("splitList", lambda sep, s: s.split(sep)),
    "join": _join,
    "toString": _to_string,
    "b64enc": _str1("b64enc", lambda s: base64.b64encode(s.encode()).decode()),
    "b64dec": _b64dec,
    "sha256sum": _str1("sha256sum", lambda s: hashlib.sha256(s.encode()).hexdigest()),
    "sha1sum": _str1("sha1sum", lambda s: hashlib.sha1(s.encode()).hexdigest()),
    # Sprig defaults, flow and collections
    "default": _default,
    "empty": empty,
    "coalesce": lambda *v: next((x for x in v if not empty(x)), None),
    "ternary": lambda yes, no, cond: yes if truth(cond) else no,
    "required": _required,
    "fail": _fail,
    "list": lambda *v: list(v),
    "dict": _dict,
    "get": _get,
    "hasKey": _has_key,
    "keys": lambda *maps: [k for m in maps if isinstance(m, Mapping) for k in m],
    "toJson": to_json,
    "toPrettyJson": lambda v: json.dumps(_plain(v), sort_keys=True, indent=2, ensure_ascii=False),
    "toYaml": _to_yaml,
    # Sprig numbers
    "int": lambda v: _int(v, "int"),
    "atoi": lambda v: _int(_string(v, "atoi"), "atoi"),
    "add": _arith("add", lambda a, b: a + b),
    "add1": lambda v: _int(v, "add1") + 1,
    "sub": _arith("sub", lambda a, b: a - b),
    "mul": _arith("mul", lambda a, b: a * b),
    "div": _arith("div", _div),
    # Argo CD's own
    "normalize": _str1("normalize", sanitize_name),
}

LAZY_FUNCTIONS: dict[str, Callable[[Sequence[Callable[[], Any]]], Any]] = {
    "and": _and,
    "or": _or,
}
