"""The application list: one row per app, filtered, sorted, updated live by key.

By default a tree (App of Apps): a child app's row follows its parent's, ``-``
collapses a parent, ``T`` switches to the plain sorted list. An ApplicationSet
is a parent row of the apps it generated (``appset_rows``); enter or ``P`` on it
opens its preview. ``space`` marks
apps; ``s`` with marks opens the fleet sync dialog for all of them.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.events import Key, Resize
from textual.widgets import Footer, Input

from gitops_tui.engine.api import AppSnapshot, FleetSnapshot
from gitops_tui.ui.ages import AGE_REFRESH_SECONDS
from gitops_tui.ui.app_cells import (
    APP_COLUMNS,
    NARROW_COLUMNS,
    NARROW_WIDTH,
    app_cells,
    last_sync_age,
)
from gitops_tui.ui.app_table import AppTable
from gitops_tui.ui.app_tree import (
    TreeRow,
    flat_rows,
    has_structure,
    name_cell,
    set_key,
    set_name,
    tree_rows,
)
from gitops_tui.ui.appset_rows import set_cells, shown_sets
from gitops_tui.ui.clipboard import copy_text
from gitops_tui.ui.conditions import condition_detail
from gitops_tui.ui.filtering import SORTS, AppFilter, FilterError, next_sort
from gitops_tui.ui.list_delta import changed_in_place
from gitops_tui.ui.safe import SafeStatic
from gitops_tui.ui.screens.app_delete_verb import AppDeleteVerb
from gitops_tui.ui.screens.appset_preview import AppSetPreviewScreen
from gitops_tui.ui.symbols import Glyphs
from gitops_tui.ui.widgets.header import FleetHeader
from gitops_tui.ui.widgets.line_table import LineTable
from gitops_tui.ui.widgets.tables import Cells

FILTER_HINT = "name  sync:OutOfSync  health:Degraded  project:x  cluster:x  !term"


class FilterInput(Input):
    """The ``/`` filter box; escape clears it, enter goes back to the list."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "screen.clear_filter", "Clear filter", show=False, id="list.filter-clear"
        ),
    ]


