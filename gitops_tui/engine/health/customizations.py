"""Argo CD resource customizations: parsed from ``argocd-cm``-style keys and script directories.

Sources (merged, later wins, each entry remembering where it came from):

1. the cluster's ``argocd-cm`` ConfigMap (watched by the engine);
2. the same keys in gitops-tui's config file;
3. directories laid out like Argo CD's ``resource_customizations`` tree:
   ``<group>/<kind>/health.lua`` (``<kind>/health.lua`` for the core group), a
   ``_`` directory name matching anything (``_.crossplane.io/_``).

Keys understood (Argo CD's ``util/settings``):

- ``resource.customizations.health.<group>_<kind>``: a health script (``<kind>``
  alone for the core group; ``*`` globs allowed as in Argo CD);
- ``resource.customizations.useOpenLibs.<group>_<kind>``: ``"true"`` gives that
  script the open standard libraries;
- ``resource.customizations`` (the older block form): YAML mapping ``group/Kind``
  to ``health.lua``, ``health.lua.useOpenLibs``, ``actions``,
  ``ignoreDifferences``, ``knownTypeFields``;
- ``resource.customizations.ignoreDifferences.<group>_<kind>`` and ``.all``;
- ``resource.customizations.knownTypeFields.<group>_<kind>``;
- ``resource.customizations.actions.<group>_<kind>``;
- ``resource.exclusions`` / ``resource.inclusions``.

Health scripts are applied (``dispatch.resource_health``) and ``ignoreDifferences``
joins every app's own rules (``system_ignore_rules``); the other keys are parsed,
validated and reported (see ``docs/health.md`` for which are in force).
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from gitops_tui.engine import resource_filter as filters
from gitops_tui.engine.app.ignore_rules import IgnoreRule
from gitops_tui.engine.diff.known_types import supported as supported_known_type

HEALTH_PREFIX = "resource.customizations.health."
OPEN_LIBS_PREFIX = "resource.customizations.useOpenLibs."
IGNORE_PREFIX = "resource.customizations.ignoreDifferences."
KNOWN_TYPES_PREFIX = "resource.customizations.knownTypeFields."
ACTIONS_PREFIX = "resource.customizations.actions."
BLOCK_KEY = "resource.customizations"
EXCLUSIONS_KEY = "resource.exclusions"
INCLUSIONS_KEY = "resource.inclusions"

MAX_SCRIPT_FILES = 5000
MAX_SCRIPT_FILE_BYTES = 256 * 1024
MAX_VALUE_BYTES = 1024 * 1024


def is_customization_key(key: str) -> bool:
    """An ``argocd-cm`` key this module understands (the config file accepts exactly these)."""
    return key in (BLOCK_KEY, EXCLUSIONS_KEY, INCLUSIONS_KEY) or key.startswith(
        (HEALTH_PREFIX, OPEN_LIBS_PREFIX, IGNORE_PREFIX, KNOWN_TYPES_PREFIX, ACTIONS_PREFIX)
    )


@dataclass(frozen=True)
class HealthOverride:
    """One health script for a ``group/Kind`` pattern (core group: ``Kind``)."""

    pattern: str
    script: str
    use_open_libs: bool
    origin: str


@dataclass(frozen=True)
class Entry:
    """A parsed non-health customization (kept as data) and where it came from."""

    pattern: str
    value: Any
    origin: str


@dataclass(frozen=True)
class Customizations:
    """Everything read from one or more sources; ``merged`` layers them (later wins)."""

    health: Mapping[str, HealthOverride] = field(default_factory=dict)
    ignore_differences: Mapping[str, Entry] = field(default_factory=dict)
    known_type_fields: Mapping[str, Entry] = field(default_factory=dict)
    actions: Mapping[str, Entry] = field(default_factory=dict)
    exclusions: Entry | None = None
    inclusions: Entry | None = None
    problems: tuple[str, ...] = ()
    inferred_in_app_health: bool = False
    """Config ``inferredHealth: true``: inferred health counts in app health."""

    def merged(self, later: Customizations) -> Customizations:
        return Customizations(
            health={**self.health, **later.health},
            ignore_differences={**self.ignore_differences, **later.ignore_differences},
            known_type_fields={**self.known_type_fields, **later.known_type_fields},
            actions={**self.actions, **later.actions},
            exclusions=later.exclusions or self.exclusions,
            inclusions=later.inclusions or self.inclusions,
            problems=self.problems + later.problems,
            inferred_in_app_health=self.inferred_in_app_health or later.inferred_in_app_health,
        )

    def resource_filter(self) -> filters.ResourceFilter:
        """``resource.exclusions``/``inclusions`` as the filter the engine applies."""
        return filters.ResourceFilter.of(
            self.exclusions.value if self.exclusions is not None else (),
            self.inclusions.value if self.inclusions is not None else (),
        )

    def health_for(self, group: str, kind: str) -> HealthOverride | None:
        """The script for (group, kind): the exact key first, then the first glob that matches
        (in the order the keys were read), as Argo CD's ``GetHealthScript``."""
        key = f"{group}/{kind}" if group else kind
        exact = self.health.get(key)
        if exact is not None:
            return exact
        for pattern, override in self.health.items():
            if any(c in pattern for c in "*?[") and fnmatch.fnmatchcase(key, pattern):
                return override
        return None

    @property
    def fingerprint(self) -> str:
        """Changes whenever a script or another customization changes (compare signatures)."""
        material = repr(
            (
                sorted((k, v.script, v.use_open_libs) for k, v in self.health.items()),
                sorted((k, repr(v.value)) for k, v in self.ignore_differences.items()),
                sorted((k, repr(v.value)) for k, v in self.known_type_fields.items()),
                sorted((k, repr(v.value)) for k, v in self.actions.items()),
                repr(self.exclusions and self.exclusions.value),
                repr(self.inclusions and self.inclusions.value),
                self.inferred_in_app_health,
            )
        )
        return hashlib.sha1(material.encode(), usedforsecurity=False).hexdigest()

    def report(self) -> list[str]:
        """One line per customization: what it applies to and where it came from."""
        lines = [f"health {k}: {v.origin}" for k, v in sorted(self.health.items())]
        for what, entries in (
            ("ignoreDifferences", self.ignore_differences),
            ("knownTypeFields", self.known_type_fields),
            ("actions", self.actions),
        ):
            lines += [f"{what} {k}: {v.origin}" for k, v in sorted(entries.items())]
        for what, entry in (("exclusions", self.exclusions), ("inclusions", self.inclusions)):
            if entry is not None:
                lines.append(f"{what}: {entry.origin}")
        return lines


