"""Messages between the engine's threads, the UI's workers and the screens.

Everything that crosses a thread arrives as one of these, through the
thread-safe ``post_message``. Results of worker calls carry the token they were
started with (a request, a counter) so the receiver can drop stale ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from gitops_tui.engine.api import FleetSnapshot, HistoryEntry, SyncPreview, SyncRequest
from gitops_tui.engine.diff.resource_diff import ResourceDiff


@dataclass
class SnapshotPublished(Message):
    """The engine published a new fleet snapshot (posted from an engine thread)."""

    snapshot: FleetSnapshot


@dataclass
class EngineCallFailed(Message):
    """A worker's engine call raised; bubbles up to the app's one error handler."""

    action: str
    error: BaseException
    token: object = None


@dataclass
class DiffsLoaded(Message):
    app: str
    context: int
    token: int
    diffs: list[ResourceDiff]


@dataclass
class PreviewReady(Message):
    request: SyncRequest
    preview: SyncPreview


@dataclass
class SyncStarted(Message):
    request: SyncRequest
    operation_id: str


@dataclass
class HistoryLoaded(Message):
    app: str
    token: int
    entries: list[HistoryEntry]


@dataclass
class RollbackStarted(Message):
    app: str
    history_id: int
    operation_id: str


@dataclass
class TerminateDone(Message):
    app: str
    stopped: bool


@dataclass
class FleetPlanReady(Message):
    """``fleet_preview`` answered: per app a preview or an error message."""

    token: int
    previews: dict[str, SyncPreview | str]


@dataclass
class FleetSyncStarted(Message):
    token: int
    app: str
    operation_id: str


@dataclass
class FleetSyncFailed(Message):
    """One app's sync could not start; the others go on."""

    token: int
    app: str
    error: BaseException


@dataclass
class ContextsLoaded(Message):
    token: int
    contexts: list[str]
    default: str | None
    announce: bool


@dataclass
class ContextSet(Message):
    name: str
