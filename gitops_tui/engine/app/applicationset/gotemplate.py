"""A subset of Go's ``text/template`` for ``goTemplate: true`` ApplicationSets.

Argo CD executes every string of an ApplicationSet template with Go's
``text/template`` plus the Sprig functions. This module implements the part
ApplicationSets use in practice and refuses the rest with a clear error:

* text and ``{{ action }}`` with the trim markers ``{{-`` / ``-}}`` and comments;
* pipelines of commands: fields (``.a.b``, ``$.a``, ``.``), string, number, boolean
  and ``nil`` constants, parenthesised pipelines, function calls, ``|``;
* ``if`` / ``else if`` / ``else`` / ``end``;
* the functions of :mod:`.gofuncs` (``index``, ``eq``, ``lower``, ``default``,
  ``toJson``, ``normalize``...).

``range``, ``with``, variables, ``define``/``template``/``block`` and
``break``/``continue`` raise :class:`TemplateError` naming the construct.
Missing map keys print ``<no value>`` as Go does, or fail with
``missingkey=error``. Output is bounded (:data:`MAX_OUTPUT`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gitops_tui.engine.app.applicationset.gofuncs import (
    FUNCTIONS,
    LAZY_FUNCTIONS,
    NO_VALUE,
    TemplateError,
    go_str,
    truth,
)

MAX_OUTPUT = 1024 * 1024
"""Largest text one template string may render to (1 MiB)."""

MAX_TEMPLATE = 256 * 1024
"""Longest template string accepted."""

_UNSUPPORTED_KEYWORDS = frozenset(
    {"range", "with", "define", "template", "block", "break", "continue"}
)
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<char>'(?:[^'\\\n]|\\.)*')
  | (?P<number>[+-]?(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))
  | (?P<field>(?:\$[A-Za-z0-9_]*)?(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\$[A-Za-z0-9_]*|\.)
  | (?P<declare>:=|=)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<pipe>\|)
  | (?P<lparen>\()
  | (?P<rparen>\)(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<comma>,)
    """,
    re.VERBOSE,
)
_STRING_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a",
                   "b": "\b", "f": "\f", "v": "\v", "0": "\0"}  # fmt: skip


@dataclass(frozen=True)
class Options:
    """``goTemplateOptions``: only ``missingkey`` exists in Go's text/template."""

    missing_key_error: bool = False


def parse_options(options: Sequence[Any]) -> Options:
    """``goTemplateOptions`` as Go's ``Template.Option`` accepts them; others are errors."""
    missing_error = False
    for option in options:
        if not isinstance(option, str):
            raise TemplateError(f"goTemplateOptions: {option!r} is not a string")
        key, _, value = option.partition("=")
        if key != "missingkey" or value not in ("default", "invalid", "zero", "error"):
            raise TemplateError(
                f"goTemplateOptions: unsupported option {option!r} "
                "(missingkey=default|invalid|zero|error)"
            )
        # "zero" prints Go's zero value of interface{}, which is "<no value>" too
        missing_error = value == "error"
    return Options(missing_key_error=missing_error)


# --------------------------------------------------------------------------- the tree


@dataclass(frozen=True)
class _Field:
    root: str  # "." (the data) or "$" (the root data)
    names: tuple[str, ...]


@dataclass(frozen=True)
class _Const:
    value: Any


@dataclass(frozen=True)
class _Ident:
    name: str


@dataclass(frozen=True)
class _Command:
    args: tuple[Any, ...]  # _Field | _Const | _Ident | _Pipeline | _Chain


@dataclass(frozen=True)
class _Pipeline:
    commands: tuple[_Command, ...]


@dataclass(frozen=True)
class _Chain:
    """``(pipeline).field.field``"""

    pipeline: _Pipeline
    names: tuple[str, ...]


@dataclass(frozen=True)
class _If:
    branches: tuple[tuple[_Pipeline, tuple[Any, ...]], ...]
    otherwise: tuple[Any, ...]