EMPTY = Customizations()


# ------------------------------------------------------------------------------ parsing


def _pattern(group_kind: str) -> str:
    """``cert-manager.io_Certificate`` -> ``cert-manager.io/Certificate``; ``Pod`` -> ``Pod``."""
    group, sep, kind = group_kind.partition("_")
    if not sep:
        return group_kind
    return f"{group}/{kind}" if group else kind


def _yaml(value: Any, where: str) -> Any:
    if not isinstance(value, str):
        return value  # the config file may hold the structure itself
    if len(value) > MAX_VALUE_BYTES:
        raise ValueError(f"{where}: larger than {MAX_VALUE_BYTES // 1024} KiB")
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError as exc:
        raise ValueError(f"{where}: not valid YAML: {exc}") from exc


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"


def _script(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: a Lua script must be a string")
    if len(value.encode("utf-8", "replace")) > MAX_SCRIPT_FILE_BYTES:
        raise ValueError(f"{where}: script larger than {MAX_SCRIPT_FILE_BYTES // 1024} KiB")
    return value


def parse_keys(data: Mapping[str, Any], origin: str) -> Customizations:
    """Customizations from ``argocd-cm``-style keys; other keys are ignored. Bad values are
    reported in ``problems`` (each naming ``origin`` and the key) and skipped."""
    health: dict[str, HealthOverride] = {}
    open_libs: dict[str, bool] = {}
    ignores: dict[str, Entry] = {}
    known: dict[str, Entry] = {}
    actions: dict[str, Entry] = {}
    exclusions = inclusions = None
    problems: list[str] = []
    for key in sorted(data):
        value = data[key]
        where = f"{origin}: {key}"
        try:
            if key.startswith(HEALTH_PREFIX):
                pattern = _pattern(key[len(HEALTH_PREFIX) :])
                health[pattern] = HealthOverride(pattern, _script(value, where), False, where)
            elif key.startswith(OPEN_LIBS_PREFIX):
                open_libs[_pattern(key[len(OPEN_LIBS_PREFIX) :])] = _flag(value)
            elif key.startswith(IGNORE_PREFIX):
                suffix = key[len(IGNORE_PREFIX) :]
                pattern = "*" if suffix == "all" else _pattern(suffix)
                ignores[pattern] = Entry(pattern, _ignore_value(_yaml(value, where), where), where)
            elif key.startswith(KNOWN_TYPES_PREFIX):
                pattern = _pattern(key[len(KNOWN_TYPES_PREFIX) :])
                known[pattern] = Entry(pattern, _known_types(_yaml(value, where), where), where)
            elif key.startswith(ACTIONS_PREFIX):
                pattern = _pattern(key[len(ACTIONS_PREFIX) :])
                actions[pattern] = Entry(pattern, _mapping(_yaml(value, where), where), where)
            elif key == BLOCK_KEY:
                block = _block(_yaml(value, where), where)
                for pattern, override in block.health.items():
                    health.setdefault(pattern, override)
                for pattern, entry in block.ignore_differences.items():
                    ignores.setdefault(pattern, entry)
                for pattern, entry in block.known_type_fields.items():
                    known.setdefault(pattern, entry)
                for pattern, entry in block.actions.items():
                    actions.setdefault(pattern, entry)
            elif key == EXCLUSIONS_KEY:
                exclusions = Entry("*", _filters(_yaml(value, where), where), where)
            elif key == INCLUSIONS_KEY:
                inclusions = Entry("*", _filters(_yaml(value, where), where), where)
        except ValueError as exc:
            problems.append(str(exc))
    for pattern, flag in open_libs.items():
        if pattern in health:
            health[pattern] = replace(health[pattern], use_open_libs=flag)
    return Customizations(
        health=health,
        ignore_differences=ignores,
        known_type_fields=known,
        actions=actions,
        exclusions=exclusions,
        inclusions=inclusions,
        problems=tuple(problems),
    )


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: must be a mapping")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: must be a list of strings")
    return tuple(value)


