"""The list's status columns are as wide as their widest word from the start, so a
status that flips under churn (the fleet's first OutOfSync, Progressing, a Running
sync) never re-lays out the table: only the changed row is drawn again (7b).

Before, the first OutOfSync of an all-Synced fleet widened SYNC and drew every row
on screen again (about 16 KB at 200x50, a whole second and a half of the 7b budget).
"""

from __future__ import annotations

from dataclasses import replace

from fake_engine import FakeEngine, sample_apps
from uitest import wait_for

from gitops_tui.engine.model import HealthStatus, SyncStatus
from gitops_tui.engine.snapshot import OperationPhase
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.app_cells import APP_COLUMNS, NARROW_COLUMNS, app_column_floors
from gitops_tui.ui.screens.app_list import AppTable
from gitops_tui.ui.symbols import ASCII, UNICODE, health_text, phase_text, sync_text

WIDE = (160, 30)


def all_synced_engine() -> FakeEngine:
    apps = sample_apps()
    for fake in apps:
        fake.snapshot = replace(
            fake.snapshot, sync=SyncStatus.SYNCED, health=HealthStatus.HEALTHY, operation=None
        )
    return FakeEngine(apps)


async def test_the_fleets_first_out_of_sync_draws_its_row_only() -> None:
    engine = all_synced_engine()
    app = GitOpsApp(engine)
    async with app.run_test(size=WIDE) as pilot:
        table = app.screen.query_one(AppTable)
        await wait_for(pilot, lambda: table.row_count == 5 and table.paints >= 5)
        widths, before = list(table._widths), table.paints
        snapshot = engine.update_app(
            "guestbook", sync=SyncStatus.OUT_OF_SYNC, health=HealthStatus.PROGRESSING
        )
        await wait_for(pilot, lambda: app.fleet.generation == snapshot.generation)
        await wait_for(pilot, lambda: table.paints > before)
        await pilot.pause()
        assert "↻ OutOfSync" in table.render_line(1 + table.keys.index("guestbook")).text
        assert table._widths == widths  # no column moved
        assert table.paints == before + 1  # the changed row, not every row on screen


def test_the_floors_fit_every_status_word_in_both_glyph_sets() -> None:
    floors = app_column_floors(APP_COLUMNS)
    for glyphs in (UNICODE, ASCII):
        assert max(sync_text(glyphs, s).cell_len for s in SyncStatus) <= floors["sync"]
        assert max(health_text(glyphs, h).cell_len for h in HealthStatus) <= floors["health"]
        longest = max(phase_text(glyphs, p).cell_len for p in OperationPhase)
        assert longest + len(" 59m") <= floors["last_sync"]
    # the narrow columns show glyphs under their titles: nothing to reserve
    assert app_column_floors(NARROW_COLUMNS) == {}
