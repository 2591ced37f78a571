"""A subset of Go's ``text/template`` for ``goTemplate: true`` ApplicationSets.

Argo CD executes every string of an ApplicationSet template with Go's
``text/template`` plus the Sprig functions. This module implements the part
ApplicationSets use in practice and refuses the rest with a clear error:

* text and ``{{ action }}`` with the trim markers ``{{-`` / ``-}}`` and comments;
* pipelines of commands: fields (``.a.b``, ``$.a``, ``.``), string, number, boolean
  and ``nil`` constants, parenthesised pipelines, function calls, ``|``;
* ``if`` / ``else if`` / ``else``, ``with`` / ``else``, ``range`` (lists, maps in
  key order; ``$v :=`` and ``$i, $v :=``; ``else``; ``break`` / ``continue``), ``end``;
* variables: ``$x := pipeline``, ``$x = pipeline``, ``$x.field``, ``$`` (the root),
  scoped to the enclosing control structure as in Go;
* the functions of :mod:`.gofuncs` (``index``, ``eq``, ``lower``, ``default``,
  ``toJson``, ``normalize``...).

``define`` / ``template`` / ``block`` and unknown functions raise
:class:`TemplateError` naming the construct. Missing map keys print
``<no value>`` as Go does, or fail with ``missingkey=error``. Output
(:data:`MAX_OUTPUT`) and work (:data:`MAX_STEPS`) are bounded.
"""

from __future__ import annotations

import functools
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
from gitops_tui.engine.errors import EngineSignal

MAX_OUTPUT = 1024 * 1024
"""Largest text one template string may render to (1 MiB)."""

MAX_TEMPLATE = 256 * 1024
"""Longest template string accepted."""

MAX_STEPS = 1_000_000
"""Most actions and loop iterations one template string may execute."""

_UNSUPPORTED_KEYWORDS = frozenset({"define", "template", "block"})
_KEYWORDS = frozenset({"if", "else", "end", "range", "with", "break", "continue"})
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
    root: str  # "." (dot), "$" (the root data) or "$name" (a variable)
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
    variables: tuple[str, ...] = ()  # "$x :=" / "$i, $v :=" / "$x ="
    declare: bool = True  # ":=" declares, "=" assigns


@dataclass(frozen=True)
class _Chain:
    """``(pipeline).field.field``"""

    pipeline: _Pipeline
    names: tuple[str, ...]


@dataclass(frozen=True)
class _If:
    """``if`` (``rebind`` False) or ``with`` (``rebind``: dot becomes the value)."""

    branches: tuple[tuple[_Pipeline, tuple[Any, ...]], ...]
    otherwise: tuple[Any, ...]
    rebind: bool = False


@dataclass(frozen=True)
class _Range:
    pipeline: _Pipeline
    body: tuple[Any, ...]
    otherwise: tuple[Any, ...]


@dataclass(frozen=True)
class _Jump:
    word: str  # "break" | "continue"


Node = str | _Pipeline | _If | _Range | _Jump


# --------------------------------------------------------------------------- parsing

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)
_COMMENT = re.compile(r"/\*.*\*/", re.DOTALL)
_VARIABLE = re.compile(r"\$[A-Za-z0-9_]*")