def _ignore_value(value: Any, where: str) -> Mapping[str, tuple[str, ...]]:
    spec = _mapping(value, where)
    allowed = ("jsonPointers", "jqPathExpressions", "managedFieldsManagers")
    for key in spec:
        if key not in allowed:
            raise ValueError(f"{where}: unknown field {key!r} (expected {', '.join(allowed)})")
    parsed = {k: _strings(spec.get(k), f"{where}.{k}") for k in allowed}
    try:  # the pointers and jq paths are checked as the diff will use them
        _ignore_rule("*", parsed)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc
    return parsed


def _ignore_rule(pattern: str, value: Mapping[str, tuple[str, ...]]) -> IgnoreRule:
    group, sep, kind = pattern.rpartition("/")
    return IgnoreRule(
        group=group if sep else ("*" if pattern == "*" else ""),
        kind=kind,
        json_pointers=value.get("jsonPointers", ()),
        jq_path_expressions=value.get("jqPathExpressions", ()),
        managed_fields_managers=value.get("managedFieldsManagers", ()),
    )


def system_ignore_rules(customizations: Customizations) -> list[IgnoreRule]:
    """The ``ignoreDifferences`` customizations (``.all`` and per kind) as the diff's rules,
    applied to every app besides its own ``spec.ignoreDifferences``."""
    return [
        _ignore_rule(pattern, entry.value)
        for pattern, entry in sorted(customizations.ignore_differences.items())
    ]


