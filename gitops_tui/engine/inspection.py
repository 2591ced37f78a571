"""What the console shows of one object beyond its diff: the live manifest and the events.

The value types ``EngineAPI.live_object`` and ``EngineAPI.events`` return, and the
pure functions that make them from API objects: ``managedFields`` folded into a
short summary, events read from ``v1`` Event objects, ordered newest first and
bounded. Everything here is data read from a cluster: front ends sanitize its
strings before showing them (``engine.textsafe``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gitops_tui.engine.model import Manifest, ResourceKey, group_of

MAX_EVENTS = 200
"""Most events ``EngineAPI.events`` returns (the newest ones)."""

MAX_EVENT_TEXT = 2_000
"""Longest event message kept (characters); longer ones end in an ellipsis."""

MAX_FIELD_TEXT = 200
"""Longest reason, source or manager name kept (characters)."""


@dataclass(frozen=True, slots=True)
class ManagedFieldsEntry:
    """One entry of ``metadata.managedFields``, folded to what an operator reads."""

    manager: str
    operation: str
    time: str
    subresource: str = ""
    fields: int = 0
    """How many fields the entry owns (leaves of ``fieldsV1``)."""

    @property
    def summary(self) -> str:
        where = f" /{self.subresource}" if self.subresource else ""
        at = f" at {self.time}" if self.time else ""
        return f"{self.manager} ({self.operation}{where}, {self.fields} fields{at})"


@dataclass(frozen=True, slots=True)
class LiveObject:
    """One object as the cluster has it now, beside what Git wants of it.

    ``live`` and ``desired`` are private copies (mutating them changes nothing
    else): ``metadata.managedFields`` removed from ``live`` (folded into
    ``managed_fields``), Secret values masked on both sides the way the diff
    masks them. ``live`` is None when the object does not exist; ``desired`` is
    None when Git does not describe it (Pods, ReplicaSets: live children).
    """

    key: ResourceKey
    live: Manifest | None
    desired: Manifest | None
    managed_fields: tuple[ManagedFieldsEntry, ...] = ()
    fetched_at: float = 0.0
    from_cache: bool = False
    """True when the API server could not be asked and the watch cache answered."""


@dataclass(frozen=True, slots=True)
class ClusterEvent:
    """One Kubernetes Event about an object."""

    uid: str
    object: ResourceKey
    type: str
    reason: str
    message: str
    count: int
    last_seen: float | None
    first_seen: float | None = None
    source: str = ""

    @property
    def warning(self) -> bool:
        return self.type == "Warning"


def fold_managed_fields(obj: Manifest) -> tuple[Manifest, tuple[ManagedFieldsEntry, ...]]:
    """A deep copy of ``obj`` without ``metadata.managedFields``, and those entries folded."""
    out = copy.deepcopy(obj)
    meta = out.get("metadata")
    raw = meta.pop("managedFields", None) if isinstance(meta, dict) else None
    entries: list[ManagedFieldsEntry] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        entries.append(
            ManagedFieldsEntry(
                manager=_text(item.get("manager"), MAX_FIELD_TEXT),
                operation=_text(item.get("operation"), MAX_FIELD_TEXT),
                time=_text(item.get("time"), MAX_FIELD_TEXT),
                subresource=_text(item.get("subresource"), MAX_FIELD_TEXT),
                fields=_count_leaves(item.get("fieldsV1")),
            )
        )
    return out, tuple(entries)


def _count_leaves(fields: Any, depth: int = 0) -> int:
    if not isinstance(fields, dict) or depth > 64:
        return 0
    total = 0
    for name, sub in fields.items():
        if name == ".":
            continue
        total += _count_leaves(sub, depth + 1) if isinstance(sub, dict) and sub else 1
    return total


def parse_time(value: Any) -> float | None:
    """An RFC 3339 timestamp (``2026-12-01T13:00:00Z``, micro time too) as epoch seconds."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def event_from_manifest(obj: Manifest) -> ClusterEvent | None:
    """A ``v1`` Event as a ``ClusterEvent`` (None when it names no object)."""
    involved = obj.get("involvedObject")
    if not isinstance(involved, dict) or not involved.get("kind") or not involved.get("name"):
        return None
    meta = _mapping(obj.get("metadata"))
    series = _mapping(obj.get("series"))
    last = (
        parse_time(series.get("lastObservedTime"))
        or parse_time(obj.get("lastTimestamp"))
        or parse_time(obj.get("eventTime"))
        or parse_time(meta.get("creationTimestamp"))
    )
    first = parse_time(obj.get("firstTimestamp")) or parse_time(obj.get("eventTime")) or last
    count = series.get("count") or obj.get("count") or 1
    source = _mapping(obj.get("source"))
    component = source.get("component") or obj.get("reportingComponent") or ""
    return ClusterEvent(
        uid=_text(meta.get("uid") or meta.get("name"), MAX_FIELD_TEXT),
        object=ResourceKey(
            group=group_of(str(involved.get("apiVersion") or "")),
            kind=_text(involved.get("kind"), MAX_FIELD_TEXT),
            namespace=_text(involved.get("namespace"), MAX_FIELD_TEXT),
            name=_text(involved.get("name"), MAX_FIELD_TEXT),
        ),
        type=_text(obj.get("type") or "Normal", MAX_FIELD_TEXT),
        reason=_text(obj.get("reason"), MAX_FIELD_TEXT),
        message=_text(obj.get("message"), MAX_EVENT_TEXT).strip(),
        count=count if isinstance(count, int) and count > 0 else 1,
        last_seen=last,
        first_seen=first,
        source=_text(component, MAX_FIELD_TEXT),
    )


def newest_first(events: Iterable[ClusterEvent], limit: int = MAX_EVENTS) -> list[ClusterEvent]:
    """The ``limit`` newest events, newest first (undated ones last), each uid once."""
    seen: dict[str, ClusterEvent] = {}
    for event in events:
        seen.setdefault(event.uid, event)
    ordered = sorted(
        seen.values(), key=lambda e: (e.last_seen is not None, e.last_seen or 0.0), reverse=True
    )
    return ordered[: max(limit, 0)]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
