"""The user's config file (``config_dir()/config.yaml``): schema, validation, CLI merging.

Every key is optional and a missing file means defaults. A key set to YAML null
(``context:``) counts as unset. Unknown keys are errors, and every problem of a
file is reported at once, each line naming the file and the key.

Relative paths (``apps``, ``kubeconfig``) are resolved against the config file's
directory; ``~`` is expanded.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, get_args

from gitops_tui.engine.app.parse import parse_duration
from gitops_tui.engine.cache.readonly import ReadOnlyPolicy
from gitops_tui.engine.errors import GitOpsError
from gitops_tui.engine.health.customizations import (
    EMPTY,
    Customizations,
    is_customization_key,
    parse_keys,
)
from gitops_tui.engine.manifest_yaml import (
    ManifestFileError,
    load_manifest_documents,
    read_manifest_text,
)
from gitops_tui.engine.source.limits import ManifestLimits
from gitops_tui.paths import config_dir

CONFIG_FILE = "config.yaml"

DEFAULT_REPO_POLL_INTERVAL_S = 60.0  # remote repositories; local ones are watched
"""How often remote Git is polled (Argo CD polls every 120 s + jitter; we poll more often)."""

Tracking = Literal["annotation", "label"]
"""How managed objects are tied to their app: Argo CD's ``application.resourceTrackingMethod``."""

TRACKING_METHODS: tuple[Tracking, ...] = get_args(Tracking)

_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class ConfigError(GitOpsError, ValueError):
    """The config file is unreadable or invalid; ``problems`` holds one line per problem."""

    title = "Configuration error"

    def __init__(self, problems: str | Sequence[str]) -> None:
        # one problem may come as a plain string (not one problem per character)
        self.problems = (problems,) if isinstance(problems, str) else tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Settings:
    """What the config file (and then the command line) asks for."""

    apps: tuple[Path, ...] = ()
    from_cluster: str | None = None
    kubeconfig: Path | None = None
    context: str | None = None
    read_only: bool = False
    read_only_contexts: frozenset[str] = frozenset()
    repo_poll_interval_s: float = DEFAULT_REPO_POLL_INTERVAL_S
    tracking: Tracking = "annotation"
    # what rendering may fetch besides the app's repositories (engine RenderPolicy)
    kustomize_remote_bases: bool = True  # only from repos the app's project permits
    helm_chart_repositories: bool = False  # for chart dependencies not under charts/
    application_health: bool = False
    """``applicationHealth``: live ``argoproj.io/Application`` objects get the health
    in their ``status.health`` (Argo CD's opt-in ``argoproj.io_Application`` health
    customization). Off by default, as in Argo CD since 1.8; child apps that
    gitops-tui registers itself (App of Apps) count towards their parent either way."""
    force_conflicts: bool = True
    """``forceConflicts: false``: syncs refuse fields other managers own (opt-in)."""
    prediction_cache: bool = True
    """``predictionCache: false``: no dry-run predictions kept on disk (``--no-cache``)."""
    limits: ManifestLimits = ManifestLimits()
    argocd_contexts: tuple[tuple[str, str], ...] = ()
    """``contexts.<name>.argocd.namespace``: (context, Argo CD namespace) pairs; such a
    context is shown through that Argo CD (as ``--argocd NAMESPACE``)."""
    keymap: tuple[tuple[str, str], ...] = ()
    """``keymap:``: (binding id, keys) pairs the console remaps (``gitops_tui.keymap``)."""
    argocd_namespace: str = "argocd"
    """``argocdNamespace``: where the cluster's ``argocd-cm`` (resource customizations) is read."""
    argocd_reconcile_window_s: float = 600.0
    """``argocdReconcileWindow``: an app whose Application an Argo CD controller reconciled
    this recently is left to Argo CD (shown ``ManagedByArgoCD``, local sync refused)."""
    argocd_config_map: bool = True
    """``argocdConfigMap: false``: do not read customizations from the cluster's ``argocd-cm``."""
    health_checks: tuple[Path, ...] = ()
    """``healthChecks:``: directories of ``<group>/<kind>/health.lua`` scripts."""
    inferred_health: bool = False
    """``inferredHealth: true``: the inferred health of custom resources without a rule
    counts in app health (it is shown per resource either way)."""
    customizations: Customizations = field(default=EMPTY, compare=False)
    """The ``resource.customizations.*`` / ``resource.exclusions`` keys of the file (as in
    ``argocd-cm``), parsed."""
    # where settings came from, for messages (not part of what is asked for)
    path: Path | None = field(default=None, compare=False)
    read_only_flag: bool = field(default=False, compare=False)  # --read-only was given
    read_only_in_file: bool = field(default=False, compare=False)  # readOnly: true in ``path``

    def read_only_policy(self) -> ReadOnlyPolicy:
        """Read-only as the engine applies it, naming the flag or this file as its origin."""
        return ReadOnlyPolicy(
            flag=self.read_only_flag,
            config_read_only=self.read_only and (self.read_only_in_file or not self.read_only_flag),
            contexts=self.read_only_contexts,
            config_path=self.path,
        )


