"""The console's gates for strings of outside origin (see ``gitops_tui.engine.textsafe``).

Every widget that shows data from Git or a cluster receives it through one of
these, so neither a terminal control sequence nor Rich/Textual markup in a name
or a message reaches the screen:

* ``SafeStatic`` for every ``Static`` of the console (``update`` and the initial
  content pass through ``safe_visual``);
* ``display_cell`` for every table cell (``KeyedTable.add_row`` / ``update_cell``);
* ``safe_text`` for tree labels (``ResourceTree.process_label``);
* ``printable`` itself for the diff viewer's rows, notifications
  (``GitOpsApp.notify``) and the command palette's entries.

A ``str`` never goes to a markup parser here: it becomes a plain ``Text``. A
``Text`` built by the console keeps its styles; only its characters are
escaped. (Rich itself already drops BEL, BS, VT, FF and CR from a ``Text``; it
lets ESC, C1 and the rest through, which is what this is for.)
"""

from __future__ import annotations

from typing import Any

from rich.text import Span, Text
from textual.visual import VisualType
from textual.widgets import Static

from gitops_tui.engine.textsafe import printable


def safe_text(text: Text, *, multiline: bool = False) -> Text:
    """``text`` with its characters made printable, spans moved along (the same object when clean)."""
    plain = text.plain
    if printable(plain, multiline=multiline) is plain:
        return text
    pieces: list[str] = []
    offsets: list[int] = []
    position = 0
    for char in plain:
        offsets.append(position)
        piece = printable(char, multiline=multiline)
        pieces.append(piece)
        position += len(piece)
    offsets.append(position)
    out = Text(
        "".join(pieces),
        style=text.style,
        justify=text.justify,
        overflow=text.overflow,
        no_wrap=text.no_wrap,
        end=text.end,
        tab_size=text.tab_size,
    )
    out.spans = [Span(offsets[s.start], offsets[s.end], s.style) for s in text.spans]
    return out


def plain_text(value: str, *, multiline: bool = False) -> Text:
    """A string of outside origin as a ``Text``: printable, never parsed as markup."""
    return Text(printable(value, multiline=multiline), end="")


def display_cell(value: Any) -> Any:
    """A table cell as shown: strings become plain one-line ``Text``, ``Text`` is escaped."""
    if isinstance(value, str):
        return plain_text(value)
    if isinstance(value, Text):
        return safe_text(value)
    return value


def safe_visual(content: VisualType) -> VisualType:
    """What a ``SafeStatic`` shows for ``content`` (several lines allowed)."""
    if isinstance(content, str):
        return plain_text(content, multiline=True)
    if isinstance(content, Text):
        return safe_text(content, multiline=True)
    return content


class SafeStatic(Static):
    """A ``Static`` that never parses markup and escapes control characters."""

    def __init__(self, content: VisualType = "", **kwargs: Any) -> None:
        kwargs["markup"] = False
        super().__init__(safe_visual(content), **kwargs)

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        super().update(safe_visual(content), layout=layout)
