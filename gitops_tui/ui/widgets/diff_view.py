"""A diff viewer built on Textual's Line API: unified or side by side, compact or full.

Only the visible lines are rendered, so a diff of thousands of lines costs the
same to scroll as a short one and nothing is written in one large block.
Without colour the text still reads: unified lines keep their ``+``/``-``
prefixes and side-by-side columns get a ``-``/``+`` marker.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from gitops_tui.engine.diff.resource_diff import ResourceDiff, app_diff_text, side_by_side
from gitops_tui.engine.textsafe import printable

SPLIT_AUTO_WIDTH = 120
"""In auto mode, show side by side when the viewer is at least this wide."""
SPLIT_MIN_WIDTH = 50
"""Never split narrower than this, even when asked to."""
COMPACT_CONTEXT = 3

Row = tuple[str, ...]
"""("add"|"remove"|"hunk"|"file"|"header"|"fold"|"note"|"context", text) or
("split", tag, left, right)."""


def classify(line: str) -> str:
    """The kind of one unified-diff line (``app_diff_text`` headers included)."""
    if line.startswith("====="):
        return "header"
    if line.startswith(("+++", "---")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "add"
    if line.startswith("-"):
        return "remove"
    return "context"


def resource_header(diff: ResourceDiff) -> str:
    key = diff.key
    return f"===== {key.group}/{key.kind} {key.namespace}/{key.name} ======"


def unified_rows(diffs: Sequence[ResourceDiff], *, compact: bool) -> list[Row]:
    """Rows for the unified view of ``diffs`` (one resource or a whole app)."""
    modified = [d for d in diffs if d.modified]
    if len(diffs) == 1 and not modified:
        return in_sync_rows(diffs[0], compact=compact)
    if not modified:
        return [("note", "No differences: every resource is in sync.")]
    text = printable(app_diff_text(modified), multiline=True)  # \r, \x85... shown, not lines
    return [(classify(line), line) for line in text.splitlines()]


def in_sync_rows(diff: ResourceDiff, *, compact: bool) -> list[Row]:
    rows: list[Row] = [("header", resource_header(diff)), ("note", "No differences: in sync.")]
    if not compact:
        yaml_text = printable(diff.desired_yaml, multiline=True)
        rows.extend(("context", f" {line}") for line in yaml_text.splitlines())
    return rows


def split_rows(diffs: Sequence[ResourceDiff], column: int, *, compact: bool) -> list[Row]:
    """Rows for the side-by-side view, each side ``column`` cells wide (marker included)."""
    modified = [d for d in diffs if d.modified]
    if len(diffs) == 1 and not modified:
        return in_sync_rows(diffs[0], compact=compact)
    if not modified:
        return [("note", "No differences: every resource is in sync.")]
    rows: list[Row] = []
    for diff in sorted(modified, key=lambda d: d.key):
        rows.append(("header", resource_header(diff)))
        rows.append(("split", "title", "live", "desired"))
        pairs = side_by_side(diff, max(column - 2, 1))
        rows.extend(_fold(pairs) if compact else [_split(p) for p in pairs])
    return rows


def _split(pair: tuple[str, str, str]) -> Row:
    live, desired, tag = pair
    return ("split", tag, live, desired)


def _fold(pairs: list[tuple[str, str, str]]) -> list[Row]:
    """Keep ``COMPACT_CONTEXT`` unchanged rows around each change; fold the rest."""
    rows: list[Row] = []
    index = 0
    while index < len(pairs):
        if pairs[index][2] != "equal":
            rows.append(_split(pairs[index]))
            index += 1
            continue
        end = index
        while end < len(pairs) and pairs[end][2] == "equal":
            end += 1
        run = pairs[index:end]
        head = COMPACT_CONTEXT if index > 0 else 0
        tail = COMPACT_CONTEXT if end < len(pairs) else 0
        if len(run) <= head + tail + 1:
            rows.extend(_split(p) for p in run)
        else:
            rows.extend(_split(p) for p in run[:head])
            rows.append(("fold", f"... {len(run) - head - tail} unchanged lines"))
            rows.extend(_split(p) for p in run[len(run) - tail :])
        index = end
    return rows


def _changed(tag: str, left: str, right: str) -> tuple[bool, bool]:
    return tag in ("replace", "delete") and bool(left), tag in ("replace", "insert") and bool(right)


def _marked(tag: str, left: str, right: str) -> tuple[str, str]:
    """Both sides with their ``-``/``+`` marker (a space when unchanged)."""
    if tag == "title":
        return f"  {left}", f"  {right}"
    removed, added = _changed(tag, left, right)
    return f"{'-' if removed else ' '} {left}", f"{'+' if added else ' '} {right}"


class DiffView(ScrollView, can_focus=True):
    """Shows a list of ``ResourceDiff``s; ``compact`` folds context, ``split`` sets the layout."""

    class LayoutChanged(Message):
        """The layout went from unified to side by side or back (a resize, ``v``, a zoom)."""

    class StepRequested(Message):
        """``j``/``k`` on a diff that has nothing to scroll: the next/previous resource."""

        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Scroll down", show=False, id="diff.scroll-down"),
        Binding("k", "scroll_up", "Scroll up", show=False, id="diff.scroll-up"),
        Binding("h", "scroll_left", "Scroll left", show=False, id="diff.scroll-left"),
        Binding("l", "scroll_right", "Scroll right", show=False, id="diff.scroll-right"),
        Binding("g", "scroll_home", "Top", show=False, id="diff.top"),
        Binding("G", "scroll_end", "Bottom", show=False, id="diff.bottom"),
        Binding("ctrl+f", "page_down", "Page down", show=False, id="diff.page-down"),
        Binding("ctrl+b", "page_up", "Page up", show=False, id="diff.page-up"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "diff-view--add",
        "diff-view--remove",
        "diff-view--context",
        "diff-view--hunk",
        "diff-view--file",
        "diff-view--header",
        "diff-view--fold",
        "diff-view--note",
        "diff-view--gutter",
    }

    def __init__(self, *, ascii_only: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self._gutter = " | " if ascii_only else " │ "
        self._diffs: list[ResourceDiff] = []
        self._message = ""
        self.compact = True
        self.split_preference: bool | None = None  # None: automatic by width
        self._rows: list[Row] = []
        self._width = 0
        self._cache: dict[int, Strip] = {}
        self._layout_split = False

    # -- content ---------------------------------------------------------------------

    def show_diffs(
        self, diffs: Sequence[ResourceDiff], *, compact: bool, keep_scroll: bool = False
    ) -> None:
        self._diffs = list(diffs)
        self._message = ""
        self.compact = compact
        self._rebuild(reset_scroll=not keep_scroll)

    def show_message(self, message: str) -> None:
        self._diffs = []
        self._message = message
        self._rebuild(reset_scroll=True)

    @property
    def split(self) -> bool:
        """Whether the current layout is side by side."""
        return self._layout_split

    def can_split(self) -> bool:
        return self.size.width >= SPLIT_MIN_WIDTH

    def set_split(self, preference: bool | None) -> None:
        self.split_preference = preference
        self._rebuild(reset_scroll=False)

    @property
    def text(self) -> str:
        """The shown rows as plain text (tests, copying)."""
        lines = []
        for row in self._rows:
            if row[0] == "split":
                left, right = _marked(row[1], row[2], row[3])
                lines.append(f"{left.rstrip()} | {right.rstrip()}")
            else:
                lines.append(row[1])
        return "\n".join(lines)

    def _want_split(self) -> bool:
        width = self.size.width
        if self.split_preference is None:
            return width >= SPLIT_AUTO_WIDTH
        return self.split_preference and width >= SPLIT_MIN_WIDTH

    def _rebuild(self, *, reset_scroll: bool) -> None:
        split = self._want_split()
        if split != self._layout_split:
            self.post_message(self.LayoutChanged())
        self._layout_split = split
        rows: list[Row]
        if self._message:
            rows = [("note", self._message)]
        elif self._layout_split:
            rows = split_rows(self._diffs, self._column_width(), compact=self.compact)
        else:
            rows = unified_rows(self._diffs, compact=self.compact)
        # the one gate of this widget: every row's text is made printable (Git and
        # cluster content: names, values, messages), one line each
        self._rows = [(row[0], *(printable(part) for part in row[1:])) for row in rows]
        self._width = self.size.width
        self._cache.clear()
        widest = max((cell_len(r[1]) for r in self._rows if r[0] != "split"), default=0)
        if self._layout_split:
            widest = max(widest, 2 * self._column_width() + 3)
        self.virtual_size = Size(widest, len(self._rows))
        if reset_scroll:
            self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def _column_width(self) -> int:
        return max((self.size.width - 3) // 2, 1)

    def on_resize(self, event: Resize) -> None:
        if event.size.width != self._width:
            self._rebuild(reset_scroll=False)

    def action_scroll_down(self) -> None:
        if self.max_scroll_y == 0:  # it all fits: j walks the resources instead
            self.post_message(self.StepRequested(1))
        else:
            super().action_scroll_down()

    def action_scroll_up(self) -> None:
        if self.max_scroll_y == 0:
            self.post_message(self.StepRequested(-1))
        else:
            super().action_scroll_up()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    # -- rendering -------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        base = self.rich_style
        if index >= len(self._rows):
            return Strip.blank(width, base)
        strip = self._cache.get(index)
        if strip is None:
            strip = self._render_row(self._rows[index], base)
            self._cache[index] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _style(self, kind: str) -> Style:
        """The component's style with its colours blended onto the view's background.

        A partial rich style drops the alpha of ``background: $success 20%`` (the
        tint became the full colour: green text on green, 1.3:1); blend here so what
        reaches the terminal is the contrast the stylesheet means."""
        name = f"diff-view--{kind}"
        styles = self.get_component_styles(name)
        partial = self.get_component_rich_style(name, partial=True)
        _, view_bg = self.background_colors
        background = view_bg + styles.background if styles.has_rule("background") else view_bg
        if styles.auto_color:  # ``auto N%``: black or white, whichever reads on this background
            foreground = background.get_contrast_text(styles.color.a)
        else:
            foreground = styles.color
        colors = Style(color=(background + foreground).rich_color)
        if styles.has_rule("background"):
            colors += Style(bgcolor=background.rich_color)
        return partial + colors

    def _render_row(self, row: Row, base: Style) -> Strip:
        kind = row[0]
        if kind == "split":
            return self._render_split(row[1], row[2], row[3], base)
        style = base + self._style(kind)
        return Strip([Segment(row[1], style)], cell_len(row[1]))

    def _render_split(self, tag: str, left: str, right: str, base: Style) -> Strip:
        column = self._column_width()
        if tag == "title":
            style = base + self._style("file")
            return Strip(
                [
                    Segment(set_cell_size(f"  {left}", column), style),
                    Segment(self._gutter, base + self._style("gutter")),
                    Segment(set_cell_size(f"  {right}", column), style),
                ]
            )
        removed, added = _changed(tag, left, right)
        marked_left, marked_right = _marked(tag, left, right)
        left_text = set_cell_size(marked_left, column)
        right_text = set_cell_size(marked_right, column)
        return Strip(
            [
                Segment(left_text, base + self._style("remove" if removed else "context")),
                Segment(self._gutter, base + self._style("gutter")),
                Segment(right_text, base + self._style("add" if added else "context")),
            ]
        )


def whole_app_summary(diffs: Iterable[ResourceDiff]) -> str:
    """``Whole app: 1 modified, 3 missing, 1 to prune``: a create counts as missing, a prune
    as to prune (both are ``modified`` to the engine), never all as "modified"."""
    missing = pruned = changed = 0
    for diff in diffs:
        if diff.is_create:
            missing += 1
        elif diff.is_prune:
            pruned += 1
        elif diff.modified:
            changed += 1
    counts = [(changed, "modified"), (missing, "missing"), (pruned, "to prune")]
    parts = [f"{n} {word}" for n, word in counts if n]
    return "Whole app: " + (", ".join(parts) if parts else "no differences")
