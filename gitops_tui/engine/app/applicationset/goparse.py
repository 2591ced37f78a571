"""Parsing the goTemplate subset (see :mod:`.gotemplate`): actions, pipelines, control
structures and variables into an immutable tree; what is not supported is refused here,
with a message naming the construct."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from gitops_tui.engine.app.applicationset.gofuncs import FUNCTIONS, LAZY_FUNCTIONS, TemplateError

MAX_TEMPLATE = 256 * 1024
"""Longest template string accepted."""

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


# --------------------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Field:
    root: str  # "." (dot), "$" (the root data) or "$name" (a variable)
    names: tuple[str, ...]


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class Ident:
    name: str


@dataclass(frozen=True)
class Command:
    args: tuple[Any, ...]  # Field | Const | Ident | Pipeline | Chain


@dataclass(frozen=True)
class Pipeline:
    commands: tuple[Command, ...]
    variables: tuple[str, ...] = ()  # "$x :=" / "$i, $v :=" / "$x ="
    declare: bool = True  # ":=" declares, "=" assigns


@dataclass(frozen=True)
class Chain:
    """``(pipeline).field.field``"""

    pipeline: Pipeline
    names: tuple[str, ...]


@dataclass(frozen=True)
class If:
    """``if`` (``rebind`` False) or ``with`` (``rebind``: dot becomes the value)."""

    branches: tuple[tuple[Pipeline, tuple[Any, ...]], ...]
    otherwise: tuple[Any, ...]
    rebind: bool = False


@dataclass(frozen=True)
class Range:
    pipeline: Pipeline
    body: tuple[Any, ...]
    otherwise: tuple[Any, ...]


@dataclass(frozen=True)
class Jump:
    word: str  # "break" | "continue"


Node = str | Pipeline | If | Range | Jump


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

    def pipeline(self, *, nested: bool = False) -> Pipeline:
        commands: list[Command] = []
        while True:
            args: list[Any] = []
            while True:
                token = self.peek()
                if token is None or token[0] in ("pipe", "rparen"):
                    break
                args.append(self.operand())
            if not args:
                raise TemplateError(f"missing value in {{{{{self.body}}}}}")
            commands.append(Command(tuple(args)))
            token = self.peek()
            if token is not None and token[0] == "pipe":
                self.pos += 1
                continue
            if token is not None and token[0] == "rparen" and not nested:
                raise TemplateError(f"unexpected ')' in {{{{{self.body}}}}}")
            return Pipeline(tuple(commands))

    def operand(self) -> Any:
        kind, text = self.tokens[self.pos]
        self.pos += 1
        if kind == "field":
            return self.field(text)
        if kind in ("string", "raw"):
            return Const(_unquote(text))
        if kind == "number":
            return Const(_number(text))
        if kind == "char":
            raise TemplateError(f"character constants are not supported: {text}")
        if kind == "ident":
            if text in ("true", "false"):
                return Const(text == "true")
            if text == "nil":
                return Const(None)
            if text in _UNSUPPORTED_KEYWORDS or text in _KEYWORDS:
                raise TemplateError(f"unexpected {text!r} in {{{{{self.body}}}}}")
            if text not in FUNCTIONS and text not in LAZY_FUNCTIONS:
                raise TemplateError(f'function "{text}" not defined (or not supported)')
            return Ident(text)
        if kind == "lparen":
            inner = self.pipeline(nested=True)
            close = self.peek()
            if close is None or close[0] != "rparen":
                raise TemplateError(f"unclosed '(' in {{{{{self.body}}}}}")
            self.pos += 1
            names = tuple(n for n in close[1][1:].split(".") if n)
            return Chain(inner, names) if names else inner
        raise TemplateError(f"unexpected {text!r} in {{{{{self.body}}}}}")

    def field(self, text: str) -> Field:
        if not text.startswith("$"):
            return Field(".", tuple(n for n in text.split(".") if n))
        head, _, rest = text.partition(".")
        if head not in self.known:
            raise TemplateError(f'undefined variable "{head}" in {{{{{self.body}}}}}')
        return Field(head, tuple(n for n in rest.split(".") if n))


def _parse_pipeline(body: str, known: set[str], *, allow_two: bool = False) -> Pipeline:
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
    return Pipeline(pipeline.commands, variables, declare)


@dataclass
class _Block:
    word: str  # "if" | "with" | "range"
    condition: Pipeline | None
    known: set[str]  # variables visible before the block (restored at its end)
    branches: list[tuple[Pipeline, tuple[Node, ...]]]
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
            current.append(Jump(word))
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
        return Range(block.condition, tuple(block.nodes), otherwise)
    if not block.in_else:
        assert block.condition is not None
        block.branches.append((block.condition, tuple(block.nodes)))
    return If(tuple(block.branches), otherwise, rebind=block.word == "with")