def _known_types(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        raise ValueError(f"{where}: must be a list of {{field, type}}")
    out = []
    for item in value:
        if not isinstance(item, Mapping) or not isinstance(item.get("field"), str):
            raise ValueError(f"{where}: each item needs a field and a type")
        type_name = str(item.get("type", ""))
        if not supported_known_type(type_name):
            raise ValueError(
                f"{where}: type {type_name!r} is not supported "
                "(core/Quantity, meta/v1/Duration or core/v1/<Type>)"
            )
        out.append((str(item["field"]), type_name))
    return tuple(out)


def _filters(value: Any, where: str) -> tuple[Mapping[str, tuple[str, ...]], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"{where}: must be a list of {{apiGroups, kinds, clusters}}")
    out = []
    for index, item in enumerate(value):
        item = _mapping(item, f"{where}[{index}]")
        for key in item:
            if key not in ("apiGroups", "kinds", "clusters"):
                raise ValueError(
                    f"{where}[{index}]: unknown field {key!r} (expected apiGroups, kinds, clusters)"
                )
        entry = {
            k: _strings(item.get(k), f"{where}[{index}].{k}")
            for k in ("apiGroups", "kinds", "clusters")
        }
        for k in ("apiGroups", "clusters"):
            for pattern in entry[k]:
                if filters.glob_regex(pattern) is None:
                    raise ValueError(f"{where}[{index}].{k}: {pattern!r} is not a valid glob")
        out.append(entry)
    return tuple(out)


def _block(value: Any, where: str) -> Customizations:
    """The older ``resource.customizations`` form: ``group/Kind`` -> its overrides."""
    health: dict[str, HealthOverride] = {}
    ignores: dict[str, Entry] = {}
    known: dict[str, Entry] = {}
    actions: dict[str, Entry] = {}
    for pattern, spec in _mapping(value, where).items():
        item_where = f"{where}[{pattern}]"
        spec = _mapping(spec, item_where)
        pattern = str(pattern)
        if "health.lua" in spec:
            health[pattern] = HealthOverride(
                pattern,
                _script(spec["health.lua"], item_where),
                _flag(spec.get("health.lua.useOpenLibs", False)),
                item_where,
            )
        if "ignoreDifferences" in spec:
            ignores[pattern] = Entry(
                pattern,
                _ignore_value(_yaml(spec["ignoreDifferences"], item_where), item_where),
                item_where,
            )
        if "knownTypeFields" in spec:
            known[pattern] = Entry(
                pattern, _known_types(spec["knownTypeFields"], item_where), item_where
            )
        if "actions" in spec:
            actions[pattern] = Entry(
                pattern, _mapping(_yaml(spec["actions"], item_where), item_where), item_where
            )
    return Customizations(
        health=health, ignore_differences=ignores, known_type_fields=known, actions=actions
    )


def load_directories(directories: Iterable[Path]) -> Customizations:
    """Health scripts from directories in Argo CD's layout (``<group>/<kind>/health.lua``,
    ``<kind>/health.lua`` for the core group, ``_`` matching anything). Scripts found
    there get the open standard libraries, as Argo CD's own tree does."""
    result = EMPTY
    for directory in directories:
        result = result.merged(_load_directory(Path(directory)))
    return result


def _load_directory(directory: Path) -> Customizations:
    health: dict[str, HealthOverride] = {}
    problems: list[str] = []
    if not directory.is_dir():
        return Customizations(problems=(f"healthChecks: {directory} is not a directory",))
    files = sorted(directory.glob("*/health.lua")) + sorted(directory.glob("*/*/health.lua"))
    if len(files) > MAX_SCRIPT_FILES:
        problems.append(
            f"healthChecks: {directory} holds more than {MAX_SCRIPT_FILES} scripts; "
            "the first ones are used"
        )
        files = files[:MAX_SCRIPT_FILES]
    for path in files:
        parts = path.relative_to(directory).parts[:-1]
        names = [p.replace("_", "*") for p in parts]  # group and kind names hold no "_"
        pattern = "/".join(names)
        try:
            if path.stat().st_size > MAX_SCRIPT_FILE_BYTES:
                raise ValueError(f"larger than {MAX_SCRIPT_FILE_BYTES // 1024} KiB")
            script = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            problems.append(f"healthChecks: {path}: {exc}")
            continue
        health[pattern] = HealthOverride(pattern, script, True, str(path))
    actions = _directory_actions(directory, problems)
    return Customizations(health=health, actions=actions, problems=tuple(problems))


def _directory_actions(directory: Path, problems: list[str]) -> dict[str, Entry]:
    """Actions in Argo CD's tree: ``<group>/<kind>/actions/discovery.lua`` and
    ``.../actions/<name>/action.lua`` (``<kind>/actions/...`` for the core group)."""
    actions: dict[str, Entry] = {}
    found = sorted(directory.glob("*/actions/discovery.lua")) + sorted(
        directory.glob("*/*/actions/discovery.lua")
    )
    for path in found[:MAX_SCRIPT_FILES]:
        base = path.parent
        pattern = "/".join(base.relative_to(directory).parts[:-1])
        try:
            value: dict[str, Any] = {"discovery.lua": _read_script(path), "definitions": []}
            for action in sorted(base.glob("*/action.lua"))[:100]:
                value["definitions"].append(
                    {"name": action.parent.name, "action.lua": _read_script(action)}
                )
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            problems.append(f"healthChecks: {path}: {exc}")
            continue
        actions[pattern] = Entry(pattern, value, str(base))
    return actions


def _read_script(path: Path) -> str:
    if path.stat().st_size > MAX_SCRIPT_FILE_BYTES:
        raise ValueError(f"larger than {MAX_SCRIPT_FILE_BYTES // 1024} KiB")
    return path.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ in force

_lock = threading.Lock()
_active: Customizations = EMPTY


def install(customizations: Customizations) -> None:
    """Make ``customizations`` the ones ``resource_health`` applies (process-wide: one engine
    per process; the engine installs its merged sources and reinstalls on changes)."""
    global _active
    with _lock:
        _active = customizations
        filters.install(customizations.resource_filter())


def active() -> Customizations:
    return _active


@contextlib.contextmanager
def installed(customizations: Customizations) -> Iterator[None]:
    """``install`` for the duration of a block (tests, the headless ``health`` check)."""
    before = _active
    install(customizations)
    try:
        yield
    finally:
        install(before)


def layered(sources: Sequence[Customizations]) -> Customizations:
    """Sources in order, later wins."""
    result = EMPTY
    for source in sources:
        result = result.merged(source)
    return result
