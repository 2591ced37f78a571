"""One application: resource tree, diff viewer, conditions and the current/last operation."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Footer, Tree

from gitops_tui.engine.api import (
    AppSnapshot,
    AutomationStatus,
    FleetSnapshot,
    ResourceNode,
    follow_tree,
)
from gitops_tui.engine.diff.resource_diff import ResourceDiff
from gitops_tui.engine.model import ResourceKey, SyncStatus
from gitops_tui.engine.textsafe import printable
from gitops_tui.ui.clipboard import copy_text
from gitops_tui.ui.filtering import cluster_label
from gitops_tui.ui.messages import DiffsLoaded, EngineCallFailed
from gitops_tui.ui.safe import SafeStatic
from gitops_tui.ui.screens.events import EventsScreen
from gitops_tui.ui.screens.live_object import LiveObjectScreen
from gitops_tui.ui.screens.pod_logs import open_logs_for
from gitops_tui.ui.screens.resource_verbs import ResourceVerbsScreen
from gitops_tui.ui.symbols import Glyphs, health_text, sync_text
from gitops_tui.ui.widgets.diff_view import DiffView, whole_app_summary
from gitops_tui.ui.widgets.header import FleetHeader
from gitops_tui.ui.widgets.operation_view import OperationView
from gitops_tui.ui.widgets.resource_tree import NodeData, ResourceTree
from gitops_tui.ui.workers import run_engine_call

COMPACT = 3
FULL = -1


def automation_words(app: AppSnapshot) -> str:
    """``auto sync: on (prune, self-heal)`` / ``auto sync: off``: the list's ``APH`` in words."""
    if not app.automated:
        return "auto sync: off"
    extras = [word for word, on in (("prune", app.auto_prune), ("self-heal", app.self_heal)) if on]
    return "auto sync: on" + (f" ({', '.join(extras)})" if extras else "")


