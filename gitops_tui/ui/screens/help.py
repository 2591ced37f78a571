"""``?``: every key of the screen underneath, generated from its active bindings.

The list comes from ``Screen.active_bindings`` (the screen's BINDINGS, the
focused widget's and the app's, minus what ``check_action`` hides, so read-only
mode lists no mutating key). Nothing here is written by hand except the legend;
notes such as "R is hard refresh, rollback is in H" live in the bindings'
descriptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen

from gitops_tui.engine.model import HealthStatus, SyncStatus
from gitops_tui.ui.safe import SafeStatic
from gitops_tui.ui.screens.base import GitOpsModal
from gitops_tui.ui.symbols import Glyphs, health_text, sync_text
from gitops_tui.ui.widgets.tables import Cells, KeyedTable

HELP_COLUMNS = (("keys", "KEYS"), ("scope", "WHERE"), ("action", "ACTION"))

WIDGET_SCOPES = {
    "AppTable": "app list",
    "ResourceTree": "resource tree",
    "DiffView": "diff viewer",
    "HistoryTable": "history",
    "PlanTable": "plan",
    "FleetPlanTable": "plan",
    "KeyedTable": "table",
    "FilterInput": "filter box",
    "Input": "input",
}


FRAMEWORK_NOISE = frozenset(
    {
        "copy_text",
        "scroll_home",
        "scroll_end",
        "scroll_left",
        "scroll_right",
        "page_left",
        "page_right",
        "screenshot",
        "maximize",
        "minimize",
    }
)
"""Textual's own actions not worth a help row (our keys for the same action still show)."""


def scope_of(node: object) -> tuple[int, str]:
    """(rank, label) of where a binding is defined: this screen, a widget, or global."""
    if isinstance(node, App):
        return 2, "global"
    if isinstance(node, Screen):
        return 0, "this screen"
    name = type(node).__name__
    return 1, WIDGET_SCOPES.get(name, name.lower())


def ours(node: object, binding: Binding) -> bool:
    """Whether ``binding`` is declared by a gitops-tui class (not one of Textual's defaults);
    a binding the keymap moved to other keys is found by its id."""
    for cls in type(node).__mro__:
        declared = cls.__dict__.get("BINDINGS", ())
        if any(
            isinstance(b, Binding)
            and b.action == binding.action
            and (b.key == binding.key or (b.id is not None and b.id == binding.id))
            for b in declared
        ):
            return cls.__module__.startswith("gitops_tui.")
    return False


def help_rows(app: App[object], bindings: Mapping[str, ActiveBinding]) -> dict[str, Cells]:
    """One row per (scope, action), keys joined: ``j / ↓  app list  Cursor down``.

    Scopes in order: this screen, widgets, global; within a scope gitops-tui's
    own keys come before Textual's defaults, otherwise in declaration order.
    """
    grouped: dict[tuple[int, str, str], tuple[list[str], Binding, bool]] = {}
    for active in bindings.values():
        binding = active.binding
        if binding.system:
            continue
        rank, scope = scope_of(active.node)
        mine = ours(active.node, binding)
        if not mine and binding.action.rpartition(".")[2] in FRAMEWORK_NOISE:
            continue
        where = (rank, scope, binding.action)
        group = grouped.setdefault(where, ([], binding, mine))
        display = app.get_key_display(binding)
        if mine and not group[2]:  # our key and description before Textual's for that action
            group = grouped[where] = ([display, *group[0]], binding, True)
        if display not in group[0]:
            group[0].append(display)
    rows: dict[str, Cells] = {}
    for (rank, scope, action), (keys, binding, _) in sorted(
        grouped.items(), key=lambda kv: (kv[0][0], kv[0][1], not kv[1][2])
    ):
        description = binding.description or binding.tooltip or action.replace("_", " ")
        rows[f"{rank}|{scope}|{action}"] = (" / ".join(keys), scope, description)
    return rows


def legend(glyphs: Glyphs) -> Text:
    text = Text("Legend: ", style="bold")
    for status in SyncStatus:
        text.append_text(sync_text(glyphs, status))
        text.append("  ")
    text.append("\n        ")
    for health in HealthStatus:
        text.append_text(health_text(glyphs, health))
        text.append("  ")
    text.append("\nAUTO column: A automated, P auto-prune, H self-heal, - off.")
    return text


class HelpScreen(GitOpsModal[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="help.close"),
        Binding("q", "close", "Close", show=False, id="help.close-q"),
        Binding("question_mark", "close", "Close", show=False, id="help.close-question-mark"),
    ]

    def __init__(self, title: str, bindings: Mapping[str, ActiveBinding]) -> None:
        super().__init__(classes="dialog-screen")
        self.help_title = title
        self.bindings = dict(bindings)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog"):
            yield SafeStatic(Text(f"Keys: {self.help_title}", style="bold"), classes="dialog-title")
            yield KeyedTable(HELP_COLUMNS, id="help-keys")
            yield SafeStatic(legend(self.gitops.glyphs), id="help-legend")
            yield SafeStatic("esc / q / ?: close", classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(KeyedTable)
        table.sync_rows(help_rows(self.app, self.bindings))
        table.focus()

    @property
    def rows(self) -> list[Cells]:
        table = self.query_one(KeyedTable)
        return [table.cells(key) or () for key in table.keys]

    def action_close(self) -> None:
        self.dismiss(None)
