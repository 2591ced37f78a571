"""Text of the live-object and events screens: manifests as YAML, a describe summary, ages.

Everything here is built from data read from a cluster: manifests go through
``printable`` (multi-line) before any widget sees them, ``Text`` is built from
plain strings (never markup) and the widgets that show it escape it again
(``SafeStatic``, ``KeyedTable``).
"""

from __future__ import annotations

import time
from typing import Any

import yaml
from rich.text import Text

from gitops_tui.engine.api import ClusterEvent, LiveObject
from gitops_tui.engine.model import Manifest
from gitops_tui.engine.textsafe import printable
from gitops_tui.ui.symbols import Glyphs

MAX_YAML_CHARS = 2_000_000
"""Longest manifest text shown (a larger object is cut, with a note)."""

MAX_DESCRIBE_LINES = 8
"""Most condition / container lines in the describe summary."""


class _Dumper(yaml.SafeDumper):
    """Block style; multi-line strings as literal blocks, as kubectl shows them."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # PyYAML falls back to a quoted style when a literal block cannot hold the value
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def manifest_yaml(obj: Manifest | None, *, missing: str) -> str:
    """``obj`` as YAML for a read-only text view (printable; ``missing`` when None)."""
    if obj is None:
        return missing
    try:
        text = yaml.dump(
            obj,
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=1_000_000,
        )
    except yaml.YAMLError as exc:  # not plain data: say so rather than fail
        text = f"# cannot show this object as YAML: {exc}\n"
    if len(text) > MAX_YAML_CHARS:
        text = text[:MAX_YAML_CHARS] + f"\n# ... cut at {MAX_YAML_CHARS:,} characters\n"
    return printable(text, multiline=True)


def age(seconds_ago: float | None) -> str:
    """``42s``, ``5m``, ``3h``, ``2d`` (``-`` when unknown)."""
    if seconds_ago is None:
        return "-"
    s = max(int(seconds_ago), 0)
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    if s < 172800:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def describe_text(obj: LiveObject, glyphs: Glyphs, *, unfold_managed: bool = False) -> Text:
    """A few lines in the manner of ``kubectl describe``: where the object stands."""
    text = Text()
    live = obj.live
    text.append(obj.key.display, style="bold")
    if live is None:
        text.append("  not in the cluster", style="yellow")
    else:
        meta = _mapping(live.get("metadata"))
        created = meta.get("creationTimestamp")
        if created:
            text.append(f"  created {created}", style="bright_black")
        status = _mapping(live.get("status"))
        phase = status.get("phase")
        if phase:
            text.append(f"  phase {phase}")
        lines = _condition_lines(status) + _container_lines(status)
        for line, warn in lines[:MAX_DESCRIBE_LINES]:
            text.append("\n")
            text.append(line, style="yellow" if warn else "")
        if len(lines) > MAX_DESCRIBE_LINES:
            text.append(f"\n... {len(lines) - MAX_DESCRIBE_LINES} more in status", style="italic")
    if obj.from_cache:
        text.append(
            f"\n{glyphs.warning} the API server did not answer: from the watch cache",
            style="yellow",
        )
    entries = obj.managed_fields
    if entries:
        text.append("\n")
        if unfold_managed:
            text.append("managedFields:", style="bright_black")
            for entry in entries:
                text.append(f"\n  {entry.summary}", style="bright_black")
        else:
            managers = ", ".join(dict.fromkeys(e.manager for e in entries))
            text.append(
                f"managedFields folded: {len(entries)} ({managers})  m: unfold",
                style="bright_black",
            )
    return text


def _condition_lines(status: dict[str, Any]) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for cond in _items(status.get("conditions")):
        state = str(cond.get("status", ""))
        line = f"{cond.get('type', '?')}={state}"
        for part in ("reason", "message"):
            if cond.get(part):
                line += f"  {cond[part]}"
        out.append((printable(line), state == "False"))
    return out


def _container_lines(status: dict[str, Any]) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for cs in _items(status.get("containerStatuses")):
        state = _mapping(cs.get("state"))
        which = next(iter(state), "")
        detail = _mapping(state.get(which)).get("reason", "") if which else ""
        ready = bool(cs.get("ready"))
        line = (
            f"container {cs.get('name', '?')}: {'ready' if ready else 'not ready'}"
            f"{', ' + which if which else ''}{' (' + str(detail) + ')' if detail else ''}"
            f", restarts {cs.get('restartCount', 0)}"
        )
        out.append((printable(line), not ready))
    return out


def event_cells(event: ClusterEvent, glyphs: Glyphs, now: float | None = None) -> tuple[Any, ...]:
    """LAST SEEN, TYPE, REASON, OBJECT, COUNT, MESSAGE of one event row."""
    now = time.time() if now is None else now
    style = "bold yellow" if event.warning else ""
    kind = Text(f"{glyphs.warning} {event.type}" if event.warning else event.type, style=style)
    last = None if event.last_seen is None else now - event.last_seen
    return (
        age(last),
        kind,
        Text(printable(event.reason), style=style),
        f"{event.object.kind}/{event.object.name}",
        str(event.count),
        Text(printable(event.message), style="yellow" if event.warning else ""),
    )


NARROW_OBJECT = 22
"""Cells for OBJECT on a narrow terminal (cut in the middle: generated names differ at the end)."""


def narrow_event_cells(
    event: ClusterEvent, glyphs: Glyphs, now: float | None = None
) -> tuple[Any, ...]:
    """LAST SEEN, REASON (a warning's glyph before it: no TYPE column), OBJECT cut in its
    middle, MESSAGE: the columns of a narrow terminal, so MESSAGE keeps the rest of the
    line (the count and the whole message are in the line below the table)."""
    from gitops_tui.ui.widgets.resource_tree import fit_name

    now = time.time() if now is None else now
    style = "bold yellow" if event.warning else ""
    reason = printable(event.reason)
    last = None if event.last_seen is None else now - event.last_seen
    return (
        age(last),
        Text(f"{glyphs.warning} {reason}" if event.warning else reason, style=style),
        fit_name(f"{event.object.kind}/{event.object.name}", NARROW_OBJECT),
        Text(printable(event.message), style="yellow" if event.warning else ""),
    )
