"""The one-line header: where you are, READ-ONLY, fleet counts, unreachable clusters."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Self

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Region
from textual.timer import Timer

from gitops_tui.engine.api import FleetSnapshot
from gitops_tui.engine.model import HealthStatus, SyncStatus
from gitops_tui.engine.textsafe import printable
from gitops_tui.ui.safe import SafeStatic, safe_visual
from gitops_tui.ui.symbols import HEALTH_STYLE, SYNC_STYLE, Glyphs

CHURN_REPAINT_S = 1.0
"""Fleet counts changed by the engine alone are drawn at most this often (an SSH link
carries every repaint; a key press that changes what the header shows is drawn at once)."""

SEPARATOR = " │ "
ASCII_SEPARATOR = " | "


def header_text(
    fleet: FleetSnapshot,
    glyphs: Glyphs,
    *,
    read_only: bool,
    crumbs: tuple[str, ...] = (),
    shown: int | None = None,
    compact: bool = False,
    where: str = "",
    counts: Mapping[str, int] | None = None,
) -> Text:
    """``gitops-tui › app │ READ-ONLY │ 7/15 apps │ ✓ 12 Synced ↻ 3 OutOfSync ✗ 1 Degraded``.

    ``compact`` (a narrow terminal): counts without their words (``✓ 12  ↻ 3  ✗ 1``),
    so the unreachable-cluster warning still fits on the one line. ``where``: the
    backend, kube context and cluster of the screen (``local · ctx dev · in-cluster``).
    ``counts``: ``fleet.counts()`` when the caller has them already."""
    sep = ASCII_SEPARATOR if glyphs.ascii else SEPARATOR
    crumb_sep = " > " if glyphs.ascii else " › "
    text = Text()
    text.append("gitops-tui", style="bold")
    for crumb in crumbs:
        text.append(crumb_sep)
        text.append(crumb, style="bold")
    if where:
        text.append(sep)
        text.append(printable(where), style="bright_black")
    if read_only:
        text.append(sep)
        text.append(" READ-ONLY ", style="bold reverse red")
    if counts is None:
        counts = fleet.counts()
    total = len(fleet.apps)
    text.append(sep)
    text.append(
        f"{shown}/{total} apps" if shown is not None and shown != total else f"{total} apps"
    )
    text.append(sep)
    parts = (
        (glyphs.sync[SyncStatus.SYNCED], SyncStatus.SYNCED, SYNC_STYLE[SyncStatus.SYNCED]),
        (
            glyphs.sync[SyncStatus.OUT_OF_SYNC],
            SyncStatus.OUT_OF_SYNC,
            SYNC_STYLE[SyncStatus.OUT_OF_SYNC],
        ),
        (
            glyphs.health[HealthStatus.DEGRADED],
            HealthStatus.DEGRADED,
            HEALTH_STYLE[HealthStatus.DEGRADED],
        ),
    )
    for index, (glyph, status, style) in enumerate(parts):
        if index:
            text.append("  ")
        count = counts.get(status.value, 0)
        label = f"{glyph} {count}" if compact else f"{glyph} {count} {status.value}"
        text.append(label, style=style if count else "")
    down = [c.name for c in fleet.clusters if not c.reachable]
    if down:
        text.append(sep)
        label = down[0] if len(down) == 1 else f"{len(down)} clusters"
        text.append(f"{glyphs.warning} {label} unreachable", style="bold yellow")
    return text


def changed_span(old: Text, new: Text) -> tuple[int, int] | None:
    """The cells ``[x0, x1)`` of one line that differ between ``old`` and ``new`` (from the
    first differing character to the end of the longer one); None: draw the whole line
    (several lines, or the common start is styled differently)."""
    shown_old, shown_new = safe_visual(old), safe_visual(new)
    if not isinstance(shown_old, Text) or not isinstance(shown_new, Text):
        return None
    a, b = shown_old.plain, shown_new.plain
    if "\n" in a or "\n" in b or shown_old.style != shown_new.style:
        return None
    same = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        same += 1
    if shown_old[:same] != shown_new[:same]:
        return None
    x0, x1 = cell_len(a[:same]), max(shown_old.cell_len, shown_new.cell_len)
    return (x0, x1) if x1 > x0 else None


class FleetHeader(SafeStatic):
    """Shows ``header_text`` on one line: the full text when it fits, else the compact
    one (re-chosen on resize); repaints only when the shown text actually changes.

    ``show_fleet(..., churn=True)`` (a fleet update, no key involved): when nothing but
    the counts changed (the shown count too: a key that filters is not churn), the new
    text is drawn at most once per ``CHURN_REPAINT_S``,
    the newest winning (a trailing timer draws the last one); anything else (crumbs,
    where, the total count, a cluster down) is drawn at once."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._last: Text | None = None
        self._texts: tuple[Text, ...] = ()
        self._shown_context: tuple[object, ...] | None = None
        self._painted_at = -CHURN_REPAINT_S
        self._churn_timer: Timer | None = None
        self._deferred: Callable[[], tuple[Text, ...]] | None = None
        self._region: Region | None = None
        self.paints = 0
        """Header texts drawn (tests and the benchmark read it)."""

    def show(self, *texts: Text) -> None:
        """The texts from the fullest to the shortest: the first that fits is shown."""
        self._cancel_timer()
        self._texts = texts
        self._choose()

    def show_fleet(
        self,
        fleet: FleetSnapshot,
        glyphs: Glyphs,
        *,
        read_only: bool,
        crumbs: tuple[str, ...] = (),
        shown: int | None = None,
        where: tuple[str, ...] = (),
        churn: bool = False,
    ) -> None:
        """``where``: backend, context, cluster; dropped from the end when space lacks.
        ``churn``: called for a fleet update (see the class docstring)."""

        def texts() -> tuple[Text, ...]:
            counts = fleet.counts()

            def build(compact: bool, parts: tuple[str, ...]) -> Text:
                return header_text(
                    fleet,
                    glyphs,
                    read_only=read_only,
                    crumbs=crumbs,
                    shown=shown,
                    compact=compact,
                    where=" · ".join(p for p in parts if p),
                    counts=counts,
                )

            return (
                build(False, where),
                build(True, where),
                build(True, where[1:2]),  # the context only
                build(True, ()),
            )

        down = tuple(c.name for c in fleet.clusters if not c.reachable)
        context = (crumbs, where, read_only, glyphs.ascii, len(fleet.apps), down)
        same, self._shown_context = context == self._shown_context, context
        wait = self._painted_at + CHURN_REPAINT_S - time.monotonic()
        if churn and same and wait > 0:
            self._deferred = texts  # the newest counts, made and drawn when the time comes
            if self._churn_timer is None:
                self._churn_timer = self.set_timer(wait, self._flush)
            return
        self.show(*texts())

    def _flush(self) -> None:
        self._churn_timer = None
        deferred, self._deferred = self._deferred, None
        if deferred is not None:
            self._texts = deferred()
        self._choose()

    def _cancel_timer(self) -> None:
        self._deferred = None
        if self._churn_timer is not None:
            self._churn_timer.stop()
            self._churn_timer = None

    def on_resize(self) -> None:
        self._choose()

    def _choose(self) -> None:
        if not self._texts:
            return
        width = self.size.width or self.app.size.width - 2  # content width (no padding)
        text = next((t for t in self._texts if t.cell_len <= width), self._texts[-1])
        if text != self._last:
            # a line that fits replacing one that fitted keeps the height: no re-layout
            # (one would repaint every scrollbar on screen at each fleet update)
            fits = text.cell_len <= width
            relayout = not (fits and self._last is not None and self._last.cell_len <= width)
            span = None if relayout or self._last is None else changed_span(self._last, text)
            self._last = text
            self._painted_at = time.monotonic()
            self.paints += 1
            if span is None:
                self.update(text, layout=relayout)
                return
            # only the cells that differ go to the terminal (an SSH link pays per byte):
            # the counts at the end of the line, not its 200 columns
            self._region = Region(span[0], 0, span[1] - span[0], 1)
            try:
                self.update(text, layout=False)
            finally:
                self._region = None

    def refresh(self, *regions: Region, **kwargs: Any) -> Self:
        if self._region is not None and not regions and not kwargs.get("layout"):
            regions = (self._region,)
        return super().refresh(*regions, **kwargs)

    @property
    def plain(self) -> str:
        return self._last.plain if self._last is not None else ""