class _Invalid(ValueError):
    """One value's problem; ``where`` extends the key path (``prod.readOnly``)."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.where = where


# --------------------------------------------------------------------------- field parsers


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"must be a string, not {_type_name(value)}")
    if not value.strip():
        raise _Invalid("must not be empty")
    return value


def _path(value: Any, base: Path) -> Path:
    return base / Path(_text(value)).expanduser()


def _apps(value: Any, base: Path) -> tuple[Path, ...]:
    if not isinstance(value, list):
        raise _Invalid(f"must be a list of paths, not {_type_name(value)}")
    paths = []
    for index, item in enumerate(value):
        try:
            paths.append(_path(item, base))
        except _Invalid as exc:
            raise _Invalid(str(exc), f"[{index}]") from exc
    return tuple(paths)


def _namespace(value: Any) -> str:
    name = _text(value)
    if len(name) > 63 or not _NAMESPACE.match(name):
        raise _Invalid(f"{name!r} is not a namespace name (lower-case letters, digits and '-')")
    return name


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"must be true or false, not {_type_name(value)}")
    return value


def _read_only_contexts(value: Any) -> frozenset[str]:
    if not isinstance(value, dict):
        raise _Invalid(f"must map context names to settings, not {_type_name(value)}")
    read_only: set[str] = set()
    for name, options in value.items():
        if options is None:
            continue
        if not isinstance(options, dict):
            raise _Invalid(
                f"must be a mapping like {{readOnly: true}}, not {_type_name(options)}", f".{name}"
            )
        for key in options:
            if key not in _CONTEXT_KEYS:
                raise _Invalid(f"unknown key{_suggestion(key, _CONTEXT_KEYS)}", f".{name}.{key}")
        flag = options.get("readOnly")
        if flag is None:
            continue
        try:
            if _boolean(flag):
                read_only.add(name)
        except _Invalid as exc:
            raise _Invalid(str(exc), f".{name}.readOnly") from exc
    return frozenset(read_only)


_CONTEXT_KEYS = ["readOnly", "argocd"]


def _argocd_contexts(value: Any) -> tuple[tuple[str, str], ...]:
    """``contexts.<name>.argocd: {namespace: argocd}``: contexts shown through Argo CD.

    ``value`` was checked by ``_read_only_contexts`` (a mapping of mappings).
    """
    out: list[tuple[str, str]] = []
    for name, options in value.items():
        argo = options.get("argocd") if isinstance(options, dict) else None
        if argo is None:
            continue
        where = f".{name}.argocd"
        if not isinstance(argo, dict):
            raise _Invalid(
                f"must be a mapping like {{namespace: argocd}}, not {_type_name(argo)}", where
            )
        for key in argo:
            if key != "namespace":
                raise _Invalid(f"unknown key{_suggestion(key, ['namespace'])}", f"{where}.{key}")
        try:
            out.append((str(name), _namespace(argo.get("namespace") or "argocd")))
        except _Invalid as exc:
            raise _Invalid(str(exc), f"{where}.namespace") from exc
    return tuple(out)


def _interval(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Invalid(f"must be a duration like 30s or 2m, not {_type_name(value)}")
    if isinstance(value, str):
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise _Invalid(str(exc)) from exc
    else:
        seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise _Invalid(f"must be a positive duration, not {value!r}")
    return seconds


def _tracking(value: Any) -> Tracking:
    for method in TRACKING_METHODS:
        if value == method:
            return method
    raise _Invalid(f"must be one of {', '.join(TRACKING_METHODS)}, not {value!r}")


_SIZE = re.compile(r"^(\d+)\s*(|k|Ki|M|Mi|G|Gi)$")
_SIZE_UNITS = {"": 1, "k": 1000, "Ki": 1024, "M": 10**6, "Mi": 2**20, "G": 10**9, "Gi": 2**30}
_LIMIT_KEYS = ("objectsPerApp", "manifestBytesPerApp")


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _Invalid(f"must be a positive whole number, not {value!r}")
    return value


def _size(value: Any) -> int:
    if isinstance(value, str) and (match := _SIZE.match(value.strip())):
        value = int(match.group(1)) * _SIZE_UNITS[match.group(2)]
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _Invalid(f"must be a positive size like 50Mi or 52428800, not {value!r}")
    return value


def _limits(value: Any) -> ManifestLimits:
    if not isinstance(value, dict):
        raise _Invalid(
            f"must be a mapping like {{objectsPerApp: 10000, manifestBytesPerApp: 50Mi}}, "
            f"not {_type_name(value)}"
        )
    values: dict[str, int] = {}
    for key, item in value.items():
        if key not in _LIMIT_KEYS:
            raise _Invalid(f"unknown key{_suggestion(str(key), _LIMIT_KEYS)}", f".{key}")
        if item is None:
            continue
        try:
            if key == "objectsPerApp":
                values["max_objects"] = _count(item)
            else:
                values["max_bytes"] = _size(item)
        except _Invalid as exc:
            raise _Invalid(str(exc), f".{key}") from exc
    return ManifestLimits(**values)


def _keymap(value: Any) -> tuple[tuple[str, str], ...]:
    # imported here: the keymap module reads Textual's key names, which only the
    # console needs (a one-shot command with no keymap configured imports no UI)
    from gitops_tui.keymap import BINDING_IDS, KeymapError, parse_keymap

    try:
        return tuple(parse_keymap(value).items())
    except KeymapError as exc:
        where = f".{exc.binding_id}" if exc.binding_id else ""
        message = str(exc)
        if message == "unknown binding id":
            message += (
                _suggestion(exc.binding_id, BINDING_IDS) + " (the ids are listed in docs/keymap.md)"
            )
        raise _Invalid(message, where) from exc


def _suggestion(key: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


_FIELDS: dict[str, tuple[str, Callable[[Any, Path], Any]]] = {
    "apps": ("apps", _apps),
    "fromCluster": ("from_cluster", lambda v, _base: _namespace(v)),
    "kubeconfig": ("kubeconfig", _path),
    "context": ("context", lambda v, _base: _text(v)),
    "readOnly": ("read_only", lambda v, _base: _boolean(v)),
    "contexts": ("read_only_contexts", lambda v, _base: _read_only_contexts(v)),
    "repoPollInterval": ("repo_poll_interval_s", lambda v, _base: _interval(v)),
    "tracking": ("tracking", lambda v, _base: _tracking(v)),
    # false: Kustomize remote bases (https/ssh) are refused even when the project permits them
    "kustomizeRemoteBases": ("kustomize_remote_bases", lambda v, _base: _boolean(v)),
    # true: `helm dependency build` may fetch dependencies from chart repositories
    "helmChartRepositories": ("helm_chart_repositories", lambda v, _base: _boolean(v)),
    "applicationHealth": ("application_health", lambda v, _base: _boolean(v)),
    "limits": ("limits", lambda v, _base: _limits(v)),
    "forceConflicts": ("force_conflicts", lambda v, _base: _boolean(v)),
    "predictionCache": ("prediction_cache", lambda v, _base: _boolean(v)),
    # binding id -> keys: the console's keys remapped (ids listed in gitops_tui/keymap.py)
    "keymap": ("keymap", lambda v, _base: _keymap(v)),
    "argocdNamespace": ("argocd_namespace", lambda v, _base: _namespace(v)),
    "argocdConfigMap": ("argocd_config_map", lambda v, _base: _boolean(v)),
    "argocdReconcileWindow": ("argocd_reconcile_window_s", lambda v, _base: _interval(v)),
    "healthChecks": ("health_checks", _apps),
    "inferredHealth": ("inferred_health", lambda v, _base: _boolean(v)),
}
"""Config key -> (``Settings`` field, parser of the YAML value given the file's directory)."""


# --------------------------------------------------------------------------- loading


def default_config_path() -> Path:
    """``config_dir()/config.yaml``."""
    return config_dir() / CONFIG_FILE


def load_settings(path: Path | None = None) -> Settings:
    """Read and validate the config file; a missing file gives the defaults."""
    path = path if path is not None else default_config_path()
    if not path.exists():
        return Settings()
    try:
        documents = load_manifest_documents(read_manifest_text(path), str(path))
    except ManifestFileError as exc:
        raise ConfigError([str(exc)]) from exc
    present = [doc for doc in documents if doc is not None]
    if len(present) > 1:
        raise ConfigError([f"{path}: holds {len(present)} YAML documents; write one"])
    return settings_from_mapping(present[0] if present else {}, path)


def settings_from_mapping(raw: Any, path: Path) -> Settings:
    """Validate one parsed config document; ``path`` names it and anchors relative paths."""
    if not isinstance(raw, Mapping):
        raise ConfigError([f"{path}: must be a mapping of settings, not {_type_name(raw)}"])
    base = path.parent.absolute()
    problems: list[str] = []
    values: dict[str, Any] = {}
    custom_keys: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(key, str) and is_customization_key(key):
            custom_keys[key] = value  # argocd-cm's keys, checked below
            continue
        if key not in _FIELDS:
            problems.append(f"{path}: {key}: unknown key{_suggestion(key, list(_FIELDS))}")
            continue
        if value is None:
            continue
        field_name, parse = _FIELDS[key]
        try:
            values[field_name] = parse(value, base)
        except _Invalid as exc:
            problems.append(f"{path}: {key}{exc.where}: {exc}")
    if custom_keys:
        values["customizations"] = parse_keys(custom_keys, str(path))
        problems.extend(values["customizations"].problems)
    if "read_only_contexts" in values:  # the same mapping, validated: its argocd entries
        try:
            values["argocd_contexts"] = _argocd_contexts(raw["contexts"])
        except _Invalid as exc:
            problems.append(f"{path}: contexts{exc.where}: {exc}")
    if problems:
        raise ConfigError(problems)
    return Settings(**values, path=path, read_only_in_file=bool(values.get("read_only")))


# --------------------------------------------------------------------------- using settings


def merge_cli(
    settings: Settings,
    *,
    apps: Sequence[Path | str] | None = None,
    from_cluster: str | None = None,
    kubeconfig: Path | str | None = None,
    context: str | None = None,
    read_only: bool | None = None,
    repo_poll_interval_s: float | None = None,
    tracking: Tracking | None = None,
) -> Settings:
    """Apply command-line flags over the config: a given (non-None) flag wins.

    Flags are validated like config keys (``ConfigError`` naming the flag).

    ``apps`` replaces the config's list when non-empty (relative to the current
    directory, as typed); ``read_only=True`` forces read-only, while ``False`` cannot
    lift a read-only config.
    """
    changes: dict[str, Any] = {}
    if apps:
        changes["apps"] = tuple(Path(p).expanduser() for p in apps)
    if from_cluster is not None:
        changes["from_cluster"] = _flag("--from-cluster", _namespace, from_cluster)
    if kubeconfig is not None:
        changes["kubeconfig"] = Path(kubeconfig).expanduser()
    if context is not None:
        changes["context"] = context
    if read_only:
        changes["read_only"] = True
        changes["read_only_flag"] = True
    if repo_poll_interval_s is not None:
        changes["repo_poll_interval_s"] = _flag(
            "--repo-poll-interval", _interval, repo_poll_interval_s
        )
    if tracking is not None:
        changes["tracking"] = _flag("--tracking", _tracking, tracking)
    return replace(settings, **changes)


def _flag(name: str, parse: Callable[[Any], Any], value: Any) -> Any:
    try:
        return parse(value)
    except _Invalid as exc:
        raise ConfigError([f"{name}: {exc}"]) from exc


def is_read_only(settings: Settings, context: str | None) -> bool:
    """Read-only globally, or for ``context`` (``None``: the configured default context)."""
    if settings.read_only:
        return True
    effective = context if context is not None else settings.context
    return effective is not None and effective in settings.read_only_contexts
