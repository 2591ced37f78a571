"""App of Apps in the application list: each child's row right after its parent (pure: no Textual).

``tree_rows`` orders the apps a filter lets through: roots in the current sort
order, each followed by its children (recursively), siblings in the same sort
order. A child whose parent is filtered out hangs under its nearest shown
ancestor, or becomes a root; apps whose parents form a cycle are shown as
roots too, so no shown app is ever lost. Rows below a collapsed parent are
left out and counted on the parent.

ApplicationSets are parent rows too: a set's row is keyed ``ApplicationSet/NAME``
(never an app's name: app names have no ``/`` nor capitals), comes before the
app roots (by set name), and the apps it generated are its children.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text

from gitops_tui.engine.api import AppSnapshot
from gitops_tui.ui.symbols import Glyphs

SET_KIND = "ApplicationSet"
SET_PREFIX = f"{SET_KIND}/"


def set_key(name: str) -> str:
    """The row key of ApplicationSet ``name``."""
    return SET_PREFIX + name


def set_name(key: str | None) -> str | None:
    """The ApplicationSet a row key names (None: an app's row)."""
    if key is not None and key.startswith(SET_PREFIX):
        return key[len(SET_PREFIX) :]
    return None


def parent_key(app: AppSnapshot) -> str | None:
    """The row key of ``app``'s parent: an app's name, or a set's key."""
    if app.parent is not None and app.parent_kind == SET_KIND:
        return set_key(app.parent)
    return app.parent


@dataclass(frozen=True, slots=True)
class TreeRow:
    """Where one app's row sits in the tree."""

    name: str
    parent: str | None = None
    """The nearest shown ancestor (None for a root)."""
    depth: int = 0
    guides: tuple[bool, ...] = ()
    """For each ancestor level below the roots: whether a guide line continues there."""
    last: bool = True
    """The last of its siblings (drawn with the closing branch)."""
    children: int = 0
    """Shown direct children (counted also while collapsed)."""
    collapsed: bool = False
    hidden: int = 0
    """Shown descendants left out because this row is collapsed."""


def nearest_shown_ancestor(
    app: AppSnapshot, shown: Collection[str], by_name: Mapping[str, AppSnapshot]
) -> str | None:
    """The first ancestor of ``app`` in ``shown`` (None: a root, a missing parent or a cycle)."""
    seen = {app.name}
    parent = parent_key(app)
    while parent is not None and parent not in seen:
        if parent in shown:
            return parent
        seen.add(parent)
        above = by_name.get(parent)
        parent = parent_key(above) if above is not None else None
    return None


def tree_rows(
    apps: Sequence[AppSnapshot],
    by_name: Mapping[str, AppSnapshot],
    sort_key: Callable[[AppSnapshot], Any],
    *,
    reverse: bool = False,
    collapsed: Collection[str] = frozenset(),
    sets: Sequence[str] = (),
    set_parents: Mapping[str, str] | None = None,
) -> list[TreeRow]:
    """``apps`` (the shown ones) in tree order; ``by_name`` is the whole fleet (for ancestors);
    ``sets``: the shown ApplicationSets' row keys (``set_key``), roots before the apps,
    except a set an App of Apps parent renders (``set_parents``: set key -> app), which
    comes first under that app (or its nearest shown ancestor)."""
    ordered = sorted(apps, key=sort_key, reverse=reverse)
    shown = {app.name for app in ordered} | set(sets)
    children: dict[str | None, list[str]] = {None: []}
    for key in sorted(sets, reverse=reverse):
        above = (set_parents or {}).get(key)
        if above is not None and above not in shown:
            app = by_name.get(above)
            above = nearest_shown_ancestor(app, shown, by_name) if app is not None else None
        children.setdefault(above, []).append(key)
    for app in ordered:  # siblings keep the sort order
        children.setdefault(nearest_shown_ancestor(app, shown, by_name), []).append(app.name)

    full: list[TreeRow] = []  # pre-order, ignoring collapse
    placed: set[str] = set()

    def walk(root: str) -> None:
        stack: list[tuple[str, str | None, int, bool, tuple[bool, ...]]] = [
            (root, None, 0, True, ())
        ]
        while stack:
            name, parent, depth, last, guides = stack.pop()
            if name in placed:
                continue
            placed.add(name)
            kids = [kid for kid in children.get(name, ()) if kid not in placed]
            full.append(TreeRow(name, parent, depth, guides, last, len(kids)))
            below = (*guides, not last) if depth else ()
            for index in range(len(kids) - 1, -1, -1):
                stack.append((kids[index], name, depth + 1, index == len(kids) - 1, below))

    for root in children.get(None, ()):
        walk(root)
    for app in ordered:  # parents in a cycle: nobody reaches them from a root
        if app.name not in placed:
            walk(app.name)

    descendants = [0] * len(full)
    open_rows: list[int] = []
    for index, row in enumerate(full):
        while open_rows and full[open_rows[-1]].depth >= row.depth:
            done = open_rows.pop()
            descendants[done] = index - done - 1
        open_rows.append(index)
    for done in open_rows:
        descendants[done] = len(full) - done - 1

    rows: list[TreeRow] = []
    skip_below: int | None = None
    for index, row in enumerate(full):
        if skip_below is not None:
            if row.depth > skip_below:
                continue
            skip_below = None
        if row.children and row.name in collapsed:
            skip_below = row.depth
            row = TreeRow(
                row.name,
                row.parent,
                row.depth,
                row.guides,
                row.last,
                row.children,
                collapsed=True,
                hidden=descendants[index],
            )
        rows.append(row)
    return rows


def flat_rows(
    apps: Sequence[AppSnapshot], sort_key: Callable[[AppSnapshot], Any], *, reverse: bool = False
) -> list[TreeRow]:
    """The plain sorted list (``T``)."""
    return [TreeRow(app.name) for app in sorted(apps, key=sort_key, reverse=reverse)]


def tree_prefix(row: TreeRow, glyphs: Glyphs) -> str:
    """Guides, branch and expand marker before the name.

    A branch hangs under its parent's marker::

        ▾ root
        ├ ▾ child
        │ └ grandchild
        └ other-child
          other-root
    """
    parts = [f"{glyphs.guide} " if line else "  " for line in row.guides]
    if row.depth:
        parts.append(f"{glyphs.last_branch if row.last else glyphs.branch} ")
    if row.children:
        parts.append(f"{glyphs.collapsed if row.collapsed else glyphs.expanded} ")
    elif not row.depth:
        parts.append("  ")
    return "".join(parts)


def name_cell(row: TreeRow, glyphs: Glyphs, *, indent: bool, marked: bool) -> str | Text:
    """The NAME cell: the bare name in a flat list; otherwise tree prefix, name, hidden count, mark."""
    if not indent and not marked:
        return row.name
    text = Text()
    if indent:
        text.append(tree_prefix(row, glyphs), style="bright_black")
    appset = set_name(row.name)
    if appset is not None:
        text.append(SET_PREFIX, style="bright_black")
        text.append(appset, style="bold cyan")
    else:
        text.append(row.name, style="bold magenta" if marked else "")
    if row.collapsed:
        text.append(f" ({row.hidden} hidden)", style="bright_black")
    if marked:
        text.append(f" {glyphs.mark}", style="bold magenta")
    return text


def has_structure(rows: Sequence[TreeRow]) -> bool:
    """Whether any row is a parent or a child (otherwise names are not indented)."""
    return any(row.depth or row.children for row in rows)
