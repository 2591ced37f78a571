"""The Events about one object of an app, or about all of them (``e`` in the app view).

Newest first, warnings highlighted, the full message of the row under the cursor
below the table. Refreshed live: one load at a time, the next one scheduled after
the previous ended (``REFRESH_SECONDS``), so slow clusters never pile up requests;
``r`` reloads now, ``w`` shows only warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Footer

from gitops_tui.engine.api import ClusterEvent, EngineAPI, FleetSnapshot
from gitops_tui.engine.model import ResourceKey
from gitops_tui.ui.inspect_text import event_cells, narrow_event_cells
from gitops_tui.ui.messages import EngineCallFailed
from gitops_tui.ui.safe import SafeStatic
from gitops_tui.ui.screens.base import GitOpsScreen
from gitops_tui.ui.widgets.header import FleetHeader, header_text
from gitops_tui.ui.widgets.tables import KeyedTable
from gitops_tui.ui.workers import Cancelled, call_blocking

REFRESH_SECONDS = 5.0

EVENT_COLUMNS = (
    ("age", "LAST"),
    ("type", "TYPE"),
    ("reason", "REASON"),
    ("object", "OBJECT"),
    ("count", "#"),
    ("message", "MESSAGE"),
)

NARROW_EVENT_COLUMNS = (
    ("age", "LAST"),
    ("reason", "REASON"),
    ("object", "OBJECT"),
    ("message", "MESSAGE"),
)
"""Below ``NARROW_WIDTH`` columns: TYPE goes (a warning's glyph marks its REASON), # goes
to the line below the table, OBJECT is cut in its middle: MESSAGE keeps the rest."""

NARROW_WIDTH = 120


@dataclass
class EventsLoaded(Message):
    token: int
    events: list[ClusterEvent]


class EventsScreen(GitOpsScreen[None]):
    """Events of ``key`` (None: of the whole app)."""

    DEFAULT_CSS = """
    EventsScreen #events-hint { height: 1; padding: 0 1; }
    EventsScreen #events { height: 1fr; }
    EventsScreen #event-message { height: auto; max-height: 5; padding: 0 1; background: $surface; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="events.back"),
        Binding("r", "reload", "Reload", id="events.reload"),
        Binding("w", "toggle_warnings", "Warnings only", id="events.warnings-only"),
    ]

    def __init__(self, app_name: str, key: ResourceKey | None = None) -> None:
        super().__init__()
        self.app_name = app_name
        self.key = key
        self.events: list[ClusterEvent] = []
        self.loaded = False
        self.warnings_only = False
        self._token = 0
        self._timer: Timer | None = None
        self.narrow = False
        """Fewer columns (``NARROW_EVENT_COLUMNS``) on a narrow terminal."""

    @property
    def subject(self) -> str:
        return self.key.display if self.key is not None else f"every object of {self.app_name}"

    def compose(self) -> ComposeResult:
        yield FleetHeader(id="header")
        yield SafeStatic(f"Events of {self.subject}: loading...", id="events-hint")
        self.narrow = self.app.size.width < NARROW_WIDTH
        yield KeyedTable(NARROW_EVENT_COLUMNS if self.narrow else EVENT_COLUMNS, id="events")
        yield SafeStatic("", id="event-message")
        yield Footer()

    def on_mount(self) -> None:
        self.fleet_ready = True
        self.fleet_updated(self.gitops.fleet)
        self.query_one(KeyedTable).focus()
        self.action_reload()

    def on_resize(self, event: Resize) -> None:
        narrow = event.size.width < NARROW_WIDTH
        if narrow != self.narrow:
            self.narrow = narrow
            self.query_one(KeyedTable).set_columns(
                NARROW_EVENT_COLUMNS if narrow else EVENT_COLUMNS
            )
            self._show()

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()

    def current_app(self) -> str | None:
        return self.app_name

    def fleet_updated(self, fleet: FleetSnapshot) -> None:
        if self.fleet_ready:
            crumb = "events" if self.key is None else f"{self.key.kind}/{self.key.name} events"
            self.query_one(FleetHeader).show(
                header_text(
                    fleet,
                    self.gitops.glyphs,
                    read_only=self.gitops.read_only,
                    crumbs=(self.app_name, crumb),
                )
            )

    # -- loading ---------------------------------------------------------------------

    def action_reload(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._token += 1
        self._load(self.gitops.engine, self.app_name, self.key, self._token)

    @work(thread=True, exclusive=True, exit_on_error=False, group="events")
    def _load(self, engine: EngineAPI, app: str, key: ResourceKey | None, token: int) -> None:
        try:
            events = call_blocking(engine.events, app, key)
        except Cancelled:
            return
        except Exception as exc:
            self.post_message(EngineCallFailed("events", exc, token=token))
            return
        self.post_message(EventsLoaded(token, list(events)))

    def _schedule_next(self) -> None:
        if self.is_attached:
            self._timer = self.set_timer(REFRESH_SECONDS, self.action_reload)

    def on_events_loaded(self, message: EventsLoaded) -> None:
        message.stop()
        if message.token != self._token:
            return
        self.loaded = True
        self.events = message.events
        self._show()
        self._schedule_next()

    def on_engine_call_failed(self, message: EngineCallFailed) -> None:
        if message.action == "events" and message.token == self._token:
            message.stop()
            self.query_one("#events-hint", SafeStatic).update(
                Text(f"Could not list the events: {message.error}", style="red")
            )
            self._schedule_next()

    def _show(self) -> None:
        glyphs = self.gitops.glyphs
        now = self.gitops.clock()  # pinned in tests: snapshots do not age
        shown = {
            # keyed by uid: a live reload updates rows in place instead of rebuilding
            e.uid: (narrow_event_cells if self.narrow else event_cells)(e, glyphs, now)
            for e in self.events
            if e.warning or not self.warnings_only
        }
        order = {e.uid: n for n, e in enumerate(self.events)}
        self.query_one(KeyedTable).sync_rows(shown, order=lambda uid: order.get(uid, 0))
        warnings = sum(1 for e in self.events if e.warning)
        hint = Text(f"Events of {self.subject}, newest first: {len(self.events)}")
        if warnings:
            hint.append(f", {warnings} warning{'s' if warnings != 1 else ''}", style="bold yellow")
        if self.warnings_only:
            hint.append(" (warnings only: w)", style="italic")
        if not self.events:
            hint = Text(
                f"No events about {self.subject} (the cluster keeps them about an hour).",
                style="italic",
            )
        self.query_one("#events-hint", SafeStatic).update(hint)
        self._show_message()

    def on_data_table_row_highlighted(self, event: KeyedTable.RowHighlighted) -> None:
        event.stop()
        self._show_message()

    def _show_message(self) -> None:
        uid = self.query_one(KeyedTable).cursor_key()
        found = next((e for e in self.events if e.uid == uid), None)
        text = Text()
        if found is not None:
            text.append(found.object.display, style="bold")
            if found.source:
                text.append(f"  from {found.source}", style="bright_black")
            if found.count > 1:
                text.append(f"  {found.count} times", style="bright_black")
            text.append("\n")
            text.append(found.message, style="yellow" if found.warning else "")
        self.query_one("#event-message", SafeStatic).update(text)

    def action_toggle_warnings(self) -> None:
        self.warnings_only = not self.warnings_only
        self._show()

    def action_back(self) -> None:
        self.dismiss()
