"""Command lines built from untrusted strings, where nothing can become an option.

Application fields and repository content reach Helm's and Kustomize's command
lines. Each such string is passed only as the value of a ``--flag=value``
element (a value cannot start an option there) or after ``--`` (which ends the
options); values of flags the tool splits on commas must hold no comma or
quote, so that one value cannot turn into several.
"""

from __future__ import annotations

import re

from gitops_tui.engine.app.source_spec import release_name_problem
from gitops_tui.engine.source.rendertools import RenderError

_FLAG = re.compile(r"^--[a-z][a-z0-9-]*$")
_LIST_SEPARATORS = re.compile(r'[,"\r\n]')


def option(flag: str, value: str) -> str:
    """``--flag=value``: ``value`` stays one value, whatever it starts with."""
    if not _FLAG.match(flag):
        raise ValueError(f"not a long flag: {flag!r}")
    return f"{flag}={value}"


def list_option(flag: str, value: str, *, tool: str, what: str) -> str:
    """``--flag=value`` for a flag whose values the tool splits on commas (CSV)."""
    if _LIST_SEPARATORS.search(value):
        raise RenderError(
            f"{what} may not contain a comma, a double quote or a line break", tool=tool, path=value
        )
    return option(flag, value)


def positionals(*values: str) -> list[str]:
    """``--`` and then ``values``: after it no tool reads an option."""
    for value in values:
        if not value:
            raise ValueError("empty positional argument")
    return ["--", *values]


def release_name(name: str) -> str:
    """A Helm release name (DNS-1123, at most 53 characters), else ``RenderError``."""
    problem = release_name_problem(name)
    if problem is not None:
        raise RenderError(problem, tool="helm")
    return name
