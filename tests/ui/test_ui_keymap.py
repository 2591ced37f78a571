"""Key remapping (the config's ``keymap:``): ids on every binding, applied at startup.

The config validation of ``keymap:`` is in ``tests/unit/test_keymap_config.py``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from fake_engine import FakeEngine
from textual.binding import Binding
from uitest import settles, wait_for

import gitops_tui.ui
from gitops_tui.keymap import BINDING_IDS
from gitops_tui.ui.app import GitOpsApp
from gitops_tui.ui.modals.sync import SyncModal
from gitops_tui.ui.screens.app_list import AppListScreen
from gitops_tui.ui.screens.app_view import AppViewScreen
from gitops_tui.ui.screens.help import HelpScreen

SIZE = (100, 30)


def declared_bindings() -> dict[str, list[Binding]]:
    """Every ``Binding`` a class of ``gitops_tui.ui`` declares, by qualified class name."""
    found: dict[str, list[Binding]] = {}
    for module_info in pkgutil.walk_packages(gitops_tui.ui.__path__, "gitops_tui.ui."):
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or "BINDINGS" not in cls.__dict__:
                continue
            bindings = [b for b in cls.__dict__["BINDINGS"] if isinstance(b, Binding)]
            found[f"{cls.__module__}.{cls.__qualname__}"] = bindings
    return found


def test_every_binding_has_a_listed_id_unique_in_its_class() -> None:
    declared = declared_bindings()
    assert "gitops_tui.ui.screens.app_list.AppListScreen" in declared
    without_id = [f"{cls}: {b.key}" for cls, bs in declared.items() for b in bs if b.id is None]
    assert without_id == []
    for cls, bindings in declared.items():
        ids = [b.id for b in bindings]
        assert len(ids) == len(set(ids)), cls
    used = {b.id for bs in declared.values() for b in bs}
    assert used == set(BINDING_IDS)
    assert len(BINDING_IDS) == len(set(BINDING_IDS))


async def test_remapped_sync_key_opens_the_dialog_and_the_old_key_no_longer_does(
    engine: FakeEngine,
) -> None:
    app = GitOpsApp(engine, keymap={"list.sync": "ctrl+s"})
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, AppListScreen))
        async with settles(pilot):
            await pilot.press("s")
        assert isinstance(app.screen, AppListScreen)
        assert not any(name == "preview" for name, _ in engine.calls)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, SyncModal))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AppListScreen))
        # the help screen lists the effective key
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        keys = {row[2]: row[0] for row in app.screen.rows if row[1] == "this screen"}
        assert keys["Sync"] == app.get_key_display(Binding("ctrl+s", "sync"))
        await pilot.press("escape")
        # the id is per screen: the app view's sync keeps its default key
        await wait_for(pilot, lambda: isinstance(app.screen, AppListScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AppViewScreen))
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SyncModal))


async def test_without_a_keymap_s_opens_the_sync_dialog(engine: FakeEngine) -> None:
    app = GitOpsApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, AppListScreen))
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SyncModal))
