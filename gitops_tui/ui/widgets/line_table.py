"""A keyed table drawn with Textual's Line API: only visible rows are rendered, each from a cache.

``LineTable`` has ``KeyedTable``'s interface (``keys``, ``cursor_key``, ``cells``,
``sync_rows``, ``move_to_key``, ``set_columns``, ``row_count``, ``cursor_row``,
``fixed_columns``) but no DataTable underneath: rows are a list of keys and a dict
of cells, and ``render_line`` draws a row from a per-row strip cache. So a change
to a row off screen costs a dict update and no paint; a change on screen repaints
that one line; moving the cursor repaints two. Column widths are exact (a count of
cell widths per column): a column narrows when its widest cell goes, never below its
floor (``column_floors``: a status column reserves its widest word, so churn that
flips a status draws that cell only).

Every cell goes through ``display_cell`` before it is drawn (never parsed as markup,
control characters shown escaped); ``cells`` returns the values as given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from gitops_tui.ui.safe import display_cell

Cells = tuple[Any, ...]
PAD = 1  # blank cells either side of a cell's text, as DataTable


def _as_text(value: Any) -> Text:
    shown = display_cell(value)
    text = shown if isinstance(shown, Text) else Text(str(shown))
    if "\n" in text.plain:  # one line per row (display_cell escapes controls already)
        text = text.split("\n")[0]
    return text


class LineTable(ScrollView, can_focus=True):
    """Rows identified by a string key, drawn line by line (see the module docstring)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "linetable--header",
        "linetable--fixed",
        "linetable--cursor",
        "linetable--fixed-cursor",
    }

    DEFAULT_CSS = """
    LineTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        scrollbar-size-vertical: 1;
        &:focus {
            background-tint: $foreground 5%;
            & > .linetable--header {
                background-tint: $foreground 5%;
            }
            & > .linetable--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .linetable--fixed-cursor {
                color: $block-cursor-foreground;
                background: $block-cursor-background;
            }
        }
        & > .linetable--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .linetable--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .linetable--fixed {
            background: $secondary-muted;
            color: $foreground;
        }
        & > .linetable--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .linetable--fixed-cursor {
            background: $block-cursor-blurred-background;
            color: $foreground;
        }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        # up/down/pageup/pagedown/home/end/left/right are ScrollableContainer's (Textual's
        # own keys, as they were DataTable's): their actions move the cursor here
        Binding("j", "scroll_down", "Cursor down", show=False, id="table.cursor-down"),
        Binding("k", "scroll_up", "Cursor up", show=False, id="table.cursor-up"),
        Binding("g", "scroll_top", "Top", show=False, id="table.top"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="table.bottom"),
        Binding("ctrl+f", "page_down", "Page down", show=False, id="table.page-down"),
        Binding("ctrl+b", "page_up", "Page up", show=False, id="table.page-up"),
    ]

    class RowSelected(Message):
        """Enter on a row, or a click on the row under the cursor."""

        def __init__(self, table: LineTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> LineTable:
            return self.table

    class RowHighlighted(Message):
        """The cursor moved to another row (keys, a click, or a row removed under it)."""

        def __init__(self, table: LineTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> LineTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[tuple[str, str]],
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._cells: dict[str, Cells] = {}
        self._texts: dict[str, tuple[Text, ...]] = {}
        self._strips: dict[tuple[str, bool], Strip] = {}
        self._header: Strip | None = None
        self._columns: list[tuple[str, str]] = []
        self._labels: list[Text] = []
        self._counts: list[Counter[int]] = []
        self._widths: list[int] = []
        self._floors: list[int] = []
        self._styles_key: tuple[Any, ...] | None = None
        self._style_cache: tuple[Style, Style, Style, Style, Style, Style] | None = None
        self._fixed = 0
        self.cursor_row = 0
        self.paints = 0
        """Rows drawn afresh (cache misses): tests and the benchmark read it."""
        self._set_columns(columns)

    # -- columns ---------------------------------------------------------------------

    def _set_columns(self, columns: Sequence[tuple[str, str]]) -> None:
        self._columns = list(columns)
        self._labels = [Text(label) for _, label in columns]
        self._counts = [Counter() for _ in columns]
        floors = self.column_floors(columns)
        self._floors = [
            max(label.cell_len, floors.get(key, 0))
            for (key, _), label in zip(columns, self._labels, strict=True)
        ]
        self._widths = list(self._floors)

    def column_floors(self, columns: Sequence[tuple[str, str]]) -> Mapping[str, int]:
        """Column key -> the least width of that column (its title's width if more).

        A column of a few known words (a status) reserves its widest word: a cell that
        flips to a longer word then draws its own cells, not every row on screen (a
        column that widens re-lays out the table). None here; subclasses say which."""
        return {}

    def clear(self) -> None:
        """Drop every row (the columns stay)."""
        self.sync_rows({})

    def set_columns(self, columns: Sequence[tuple[str, str]]) -> None:
        """Replace the columns (and drop the rows: the caller shows them again)."""
        self._set_columns(columns)
        self._keys, self._index, self._cells, self._texts = [], {}, {}, {}
        self.cursor_row = 0
        self._layout_changed()

    @property
    def fixed_columns(self) -> int:
        """Columns, from the left, that stay when scrolling right (NAME)."""
        return self._fixed

    @fixed_columns.setter
    def fixed_columns(self, value: int) -> None:
        self._fixed = value
        self._layout_changed()

    def _count(self, column: int, width: int, sign: int) -> bool:
        """Add (``sign`` 1) or remove (-1) one cell's width; True if the column's width changed."""
        counts = self._counts[column]
        counts[width] += sign
        current = self._widths[column]
        if sign > 0:
            wanted = max(current, width)
        else:
            if counts[width] <= 0:
                del counts[width]
            if width < current or counts.get(width):
                return False  # the widest cell is still there
            wanted = max(self._floors[column], max(counts, default=0))
        if wanted == current:
            return False
        self._widths[column] = wanted
        return True

    def _count_row(self, texts: Sequence[Text], sign: int) -> bool:
        changed = False
        for column, text in enumerate(texts[: len(self._counts)]):
            changed |= self._count(column, text.cell_len, sign)
        return changed

    def _layout_changed(self) -> None:
        self._strips.clear()
        self._header = None
        width = sum(w + 2 * PAD for w in self._widths)
        size = Size(width, len(self._keys) + 1)
        if self.virtual_size != size:
            self.virtual_size = size
        self.refresh()

    # -- reading ---------------------------------------------------------------------

    @property
    def keys(self) -> list[str]:
        """Row keys in display order."""
        return list(self._keys)

    @property
    def row_count(self) -> int:
        return len(self._keys)

    def cursor_key(self) -> str | None:
        """The key of the row under the cursor, or None for an empty table."""
        if not self._keys:
            return None
        return self._keys[min(max(self.cursor_row, 0), len(self._keys) - 1)]

    def cells(self, key: str) -> Cells | None:
        return self._cells.get(key)

    # -- writing ---------------------------------------------------------------------

    def sync_rows(
        self,
        rows: Mapping[str, Cells],
        order: Callable[[str], Any] | None = None,
        *,
        reverse: bool = False,
        rebuild: bool = False,
        ordered: bool = False,
    ) -> bool:
        """Show exactly ``rows`` (key -> cells), ordered by ``order(key)``; True if anything changed.

        ``ordered``: in the mapping's order; neither: new rows after the others.
        ``rebuild`` is accepted for ``KeyedTable``'s callers: nothing here needs it.
        """
        focus_key = self.cursor_key()
        focus_index = self.cursor_row
        layout = structure = False
        repaint: list[tuple[str, list[int]]] = []
        for key in [key for key in self._cells if key not in rows]:
            layout |= self._count_row(self._texts.pop(key), -1)
            del self._cells[key]
            self._forget(key)
            structure = True
        for key, cells in rows.items():
            grew, changed = self._put(key, cells)
            layout |= grew
            if changed is None:
                structure = True
            elif changed:
                repaint.append((key, changed))
        if order is not None:
            wanted = sorted(rows, key=order, reverse=reverse)
        elif ordered:
            wanted = list(rows)
        else:
            wanted = [key for key in self._keys if key in rows]
            wanted += [key for key in rows if key not in self._index]
        if wanted != self._keys:
            self._keys = wanted
            self._index = {key: index for index, key in enumerate(wanted)}
            structure = True
        if layout or structure:
            self._layout_changed()
            self._restore_cursor(focus_key, focus_index)
        else:
            self._repaint(repaint)
        return layout or structure or bool(repaint)

    def update_rows(self, rows: Mapping[str, Cells]) -> None:
        """New cells for rows that are shown (others are ignored); no row moves, so only
        the changed cells on screen are drawn again (unless a column's width changed)."""
        layout = False
        repaint: list[tuple[str, list[int]]] = []
        for key, cells in rows.items():
            old = self._cells.get(key)
            if old is None or len(old) != len(cells):
                continue
            grew, changed = self._put(key, cells)
            layout |= grew
            if changed:
                repaint.append((key, changed))
        if layout:
            self._layout_changed()
        else:
            self._repaint(repaint)

    def _put(self, key: str, cells: Cells) -> tuple[bool, list[int] | None]:
        """Store one row's cells: (a column's width changed, the columns whose shown text
        changed; None for a new row or one with another number of cells)."""
        old = self._cells.get(key)
        layout = False
        if old is cells:
            return False, []
        if old is not None and old == cells:
            self._cells[key] = cells
            return False, []
        if old is None or len(old) != len(cells):
            if old is not None:
                layout |= self._count_row(self._texts[key], -1)
            texts = tuple(_as_text(cell) for cell in cells)
            layout |= self._count_row(texts, 1)
            self._cells[key], self._texts[key] = cells, texts
            return layout, None
        # only the cells that changed are made again (and counted); only those whose
        # shown text changed are drawn again
        before = self._texts[key]
        made = list(before)
        changed: list[int] = []
        for column, (was, now) in enumerate(zip(old, cells, strict=True)):
            if was is now or was == now:
                continue
            made[column] = text = _as_text(now)
            if text == before[column]:
                continue
            changed.append(column)
            if column < len(self._counts):
                layout |= self._count(column, text.cell_len, 1)  # first: no
                layout |= self._count(column, before[column].cell_len, -1)  # flicker
        if changed:
            self._forget(key)
        self._cells[key], self._texts[key] = cells, tuple(made)
        return layout, changed

    def _repaint(self, repaint: Sequence[tuple[str, Sequence[int]]]) -> None:
        top, page = int(self.scroll_offset.y), self._page
        for key, columns in repaint:
            index = self._index.get(key)
            if index is None or not top <= index < top + page:
                continue  # off screen: nothing to draw
            span = self._span(columns)
            if span is not None:
                self.refresh(Region(span[0], index - top + 1, span[1] - span[0], 1))

    def _span(self, columns: Sequence[int]) -> tuple[int, int] | None:
        """The screen columns ``[x0, x1)`` that show ``columns``, or None (scrolled away):
        a changed cell redraws its own cells, not the whole line (a slow link pays per byte)."""
        width = self.size.width
        fixed_width = sum(w + 2 * PAD for w in self._widths[: self._fixed])
        left = int(self.scroll_offset.x)
        lo, hi = width, 0
        for column in columns:
            if column >= len(self._widths):
                continue
            x0 = sum(w + 2 * PAD for w in self._widths[:column])
            x1 = x0 + self._widths[column] + 2 * PAD
            if column >= self._fixed:
                x0, x1 = max(x0 - left, fixed_width), x1 - left
            x1 = min(x1, width)
            if x1 > x0:
                lo, hi = min(lo, x0), max(hi, x1)
        return (lo, hi) if hi > lo else None

    def rebuild_rows(self, rows: Mapping[str, Cells]) -> None:
        """Show ``rows`` in the mapping's order (widths are always exact here)."""
        self.sync_rows(rows, ordered=True)

    def _forget(self, key: str) -> None:
        self._strips.pop((key, False), None)
        self._strips.pop((key, True), None)

    def _restore_cursor(self, key: str | None, index: int) -> None:
        if not self._keys:
            self.cursor_row = 0
            return
        if key is not None and key in self._index:
            self.move_to_key(key)
        else:
            self._move(min(max(index, 0), len(self._keys) - 1))

    def move_to_key(self, key: str, *, scroll: bool = True) -> bool:
        index = self._index.get(key)
        if index is None:
            return False
        self._move(index, scroll=scroll)
        return True

    # -- cursor and scrolling --------------------------------------------------------

    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _refresh_row(self, index: int) -> None:
        top = int(self.scroll_offset.y)
        if top <= index < top + self._page:
            self.refresh(Region(0, index - top + 1, self.size.width, 1))

    def _move(self, index: int, *, scroll: bool = True) -> None:
        if not self._keys:
            return
        index = min(max(index, 0), len(self._keys) - 1)
        old, self.cursor_row = self.cursor_row, index
        if old != index:
            self._refresh_row(old)
            self._refresh_row(index)
            self.post_message(self.RowHighlighted(self, self._keys[index]))
        if scroll:
            top = int(self.scroll_offset.y)
            if index < top:
                self.scroll_to(y=index, animate=False, immediate=True)
            elif index >= top + self._page:
                self.scroll_to(y=index - self._page + 1, animate=False, immediate=True)

    def action_scroll_down(self) -> None:
        self._move(self.cursor_row + 1)

    def action_scroll_up(self) -> None:
        self._move(self.cursor_row - 1)

    def action_page_down(self) -> None:
        self._move(self.cursor_row + self._page)

    def action_page_up(self) -> None:
        self._move(self.cursor_row - self._page)

    def action_scroll_top(self) -> None:
        self._move(0)

    def action_scroll_bottom(self) -> None:
        self._move(len(self._keys) - 1)

    def action_scroll_home(self) -> None:
        self.scroll_to(x=0, animate=False)

    def action_scroll_end(self) -> None:
        self.scroll_to(x=self.max_scroll_x, animate=False)

    def action_select_cursor(self) -> None:
        key = self.cursor_key()
        if key is not None:
            self.post_message(self.RowSelected(self, key))

    async def _on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return  # the header
        index = int(self.scroll_offset.y) + event.y - 1
        if not 0 <= index < len(self._keys):
            return
        event.stop()
        if index == self.cursor_row:
            self.action_select_cursor()
        else:
            self._move(index)

    # -- drawing ---------------------------------------------------------------------

    def _on_focus(self, event: events.Focus) -> None:
        self.refresh()

    def _on_blur(self, event: events.Blur) -> None:
        self.refresh()

    def notify_style_update(self) -> None:
        self._styles_key = None  # a theme or focus change: styles are looked up again
        super().notify_style_update()

    def _styles(self) -> tuple[Style, Style, Style, Style, Style, Style]:
        """(base, header, fixed, cursor, fixed cursor, fill) as Rich styles for this state."""
        state = (self.has_focus, self.app.current_theme.name if self.is_mounted else "")
        cached = self._style_cache
        if self._styles_key == state and cached is not None:
            return cached
        base = self.rich_style
        header = base + self.get_component_rich_style("linetable--header")
        fixed = base + self.get_component_rich_style("linetable--fixed")
        cursor = base + self.get_component_rich_style("linetable--cursor")
        fixed_cursor = base + self.get_component_rich_style("linetable--fixed-cursor")
        styles = (base, header, fixed, cursor, fixed_cursor, base)
        self._style_cache = styles
        if self._styles_key != state:
            self._strips.clear()
            self._header = None
        self._styles_key = state
        return styles

    def _cell(self, text: Text, width: int, style: Style, over: Style | None) -> list[Segment]:
        shown = text.copy()
        shown.truncate(width, overflow="ellipsis", pad=True)
        pad = Segment(" " * PAD, style if over is None else style + over)
        console = self.app.console
        if shown.style:  # Text.render leaves a Text's own style to its caller
            style = style + console.get_style(shown.style)
        inner = Segment.apply_style(shown.render(console, end=""), style, over)
        return [pad, *inner, pad]

    def _row(
        self, texts: Sequence[Text], styles: tuple[Style, Style], over: Style | None = None
    ) -> Strip:
        """One row, every column (fixed ones first, in their ``fixed`` style); ``over``
        (the cursor row) is laid over the cells' own styles, as DataTable's cursor is."""
        segments: list[Segment] = []
        for column, (text, width) in enumerate(zip(texts, self._widths, strict=False)):
            style = styles[0] if column < self._fixed else styles[1]
            segments += self._cell(text, width, style, over)
        # runs of one style joined: each run costs its escape sequences on the terminal
        return Strip(Segment.simplify(segments), sum(w + 2 * PAD for w in self._widths))

    def render_line(self, y: int) -> Strip:
        base, header, fixed, cursor, fixed_cursor, fill = self._styles()
        width = self.size.width
        if y == 0:
            if self._header is None:
                self._header = self._row(self._labels, (header, header))
            return self._crop(self._header, width, header)
        index = int(self.scroll_offset.y) + y - 1
        if not 0 <= index < len(self._keys):
            return Strip.blank(width, base)
        key = self._keys[index]
        on_cursor = index == self.cursor_row
        strip = self._strips.get((key, on_cursor))
        if strip is None:
            self.paints += 1
            if on_cursor:
                strip = self._row(self._texts[key], (fixed_cursor, cursor), cursor)
            else:
                strip = self._row(self._texts[key], (fixed, base))
            self._strips[(key, on_cursor)] = strip
        return self._crop(strip, width, cursor if on_cursor else fill)

    def _crop(self, row: Strip, width: int, fill: Style) -> Strip:
        """The fixed columns, then the rest scrolled by ``scroll_x``, filled to ``width``."""
        fixed_width = sum(w + 2 * PAD for w in self._widths[: self._fixed])
        left = int(self.scroll_offset.x)
        parts = [row.crop(0, fixed_width)] if fixed_width else []
        parts.append(row.crop(fixed_width + left, left + max(width, fixed_width)))
        return Strip.join(parts).adjust_cell_length(width, fill)
