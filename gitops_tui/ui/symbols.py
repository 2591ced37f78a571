"""Status glyphs and colours that still read without colour (and without Unicode).

Every status is shown as ``<glyph> <word>`` so that a monochrome terminal, a
screen reader or a copy-paste keeps the meaning; colour only helps scanning.
The ASCII set is used when the terminal's encoding is not UTF-8 or when
``GITOPS_TUI_ASCII=1``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from rich.text import Text

from gitops_tui.engine.api import OperationPhase, ResultCode
from gitops_tui.engine.model import HealthStatus, SyncStatus
from gitops_tui.engine.sync.plan import TaskAction


@dataclass(frozen=True)
class Glyphs:
    """One glyph per status word; ``ascii`` tells which set this is.

    ``expanded`` / ``collapsed`` / ``branch`` / ``last_branch`` / ``guide`` draw
    the App of Apps tree in the application list.
    """

    ascii: bool
    sync: Mapping[SyncStatus, str]
    health: Mapping[HealthStatus, str]
    phase: Mapping[OperationPhase, str]
    result: Mapping[ResultCode, str]
    action: Mapping[TaskAction, str]
    mark: str
    arrow: str
    warning: str
    none: str
    expanded: str
    collapsed: str
    branch: str
    last_branch: str
    guide: str


UNICODE = Glyphs(
    ascii=False,
    sync={SyncStatus.SYNCED: "✓", SyncStatus.OUT_OF_SYNC: "↻", SyncStatus.UNKNOWN: "?"},
    health={
        HealthStatus.HEALTHY: "♥",
        HealthStatus.SUSPENDED: "‖",
        HealthStatus.PROGRESSING: "◐",
        HealthStatus.MISSING: "○",
        HealthStatus.DEGRADED: "✗",
        HealthStatus.UNKNOWN: "?",
    },
    phase={
        OperationPhase.RUNNING: "⟳",
        OperationPhase.TERMINATING: "■",
        OperationPhase.SUCCEEDED: "✓",
        OperationPhase.FAILED: "✗",
        OperationPhase.ERROR: "!",
    },
    result={
        ResultCode.SYNCED: "✓",
        ResultCode.SYNC_FAILED: "✗",
        ResultCode.PRUNED: "−",
        ResultCode.PRUNE_SKIPPED: "·",
        ResultCode.PENDING: "…",
        ResultCode.RUNNING: "⟳",
        ResultCode.SKIPPED: "·",
    },
    action={
        TaskAction.CREATE: "+",
        TaskAction.UPDATE: "~",
        TaskAction.UNCHANGED: "=",
        TaskAction.PRUNE: "-",
        TaskAction.PRUNE_SKIPPED: "·",
        TaskAction.HOOK: "◆",
    },
    mark="●",
    arrow="→",
    warning="▲",
    none="–",
    expanded="▾",
    collapsed="▸",
    branch="├",
    last_branch="└",
    guide="│",
)

ASCII = Glyphs(
    ascii=True,
    sync={SyncStatus.SYNCED: "=", SyncStatus.OUT_OF_SYNC: "!", SyncStatus.UNKNOWN: "?"},
    health={
        HealthStatus.HEALTHY: "+",
        HealthStatus.SUSPENDED: "|",
        HealthStatus.PROGRESSING: "~",
        HealthStatus.MISSING: "o",
        HealthStatus.DEGRADED: "x",
        HealthStatus.UNKNOWN: "?",
    },
    phase={
        OperationPhase.RUNNING: ">",
        OperationPhase.TERMINATING: "#",
        OperationPhase.SUCCEEDED: "+",
        OperationPhase.FAILED: "x",
        OperationPhase.ERROR: "!",
    },
    result={
        ResultCode.SYNCED: "+",
        ResultCode.SYNC_FAILED: "x",
        ResultCode.PRUNED: "-",
        ResultCode.PRUNE_SKIPPED: ".",
        ResultCode.PENDING: ".",
        ResultCode.RUNNING: ">",
        ResultCode.SKIPPED: ".",
    },
    action={
        TaskAction.CREATE: "+",
        TaskAction.UPDATE: "~",
        TaskAction.UNCHANGED: "=",
        TaskAction.PRUNE: "-",
        TaskAction.PRUNE_SKIPPED: ".",
        TaskAction.HOOK: "*",
    },
    mark="*",
    arrow="->",
    warning="!",
    none="-",
    expanded="v",
    collapsed=">",
    branch="+",
    last_branch="`",
    guide="|",
)

SYNC_STYLE: Mapping[SyncStatus, str] = {
    SyncStatus.SYNCED: "green",
    SyncStatus.OUT_OF_SYNC: "yellow",
    SyncStatus.UNKNOWN: "bright_black",
}

HEALTH_STYLE: Mapping[HealthStatus, str] = {
    HealthStatus.HEALTHY: "green",
    HealthStatus.SUSPENDED: "bright_black",
    HealthStatus.PROGRESSING: "cyan",
    HealthStatus.MISSING: "yellow",
    HealthStatus.DEGRADED: "bold red",
    HealthStatus.UNKNOWN: "bright_black",
}

PHASE_STYLE: Mapping[OperationPhase, str] = {
    OperationPhase.RUNNING: "cyan",
    OperationPhase.TERMINATING: "yellow",
    OperationPhase.SUCCEEDED: "green",
    OperationPhase.FAILED: "bold red",
    OperationPhase.ERROR: "bold red",
}

RESULT_STYLE: Mapping[ResultCode, str] = {
    ResultCode.SYNCED: "green",
    ResultCode.SYNC_FAILED: "bold red",
    ResultCode.PRUNED: "magenta",
    ResultCode.PRUNE_SKIPPED: "bright_black",
    ResultCode.PENDING: "bright_black",
    ResultCode.RUNNING: "cyan",
    ResultCode.SKIPPED: "bright_black",
}

ACTION_STYLE: Mapping[TaskAction, str] = {
    TaskAction.CREATE: "green",
    TaskAction.UPDATE: "yellow",
    TaskAction.UNCHANGED: "bright_black",
    TaskAction.PRUNE: "bold red",
    TaskAction.PRUNE_SKIPPED: "bright_black",
    TaskAction.HOOK: "magenta",
}


def want_ascii(environ: Mapping[str, str] | None = None, encoding: str | None = None) -> bool:
    """True when glyphs should be ASCII: ``GITOPS_TUI_ASCII`` set, or a non-UTF-8 stdout."""
    env = os.environ if environ is None else environ
    forced = env.get("GITOPS_TUI_ASCII", "").strip().lower()
    if forced in ("1", "true", "yes", "on"):
        return True
    if forced in ("0", "false", "no", "off"):
        return False
    enc = encoding if encoding is not None else (getattr(sys.stdout, "encoding", None) or "")
    return "utf" not in enc.lower()


def glyphs_for(ascii_only: bool) -> Glyphs:
    return ASCII if ascii_only else UNICODE


def _labelled(glyph: str, word: str, style: str) -> Text:
    return Text(f"{glyph} {word}", style=style)


def sync_text(glyphs: Glyphs, status: SyncStatus | None) -> Text:
    if status is None:
        return Text("")
    return _labelled(glyphs.sync[status], status.value, SYNC_STYLE[status])


def health_text(glyphs: Glyphs, status: HealthStatus | None) -> Text:
    if status is None:
        return Text("")
    return _labelled(glyphs.health[status], status.value, HEALTH_STYLE[status])


def phase_text(glyphs: Glyphs, phase: OperationPhase) -> Text:
    return _labelled(glyphs.phase[phase], phase.value, PHASE_STYLE[phase])


def result_text(glyphs: Glyphs, code: ResultCode) -> Text:
    return _labelled(glyphs.result[code], code.value, RESULT_STYLE[code])


def action_text(glyphs: Glyphs, action: TaskAction, *, skipped: bool = False) -> Text:
    style = "bright_black" if skipped else ACTION_STYLE[action]
    word = f"{action.value} (skip)" if skipped else action.value
    return _labelled(glyphs.action[action], word, style)