def _actions(text: str) -> list[tuple[str, str]]:
    """``(kind, body)`` pairs: ("text", t) and ("action", body); trim markers applied."""
    pieces: list[tuple[str, str]] = []
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
        pieces.append(("action", match.group(2).strip()))
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
    def __init__(self, tokens: list[tuple[str, str]], body: str, known: set[str]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.body = body
        self.known = known  # variables declared so far (Go checks this when parsing)

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def declaration(self, *, allow_two: bool) -> tuple[tuple[str, ...], bool]:
        """Leading ``$x :=`` / ``$x =`` / (in range) ``$i, $v :=``: the names and whether
        they are declared; nothing when the action does not start with one."""
        toks = self.tokens
        if len(toks) >= 2 and _VARIABLE.fullmatch(toks[0][1]) and toks[1][0] == "declare":
            self.pos = 2
            return (toks[0][1],), toks[1][1] == ":="
        if (
            allow_two
            and len(toks) >= 4
            and _VARIABLE.fullmatch(toks[0][1])
            and toks[1][0] == "comma"
            and _VARIABLE.fullmatch(toks[2][1])
            and toks[3][1] == ":="
        ):
            self.pos = 4
            return (toks[0][1], toks[2][1]), True
        return (), True

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
            return self.field(text)
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
            if text in _UNSUPPORTED_KEYWORDS or text in _KEYWORDS:
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
        raise TemplateError(f"unexpected {text!r} in {{{{{self.body}}}}}")

    def field(self, text: str) -> _Field:
        if not text.startswith("$"):
            return _Field(".", tuple(n for n in text.split(".") if n))
        head, _, rest = text.partition(".")
        if head not in self.known:
            raise TemplateError(f'undefined variable "{head}" in {{{{{self.body}}}}}')
        return _Field(head, tuple(n for n in rest.split(".") if n))


def _parse_pipeline(body: str, known: set[str], *, allow_two: bool = False) -> _Pipeline:
    parser = _Parser(_tokens(body), body, known)
    variables, declare = parser.declaration(allow_two=allow_two)
    for name in variables:
        if not declare and name not in known:
            raise TemplateError(f'undefined variable "{name}" in {{{{{body}}}}}')
    pipeline = parser.pipeline()
    extra = parser.peek()
    if extra is not None:
        raise TemplateError(f"unexpected {extra[1]!r} in {{{{{body}}}}}")
    known.update(variables)
    return _Pipeline(pipeline.commands, variables, declare)


@dataclass
class _Block:
    word: str  # "if" | "with" | "range"
    condition: _Pipeline | None
    known: set[str]  # variables visible before the block (restored at its end)
    branches: list[tuple[_Pipeline, tuple[Node, ...]]]
    nodes: list[Node]
    in_else: bool = False
    otherwise: list[Node] | None = None


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> tuple[Node, ...]:
    """The tree of ``text``; :class:`TemplateError` for syntax errors and unsupported parts."""
    if len(text) > MAX_TEMPLATE:
        raise TemplateError(f"template longer than {MAX_TEMPLATE} characters")
    root: list[Node] = []
    stack: list[_Block] = []
    known: set[str] = {"$"}
    current = root
    for kind, body in _actions(text):
        if kind == "text":
            if body:
                current.append(body)
            continue
        if _COMMENT.fullmatch(body):
            continue
        word = body.split(None, 1)[0] if body.split() else ""
        rest = body[len(word) :].strip()
        if word in ("if", "with", "range"):
            before = set(known)
            cond = _parse_pipeline(rest, known, allow_two=word == "range")
            stack.append(_Block(word, cond, before, [], []))
            current = stack[-1].nodes
        elif word == "else":
            if not stack or stack[-1].in_else:
                raise TemplateError("{{else}} without {{if}}, {{with}} or {{range}}")
            block = stack[-1]
            sub = rest.split(None, 1)[0] if rest else ""
            if block.word != "range":
                assert block.condition is not None
                block.branches.append((block.condition, tuple(block.nodes)))
            if sub and sub == block.word and block.word != "range":
                known.intersection_update(block.known | {"$"})
                known.update(block.known)
                block.condition = _parse_pipeline(rest[len(sub) :].strip(), known)
                block.nodes = []
                current = block.nodes
            elif rest:
                raise TemplateError(f"unsupported {{{{else {rest}}}}} in {{{{{block.word}}}}}")
            else:
                block.in_else = True
                block.otherwise = []
                current = block.otherwise
        elif word == "end":
            if not stack:
                raise TemplateError("{{end}} without {{if}}, {{with}} or {{range}}")
            block = stack.pop()
            node = _close(block)
            known.clear()
            known.update(block.known)
            current = _body(stack[-1]) if stack else root
            current.append(node)
        elif word in ("break", "continue"):
            if rest or not any(b.word == "range" for b in stack):
                raise TemplateError(f"{{{{{word}}}}} outside {{{{range}}}}")
            current.append(_Jump(word))
        elif word in _UNSUPPORTED_KEYWORDS:
            raise TemplateError(f"{{{{{word}}}}} is not supported in gitops-tui's goTemplate")
        elif not body:
            raise TemplateError("missing value for command: {{}}")
        else:
            current.append(_parse_pipeline(body, known))
    if stack:
        raise TemplateError(f"unclosed {{{{{stack[-1].word}}}}} (missing {{{{end}}}})")
    return tuple(root)


def _body(block: _Block) -> list[Node]:
    """Where the nodes of an open block go now: its else part, or its current branch."""
    if block.in_else and block.otherwise is not None:
        return block.otherwise
    return block.nodes


def _close(block: _Block) -> Node:
    otherwise = tuple(block.otherwise or ())
    if block.word == "range":
        assert block.condition is not None
        return _Range(block.condition, tuple(block.nodes), otherwise)
    if not block.in_else:
        assert block.condition is not None
        block.branches.append((block.condition, tuple(block.nodes)))
    return _If(tuple(block.branches), otherwise, rebind=block.word == "with")


# --------------------------------------------------------------------------- execution


class _Break(EngineSignal):
    """``{{break}}``: leaves the innermost range (never raised out of it)."""


class _Continue(EngineSignal):
    """``{{continue}}``: next iteration of the innermost range."""


class _Run:
    def __init__(self, data: Any, options: Options) -> None:
        self.options = options
        self.size = 0
        self.steps = 0
        self.scopes: list[dict[str, Any]] = [{"$": data}]

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise TemplateError(f"template runs more than {MAX_STEPS} steps")

    def nodes(self, nodes: Sequence[Node], dot: Any, out: list[str]) -> None:
        for node in nodes:
            self.step()
            if isinstance(node, str):
                self.emit(node, out)
            elif isinstance(node, _Pipeline):
                value = self.pipeline(node, dot)
                if not node.variables:
                    self.emit(go_str(value), out)
            elif isinstance(node, _If):
                self.branch(node, dot, out)
            elif isinstance(node, _Range):
                self.range(node, dot, out)
            else:
                raise _Break() if node.word == "break" else _Continue()

    def scoped(self, nodes: Sequence[Node], dot: Any, out: list[str], **variables: Any) -> None:
        self.scopes.append(dict(variables))
        try:
            self.nodes(nodes, dot, out)
        finally:
            self.scopes.pop()

    def branch(self, node: _If, dot: Any, out: list[str]) -> None:
        self.scopes.append({})
        try:
            for cond, body in node.branches:
                value = self.pipeline(cond, dot)
                if truth(value):
                    self.scoped(body, value if node.rebind else dot, out)
                    return
            self.scoped(node.otherwise, dot, out)
        finally:
            self.scopes.pop()

    def range(self, node: _Range, dot: Any, out: list[str]) -> None:
        self.scopes.append({})
        try:
            value = self.pipeline(node.pipeline, dot, declare=False)
            if isinstance(value, Mapping):
                items = [(k, value[k]) for k in sorted(value)]
            elif isinstance(value, list | tuple):
                items = list(enumerate(value))
            elif isinstance(value, int) and not isinstance(value, bool):
                items = [(i, i) for i in range(max(value, 0))]
            elif value is None or value is NO_VALUE:
                items = []
            else:
                raise TemplateError(f"range can't iterate over {go_str(value)}")
            if not items:
                self.scoped(node.otherwise, dot, out)
                return
            names = node.pipeline.variables
            for key, item in items:
                self.step()
                bound: dict[str, Any] = {}
                if len(names) == 1:
                    bound[names[0]] = item
                elif len(names) == 2:
                    bound[names[0]], bound[names[1]] = key, item
                try:
                    self.scoped(node.body, item, out, **bound)
                except _Break:
                    break
                except _Continue:
                    continue
        finally:
            self.scopes.pop()

    def emit(self, text: str, out: list[str]) -> None:
        self.size += len(text)
        if self.size > MAX_OUTPUT:
            raise TemplateError(f"template output larger than {MAX_OUTPUT} bytes")
        out.append(text)

    def pipeline(self, pipeline: _Pipeline, dot: Any, *, declare: bool = True) -> Any:
        value: Any = NO_VALUE
        piped = False
        for command in pipeline.commands:
            value = self.command(command, dot, value if piped else None, piped)
            piped = True
        if declare and pipeline.variables:
            name = pipeline.variables[0]
            if pipeline.declare:
                self.scopes[-1][name] = value
            else:
                for scope in reversed(self.scopes):
                    if name in scope:
                        scope[name] = value
                        break
        return value

    def command(self, command: _Command, dot: Any, piped_value: Any, piped: bool) -> Any:
        first, rest = command.args[0], command.args[1:]
        if isinstance(first, _Ident):
            thunks: list[Callable[[], Any]] = [self._thunk(a, dot) for a in rest]
            if piped:
                thunks.append(lambda: piped_value)
            if first.name in LAZY_FUNCTIONS:
                return LAZY_FUNCTIONS[first.name](thunks)
            return FUNCTIONS[first.name](*[thunk() for thunk in thunks])
        if rest or piped:
            raise TemplateError(f"can't give argument to non-function {_describe(first)}")
        return self.arg(first, dot)

    def _thunk(self, node: Any, dot: Any) -> Callable[[], Any]:
        return lambda: self.arg(node, dot)

    def variable(self, name: str) -> Any:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        raise TemplateError(f'undefined variable "{name}"')  # pragma: no cover - parse checks

    def arg(self, node: Any, dot: Any) -> Any:
        if isinstance(node, _Const):
            return node.value
        if isinstance(node, _Field):
            start = dot if node.root == "." else self.variable(node.root)
            return self.field(start, node.names, "" if node.root == "." else node.root)
        if isinstance(node, _Pipeline):
            return self.pipeline(node, dot)
        if isinstance(node, _Chain):
            return self.field(self.pipeline(node.pipeline, dot), node.names, "(...)")
        if isinstance(node, _Ident):  # a function used as a value: called without arguments
            if node.name in LAZY_FUNCTIONS:
                return LAZY_FUNCTIONS[node.name]([])
            return FUNCTIONS[node.name]()
        raise TemplateError("unexpected node")  # pragma: no cover

    def field(self, value: Any, names: Sequence[str], walked: str) -> Any:
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
        return (node.root if node.root != "." else "") + "." + ".".join(node.names)
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
    _Run(data, options).nodes(nodes, data, out)
    return "".join(out)


def render(text: str, data: Any, options: Options) -> str:
    """Parse and run ``text``; plain strings (no ``{{``) come back unchanged."""
    if "{{" not in text:
        return text
    return execute(parse(text), data, options)
