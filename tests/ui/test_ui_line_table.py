"""The app list's Line-API table: a change off screen draws nothing, one on screen draws one line.

``render_line`` calls are counted per screen line: that is what Textual asks the
widget to draw after a refresh (and what reaches the terminal).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.strip import Strip
from uitest import wait_for

from gitops_tui.ui.widgets.line_table import LineTable

COLUMNS = (("name", "NAME"), ("sync", "SYNC"), ("dest", "DESTINATION"))


class CountingTable(LineTable):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Open")]

    def __init__(self) -> None:
        super().__init__(COLUMNS, id="t")
        self.drawn: Counter[int] = Counter()

    def render_line(self, y: int) -> Strip:
        self.drawn[y] += 1
        return super().render_line(y)


class TableApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.selected: list[str] = []

    def compose(self) -> ComposeResult:
        yield CountingTable()

    def on_line_table_row_selected(self, event: LineTable.RowSelected) -> None:
        self.selected.append(event.key)


def rows(n: int, changed: dict[int, str] | None = None) -> dict[str, tuple[Any, ...]]:
    changed = changed or {}
    return {
        f"app-{i:04}": (f"app-{i:04}", Text(changed.get(i, "Synced")), f"cluster/ns-{i}")
        for i in range(n)
    }


async def settled(pilot: Any, table: CountingTable) -> None:
    """Until a pause draws nothing more (the first paint and its follow-ups are over)."""

    async def quiet() -> bool:
        before = sum(table.drawn.values())
        await pilot.pause()
        return sum(table.drawn.values()) == before

    for _ in range(50):
        if await quiet():
            return
    raise AssertionError("the table kept drawing")


async def test_an_off_screen_change_draws_nothing_and_an_on_screen_one_draws_one_line() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(CountingTable)
        table.sync_rows(rows(2000), ordered=True)
        await wait_for(pilot, lambda: table.row_count == 2000)
        await settled(pilot, table)
        assert table.drawn[1] >= 1  # the first row was drawn
        table.drawn.clear()
        # row 1500 is far below the 11 visible lines (same width: the column stays)
        assert table.sync_rows(rows(2000, {1500: "Failed"}), ordered=True)
        await settled(pilot, table)
        assert sum(table.drawn.values()) == 0
        assert table.cells("app-1500")[1].plain == "Failed"  # type: ignore[index]
        # row 3 is on screen (line 0 is the header): that one line only
        table.sync_rows(rows(2000, {1500: "Failed", 3: "Absent"}), ordered=True)
        await settled(pilot, table)
        assert set(table.drawn) == {4}, table.drawn
        assert "Absent" in table.render_line(4).text
        # a wider cell off screen widens its column: every line moves, every line is drawn
        table.drawn.clear()
        table.sync_rows(rows(2000, {1500: "OutOfSync"}), ordered=True)
        await settled(pilot, table)
        assert set(table.drawn) == set(range(12))


async def test_cursor_moves_draw_two_lines_and_scroll_keeps_the_header() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(CountingTable)
        table.sync_rows(rows(100), ordered=True)
        table.focus()
        await settled(pilot, table)
        table.drawn.clear()
        await pilot.press("j")
        await settled(pilot, table)
        assert table.cursor_key() == "app-0001"
        assert set(table.drawn) == {1, 2}, table.drawn  # the old and the new cursor line
        await pilot.press("G")
        await settled(pilot, table)
        assert table.cursor_key() == "app-0099"
        assert table.render_line(0).text.split()[:2] == ["NAME", "SYNC"]
        assert table.render_line(11).text.strip().startswith("app-0099")  # the last of 11
        await pilot.press("g", "enter")
        await wait_for(pilot, lambda: app.selected == ["app-0000"])


async def test_a_click_moves_the_cursor_and_a_second_click_selects() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(CountingTable)
        table.sync_rows(rows(10), ordered=True)
        await settled(pilot, table)
        await pilot.click(CountingTable, offset=(3, 3))  # line 3: the third row
        await wait_for(pilot, lambda: table.cursor_key() == "app-0002")
        assert app.selected == []
        await pilot.click(CountingTable, offset=(3, 3))
        await wait_for(pilot, lambda: app.selected == ["app-0002"])


async def test_columns_fit_their_widest_cell_and_narrow_when_it_goes() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 12)) as pilot:
        table = app.query_one(CountingTable)
        wide = rows(5)
        wide["app-0002"] = ("app-0002-with-a-long-name", Text("Synced"), "x")
        table.sync_rows(wide, ordered=True)
        await settled(pilot, table)
        header = table.render_line(0).text
        assert header.index("SYNC") == len(" app-0002-with-a-long-name  ")
        table.sync_rows(rows(5), ordered=True)
        await settled(pilot, table)
        assert table.render_line(0).text.index("SYNC") == len(" app-0000  ")
        # a cell is shown through display_cell: no markup, controls escaped
        table.sync_rows({"evil": ("[red]x\x1b]0;pwned\x07", Text("a"), "b")}, ordered=True)
        await settled(pilot, table)
        line = table.render_line(1).text
        assert "[red]x" in line and "\x1b" not in line
