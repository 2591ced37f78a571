"""A log viewer for endless streams: a ring buffer of lines, drawn line by line.

Lines arrive printable (``engine.podlogs``) and ``append`` gates them again
(``printable``, idempotent); this widget keeps at most
``capacity`` of them (the oldest go first) and renders only the rows on screen
(Textual's line API), so appending a chunk costs the chunk, never a re-render of
the whole log (Textual #2432). ``wrap`` folds long lines at the widget's width (a
row map rebuilt on toggle/resize, extended on append); ``query`` highlights every
case-insensitive match, the current one strongest.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Iterable

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from gitops_tui.engine.textsafe import printable

MATCH = Style(color="black", bgcolor="yellow")
CURRENT = Style(color="black", bgcolor="bright_yellow", bold=True, underline=True)


class LogView(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    LogView { height: 1fr; background: $surface; }
    """

    def __init__(self, capacity: int = 10_000, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.capacity = capacity
        self.lines: deque[str] = deque(maxlen=capacity)
        self.first = 0  # absolute number of lines[0] (lines dropped so far)
        self.wrap = False
        self.query_text = ""
        self.current: int | None = None  # absolute number of the current match's line
        self._max_width = 0
        self._rows: deque[int] = deque()  # wrap: absolute first row of each line
        self._rows_end = 0  # wrap: absolute row after the last line
        self._wrap_width = 0

    # -- content ---------------------------------------------------------------------

    @property
    def line_count(self) -> int:
        return len(self.lines)

    def clear(self) -> None:
        self.lines.clear()
        self.first = 0
        self.current = None
        self._max_width = 0
        self._rows.clear()
        self._rows_end = 0
        self._resize_virtual()
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def append(self, new: Iterable[str]) -> None:
        """Add lines (a chunk): the oldest drop out past ``capacity``; a view at the
        bottom stays at the bottom."""
        at_end = self.is_vertical_scroll_end or self.max_scroll_y == 0
        width = self._width()
        for raw in new:
            line = printable(raw)  # the widget's own gate (idempotent on engine lines)
            if len(self.lines) == self.capacity:
                self.lines.popleft()
                self.first += 1
                if self.wrap and self._rows:
                    self._rows.popleft()
            self.lines.append(line)
            self._max_width = max(self._max_width, cell_len(line))
            if self.wrap:
                self._rows.append(self._rows_end)
                self._rows_end += max(1, len(chop_cells(line, width)))
        self._resize_virtual()
        if at_end:
            self.scroll_end(animate=False, immediate=False, x_axis=False)
        self.refresh()

    def _width(self) -> int:
        return max(1, self.scrollable_content_region.width or self.size.width or 80)

    def set_wrap(self, wrap: bool) -> None:
        self.wrap = wrap
        self._rebuild_rows()
        self.scroll_to(0, None, animate=False)
        if self.current is not None:
            self.show_line(self.current)
        self.refresh()

    def _rebuild_rows(self) -> None:
        self._rows.clear()
        self._rows_end = 0
        self._wrap_width = width = self._width()
        if self.wrap:
            for line in self.lines:
                self._rows.append(self._rows_end)
                self._rows_end += max(1, len(chop_cells(line, width)))
        self._resize_virtual()

    def _resize_virtual(self) -> None:
        if self.wrap:
            rows = self._rows_end - (self._rows[0] if self._rows else self._rows_end)
            self.virtual_size = Size(self._width(), rows)
        else:
            self.virtual_size = Size(self._max_width, len(self.lines))

    def on_resize(self) -> None:
        if self.wrap and self._width() != self._wrap_width:
            self._rebuild_rows()

    # -- rows ------------------------------------------------------------------------

    def row_of(self, number: int) -> int:
        """The first screen row (virtual) of absolute line ``number``."""
        index = number - self.first
        if not self.wrap:
            return index
        return self._rows[index] - self._rows[0] if self._rows else 0

    def _locate(self, y: int) -> tuple[int, int] | None:
        """(index in ``lines``, wrapped row inside it) of virtual row ``y``."""
        if not self.wrap:
            return (y, 0) if 0 <= y < len(self.lines) else None
        if not self._rows:
            return None
        target = y + self._rows[0]
        index = bisect_right(self._rows, target) - 1
        if index < 0 or index >= len(self.lines):
            return None
        return index, target - self._rows[index]

    def show_line(self, number: int) -> None:
        """Scroll so that absolute line ``number`` is in view, about a third down."""
        row = self.row_of(number)
        self.scroll_to(None, max(0, row - self.size.height // 3), animate=False)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        found = self._locate(scroll_y + y)
        if found is None:
            return Strip.blank(width, self.rich_style)
        index, part = found
        text = self._styled(index)
        if self.wrap:
            chunks = chop_cells(text.plain, self._width())
            offsets, total = [], 0
            for chunk in chunks[:-1]:
                total += len(chunk)
                offsets.append(total)
            pieces = text.divide(offsets)
            text = pieces[part] if part < len(pieces) else Text("")
            scroll_x = 0
        text.stylize_before(self.rich_style)
        strip = Strip(list(text.render(self.app.console)))
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def _styled(self, index: int) -> Text:
        line = self.lines[index]
        text = Text(line, no_wrap=True, end="")
        needle = self.query_text.lower()
        if needle:
            style = CURRENT if self.current == self.first + index else MATCH
            lowered = line.lower()
            start = lowered.find(needle)
            while start != -1:
                text.stylize(style, start, start + len(needle))
                start = lowered.find(needle, start + len(needle))
        return text

    # -- search ----------------------------------------------------------------------

    def find(self, query: str, *, forward: bool = True, start: int | None = None) -> int | None:
        """The absolute number of the next (previous) line holding ``query`` after
        (before) ``start`` (default: the current match, else the top of the view),
        wrapping around; it becomes the current match, scrolled into view."""
        self.query_text = query
        needle = query.lower()
        count = len(self.lines)
        if not needle or not count:
            self.current = None
            self.refresh()
            return None
        if start is None:
            start = self.current if self.current is not None else self._top_line() - 1
        index = start - self.first
        for step in range(1, count + 1):
            probe = (index + step) % count if forward else (index - step) % count
            if needle in self.lines[probe].lower():
                self.current = self.first + probe
                self.show_line(self.current)
                self.refresh()
                return self.current
        self.current = None
        self.refresh()
        return None

    def _top_line(self) -> int:
        found = self._locate(int(self.scroll_offset.y))
        return self.first + (found[0] if found is not None else 0)

    def visible_text(self) -> list[str]:
        """The rows on screen as plain text (tests, copy)."""
        return [
            "".join(seg.text for seg in self.render_line(y) if isinstance(seg, Segment))
            for y in range(self.size.height)
        ]