class AppListScreen(AppDeleteVerb):
    """Every app the engine knows, one row each."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sync", "Sync", id="list.sync"),
        Binding("d", "diff", "Diff", id="list.diff"),
        Binding("slash", "filter", "Filter", id="list.filter"),
        Binding("S", "cycle_sort", "Sort", id="list.sort"),
        Binding("I", "reverse_sort", "Reverse sort", show=False, id="list.reverse-sort"),
        Binding("p", "prune", "Prune", show=False, id="list.prune"),
        Binding("H", "history", "History / rollback", show=False, id="list.history"),
        Binding("r", "refresh", "Refresh app", show=False, id="list.refresh"),
        Binding(
            "R",
            "hard_refresh",
            "Hard refresh: re-fetch Git (rollback: H, then R)",
            show=False,
            id="list.hard-refresh",
        ),
        Binding("ctrl+r", "refresh_all", "Refresh all apps", show=False, id="list.refresh-all"),
        Binding("t", "terminate", "Terminate sync", show=False, id="list.terminate"),
        Binding("space", "mark", "Mark / unmark for a fleet sync (s)", show=False, id="list.mark"),
        Binding("u", "clear_marks", "Clear marks", show=False, id="list.clear-marks"),
        Binding(
            "minus",
            "toggle_children",
            "Collapse / expand child apps",
            show=False,
            id="list.toggle-children",
        ),
        Binding("T", "toggle_tree", "Tree / flat list", show=False, id="list.toggle-tree"),
        Binding("Y", "copy", "Copy the app's name (OSC 52)", show=False, id="list.copy"),
        Binding(
            "P",
            "appset_preview",
            "ApplicationSet preview / apply",
            show=False,
            id="list.appset-preview",
        ),
        Binding(
            "escape",
            "escape",
            "Clear the filter (first the marks, if any)",
            show=False,
            id="list.escape",
        ),
    ]

    def __init__(self) -> None:
        super().__init__(id="app-list")
        self.app_filter = AppFilter()
        self.sort_by = "name"
        self.sort_reverse = False
        self.tree_mode = True
        self.collapsed: set[str] = set()
        self.marked: set[str] = set()
        self.shown_rows: dict[str, TreeRow] = {}
        """The shown rows by name, as last rendered."""
        self._fleet: FleetSnapshot | None = None
        self._rendered: FleetSnapshot | None = None
        """The fleet the rows show (an update in place needs the one before it)."""
        self._indent = False
        self._shown_count = 0
        self._cells: dict[str, tuple[AppSnapshot, str, Cells]] = {}
        self._names: dict[str, tuple[tuple[TreeRow, bool, bool], str | Text]] = {}
        self._rows: dict[str, tuple[Cells, str | Text, Cells]] = {}
        self._now = 0.0
        self.narrow = False
        self._status_args: tuple[int, int, str] | None = None
        self._status_text: Text | None = None
        """Fewer, shorter columns (``NARROW_COLUMNS``) on a narrow terminal."""

    def compose(self) -> ComposeResult:
        yield FleetHeader(id="header")
        yield FilterInput(placeholder=FILTER_HINT, id="filter", classes="-hidden")
        self.narrow = self.app.size.width < NARROW_WIDTH
        table = AppTable(NARROW_COLUMNS if self.narrow else APP_COLUMNS, id="apps")
        table.fixed_columns = 1  # NAME stays when scrolling right
        yield table
        yield SafeStatic("", id="list-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(AGE_REFRESH_SECONDS, self._ages_moved_on)
        self.fleet_ready = True
        self.query_one(FilterInput).cursor_blink = False
        self.fleet_updated(self.gitops.fleet)
        self.table.focus()

    def on_resize(self, event: Resize) -> None:
        narrow = event.size.width < NARROW_WIDTH
        if narrow == self.narrow:
            return
        self.narrow = narrow
        self._cells, self._names, self._rows = {}, {}, {}
        self.table.set_columns(NARROW_COLUMNS if narrow else APP_COLUMNS)
        self._refresh_rows(rebuild=True)

    @property
    def table(self) -> AppTable:
        return self.query_one(AppTable)

    # -- rendering -------------------------------------------------------------------

    def fleet_updated(self, fleet: FleetSnapshot) -> None:
        old, self._fleet = self._fleet, fleet
        by_name = fleet.by_name
        if len(self._cells) > 2 * len(fleet.apps) + 100:
            self._cells = {k: v for k, v in self._cells.items() if k in by_name}
            self._names = {k: v for k, v in self._names.items() if k in by_name}
            self._rows = {k: v for k, v in self._rows.items() if k in by_name}
        if self.marked:
            self.marked = {name for name in self.marked if name in by_name}
        if self.collapsed:
            sets = {appset.name for appset in fleet.appsets}
            self.collapsed = {n for n in self.collapsed if n in by_name or set_name(n) in sets}
        if old is None or not self._update_in_place(old, fleet):
            self._refresh_rows(rebuild=False, churn=True)

    def _update_in_place(self, old: FleetSnapshot, fleet: FleetSnapshot) -> bool:
        """Only the changed apps' cells, when no row moves (``list_delta``); False: build
        the list again. Keys never wait behind a rebuild of 2,000 rows for 20 changes."""
        if self._rendered is not old or not self.fleet_ready:
            return False
        changed = changed_in_place(old, fleet, self.app_filter, SORTS[self.sort_by][1])
        if changed is None:
            return False
        self._rendered = fleet
        self._now = self.gitops.clock()
        glyphs, shown = self.gitops.glyphs, self.shown_rows
        self.table.update_rows(
            {
                app.name: self._row_cells(app, shown[app.name], glyphs, self._indent)
                for app in changed
                if app.name in shown
            }
        )
        self._show_header(fleet, self._shown_count, churn=True)
        self._show_status(self._shown_count, len(fleet.apps))
        return True

    def _ages_moved_on(self) -> None:
        """Only the cells whose age text changed (in place: no row moves with the clock;
        ApplicationSet rows have ages of their own: the list is built again then)."""
        fleet = self._fleet
        if fleet is None or fleet.appsets or self._rendered is not fleet:
            self._refresh_rows(rebuild=False, churn=True)
            return
        self._now, glyphs = self.gitops.clock(), self.gitops.glyphs
        self.table.update_rows(
            {
                name: self._row_cells(fleet.by_name[name], row, glyphs, self._indent)
                for name, row in self.shown_rows.items()
                if name in fleet.by_name
            }
        )

    def _refresh_rows(self, *, rebuild: bool, churn: bool = False) -> None:
        """``churn``: for a fleet update or the clock, not a key (the header may wait)."""
        fleet = self._fleet
        if fleet is None or not self.fleet_ready:
            return
        self._now = self.gitops.clock()
        glyphs = self.gitops.glyphs
        visible = self.app_filter.apply(fleet.apps)
        by_name = fleet.by_name
        sort_key = SORTS[self.sort_by][1]
        if self.tree_mode:
            shown = {app.name for app in visible}
            rows = tree_rows(
                visible,
                by_name,
                sort_key,
                reverse=self.sort_reverse,
                collapsed=self.collapsed,
                sets=shown_sets(fleet.appsets, shown, filtering=self.app_filter.active),
                set_parents={set_key(s.name): s.parent for s in fleet.appsets if s.parent},
            )
            indent = has_structure(rows)
        else:
            rows = flat_rows(visible, sort_key, reverse=self.sort_reverse)
            indent = False
        self.shown_rows = {row.name: row for row in rows}
        appsets = {appset.name: appset for appset in fleet.appsets}
        columns = [c for c, _ in (NARROW_COLUMNS if self.narrow else APP_COLUMNS)]
        self.table.sync_rows(
            {
                row.name: self._row_cells(by_name[row.name], row, glyphs, indent)
                if row.name in by_name
                else set_cells(
                    appsets[set_name(row.name) or ""], row, columns, by_name, glyphs, self._now
                )
                for row in rows
            },
            ordered=True,
            rebuild=rebuild,
        )
        self._rendered, self._indent, self._shown_count = fleet, indent, len(visible)
        self._show_header(fleet, len(visible), churn=churn)
        self._show_status(len(visible), len(fleet.apps))

    def _show_header(self, fleet: FleetSnapshot, shown: int, *, churn: bool) -> None:
        self.query_one(FleetHeader).show_fleet(
            fleet,
            self.gitops.glyphs,
            read_only=self.gitops.read_only,
            shown=shown,
            where=self.gitops.where(),
            churn=churn,
        )

    def _row_cells(self, app: AppSnapshot, row: TreeRow, glyphs: Glyphs, indent: bool) -> Cells:
        """The row of ``app`` at ``row``; the same tuple while nothing it shows has changed."""
        base = self._cells_of(app, glyphs)
        marked = app.name in self.marked
        if not indent and not marked:
            return base  # the bare name: exactly the cached cells
        where = (row, indent, marked)
        named = self._names.get(app.name)
        if named is None or named[0] != where:
            named = (where, name_cell(row, glyphs, indent=indent, marked=marked))
            self._names[app.name] = named
        name = named[1]
        cached = self._rows.get(app.name)
        if cached is not None and cached[0] is base and cached[1] is name:
            return cached[2]
        cells = (name, *base[1:])
        self._rows[app.name] = (base, name, cells)
        return cells

    def _cells_of(self, app: AppSnapshot, glyphs: Glyphs) -> Cells:
        """Cells of ``app``, reused while the engine hands over the same (immutable) snapshot."""
        age = last_sync_age(app, self._now)
        cached = self._cells.get(app.name)
        if cached is not None and cached[0] is app and cached[1] == age:
            return cached[2]
        cells = app_cells(app, glyphs, narrow=self.narrow, age=age)
        self._cells[app.name] = (app, age, cells)
        return cells

    def _show_status(self, shown: int, total: int, error: str = "") -> None:
        arrow = (
            ("v" if self.sort_reverse else "^")
            if self.gitops.glyphs.ascii
            else ("↓" if self.sort_reverse else "↑")
        )
        parts = [f"sort: {SORTS[self.sort_by][0]} {arrow}"]
        if not self.tree_mode:
            parts.append("flat (T: tree)")
        if self.marked:
            parts.append(f"{len(self.marked)} marked (s: sync them, u: clear)")
        if self.app_filter.active:
            parts.append(f"filter: {self.app_filter.text}")
        if error:
            parts.append(error)
        elif total == 0:
            parts.append("no applications yet")
        elif shown == 0:
            parts.append("no app matches the filter (esc clears it)")
        self._status_args = (shown, total, error)
        text = Text("  ·  ".join(parts))
        app = self._fleet.by_name.get(self.current_app() or "") if self._fleet else None
        if app is not None and app.conditions:  # in full: the cell may be short
            style = "yellow" if app.conditions[0].type.endswith("Warning") else "red"
            text.append(f"\n{self.gitops.glyphs.warning} {condition_detail(app)}", style=style)
        if text != self._status_text:  # an update re-lays out the screen: scrollbars and all
            self._status_text = text
            self.query_one("#list-status", SafeStatic).update(text)

    def on_line_table_row_highlighted(self, event: LineTable.RowHighlighted) -> None:
        if self._status_args is not None:
            self._show_status(*self._status_args)

    # -- verbs -----------------------------------------------------------------------

    def current_app(self) -> str | None:
        key = self.table.cursor_key()
        return None if set_name(key) is not None else key

    def _selected(self) -> str | None:
        name = self.current_app()
        if name is None:
            appset = set_name(self.table.cursor_key())
            self.notify(
                f"ApplicationSet {appset} is not an app: enter or P previews it."
                if appset is not None
                else "No app selected.",
                severity="warning",
                markup=False,
            )
        return name

    def on_line_table_row_selected(self, event: LineTable.RowSelected) -> None:
        event.stop()
        key = event.key
        if (appset := set_name(key)) is not None:
            self.gitops.push_screen(AppSetPreviewScreen(appset))
        else:
            self.gitops.open_app(key)

    def action_appset_preview(self) -> None:
        """The preview of the set under the cursor, or of the set that generated this app."""
        key = self.table.cursor_key()
        appset = set_name(key)
        app = self._fleet.by_name.get(key or "") if self._fleet is not None else None
        if appset is None and app is not None and app.parent_kind == "ApplicationSet":
            appset = app.parent
        if appset is None:
            self.notify("Not an ApplicationSet nor one of its apps.", severity="warning")
            return
        self.gitops.push_screen(AppSetPreviewScreen(appset))

    def action_diff(self) -> None:
        if (name := self._selected()) is not None:
            self.gitops.open_app(name, diff=True)

    def action_sync(self) -> None:
        if self.marked:
            self.gitops.open_fleet_sync(sorted(self.marked), on_started=self._fleet_sync_started)
        elif (name := self._selected()) is not None:
            self.gitops.open_sync(name)

    def _fleet_sync_started(self, count: int) -> None:
        self.clear_marks()

    def action_prune(self) -> None:
        if (name := self._selected()) is not None:
            self.gitops.open_prune(name)

    def action_history(self) -> None:
        if (name := self._selected()) is not None:
            self.gitops.open_history(name)

    def action_refresh(self) -> None:
        if (name := self._selected()) is not None:
            self.gitops.request_refresh(name, hard=False)

    def action_hard_refresh(self) -> None:
        if (name := self._selected()) is not None:
            self.gitops.request_refresh(name, hard=True)

    def action_refresh_all(self) -> None:
        self.gitops.request_refresh(None, hard=False)

    def action_terminate(self) -> None:
        if (name := self._selected()) is not None:
            self.gitops.request_terminate(name)

    def action_copy(self) -> None:
        if (name := self._selected()) is not None:
            copy_text(self.gitops, name, f"app name {name}")

    # -- marks -----------------------------------------------------------------------

    def action_mark(self) -> None:
        name = self._selected()
        fleet = self._fleet
        if name is None or fleet is None:
            return
        if name in self.marked:
            self.marked.discard(name)
        else:
            app = fleet.by_name.get(name)
            if app is not None and app.read_only:
                self.notify(
                    f"{name} targets a read-only context: it cannot be synced.",
                    severity="warning",
                    markup=False,
                )
                return
            self.marked.add(name)
        self._refresh_rows(rebuild=False)

    def action_clear_marks(self) -> None:
        self.clear_marks()

    def clear_marks(self) -> None:
        if self.marked:
            self.marked.clear()
            self._refresh_rows(rebuild=False)

    def action_escape(self) -> None:
        if self.marked:
            self.clear_marks()
        else:
            self.action_clear_filter()

    # -- tree ------------------------------------------------------------------------

    def action_toggle_children(self) -> None:
        """Collapse / expand the parent under the cursor, or the parent of the child there."""
        name = self.table.cursor_key()  # an app's row or an ApplicationSet's
        if name is None:
            self.notify("No app selected.", severity="warning")
            return
        if not self.tree_mode:
            self.notify("The list is flat: press T for the tree.", severity="warning")
            return
        row = self.shown_rows.get(name)
        if row is None:
            return
        if row.children:
            target = name
        elif row.parent is not None:
            target = row.parent
        else:
            self.notify(f"{name} has no child apps.", severity="warning", markup=False)
            return
        if target in self.collapsed:
            self.collapsed.discard(target)
        else:
            self.collapsed.add(target)
        self._refresh_rows(rebuild=True)
        if target != name and target in self.collapsed:
            self.table.move_to_key(target)

    def action_toggle_tree(self) -> None:
        self.tree_mode = not self.tree_mode
        self._refresh_rows(rebuild=True)

    # -- sort and filter -------------------------------------------------------------

    def action_cycle_sort(self) -> None:
        self.set_sort(next_sort(self.sort_by))

    def action_reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._refresh_rows(rebuild=False)

    def set_sort(self, sort_by: str, reverse: bool | None = None) -> None:
        if sort_by not in SORTS:
            raise ValueError(f"unknown sort {sort_by!r} (use {', '.join(SORTS)})")
        self.sort_by = sort_by
        if reverse is not None:
            self.sort_reverse = reverse
        self._refresh_rows(rebuild=False)

    def action_filter(self) -> None:
        box = self.query_one(FilterInput)
        box.remove_class("-hidden")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one(FilterInput)
        if not self.app_filter.active and box.has_class("-hidden"):
            return
        box.value = ""
        self.set_filter("")
        box.add_class("-hidden")
        self.table.focus()

    def set_filter(self, text: str) -> bool:
        """Put ``text`` in the filter box and apply it; False (and a message) when it does not parse."""
        box = self.query_one(FilterInput)
        if box.value != text:
            box.value = text  # its Changed message applies it again: same text, no-op
        return self._apply_filter(text)

    def _apply_filter(self, text: str) -> bool:
        """Apply ``text`` (the box's value: never written back, the user may be typing)."""
        try:
            parsed = AppFilter.parse(text)
        except FilterError as err:
            fleet = self._fleet
            total = len(fleet.apps) if fleet is not None else 0
            self._show_status(self.table.row_count, total, error=str(err))
            return False
        self.app_filter = parsed
        box = self.query_one(FilterInput)
        box.set_class(not parsed.active and not box.has_focus, "-hidden")
        self._refresh_rows(rebuild=True)
        return True

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            event.stop()
            if event.value != event.input.value:
                return  # stale: keys read in one burst; the newest value's message follows
            self._apply_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.stop()
            if self._apply_filter(event.input.value):
                if not self.app_filter.active:
                    event.input.add_class("-hidden")
                self.table.focus()

    def on_key(self, event: Key) -> None:
        # down/up from the filter box go straight to the list (k9s)
        box = self.query_one(FilterInput)
        if box.has_focus and event.key in ("down", "up"):
            event.stop()
            self.table.focus()
