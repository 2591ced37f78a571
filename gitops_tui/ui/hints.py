"""Engine messages in the console's words: keys of the sync dialog, not CLI flags.

The engine's messages are shared with the command line, so a hint says "sync with
--force". In the console the same choice is a key of the sync dialog; ``for_console``
rewrites the flags the engine names into those keys (remapped keys included).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

SYNC_DIALOG_KEYS = {"sync.force": "f", "sync.prune": "p", "sync.dry-run": "d"}
"""Binding id -> default key, for the options a hint can name."""

_FLAGS = (
    ("--force", "sync.force", "force"),
    ("--prune", "sync.prune", "prune"),
    ("--dry-run", "sync.dry-run", "dry run"),
)
_NO_FORCE_CONFLICTS = re.compile(r"--no-force-conflicts or ")


def for_console(message: str, keymap: Mapping[str, str] | None = None) -> str:
    """``message`` with each CLI flag replaced by the sync dialog's key for it."""
    text = _NO_FORCE_CONFLICTS.sub("", message)  # no dialog key: the app's sync option says it
    for flag, binding_id, word in _FLAGS:
        if flag not in text:
            continue
        key = (keymap or {}).get(binding_id) or SYNC_DIALOG_KEYS[binding_id]
        key = key.split(",")[0].strip()
        text = re.sub(
            rf"{re.escape(flag)}(?![\w-])", f"{word} (key {key} in the sync dialog)", text
        )
    return text
