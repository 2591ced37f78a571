"""The CONDITIONS column of the app list: the first condition's type (short on a narrow
terminal) and how many more; the status row shows it in full, message included."""

from __future__ import annotations

from rich.text import Text

from gitops_tui.engine.api import AppSnapshot
from gitops_tui.ui.symbols import Glyphs

CONDITION_SHORT = {
    "ComparisonError": "Compare",
    "InvalidSpecError": "Spec",
    "SyncError": "Sync",
    "SharedResourceWarning": "Shared",
    "OrphanedResourceWarning": "Orphaned",
    "ExcludedResourceWarning": "Excluded",
    "RepeatedResourceWarning": "Repeated",
    "DeletionError": "Deletion",
    "UnknownError": "Unknown",
}
"""Narrow CONDITIONS cells: the type without its Error/Warning suffix (colour says which),
at most ``SHORT_CONDITION`` characters; the status row shows the full type and message."""

SHORT_CONDITION = 8


def short_condition(kind: str) -> str:
    short = CONDITION_SHORT.get(kind)
    if short is None:
        short = kind.removesuffix("Error").removesuffix("Warning") or kind
    return short if len(short) <= SHORT_CONDITION else short[: SHORT_CONDITION - 1] + "…"


def conditions_text(app: AppSnapshot, glyphs: Glyphs, *, narrow: bool = False) -> Text:
    if not app.conditions:
        return Text("")
    first = app.conditions[0].type
    more = f" +{len(app.conditions) - 1}" if len(app.conditions) > 1 else ""
    style = "yellow" if first.endswith("Warning") else "red"
    shown = short_condition(first) if narrow else first
    return Text(f"{glyphs.warning} {shown}{more}", style=style)


def condition_detail(app: AppSnapshot) -> str:
    """The first condition in full, for the status row: ``app: Type: message (+N more)``."""
    first = app.conditions[0]
    more = f" (+{len(app.conditions) - 1} more)" if len(app.conditions) > 1 else ""
    return f"{app.name}: {first.type}: {first.message}{more}"
