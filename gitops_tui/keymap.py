"""Key remapping: the console's binding ids and the validation of ``keymap:`` in the config.

Every key binding of the console (``gitops_tui.ui``) has a stable id, ``<where>.<what>``
(``list.sync``, ``app-view.diff``, ``table.cursor-down``); ``BINDING_IDS`` lists them
(a test keeps the list equal to the ids the UI declares). The config file's ``keymap:``
maps ids to keys, as Textual's ``App.set_keymap`` takes them::

    keymap:
      list.sync: ctrl+s          # one key
      app-view.diff: d,ctrl+d    # several, comma-separated

A remapped binding answers only to the keys given (its default key is freed); the
help screen (``?``) and the footer show the effective keys. This module imports no
Textual UI code, so the headless commands validate the config cheaply.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.keys import KEY_NAME_REPLACEMENTS, REPLACED_KEYS, Keys, key_to_character

BINDING_IDS: tuple[str, ...] = (
    # anywhere
    "app.help",
    "app.command-line",
    "app.quit",
    # the app list
    "list.open",
    "list.filter-clear",
    "list.sync",
    "list.diff",
    "list.filter",
    "list.sort",
    "list.reverse-sort",
    "list.prune",
    "list.history",
    "list.refresh",
    "list.hard-refresh",
    "list.refresh-all",
    "list.terminate",
    "list.mark",
    "list.clear-marks",
    "list.toggle-children",
    "list.toggle-tree",
    "list.copy",
    "list.escape",
    "list.appset-preview",
    # one app
    "app-view.back",
    "app-view.unzoom",
    "app-view.to-tree",
    "app-view.sync",
    "app-view.diff",
    "app-view.operation",
    "app-view.toggle-context",
    "app-view.toggle-split",
    "app-view.zoom",
    "app-view.prune",
    "app-view.history",
    "app-view.refresh",
    "app-view.hard-refresh",
    "app-view.terminate",
    "app-view.live-yaml",
    "app-view.events",
    "app-view.actions",
    "app-view.delete",
    # an object's live YAML (y) and its events (e)
    "object.back",
    "object.layout",
    "object.search",
    "object.next-match",
    "object.previous-match",
    "object.managed-fields",
    "object.reload",
    "manifest.cursor-down",
    "manifest.cursor-up",
    "manifest.top",
    "manifest.bottom",
    "events.back",
    "events.reload",
    "events.warnings-only",
    # a container's log (l)
    "app-view.logs",
    "logs.back",
    "logs.follow",
    "logs.pause",
    "logs.search",
    "logs.next-match",
    "logs.previous-match",
    "logs.wrap",
    "logs.container",
    "logs.previous",
    "logs.tail",
    "logs.since",
    "logs.top",
    "logs.bottom",
    "logs.reload",
    "choice.cancel",
    "app-view.copy",
    # a shell in a container (x), port forwards (F, f)
    "app-view.exec",
    "app-view.port-forward",
    "app-view.port-forwards",
    "exec.cancel",
    "forward.cancel",
    "forwards.close",
    "forwards.stop",
    # history / rollback
    "history.rollback-enter",
    "history.back",
    "history.rollback",
    "history.reload",
    # an ApplicationSet's preview
    "appset.back",
    "appset.apply",
    "appset.reload",
    # help
    "help.close",
    "help.close-q",
    "help.close-question-mark",
    # the sync dialog
    "sync.prune",
    "sync.dry-run",
    "sync.out-of-sync-only",
    "sync.force",
    "sync.selected-only",
    "sync.confirm",
    "sync.confirm-enter",
    "sync.terminate",
    "sync.terminate-ctrl-c",
    "sync.retry",
    "list.delete-app",
    "delete-app.foreground",
    "delete-app.background",
    "delete-app.orphan",
    "delete-app.cancel",
    "delete-resources.cancel",
    "delete-resources.page-up",
    "delete-resources.page-down",
    "sync.close",
    "sync.help",
    # the fleet sync dialog
    "fleet-sync.prune",
    "fleet-sync.dry-run",
    "fleet-sync.confirm",
    "fleet-sync.confirm-enter",
    "fleet-sync.close",
    "fleet-sync.help",
    # other dialogs
    "prune.cancel",
    "actions.close",
    "actions.down",
    "actions.up",
    "delete.cancel",
    "confirm.yes",
    "confirm.yes-enter",
    "confirm.no",
    "confirm.no-escape",
    "quit.wait",
    "quit.terminate",
    "quit.stay",
    "quit.stay-n",
    "command-line.cancel",
    # widgets: tables, the diff viewer, the resource tree
    "table.cursor-down",
    "table.cursor-up",
    "table.top",
    "table.bottom",
    "table.page-down",
    "table.page-up",
    "diff.scroll-down",
    "diff.scroll-up",
    "diff.scroll-left",
    "diff.scroll-right",
    "diff.top",
    "diff.bottom",
    "diff.page-down",
    "diff.page-up",
    "tree.cursor-down",
    "tree.cursor-up",
    "tree.top",
    "tree.bottom",
    "tree.parent",
    "tree.mark",
    "tree.toggle",
)

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
MAX_KEYS_PER_BINDING = 8

_NAMED_KEYS = frozenset(
    key.value for key in Keys if "+" not in key.value and len(key.value) > 1
) | frozenset({"space", "enter", "tab", "escape", "backspace", "delete"})


class KeymapError(ValueError):
    """A problem with one entry; ``binding_id`` names it (empty for the mapping itself)."""

    def __init__(self, message: str, binding_id: str = "") -> None:
        super().__init__(message)
        self.binding_id = binding_id


def key_name_problem(key: str) -> str | None:
    """Why ``key`` is not a key Textual can bind (``ctrl+s``, ``f5``, ``question_mark``,
    ``?``), or None when it is."""
    if not key:
        return "an empty key"
    if len(key) == 1:
        return None if key.isprintable() and not key.isspace() else f"{key!r} is not a key"
    *modifiers, name = key.split("+")
    unknown = [m for m in modifiers if m not in MODIFIERS]
    if unknown:
        return f"{key!r}: unknown modifier {unknown[0]!r} (known: {', '.join(sorted(MODIFIERS))})"
    if not name:
        return f"{key!r}: no key after the modifiers"
    if len(name) == 1 and name.isprintable() and not name.isspace():
        return None
    if name in _NAMED_KEYS or name in KEY_NAME_REPLACEMENTS.values():
        return None
    if key_to_character(REPLACED_KEYS.get(name, name)) is not None:
        return None  # a character's name: question_mark, colon, minus
    return f"{key!r} is not a key name (examples: s, ctrl+s, f5, enter, question_mark)"


def parse_keys(value: object, binding_id: str) -> str:
    """The keys of one entry, validated, as Textual's comma-separated key string."""
    if not isinstance(value, str):
        raise KeymapError(
            f"must be a key or comma-separated keys like ctrl+s, not {type(value).__name__}",
            binding_id,
        )
    keys = [part.strip() for part in value.split(",")]
    if len(keys) > MAX_KEYS_PER_BINDING:
        raise KeymapError(f"at most {MAX_KEYS_PER_BINDING} keys per binding", binding_id)
    for key in keys:
        problem = key_name_problem(key)
        if problem is not None:
            raise KeymapError(problem, binding_id)
    return ",".join(keys)


def parse_keymap(value: object) -> dict[str, str]:
    """``keymap:`` validated: known binding ids mapped to valid keys (``KeymapError``
    naming the id otherwise)."""
    if not isinstance(value, Mapping):
        raise KeymapError("must map binding ids to keys, like {list.sync: ctrl+s}")
    keymap: dict[str, str] = {}
    for binding_id, keys in value.items():
        if not isinstance(binding_id, str) or binding_id not in BINDING_IDS:
            raise KeymapError("unknown binding id", str(binding_id))
        if keys is None:
            continue
        keymap[binding_id] = parse_keys(keys, binding_id)
    return keymap