def app_summary(app: AppSnapshot, glyphs: Glyphs) -> Text:
    """Two lines, never wrapped (cut with an ellipsis): status, revision, destination;
    then project, automation and the source. Health message and automation hold-ups
    follow on lines of their own."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append_text(sync_text(glyphs, app.sync))
    text.append("  ")
    text.append_text(health_text(glyphs, app.health))
    if app.comparing:
        text.append("  (comparing)", style="bright_black")
    if app.short_revision or app.target_revision:  # an invalid spec has neither: no "rev –"
        text.append(f"  rev {app.short_revision or glyphs.none}")
    if app.target_revision:
        text.append(f" ({app.target_revision})", style="bright_black")
    if app.destination.label:
        text.append(f"  {glyphs.arrow} {app.destination.label}")
    text.append("\n" + (f"project {app.project}  " if app.project else "") + automation_words(app))
    source = f"{app.repo_url} {app.path}".strip()
    if source:
        text.append(f"  {source}", style="bright_black")
    if app.health_message:
        text.append(f"\n{app.health_message}", style="bright_black")
    if app.automation is not None:
        text.append(f"\n{glyphs.warning} {automation_line(app.automation)}", style="yellow")
    return text


def automation_line(status: AutomationStatus) -> str:
    """What holds automated sync back, with the attempt and when it runs next."""
    at = time.strftime("%H:%M:%S", time.localtime(status.next_at)) if status.next_at else ""
    if status.kind == "self-heal":
        return f"self-heal attempt {status.attempt} waits (backoff) until {at}"
    if status.kind == "retry":
        return f"automated sync failed; attempt {status.attempt} at {at} (see SyncError)"
    if status.kind == "failed":
        return f"automated sync failed {status.attempt}x; no more retries (see SyncError)"
    return "automated sync refused: it would delete every resource (allowEmpty is off)"


def conditions_text(app: AppSnapshot, glyphs: Glyphs) -> Text:
    text = Text()
    for index, condition in enumerate(app.conditions):
        if index:
            text.append("\n")
        style = "yellow" if condition.type.endswith("Warning") else "red"
        text.append(f"{glyphs.warning} {condition.type}: ", style=f"bold {style}")
        text.append(condition.message, style=style)
    return text


def node_detail(node: ResourceNode, glyphs: Glyphs) -> Text:
    text = Text()
    text.append(node.key.display, style="bold")
    if node.status is not None:
        text.append("  ")
        text.append_text(sync_text(glyphs, node.status))
    if node.health is not None:
        text.append("  ")
        text.append_text(health_text(glyphs, node.health))
    if node.sync_wave:
        text.append(f"  wave {node.sync_wave}")
    if node.health_message:
        text.append(f"  {node.health_message}", style="bright_black")
    if node.health is not None and node.health_rule:
        text.append(f"  [rule: {printable(node.health_rule)}]", style="bright_black")
    if node.changed_paths:
        text.append("  changed: " + ", ".join(node.changed_paths[:4]), style="yellow")
        if len(node.changed_paths) > 4:
            text.append(f" +{len(node.changed_paths) - 4}", style="yellow")
    return text


class AppViewScreen(ResourceVerbsScreen):
    """Drill-down into one app (``enter`` on the list)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # one key, three meanings; check_action shows the one that applies in the footer
        Binding("escape", "unzoom", "Unzoom", id="app-view.unzoom"),
        Binding("escape", "to_tree", "Tree", id="app-view.to-tree"),
        Binding("escape", "back", "Back", id="app-view.back"),
        Binding("s", "sync", "Sync", id="app-view.sync"),
        Binding("d", "show_diff", "Diff", id="app-view.diff"),
        Binding("o", "show_operation", "Operation", id="app-view.operation"),
        Binding("c", "toggle_context", "Full/compact diff", id="app-view.toggle-context"),
        Binding("v", "toggle_split", "Split/unified diff", show=False, id="app-view.toggle-split"),
        Binding("z", "zoom", "Zoom pane", show=False, id="app-view.zoom"),
        Binding("p", "prune", "Prune", show=False, id="app-view.prune"),
        Binding("H", "history", "History / rollback", show=False, id="app-view.history"),
        Binding("r", "refresh", "Refresh", show=False, id="app-view.refresh"),
        Binding(
            "R",
            "hard_refresh",
            "Hard refresh: re-fetch Git (rollback: H, then R)",
            show=False,
            id="app-view.hard-refresh",
        ),
        Binding("t", "terminate", "Terminate sync", show=False, id="app-view.terminate"),
        Binding("y", "live_object", "Live YAML", show=False, id="app-view.live-yaml"),
        Binding("e", "events", "Events", show=False, id="app-view.events"),
        Binding("l", "logs", "Logs", show=False, id="app-view.logs"),
        Binding(
            "Y",
            "copy",
            "Copy the resource's name, or the diff from the diff viewer (OSC 52)",
            show=False,
            id="app-view.copy",
        ),
    ]

    def __init__(self, app_name: str, *, focus_diff: bool = False) -> None:
        super().__init__()
        self.app_name = app_name
        self.marked: set[ResourceKey] = set()
        self.context = COMPACT
        self.snapshot: AppSnapshot | None = None
        self.diffs: dict[ResourceKey, ResourceDiff] | None = None
        self._diff_token = 0
        self._diff_loaded_for: tuple[float, int] | None = None
        self._focus_diff = focus_diff
        self._gone_reported = False
        self._diffs_generation = 0
        self._shown: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        glyphs = self.gitops.glyphs
        yield FleetHeader(id="header")
        yield SafeStatic("", id="app-summary", markup=False)
        yield SafeStatic("", id="app-conditions", markup=False, classes="-hidden")
        with Horizontal(id="app-body"):
            yield ResourceTree(glyphs, id="tree")
            with Vertical(id="app-right"):
                yield SafeStatic("", id="detail", markup=False)
                with ContentSwitcher(initial="diff", id="right"):
                    yield DiffView(ascii_only=glyphs.ascii, id="diff")
                    yield OperationView(glyphs, keymap=self.gitops.key_overrides, id="operation")
        yield Footer()

    def on_mount(self) -> None:
        # the Argo CD API server backend reads an app's tree only while it is open
        self._unfollow = follow_tree(self.gitops.engine, self.app_name)
        self.fleet_ready = True
        self.fleet_updated(self.gitops.fleet)
        if self._focus_diff:
            self.query_one(DiffView).focus()
        else:
            self.query_one(ResourceTree).focus()

    def on_unmount(self) -> None:
        unfollow = getattr(self, "_unfollow", None)
        if unfollow is not None:
            unfollow()

    # -- accessors -------------------------------------------------------------------

    @property
    def diff_view(self) -> DiffView:
        return self.query_one(DiffView)

    @property
    def pane(self) -> str:
        return self.query_one(ContentSwitcher).current or "diff"

    def current_app(self) -> str | None:
        return self.app_name

    # -- snapshots -------------------------------------------------------------------

    def fleet_updated(self, fleet: FleetSnapshot) -> None:
        if not self.fleet_ready:
            return
        glyphs = self.gitops.glyphs
        app = fleet.by_name.get(self.app_name)
        self.query_one(FleetHeader).show_fleet(
            fleet,
            glyphs,
            read_only=self.gitops.read_only,
            crumbs=(self.app_name,),
            where=self.gitops.where(cluster_label(app.destination) if app is not None else ""),
            churn=True,
        )
        if app is None:
            self.query_one("#app-summary", SafeStatic).update(
                Text(f"{self.app_name} is no longer known to the engine.", style="bold red")
            )
            if not self._gone_reported:
                self._gone_reported = True
                self.notify(f"{self.app_name} disappeared from the fleet.", severity="warning")
            return
        self._gone_reported = False
        self.snapshot = app
        self.query_one("#app-summary", SafeStatic).update(app_summary(app, glyphs))
        conditions = self.query_one("#app-conditions", SafeStatic)
        conditions.set_class(not app.conditions, "-hidden")
        conditions.update(conditions_text(app, glyphs))
        self.marked &= {n.key for n in app.resources}
        self.resource_tree.show_app(app, self.marked)
        self._show_operation()
        if self._diff_loaded_for != (app.compared_at, self.context):
            self.load_diffs()
        else:
            self._show_selection()

    def _show_operation(self) -> None:
        app = self.snapshot
        if app is None:
            return
        running = app.operation is not None and not app.operation.phase.done
        op = app.operation if app.operation is not None else app.last_sync
        self.query_one(OperationView).show_operation(op, running=running)

    # -- diffs -----------------------------------------------------------------------

    def load_diffs(self) -> None:
        app = self.snapshot
        if app is None:
            return
        self._diff_token += 1
        self._diff_loaded_for = (app.compared_at, self.context)
        if self.diffs is None:
            self.diff_view.show_message("Loading diff...")
        engine, name, context, token = (
            self.gitops.engine,
            self.app_name,
            self.context,
            self._diff_token,
        )
        run_engine_call(
            self,
            lambda: engine.diffs(name, context=context),
            lambda diffs: DiffsLoaded(name, context, token, list(diffs)),
            action="diff",
            token=token,
            group="diffs",
            exclusive=True,
        )

    def on_diffs_loaded(self, message: DiffsLoaded) -> None:
        message.stop()
        if message.token != self._diff_token or message.app != self.app_name:
            return  # stale: a newer request is in flight
        self.diffs = {d.key: d for d in message.diffs}
        self._diffs_generation += 1
        self._show_selection()

    def on_engine_call_failed(self, message: EngineCallFailed) -> None:
        # not retried until the app is compared again (r / R), so a broken repo does not
        # turn every snapshot into another failing call and another notification
        current = message.action == "diff" and message.token == self._diff_token
        if current and self.diffs is None:
            self.diff_view.show_message(f"Could not load the diff: {message.error}")

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[NodeData]) -> None:
        event.stop()
        self._show_selection()

    def _show_selection(self) -> None:
        """Point the detail line and the diff viewer at the highlighted tree node."""
        if self.snapshot is None:
            return
        glyphs = self.gitops.glyphs
        data = self.resource_tree.cursor_data
        node = data.node if data is not None else None
        detail = self.query_one("#detail", SafeStatic)
        view = self.diff_view
        modes = f"{'full' if self.context == FULL else 'compact'}, {'split' if view.split else 'unified'}"
        if self.marked:
            modes += f", {len(self.marked)} marked"
        line = Text(f"[{modes}] ", style="bright_black")
        if node is None:
            line.append(whole_app_summary((self.diffs or {}).values()))
        else:
            line.append_text(node_detail(node, glyphs))
        detail.update(line)
        if self.diffs is None:
            return
        selection = None if node is None else node.key
        shown = (selection, self._diffs_generation, self.context)
        if shown == self._shown:
            return  # same content: keep the viewer's scroll position
        same_selection = self._shown is not None and self._shown[0] == selection
        self._shown = shown
        compact = self.context != FULL
        if node is None and not self.diffs and self.snapshot.sync is SyncStatus.UNKNOWN:
            view.show_message(
                "No diff: the app has not been compared with its cluster (see its conditions)."
            )
        elif node is None:
            view.show_diffs(list(self.diffs.values()), compact=compact, keep_scroll=same_selection)
        elif node.key in self.diffs:
            view.show_diffs([self.diffs[node.key]], compact=compact, keep_scroll=same_selection)
        elif node.status is None:
            view.show_message(
                f"{node.key.display} is owned by a managed resource; "
                "diffs exist for the app's managed resources only."
            )
        else:
            view.show_message(f"No diff recorded for {node.key.display} (not compared yet).")

    # -- marking ---------------------------------------------------------------------

    def on_resource_tree_mark_requested(self, message: ResourceTree.MarkRequested) -> None:
        message.stop()
        node = message.node
        if node is None or node.status is None:
            self.notify(
                "Only managed resources can be marked for a selective sync.", severity="warning"
            )
            return
        if node.key in self.marked:
            self.marked.discard(node.key)
        else:
            self.marked.add(node.key)
        self.resource_tree.set_marked(self.marked)
        self._show_selection()

    # -- actions ---------------------------------------------------------------------

    def _escape_does(self) -> str:
        """What esc does now: un-zoom, then from the diff/operation pane to the tree, then out."""
        if self.maximized is not None:
            return "unzoom"
        if self.focused is not None and self.focused is not self.resource_tree:
            return "to_tree"
        return "back"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("unzoom", "to_tree", "back"):
            return action == self._escape_does()  # the footer names what esc will do
        return super().check_action(action, parameters)

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def action_unzoom(self) -> None:
        self.minimize()
        self.refresh_bindings()

    def action_to_tree(self) -> None:
        self.resource_tree.focus()

    def action_back(self) -> None:
        """One level up: un-zoom, then from the diff/operation pane to the tree, then out."""
        what = self._escape_does()
        if what == "unzoom":
            self.action_unzoom()
        elif what == "to_tree":
            self.action_to_tree()
        else:
            self.dismiss()

    def on_diff_view_layout_changed(self, message: DiffView.LayoutChanged) -> None:
        message.stop()
        self._show_selection()  # the mode label says split or unified: keep it true

    def on_diff_view_step_requested(self, message: DiffView.StepRequested) -> None:
        message.stop()
        tree = self.resource_tree
        if message.step > 0:
            tree.action_cursor_down()
        else:
            tree.action_cursor_up()

    def action_show_diff(self) -> None:
        self.query_one(ContentSwitcher).current = "diff"
        self.diff_view.focus()

    def action_show_operation(self) -> None:
        switcher = self.query_one(ContentSwitcher)
        if switcher.current == "operation":
            self.action_show_diff()
            return
        switcher.current = "operation"
        self.query_one("#operation-results").focus()

    def action_toggle_context(self) -> None:
        self.context = COMPACT if self.context == FULL else FULL
        self.load_diffs()
        self._show_selection()

    def action_toggle_split(self) -> None:
        view = self.diff_view
        if view.split:
            view.set_split(False)
        elif view.can_split():
            view.set_split(True)
        else:
            self.notify(
                "Too narrow for side by side: press z to zoom the diff.", severity="warning"
            )
            return
        self._show_selection()

    def action_zoom(self) -> None:
        """Zoom the right pane (the diff or the operation), wherever the focus is."""
        if self.maximized is not None:
            self.action_unzoom()
            return
        if self.pane == "diff":
            target: Widget = self.diff_view
            target.focus()
        else:
            target = self.query_one(OperationView)
            self.query_one("#operation-results").focus()
        self.maximize(target)
        self.refresh_bindings()
        self._show_selection()

    def action_sync(self) -> None:
        self.gitops.open_sync(
            self.app_name, marked=frozenset(self.marked), on_started=self._sync_started
        )

    def _sync_started(self, operation_id: str) -> None:
        self.query_one(ContentSwitcher).current = "operation"

    def action_prune(self) -> None:
        self.gitops.open_prune(self.app_name)

    def action_history(self) -> None:
        self.gitops.open_history(self.app_name)

    def action_refresh(self) -> None:
        self.gitops.request_refresh(self.app_name, hard=False)

    def action_hard_refresh(self) -> None:
        self.gitops.request_refresh(self.app_name, hard=True)

    def action_terminate(self) -> None:
        self.gitops.request_terminate(self.app_name)

    def action_live_object(self) -> None:
        data = self.resource_tree.cursor_data
        if data is None or data.node is None:
            self.notify("Select a resource in the tree to see its live YAML.", severity="warning")
            return
        self.app.push_screen(LiveObjectScreen(self.app_name, data.node.key))

    def action_events(self) -> None:
        """Events of the selected resource; of the whole app on the app's root node."""
        data = self.resource_tree.cursor_data
        key = data.node.key if data is not None and data.node is not None else None
        self.app.push_screen(EventsScreen(self.app_name, key))

    def action_logs(self) -> None:
        """A container's log of the selected Pod (a workload: pick its pods; the root: all)."""
        data = self.resource_tree.cursor_data
        open_logs_for(self, self.app_name, data.node if data is not None else None)

    def action_copy(self) -> None:
        """The diff as shown when the viewer has the focus; else the selected name."""
        if isinstance(self.focused, DiffView):
            copy_text(self.gitops, self.diff_view.text, "the diff")
            return
        data = self.resource_tree.cursor_data
        if data is None or data.node is None:
            copy_text(self.gitops, self.app_name, f"app name {self.app_name}")
            return
        key = data.node.key
        name = f"{key.namespace}/{key.name}" if key.namespace else key.name
        copy_text(self.gitops, name, f"{key.kind} name {name}")
