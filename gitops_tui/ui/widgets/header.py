"""The one-line header: where you are, READ-ONLY, fleet counts, unreachable clusters."""

from __future__ import annotations

from rich.text import Text

from gitops_tui.engine.api import FleetSnapshot
from gitops_tui.engine.model import HealthStatus, SyncStatus
from gitops_tui.ui.safe import SafeStatic
from gitops_tui.ui.symbols import HEALTH_STYLE, SYNC_STYLE, Glyphs

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
) -> Text:
    """``gitops-tui › app │ READ-ONLY │ 7/15 apps │ ✓ 12 Synced ↻ 3 OutOfSync ✗ 1 Degraded``.

    ``compact`` (a narrow terminal): counts without their words (``✓ 12  ↻ 3  ✗ 1``),
    so the unreachable-cluster warning still fits on the one line."""
    sep = ASCII_SEPARATOR if glyphs.ascii else SEPARATOR
    crumb_sep = " > " if glyphs.ascii else " › "
    text = Text()
    text.append("gitops-tui", style="bold")
    for crumb in crumbs:
        text.append(crumb_sep)
        text.append(crumb, style="bold")
    if read_only:
        text.append(sep)
        text.append(" READ-ONLY ", style="bold reverse red")
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


class FleetHeader(SafeStatic):
    """Shows ``header_text`` on one line: the full text when it fits, else the compact
    one (re-chosen on resize); repaints only when the shown text actually changes."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._last: Text | None = None
        self._texts: tuple[Text, Text | None] | None = None

    def show(self, text: Text, compact: Text | None = None) -> None:
        self._texts = (text, compact)
        self._choose()

    def show_fleet(
        self,
        fleet: FleetSnapshot,
        glyphs: Glyphs,
        *,
        read_only: bool,
        crumbs: tuple[str, ...] = (),
        shown: int | None = None,
    ) -> None:
        def build(compact: bool) -> Text:
            return header_text(
                fleet, glyphs, read_only=read_only, crumbs=crumbs, shown=shown, compact=compact
            )

        self.show(build(False), build(True))

    def on_resize(self) -> None:
        self._choose()

    def _choose(self) -> None:
        if self._texts is None:
            return
        full, compact = self._texts
        width = self.size.width or self.app.size.width - 2  # content width (no padding)
        text = compact if compact is not None and full.cell_len > width else full
        if text != self._last:
            self._last = text
            self.update(text)

    @property
    def plain(self) -> str:
        return self._last.plain if self._last is not None else ""