Node = str | _Pipeline | _If


# --------------------------------------------------------------------------- parsing

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)
_COMMENT = re.compile(r"/\*.*\*/", re.DOTALL)


def _actions(text: str) -> list[tuple[str, str | None]]:
    """``(kind, body)`` pairs: ("text", t) and ("action", body); trim markers applied."""
    pieces: list[tuple[str, str | None]] = []
    pos = 0
    trim_next = False
    while True:
        start = text.find("{{", pos)
        if start < 0:
            tail = text[pos:]
            pieces.append(("text", tail.lstrip() if trim_next else tail))
            return pieces
        match = _ACTION.match(text, start)
        if match is None:
            raise TemplateError("unclosed action (a '{{' without '}}')")
        chunk = text[pos:start]
        if trim_next:
            chunk = chunk.lstrip()
        if match.group(1):
            chunk = chunk.rstrip()
        pieces.append(("text", chunk))
        body = match.group(2).strip()
        pieces.append(("action", body))
        trim_next = bool(match.group(3))
        pos = match.end()


def _tokens(body: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(body):
        match = _TOKEN.match(body, pos)
        if match is None:
            raise TemplateError(f"unexpected {body[pos]!r} in action {{{{{body}}}}}")
        kind = match.lastgroup or ""
        if kind != "space":
            out.append((kind, match.group()))
        pos = match.end()
    return out


def _unquote(token: str) -> str:
    if token.startswith("`"):
        return token[1:-1]
    out: list[str] = []
    i = 1
    while i < len(token) - 1:
        char = token[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        nxt = token[i + 1]
        if nxt in _STRING_ESCAPES:
            out.append(_STRING_ESCAPES[nxt])
            i += 2
        elif nxt in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[nxt]
            digits = token[i + 2 : i + 2 + width]
            if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise TemplateError(f"bad escape in string {token}")
            out.append(chr(int(digits, 16)))
            i += 2 + width
        else:
            raise TemplateError(f"unknown escape \\{nxt} in string {token}")
    return "".join(out)


def _number(token: str) -> int | float:
    text = token.replace("_", "")
    try:
        if re.fullmatch(r"[+-]?0[xX][0-9a-fA-F]+", text):
            return int(text, 16)
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        return float(text)
    except ValueError as exc:
        raise TemplateError(f"bad number {token}") from exc


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], body: str) -> None:
        self.tokens = tokens
        self.pos = 0
        self.body = body

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def pipeline(self, *, nested: bool = False) -> _Pipeline:
        commands: list[_Command] = []
        while True:
            args: list[Any] = []
            while True:
                token = self.peek()
                if token is None or token[0] in ("pipe", "rparen"):
                    break
                args.append(self.operand())
            if not args:
                raise TemplateError(f"missing value in {{{{{self.body}}}}}")
            commands.append(_Command(tuple(args)))
            token = self.peek()
            if token is not None and token[0] == "pipe":
                self.pos += 1
                continue
            if token is not None and token[0] == "rparen" and not nested:
                raise TemplateError(f"unexpected ')' in {{{{{self.body}}}}}")
            return _Pipeline(tuple(commands))

    def operand(self) -> Any:
        kind, text = self.tokens[self.pos]
        self.pos += 1
        if kind == "field":
            return _field(text, self.body)
        if kind in ("string", "raw"):
            return _Const(_unquote(text))
        if kind == "number":
            return _Const(_number(text))
        if kind == "char":
            raise TemplateError(f"character constants are not supported: {text}")
        if kind == "ident":
            if text in ("true", "false"):
                return _Const(text == "true")
            if text == "nil":
                return _Const(None)
            if text in _UNSUPPORTED_KEYWORDS or text in ("if", "else", "end"):
                raise TemplateError(f"unexpected {text!r} in {{{{{self.body}}}}}")
            if text not in FUNCTIONS and text not in LAZY_FUNCTIONS:
                raise TemplateError(f'function "{text}" not defined (or not supported)')
            return _Ident(text)
        if kind == "lparen":
            inner = self.pipeline(nested=True)
            close = self.peek()
            if close is None or close[0] != "rparen":
                raise TemplateError(f"unclosed '(' in {{{{{self.body}}}}}")
            self.pos += 1
            names = tuple(n for n in close[1][1:].split(".") if n)
            return _Chain(inner, names) if names else inner
        if kind == "declare":
            raise TemplateError(f"variables are not supported: {{{{{self.body}}}}}")
        raise TemplateError(f"unexpected {text!r} in {{{{{self.body}}}}}")


