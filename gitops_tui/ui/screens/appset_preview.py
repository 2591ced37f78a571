"""One ApplicationSet's preview: what its generators produce now against the apps that exist.

Opened with enter or ``P`` on a set's row (or ``P`` on one of its apps). The
engine generates the set again (fetching Git) in a worker and plans it against
the set's current apps: apps to **add**, to **change** (with a diff of the
compared fields: spec, labels, annotations, finalizers) and to **remove**, each
marked with whether the set's ``applicationsSync`` policy lets an apply do it;
names another app already holds; conditions (an error: nothing would be generated,
the apps stay as they are) in words. ``a`` applies, after a confirmation, through
``EngineAPI.appset_apply`` in a worker (read-only refuses with the standard
message); ``r`` previews again. Every string of the set's origin is made
printable by ``SafeStatic``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer

from gitops_tui.engine.api import AppSetApplied, AppSetChange, AppSetPreview, FleetSnapshot
from gitops_tui.ui.modals.confirm import ConfirmModal
from gitops_tui.ui.safe import SafeStatic
from gitops_tui.ui.screens.base import GitOpsScreen
from gitops_tui.ui.symbols import Glyphs
from gitops_tui.ui.widgets.header import FleetHeader
from gitops_tui.ui.workers import run_engine_call

MAX_DIFFS_SHOWN = 50
"""Changes shown with their diff; the others by name only (the CLI prints them all)."""

MAX_NAMES = 30
"""Unchanged apps named before ``+N more``."""


@dataclass
class AppSetPreviewLoaded(Message):
    token: int
    preview: AppSetPreview


@dataclass
class AppSetPreviewFailed(Message):
    token: int
    error: BaseException


@dataclass
class AppSetApplyDone(Message):
    result: AppSetApplied


WORDS = {
    "create": ("+", "add", "green"),
    "update": ("~", "change", "yellow"),
    "delete": ("-", "remove", "red"),
}


def summary_text(preview: AppSetPreview) -> Text:
    """``apply would: add 2 · change 1 · remove 1 · kept back by the policy: 1 · unchanged 5``."""
    pending = preview.pending
    counts = [
        (word, sum(1 for c in pending if c.action == action), style)
        for action, (_, word, style) in WORDS.items()
    ]
    text = Text("apply would: ", style="bold")
    if not pending:
        text.append("nothing", style="bold")
    for index, (word, count, style) in enumerate(c for c in counts if c[1]):
        if index:
            text.append(" · ")
        text.append(f"{word} {count}", style=f"bold {style}")
    kept = len(preview.changes) - len(pending)
    if kept:
        text.append(f" · kept back by the policy: {kept}", style="yellow")
    if preview.conflicts:
        text.append(f" · left alone: {len(preview.conflicts)}", style="magenta")
    text.append(f" · unchanged {len(preview.unchanged)}", style="bright_black")
    return text


def _change_lines(change: AppSetChange, glyphs: Glyphs, *, with_diff: bool) -> Text:
    sign, word, style = WORDS.get(change.action, ("?", change.action, ""))
    text = Text(f"{sign} {word:<7}", style=f"bold {style}" if change.allowed else "bright_black")
    text.append(change.name, style="bold" if change.allowed else "bright_black")
    if change.adopt:
        text.append("  (adopted: it has no owner yet)", style="bright_black")
    if change.fields:
        text.append(f"  {', '.join(change.fields)}", style="cyan")
    if change.action == "delete" and change.allowed:
        text.append(
            "  its resources are deleted too (resources finalizer)"
            if change.cascade
            else "  its resources stay in the cluster",
            style="bright_black",
        )
    if not change.allowed:
        text.append(f"\n    {glyphs.warning} not applied: {change.reason}", style="yellow")
    if with_diff:
        for line in change.diff:
            line_style = (
                "green"
                if line.startswith("+")
                else "red"
                if line.startswith("-")
                else "cyan"
                if line.startswith("@@")
                else ""
            )
            text.append(f"\n    {line}", style=line_style)
    return text


def preview_text(preview: AppSetPreview, glyphs: Glyphs) -> Text:
    """The whole preview, in words (the body of the screen)."""
    parts: list[Text] = []
    if preview.conditions:
        head = Text(
            f"{glyphs.warning} This ApplicationSet generates nothing now; "
            "its apps stay as they are until the problem is fixed:",
            style="bold red",
        )
        parts.append(head)
        for condition in preview.conditions:
            parts.append(Text(f"  {condition.type or 'Error'}: {condition.message}", style="red"))
    for conflict in preview.conflicts:
        parts.append(Text(f"{glyphs.warning} left alone: {conflict}", style="magenta"))
    for index, change in enumerate(preview.changes):
        parts.append(_change_lines(change, glyphs, with_diff=index < MAX_DIFFS_SHOWN))
    hidden = len(preview.changes) - MAX_DIFFS_SHOWN
    if hidden > 0:
        parts.append(
            Text(
                f"(diffs of the last {hidden} changes not shown: "
                "`gitops-tui appset preview` prints them all)",
                style="bright_black",
            )
        )
    if preview.unchanged:
        names = ", ".join(preview.unchanged[:MAX_NAMES])
        more = len(preview.unchanged) - MAX_NAMES
        parts.append(
            Text(
                f"= unchanged: {names}" + (f" and {more} more" if more > 0 else ""),
                style="bright_black",
            )
        )
    if not parts:
        parts.append(Text("The set generates no app and has none.", style="italic"))
    return Text("\n").join(parts)


class AppSetPreviewScreen(GitOpsScreen[None]):
    """``P`` / enter on an ApplicationSet's row."""

    DEFAULT_CSS = """
    AppSetPreviewScreen #appset-summary { height: auto; padding: 0 1; margin-bottom: 1; }
    AppSetPreviewScreen #appset-scroll { height: 1fr; padding: 0 1; }
    AppSetPreviewScreen #appset-body { height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="appset.back"),
        Binding("a", "apply_set", "Apply (asks first)", id="appset.apply"),
        Binding("r", "reload", "Preview again", id="appset.reload"),
    ]

    def __init__(self, appset: str) -> None:
        super().__init__()
        self.appset = appset
        self.preview: AppSetPreview | None = None
        self.error: str = ""
        self._token = 0

    def compose(self) -> ComposeResult:
        yield FleetHeader(id="header")
        yield SafeStatic("", id="appset-summary", markup=False)
        with VerticalScroll(id="appset-scroll"):
            yield SafeStatic("", id="appset-body", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.fleet_ready = True
        self.fleet_updated(self.gitops.fleet)
        self.query_one("#appset-scroll").focus()
        self.action_reload()

    def fleet_updated(self, fleet: FleetSnapshot) -> None:
        if self.fleet_ready:
            self.query_one(FleetHeader).show_fleet(
                fleet,
                self.gitops.glyphs,
                read_only=self.gitops.read_only,
                crumbs=(f"ApplicationSet {self.appset}", "preview"),
                where=self.gitops.where(),
                churn=True,
            )

    # -- loading ---------------------------------------------------------------------

    def action_reload(self) -> None:
        self._token += 1
        engine, name, token = self.gitops.engine, self.appset, self._token
        self.query_one("#appset-summary", SafeStatic).update(
            Text(f"ApplicationSet {name}: generating now (Git is fetched)…", style="italic")
        )
        run_engine_call(
            self,
            lambda: engine.appset_preview(name),
            lambda preview: AppSetPreviewLoaded(token, preview),
            action="appset preview",
            group="appset-preview",
            exclusive=True,
            on_error=lambda exc: AppSetPreviewFailed(token, exc),
        )

    def on_app_set_preview_loaded(self, message: AppSetPreviewLoaded) -> None:
        message.stop()
        if message.token != self._token:
            return
        self.preview, self.error = message.preview, ""
        preview = message.preview
        head = Text(f"ApplicationSet {preview.name}", style="bold cyan")
        head.append(f"  ·  applicationsSync: {preview.policy}")
        if preview.source:
            head.append(f"  ·  {preview.source}", style="bright_black")
        head.append("\n")
        head.append_text(summary_text(preview))
        self.query_one("#appset-summary", SafeStatic).update(head)
        self.query_one("#appset-body", SafeStatic).update(preview_text(preview, self.gitops.glyphs))

    def on_app_set_preview_failed(self, message: AppSetPreviewFailed) -> None:
        message.stop()
        if message.token != self._token:
            return
        self.preview = None
        self.error = str(message.error)
        self.query_one("#appset-summary", SafeStatic).update(
            Text(f"ApplicationSet {self.appset}: no preview", style="bold red")
        )
        self.query_one("#appset-body", SafeStatic).update(Text(self.error, style="red"))
        self.gitops.report_error("appset preview", message.error)

    # -- apply -----------------------------------------------------------------------

    def _refused(self) -> bool:
        """Read-only: the console's standard refusal (the engine refuses as well)."""
        if self.gitops.read_only:
            self.notify("read-only mode: appset apply is disabled.", severity="warning")
            return True
        return False

    def action_apply_set(self) -> None:
        gitops = self.gitops
        if self._refused():
            return
        preview = self.preview
        if preview is None:
            self.notify("No preview yet: wait for it (r previews again).", severity="warning")
            return
        if not preview.pending:
            self.notify(
                f"Nothing to apply for ApplicationSet {self.appset}.",
                severity="warning",
                markup=False,
            )
            return
        gitops.push_screen(
            ConfirmModal(
                f"Apply ApplicationSet {self.appset}?",
                summary_text(preview).plain
                + "\nThe generators run again now (Git fetched) and what the policy "
                f"({preview.policy}) allows is applied.",
                confirm_label="apply",
            ),
            callback=self._confirmed,
        )

    def _confirmed(self, ok: bool | None) -> None:
        if not ok or self._refused():
            return
        engine, name = self.gitops.engine, self.appset
        run_engine_call(
            self,
            lambda: engine.appset_apply(name),
            AppSetApplyDone,
            action="appset apply",
            group="appset-apply",
            exclusive=True,
        )

    def on_app_set_apply_done(self, message: AppSetApplyDone) -> None:
        message.stop()
        result = message.result
        done = ", ".join(result.done) or "nothing changed"
        text = f"ApplicationSet {result.name}: {done}."
        if result.skipped:
            text += f" Kept back by the policy: {len(result.skipped)}."
        problems = [c.message for c in result.conditions] + list(result.conflicts)
        if problems:
            text += " " + " ".join(problems)
        self.notify(text, severity="warning" if problems else "information", markup=False)
        self.action_reload()

    def action_back(self) -> None:
        self.dismiss()
