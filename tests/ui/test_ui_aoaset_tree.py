"""A set rendered by an App of Apps parent: its row nests under the parent app's row."""

from __future__ import annotations

import dataclasses

from fake_appsets import SAMPLE_APPSETS, SET, appset_apps
from fake_engine import FakeEngine, sample_apps
from uitest import screen_text, wait_for

from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.app_tree import set_key
from gitops_tui.ui.screens.app_list import AppListScreen

PARENT = "frontend"  # an App of Apps parent of the sample fleet


async def test_a_set_rendered_by_a_parent_app_is_a_row_under_it() -> None:
    nested = dataclasses.replace(SAMPLE_APPSETS[0], parent=PARENT)
    engine = FakeEngine(sample_apps() + appset_apps(), appsets=(nested, *SAMPLE_APPSETS[1:]))
    app = GitOpsApp(engine)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, AppListScreen)
        await wait_for(pilot, lambda: set_key(SET) in screen.shown_rows)
        row = screen.shown_rows[set_key(SET)]
        assert row.parent == PARENT and row.depth == 1
        assert screen.shown_rows["edge-a"].parent == set_key(SET)
        assert screen.shown_rows["edge-a"].depth == 2
        keys = list(screen.table.keys)
        # the set comes first under its parent, followed by its own apps
        assert keys[keys.index(PARENT) + 1 : keys.index(PARENT) + 4] == [
            set_key(SET),
            "edge-a",
            "edge-b",
        ]
        # collapsing the parent hides the set and its apps
        screen.table.move_to_key(PARENT)
        await pilot.press("minus")
        await wait_for(pilot, lambda: set_key(SET) not in screen.shown_rows)
        assert "edge-a" not in screen.shown_rows
        await wait_for(pilot, lambda: "hidden)" in screen_text(app))
