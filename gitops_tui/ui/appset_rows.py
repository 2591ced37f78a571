"""ApplicationSets in the application list: which set rows show, and their cells (pure).

A set's row (key ``ApplicationSet/NAME``, see ``app_tree.set_key``) sums up its
generated apps (``3 apps``, how many are OutOfSync), names its
``applicationsSync`` policy, when it last generated, and its conditions (an
``ErrorOccurred`` condition: nothing generated now, the apps stay; changes the
policy kept back). Strings from the set's file pass through the table's
``display_cell`` like every other cell.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from rich.text import Text

from gitops_tui.engine.api import AppSetSnapshot, AppSnapshot
from gitops_tui.engine.model import SyncStatus
from gitops_tui.ui.ages import age_text
from gitops_tui.ui.app_tree import TreeRow, name_cell, set_key
from gitops_tui.ui.symbols import Glyphs
from gitops_tui.ui.widgets.tables import Cells


def shown_sets(
    appsets: Sequence[AppSetSnapshot], shown_apps: Collection[str], *, filtering: bool
) -> list[str]:
    """Row keys of the sets to show: all of them, or (``filtering``) those with a shown app."""
    if not filtering:
        return [set_key(s.name) for s in appsets]
    return [set_key(s.name) for s in appsets if any(a in shown_apps for a in s.applications)]


def set_conditions_text(appset: AppSetSnapshot, glyphs: Glyphs) -> Text:
    """``▲ ErrorOccurred +1`` (red), or ``▲ 2 kept back`` (yellow) for skipped changes."""
    if appset.conditions:
        first = appset.conditions[0].type or "ErrorOccurred"
        more = f" +{len(appset.conditions) - 1}" if len(appset.conditions) > 1 else ""
        return Text(f"{glyphs.warning} {first}{more}", style="red")
    if appset.skipped:
        return Text(f"{glyphs.warning} {len(appset.skipped)} kept back", style="yellow")
    return Text("")


def set_cells(
    appset: AppSetSnapshot,
    row: TreeRow,
    columns: Sequence[str],
    apps: Mapping[str, AppSnapshot],
    glyphs: Glyphs,
    now: float,
) -> Cells:
    """The set's row, one cell per column id of the list."""
    children = [apps[name] for name in appset.applications if name in apps]
    out_of_sync = sum(1 for app in children if app.sync is SyncStatus.OUT_OF_SYNC)
    count = Text(f"{len(children)} app{'s' if len(children) != 1 else ''}", style="bright_black")
    if out_of_sync:
        count.append(f" {out_of_sync}{glyphs.sync[SyncStatus.OUT_OF_SYNC]}", style="yellow")
    name = name_cell(row, glyphs, indent=True, marked=False)
    values: dict[str, object] = {
        "name": name,
        "sync": count,
        "health": Text(glyphs.none, style="bright_black"),
        "project": appset.namespace,
        "revision": glyphs.none,
        "auto": appset.policy or glyphs.none,
        "last_sync": Text(
            f"gen {age_text(now - appset.generated_at)}" if appset.generated_at else glyphs.none,
            style="bright_black",
        ),
        "destination": Text(f"policy {appset.policy or glyphs.none}", style="cyan"),
        "conditions": set_conditions_text(appset, glyphs),
    }
    return tuple(values.get(column, "") for column in columns)