def _field(text: str, body: str) -> _Field:
    if text.startswith("$"):
        head, _, rest = text.partition(".")
        if head != "$":
            raise TemplateError(f"variables are not supported: {head} in {{{{{body}}}}}")
        return _Field("$", tuple(n for n in rest.split(".") if n))
    return _Field(".", tuple(n for n in text.split(".") if n))


def _parse_pipeline(body: str) -> _Pipeline:
    tokens = _tokens(body)
    if tokens and tokens[0][0] == "field" and len(tokens) > 1 and tokens[1][0] == "declare":
        raise TemplateError(f"variables are not supported: {{{{{body}}}}}")
    parser = _Parser(tokens, body)
    pipeline = parser.pipeline()
    if parser.peek() is not None:
        raise TemplateError(f"unexpected {parser.peek()[1]!r} in {{{{{body}}}}}")  # type: ignore[index]
    return pipeline


def parse(text: str) -> tuple[Node, ...]:
    """The tree of ``text``; :class:`TemplateError` for syntax errors and unsupported parts."""
    if len(text) > MAX_TEMPLATE:
        raise TemplateError(f"template longer than {MAX_TEMPLATE} characters")
    pieces = _actions(text)
    # a stack of open ifs: (branches so far, current condition, current body)
    root: list[Node] = []
    stack: list[tuple[list[tuple[_Pipeline, tuple[Node, ...]]], _Pipeline | None, list[Node]]] = []
    current = root
    for kind, body in pieces:
        assert body is not None
        if kind == "text":
            if body:
                current.append(body)
            continue
        if _COMMENT.fullmatch(body):
            continue
        word = body.split(None, 1)[0] if body.split() else ""
        rest = body[len(word) :].strip()
        if word == "if":
            stack.append(([], _parse_pipeline(rest), []))
            current = stack[-1][2]
        elif word == "else":
            if not stack or stack[-1][1] is None:
                raise TemplateError("{{else}} without {{if}}")
            branches, cond, nodes = stack.pop()
            assert cond is not None
            branches.append((cond, tuple(nodes)))
            if rest.startswith("if ") or rest == "if":
                stack.append((branches, _parse_pipeline(rest[2:].strip()), []))
            elif rest:
                raise TemplateError(f"unsupported {{{{else {rest}}}}}")
            else:
                stack.append((branches, None, []))
            current = stack[-1][2]
        elif word == "end":
            if not stack:
                raise TemplateError("{{end}} without {{if}}")
            branches, cond, nodes = stack.pop()
            if cond is not None:
                branches.append((cond, tuple(nodes)))
                node = _If(tuple(branches), ())
            else:
                node = _If(tuple(branches), tuple(nodes))
            current = stack[-1][2] if stack else root
            current.append(node)
        elif word in _UNSUPPORTED_KEYWORDS:
            raise TemplateError(f"{{{{{word}}}}} is not supported in gitops-tui's goTemplate")
        elif not body:
            raise TemplateError("missing value for command: {{}}")
        else:
            current.append(_parse_pipeline(body))
    if stack:
        raise TemplateError("unclosed {{if}} (missing {{end}})")
    return tuple(root)


# --------------------------------------------------------------------------- execution


