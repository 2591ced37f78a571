"""The app list's columns and the cells of one app's row (pure: no widgets)."""

from __future__ import annotations

from rich.text import Text

from gitops_tui.engine.api import AppSnapshot, OperationPhase
from gitops_tui.engine.model import HealthStatus, SyncStatus
from gitops_tui.ui.ages import age_text
from gitops_tui.ui.conditions import conditions_text
from gitops_tui.ui.symbols import (
    ASCII,
    HEALTH_STYLE,
    PHASE_STYLE,
    SYNC_STYLE,
    UNICODE,
    Glyphs,
    health_text,
    phase_text,
    sync_text,
)
from gitops_tui.ui.widgets.tables import Cells

APP_COLUMNS = (
    ("name", "NAME"),
    ("sync", "SYNC"),
    ("health", "HEALTH"),
    ("project", "PROJECT"),
    ("revision", "REV"),
    ("auto", "AUTO"),
    ("last_sync", "LAST SYNC"),
    ("destination", "DESTINATION"),
    ("conditions", "CONDITIONS"),
)

NARROW_COLUMNS = (
    ("name", "NAME"),
    ("sync", "SYNC"),
    ("health", "HEALTH"),
    ("last_sync", "LAST SYNC"),
    ("destination", "DESTINATION"),
    ("conditions", "CONDITIONS"),
)
"""Below ``NARROW_WIDTH`` columns: PROJECT, REV and AUTO go (the app view shows them),
SYNC and HEALTH show their glyph only, so DESTINATION and CONDITIONS stay on screen."""

NARROW_WIDTH = 110

AGE_RESERVED = len(" 59m")
"""LAST SYNC reserves its widest phase and an age this long (``age_text``: 2-3 cells)."""


def _widest(texts: list[Text]) -> int:
    return max(text.cell_len for text in texts)


def app_column_floors(columns: tuple[tuple[str, str], ...]) -> dict[str, int]:
    """The least widths of the list's status columns (``LineTable.column_floors``).

    SYNC, HEALTH and LAST SYNC show one of a few words: each reserves its widest in
    either glyph set, so a status that flips under churn (the fleet's first OutOfSync,
    a Running sync) changes one row's cells, never the table's layout (every row on
    screen drawn again: about 16 KB at 200x50). The narrow columns show glyphs under
    wider titles: nothing to reserve."""
    if tuple(columns) != APP_COLUMNS:
        return {}
    sets = (UNICODE, ASCII)
    return {
        "sync": _widest([sync_text(g, s) for g in sets for s in SyncStatus]),
        "health": _widest([health_text(g, h) for g in sets for h in HealthStatus]),
        "last_sync": _widest([phase_text(g, p) for g in sets for p in OperationPhase])
        + AGE_RESERVED,
    }


def automation_flags(app: AppSnapshot) -> str:
    """``APH``: Automated, auto-Prune, self-Heal; ``-`` for each one off."""
    return "".join(
        letter if on else "-"
        for letter, on in (("A", app.automated), ("P", app.auto_prune), ("H", app.self_heal))
    )


def last_sync_age(app: AppSnapshot, now: float) -> str:
    """How long ago the last operation ended (or since it started, while it runs)."""
    op = app.operation if app.operation is not None else app.last_sync
    if op is None:
        return ""
    return age_text(now - (op.finished_at if op.finished_at is not None else op.started_at))


def last_sync_text(
    app: AppSnapshot, glyphs: Glyphs, age: str = "", *, narrow: bool = False
) -> Text:
    """``✓ Succeeded 5m`` (``narrow``: ``✓ 5m``): the phase and how long ago."""
    op = app.operation if app.operation is not None else app.last_sync
    if op is None:
        return Text(glyphs.none, style="bright_black")
    if narrow:
        text = Text(glyphs.phase[op.phase], style=PHASE_STYLE[op.phase])
    else:
        text = phase_text(glyphs, op.phase)
    if op.dry_run:
        text.append(" (dry run)", style="bright_black")
    if op.kind == "delete" and not narrow:
        text.append(" (resources deleted)", style="magenta")
    if age:
        text.append(f" {age}", style="bright_black")
    return text


def app_cells(app: AppSnapshot, glyphs: Glyphs, *, narrow: bool = False, age: str = "") -> Cells:
    if narrow:
        return (
            app.name,
            Text(glyphs.sync[app.sync], style=SYNC_STYLE[app.sync]),
            Text(glyphs.health[app.health], style=HEALTH_STYLE[app.health]),
            last_sync_text(app, glyphs, age, narrow=True),
            app.destination.label,
            conditions_text(app, glyphs, narrow=True),
        )
    return (
        app.name,
        sync_text(glyphs, app.sync),
        health_text(glyphs, app.health),
        app.project,
        app.short_revision or glyphs.none,
        automation_flags(app),
        last_sync_text(app, glyphs, age),
        app.destination.label,
        conditions_text(app, glyphs),
    )
