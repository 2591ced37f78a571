"""One object of an app's tree as the cluster has it now (``y`` in the app view).

A describe summary (phase, conditions, containers, managedFields folded), the live
manifest as YAML and, beside it or instead of it (``D``), the desired manifest from
Git. ``/`` searches the shown manifest, ``n`` / ``N`` go to the next / previous match.
Secret values arrive masked from the engine; every string passes ``printable``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar, Literal

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Footer, Input, TextArea

from gitops_tui.engine.api import EngineAPI, FleetSnapshot, LiveObject
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.textsafe import printable
from gitops_tui.ui.inspect_text import describe_text, manifest_yaml
from gitops_tui.ui.messages import EngineCallFailed
from gitops_tui.ui.safe import SafeStatic
from gitops_tui.ui.screens.base import GitOpsScreen
from gitops_tui.ui.widgets.header import FleetHeader, header_text
from gitops_tui.ui.workers import Cancelled, call_blocking

Layout = Literal["live", "both", "desired"]
LAYOUTS: tuple[Layout, ...] = ("live", "both", "desired")


@dataclass
class LiveObjectLoaded(Message):
    token: int
    obj: LiveObject


class ManifestText(TextArea):
    """A read-only manifest: arrows, j/k, g/G move; text can be selected.

    The console's gate for a ``TextArea``: ``load_text`` makes the text printable
    (multi-line), whatever the caller passes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="manifest.cursor-down"),
        Binding("k", "cursor_up", "Up", show=False, id="manifest.cursor-up"),
        Binding("g", "cursor_document_start", "Top", show=False, id="manifest.top"),
        Binding("G", "cursor_document_end", "Bottom", show=False, id="manifest.bottom"),
    ]

    def __init__(self, *, id: str) -> None:
        super().__init__(
            "",
            read_only=True,
            show_line_numbers=False,
            soft_wrap=False,
            id=id,
            show_cursor=True,
        )

    def load_text(self, text: str) -> None:
        super().load_text(printable(text, multiline=True))