class _Run:
    def __init__(self, data: Any, options: Options) -> None:
        self.data = data
        self.options = options
        self.size = 0

    def nodes(self, nodes: Sequence[Node], out: list[str]) -> None:
        for node in nodes:
            if isinstance(node, str):
                self.emit(node, out)
            elif isinstance(node, _Pipeline):
                self.emit(go_str(self.pipeline(node)), out)
            else:
                for cond, body in node.branches:
                    if truth(self.pipeline(cond)):
                        self.nodes(body, out)
                        break
                else:
                    self.nodes(node.otherwise, out)

    def emit(self, text: str, out: list[str]) -> None:
        self.size += len(text)
        if self.size > MAX_OUTPUT:
            raise TemplateError(f"template output larger than {MAX_OUTPUT} bytes")
        out.append(text)

    def pipeline(self, pipeline: _Pipeline) -> Any:
        value: Any = NO_VALUE
        piped = False
        for command in pipeline.commands:
            value = self.command(command, value if piped else None, piped)
            piped = True
        return value

    def command(self, command: _Command, piped_value: Any, piped: bool) -> Any:
        first, rest = command.args[0], command.args[1:]
        if isinstance(first, _Ident):
            thunks: list[Callable[[], Any]] = [self._thunk(a) for a in rest]
            if piped:
                thunks.append(lambda: piped_value)
            if first.name in LAZY_FUNCTIONS:
                return LAZY_FUNCTIONS[first.name](thunks)
            return FUNCTIONS[first.name](*[thunk() for thunk in thunks])
        if rest or piped:
            raise TemplateError(f"can't give argument to non-function {_describe(first)}")
        return self.arg(first)

    def _thunk(self, node: Any) -> Callable[[], Any]:
        return lambda: self.arg(node)

    def arg(self, node: Any) -> Any:
        if isinstance(node, _Const):
            return node.value
        if isinstance(node, _Field):
            return self.field(self.data, node.names, node.root)
        if isinstance(node, _Pipeline):
            return self.pipeline(node)
        if isinstance(node, _Chain):
            return self.field(self.pipeline(node.pipeline), node.names, "(...)")
        if isinstance(node, _Ident):  # a function used as a value: called without arguments
            if node.name in LAZY_FUNCTIONS:
                return LAZY_FUNCTIONS[node.name]([])
            return FUNCTIONS[node.name]()
        raise TemplateError("unexpected node")  # pragma: no cover

    def field(self, value: Any, names: Sequence[str], root: str) -> Any:
        walked = root if root != "." else ""
        for name in names:
            walked = f"{walked}.{name}"
            if isinstance(value, Mapping):
                if name in value:
                    value = value[name]
                elif self.options.missing_key_error:
                    raise TemplateError(f'map has no entry for key "{name}" (at {walked})')
                else:
                    value = NO_VALUE
            elif value is None or value is NO_VALUE:
                raise TemplateError(f"nil pointer evaluating interface {{}}.{name} (at {walked})")
            else:
                raise TemplateError(
                    f"can't evaluate field {name} in type {_go_type(value)} (at {walked})"
                )
        return value


def _describe(node: Any) -> str:
    if isinstance(node, _Field):
        return (node.root if node.root == "$" else "") + "." + ".".join(node.names)
    if isinstance(node, _Const):
        return repr(node.value)
    return "value"


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "float64"
    if isinstance(value, list):
        return "[]interface {}"
    return "interface {}"


def execute(nodes: Sequence[Node], data: Any, options: Options) -> str:
    """Run a parsed template over ``data`` (JSON-like values)."""
    out: list[str] = []
    _Run(data, options).nodes(nodes, out)
    return "".join(out)


def render(text: str, data: Any, options: Options) -> str:
    """Parse and run ``text``; plain strings (no ``{{``) come back unchanged."""
    if "{{" not in text:
        return text
    return execute(parse(text), data, options)
