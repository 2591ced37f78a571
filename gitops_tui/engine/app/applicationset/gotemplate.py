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

Parsing (and refusing what is not supported) is in :mod:`.goparse`; this module runs the tree.

``define`` / ``template`` / ``block`` and unknown functions raise
:class:`TemplateError` naming the construct. Missing map keys print
``<no value>`` as Go does, or fail with ``missingkey=error``. Output
(:data:`MAX_OUTPUT`) and work (:data:`MAX_STEPS`) are bounded.
"""

from __future__ import annotations

import functools
import inspect
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
from gitops_tui.engine.app.applicationset.goparse import (
    MAX_TEMPLATE,
    Chain,
    Command,
    Const,
    Field,
    Ident,
    If,
    Node,
    Pipeline,
    Range,
    parse,
)
from gitops_tui.engine.errors import EngineSignal

__all__ = [
    "MAX_OUTPUT",
    "MAX_STEPS",
    "MAX_TEMPLATE",
    "Options",
    "execute",
    "parse",
    "parse_options",
    "render",
]

MAX_OUTPUT = 1024 * 1024
"""Largest text one template string may render to (1 MiB)."""

MAX_STEPS = 1_000_000
"""Most actions and loop iterations one template string may execute."""


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
            elif isinstance(node, Pipeline):
                value = self.pipeline(node, dot)
                if not node.variables:
                    self.emit(go_str(value), out)
            elif isinstance(node, If):
                self.branch(node, dot, out)
            elif isinstance(node, Range):
                self.range(node, dot, out)
            else:
                raise _Break() if node.word == "break" else _Continue()

    def scoped(self, nodes: Sequence[Node], dot: Any, out: list[str], **variables: Any) -> None:
        self.scopes.append(dict(variables))
        try:
            self.nodes(nodes, dot, out)
        finally:
            self.scopes.pop()

    def branch(self, node: If, dot: Any, out: list[str]) -> None:
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

    def range(self, node: Range, dot: Any, out: list[str]) -> None:
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

    def pipeline(self, pipeline: Pipeline, dot: Any, *, declare: bool = True) -> Any:
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

    def command(self, command: Command, dot: Any, piped_value: Any, piped: bool) -> Any:
        first, rest = command.args[0], command.args[1:]
        if isinstance(first, Ident):
            thunks: list[Callable[[], Any]] = [self._thunk(a, dot) for a in rest]
            if piped:
                thunks.append(lambda: piped_value)
            if first.name in LAZY_FUNCTIONS:
                return LAZY_FUNCTIONS[first.name](thunks)
            return call(first.name, [thunk() for thunk in thunks])
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
        if isinstance(node, Const):
            return node.value
        if isinstance(node, Field):
            start = dot if node.root == "." else self.variable(node.root)
            return self.field(start, node.names, "" if node.root == "." else node.root)
        if isinstance(node, Pipeline):
            return self.pipeline(node, dot)
        if isinstance(node, Chain):
            return self.field(self.pipeline(node.pipeline, dot), node.names, "(...)")
        if isinstance(node, Ident):  # a function used as a value: called without arguments
            if node.name in LAZY_FUNCTIONS:
                return LAZY_FUNCTIONS[node.name]([])
            return call(node.name, [])
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


@functools.cache
def _signature(name: str) -> inspect.Signature:
    return inspect.signature(FUNCTIONS[name])


def call(name: str, args: Sequence[Any]) -> Any:
    """Call the template function ``name``: a wrong argument count and any failure inside
    it are a :class:`TemplateError` naming the function, never a Python exception."""
    try:
        _signature(name).bind(*args)
    except TypeError as exc:
        raise TemplateError(f"wrong number of args for {name}: got {len(args)}") from exc
    try:
        return FUNCTIONS[name](*args)
    except TemplateError:
        raise
    except (TypeError, ValueError, ArithmeticError, RecursionError, IndexError, KeyError) as exc:
        raise TemplateError(f"error calling {name}: {exc}") from exc


def _describe(node: Any) -> str:
    if isinstance(node, Field):
        return (node.root if node.root != "." else "") + "." + ".".join(node.names)
    if isinstance(node, Const):
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