class LiveObjectScreen(GitOpsScreen[None]):
    """Live YAML / describe of one resource, the desired manifest beside it."""

    DEFAULT_CSS = """
    LiveObjectScreen #object-summary { height: auto; max-height: 10; padding: 0 1; }
    LiveObjectScreen #manifests { height: 1fr; }
    LiveObjectScreen #live-pane, LiveObjectScreen #desired-pane { width: 1fr; height: 100%; }
    LiveObjectScreen .caption { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    LiveObjectScreen ManifestText { height: 1fr; border: none; padding: 0 1; }
    LiveObjectScreen ManifestText:focus { border: none; }
    LiveObjectScreen #desired-pane { border-left: vkey $panel-lighten-2; }
    LiveObjectScreen .-hidden { display: none; }
    LiveObjectScreen #object-search { dock: bottom; height: 1; border: none; padding: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="object.back"),
        Binding("D", "cycle_layout", "Live/Git", id="object.layout"),
        Binding("slash", "search", "Search", id="object.search"),
        Binding("n", "next_match", "Next match", show=False, id="object.next-match"),
        Binding("N", "previous_match", "Previous match", show=False, id="object.previous-match"),
        Binding("m", "toggle_managed", "managedFields", show=False, id="object.managed-fields"),
        Binding("r", "reload", "Reload", show=False, id="object.reload"),
    ]

    def __init__(self, app_name: str, key: ResourceKey) -> None:
        super().__init__()
        self.app_name = app_name
        self.key = key
        self.obj: LiveObject | None = None
        self.layout_mode: Layout = "live"
        self.query_text = ""
        self.unfold_managed = False
        self._token = 0

    def compose(self) -> ComposeResult:
        yield FleetHeader(id="header")
        yield SafeStatic(f"Loading {self.key.display}...", id="object-summary")
        with Horizontal(id="manifests"):
            with Vertical(id="live-pane"):
                yield SafeStatic("LIVE (cluster)", id="live-caption", classes="caption")
                yield ManifestText(id="live-yaml")
            with Vertical(id="desired-pane"):
                yield SafeStatic("DESIRED (Git)", id="desired-caption", classes="caption")
                yield ManifestText(id="desired-yaml")
        yield Input(
            placeholder="search (enter: find, esc: close)", id="object-search", classes="-hidden"
        )
        yield Footer()

    def on_mount(self) -> None:
        self.fleet_ready = True
        self.fleet_updated(self.gitops.fleet)
        self.layout_mode = "both" if self.size.width >= 140 else "live"
        self._apply_layout()
        self.action_reload()

    def current_app(self) -> str | None:
        return self.app_name

    def fleet_updated(self, fleet: FleetSnapshot) -> None:
        if self.fleet_ready:
            self.query_one(FleetHeader).show(
                header_text(
                    fleet,
                    self.gitops.glyphs,
                    read_only=self.gitops.read_only,
                    crumbs=(self.app_name, f"{self.key.kind}/{self.key.name}"),
                )
            )

    # -- loading ---------------------------------------------------------------------

    def action_reload(self) -> None:
        self._token += 1
        self._load(self.gitops.engine, self.app_name, self.key, self._token)

    @work(thread=True, exclusive=True, exit_on_error=False, group="live-object")
    def _load(self, engine: EngineAPI, app: str, key: ResourceKey, token: int) -> None:
        try:
            obj = call_blocking(engine.live_object, app, key)
        except Cancelled:
            return
        except Exception as exc:
            self.post_message(EngineCallFailed("live object", exc, token=token))
            return
        self.post_message(LiveObjectLoaded(token, obj))

    def on_live_object_loaded(self, message: LiveObjectLoaded) -> None:
        message.stop()
        if message.token != self._token:
            return
        self.obj = message.obj
        self._show_summary()
        fetched = time.strftime("%H:%M:%S", time.localtime(message.obj.fetched_at))
        source = "watch cache" if message.obj.from_cache else "cluster"
        self.query_one("#live-caption", SafeStatic).update(f"LIVE ({source}, {fetched})")
        self._set_text(
            "#live-yaml", manifest_yaml(message.obj.live, missing="# not in the cluster\n")
        )
        self._set_text(
            "#desired-yaml",
            manifest_yaml(
                message.obj.desired,
                missing="# no desired manifest: Git does not describe this object\n",
            ),
        )

    def _set_text(self, selector: str, text: str) -> None:
        area = self.query_one(selector, ManifestText)
        row = area.cursor_location[0]
        area.load_text(text)
        area.move_cursor((min(row, area.document.line_count - 1), 0))

    def on_engine_call_failed(self, message: EngineCallFailed) -> None:
        if message.action == "live object" and message.token == self._token:
            message.stop()
            self.query_one("#object-summary", SafeStatic).update(
                f"Could not read {self.key.display}: {message.error}"
            )

    def _show_summary(self) -> None:
        if self.obj is not None:
            self.query_one("#object-summary", SafeStatic).update(
                describe_text(self.obj, self.gitops.glyphs, unfold_managed=self.unfold_managed)
            )

    # -- layout ----------------------------------------------------------------------

    def action_cycle_layout(self) -> None:
        index = LAYOUTS.index(self.layout_mode)
        self.layout_mode = LAYOUTS[(index + 1) % len(LAYOUTS)]
        self._apply_layout()
        self.notify(f"Showing: {self._layout_label()}", timeout=2)

    def _layout_label(self) -> str:
        return {
            "live": "live manifest",
            "both": "live | desired",
            "desired": "desired manifest (Git)",
        }[self.layout_mode]

    def _apply_layout(self) -> None:
        self.query_one("#live-pane").set_class(self.layout_mode == "desired", "-hidden")
        self.query_one("#desired-pane").set_class(self.layout_mode == "live", "-hidden")
        self.shown_text().focus()

    def shown_text(self) -> ManifestText:
        """The manifest that has (or gets) the focus: search works in it."""
        if self.layout_mode == "desired":
            return self.query_one("#desired-yaml", ManifestText)
        focused = self.focused
        pane = focused.parent if isinstance(focused, ManifestText) else None
        if isinstance(focused, ManifestText) and pane is not None and not pane.has_class("-hidden"):
            return focused
        return self.query_one("#live-yaml", ManifestText)

    def action_toggle_managed(self) -> None:
        self.unfold_managed = not self.unfold_managed
        self._show_summary()

    # -- search ----------------------------------------------------------------------

    def action_search(self) -> None:
        box = self.query_one("#object-search", Input)
        box.remove_class("-hidden")
        box.value = ""
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_text = event.value
        self._close_search()
        self.find(forward=True, from_cursor=False)

    def _close_search(self) -> None:
        self.query_one("#object-search", Input).add_class("-hidden")
        self.shown_text().focus()

    def action_next_match(self) -> None:
        self.find(forward=True)

    def action_previous_match(self) -> None:
        self.find(forward=False)

    def find(self, *, forward: bool, from_cursor: bool = True) -> bool:
        """Select the next (previous) match of the search text in the shown manifest."""
        needle = self.query_text.lower()
        if not needle:
            return False
        area = self.shown_text()
        lines = area.text.split("\n")
        selection = area.selection
        row, col = (selection.end if forward else selection.start) if from_cursor else (0, -1)
        if not from_cursor and not forward:
            row, col = len(lines) - 1, len(lines[-1]) + 1
        order = _positions(lines, needle, row, col, forward)
        for line_no, start in order:
            area.selection = (line_no, start), (line_no, start + len(needle))  # type: ignore[assignment]
            area.scroll_cursor_visible(center=True)
            return True
        self.notify(f"Not found: {self.query_text}", severity="warning", timeout=3)
        return False

    def action_back(self) -> None:
        box = self.query_one("#object-search", Input)
        if not box.has_class("-hidden"):
            self._close_search()
            return
        self.dismiss()


def _positions(
    lines: list[str], needle: str, row: int, col: int, forward: bool
) -> list[tuple[int, int]]:
    """Matches after (before) ``(row, col)``, in search order, wrapping around."""
    found: list[tuple[int, int]] = []
    for number, line in enumerate(lines):
        lowered = line.lower()
        start = lowered.find(needle)
        while start != -1:
            found.append((number, start))
            start = lowered.find(needle, start + 1)
    if forward:
        after = [p for p in found if p > (row, col)]
        return after + [p for p in found if p <= (row, col)]
    before = [p for p in reversed(found) if p < (row, col)]
    return before + [p for p in reversed(found) if p >= (row, col)]
