"""Under churn the console draws little: the header's counts at most once a second, a
changed app's own cells only, and no rebuild of the list when no row moves (7b).

A key press that changes what the header shows is still drawn at once.
"""

from __future__ import annotations

import time
from typing import Any

from fake_engine import FakeEngine
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from uitest import wait_for

from gitops_tui.engine.model import HealthStatus, SyncStatus
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.screens.app_list import AppListScreen, AppTable
from gitops_tui.ui.widgets.header import CHURN_REPAINT_S, FleetHeader
from gitops_tui.ui.widgets.line_table import LineTable

WIDE = (160, 30)


async def test_churn_draws_the_header_at_most_once_a_second_and_a_key_at_once(
    engine: FakeEngine,
) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=WIDE) as pilot:
        header = app.screen.query_one(FleetHeader)
        await wait_for(pilot, lambda: "5 apps" in header.plain)
        before, start = header.paints, time.monotonic()
        for i in range(12):  # each flips the Synced / OutOfSync counts
            flip = SyncStatus.SYNCED if i % 2 == 0 else SyncStatus.OUT_OF_SYNC
            snapshot = engine.update_app("payments", sync=flip)
            await wait_for(pilot, lambda s=snapshot: app.fleet.generation == s.generation)
        elapsed = time.monotonic() - start
        drawn = header.paints - before
        assert drawn <= 1 + int(elapsed / CHURN_REPAINT_S), (drawn, elapsed)
        # the newest counts are drawn when the interval is over
        newest = f"↻ {app.fleet.counts()['OutOfSync']} OutOfSync"
        await wait_for(pilot, lambda: newest in header.plain, timeout=10)
        # a key that changes what the header shows: drawn with the key, no interval
        engine.update_app("payments", sync=SyncStatus.SYNCED)
        await pilot.press("slash", *"payments", "enter")
        await wait_for(pilot, lambda: app.screen.query_one(AppTable).row_count == 1)
        assert "1/5 apps" in header.plain


async def test_a_churn_update_rebuilds_no_row_when_none_moves(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AppListScreen)
        rebuilt: list[bool] = []
        full = screen._refresh_rows

        def counting(**kwargs: Any) -> None:
            rebuilt.append(True)
            full(**kwargs)

        screen._refresh_rows = counting  # type: ignore[method-assign]
        table = screen.query_one(AppTable)
        snapshot = engine.update_app("guestbook", health=HealthStatus.DEGRADED)
        await wait_for(pilot, lambda: app.fleet.generation == snapshot.generation)
        assert table.cells("guestbook")[2].plain == "✗ Degraded"  # type: ignore[index]
        assert rebuilt == []  # only guestbook's cells were made again
        now = app.clock()
        app.clock = lambda: now + 2 * 86400
        screen._ages_moved_on()  # the age tick: cells in place, no rebuild either
        assert str(table.cells("monitoring")[6]) == "✓ Succeeded 2d"  # type: ignore[index]
        assert rebuilt == []
        # sorted by health, the same change moves the row: the list is built again
        screen.set_sort("health")
        rebuilt.clear()
        snapshot = engine.update_app("guestbook", health=HealthStatus.HEALTHY)
        await wait_for(pilot, lambda: app.fleet.generation == snapshot.generation)
        assert rebuilt == [True]
        assert table.cells("guestbook")[2].plain == "♥ Healthy"  # type: ignore[index]


class RecordingTable(LineTable):
    def __init__(self) -> None:
        super().__init__((("name", "NAME"), ("sync", "SYNC"), ("dest", "DESTINATION")), id="t")
        self.regions: list[Region] = []

    def refresh(self, *regions: Region, **kwargs: Any) -> Any:
        self.regions += regions
        return super().refresh(*regions, **kwargs)


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield RecordingTable()


def rows(sync: dict[int, Any] | None = None) -> dict[str, tuple[Any, ...]]:
    sync = sync or {}
    return {
        f"app-{i:04}": (f"app-{i:04}", sync.get(i, Text("Synced")), f"cluster/ns-{i}")
        for i in range(20)
    }


async def test_a_changed_cell_redraws_its_own_cells_and_an_unchanged_text_nothing() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(RecordingTable)
        table.sync_rows(rows(), ordered=True)
        await pilot.pause()
        table.regions.clear()
        table.update_rows(rows({3: Text("Failed")}))  # as wide as Synced: no re-layout
        assert table.regions == [Region(len(" app-0000 "), 4, len(" Synced "), 1)]
        table.regions.clear()
        # another cell object with the same text: nothing to draw
        table.update_rows(rows({3: Text("Failed"), 4: "Synced"}))
        assert table.regions == []
        assert "Failed" in table.render_line(4).text
