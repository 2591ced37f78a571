"""Argo CD ``Application`` (argoproj.io/v1alpha1): the model, its validation, loading files.

Validation follows Argo CD's rules (``pkg/apis/application/v1alpha1/types.go``) and
collects every problem of one Application into a single ``InvalidApplication`` whose
messages each start with the field path (``spec.destination: ...``).

Files are read with ``manifest_yaml`` (safe YAML/JSON reading, shared with rendering).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gitops_tui.engine.app.ignore_rules import IgnoreRule
from gitops_tui.engine.manifest_yaml import (
    MANIFEST_SUFFIXES,
    ManifestFileError,
    load_manifest_documents,
    read_manifest_text,
)
from gitops_tui.engine.model import Condition, ConditionType, Manifest

# --------------------------------------------------------------------------- the model

API_VERSION = "argoproj.io/v1alpha1"
KIND = "Application"
DEFAULT_PROJECT = "default"
DEFAULT_APP_NAMESPACE = "argocd"
DEFAULT_REVISION_HISTORY_LIMIT = 10


@dataclass(frozen=True)
class DirectoryOptions:
    """``spec.source.directory``: which files of a plain directory are manifests."""

    recurse: bool = False
    include: str = ""
    exclude: str = ""


@dataclass(frozen=True)
class Source:
    """One ``spec.source`` / ``spec.sources[]`` entry. Empty strings mean "not set".

    ``kustomize`` and ``helm`` hold the validated sections as written (camelCase keys).
    """

    repo_url: str
    target_revision: str = "HEAD"
    path: str = ""
    chart: str = ""
    ref: str = ""
    directory: DirectoryOptions | None = None
    kustomize: Mapping[str, Any] | None = None
    helm: Mapping[str, Any] | None = None

    @property
    def renders_manifests(self) -> bool:
        """False for a ``ref``-only source that just lends value files to others."""
        return bool(self.path or self.chart)

    def options_fingerprint(self) -> str:
        """Stable hash of what shapes the rendered output, besides the commit itself.

        Combine it with the resolved commit SHA, the app name and destination
        namespace (and referenced sources' commits) to key a manifest cache.
        """
        options = {
            "repoURL": self.repo_url,
            "path": self.path,
            "chart": self.chart,
            "directory": None
            if self.directory is None
            else [self.directory.recurse, self.directory.include, self.directory.exclude],
            "kustomize": self.kustomize,
            "helm": self.helm,
        }
        text = json.dumps(options, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Destination:
    """``spec.destination``: exactly one of ``server`` and ``name``.

    An empty ``namespace`` means not set: namespaced objects without one keep none.
    """

    server: str = ""
    name: str = ""
    namespace: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    """``spec.syncPolicy.retry``. ``limit`` < 0 retries forever; 0 never retries."""

    limit: int = 0
    duration_s: float = 5.0
    factor: float = 2.0
    max_duration_s: float = 180.0

    def wait(self, attempt: int) -> float:
        """Seconds to wait before retry ``attempt`` (0-based): min(max, duration*factor^n)."""
        try:
            delay = self.duration_s * math.pow(self.factor, max(attempt, 0))
        except OverflowError:
            delay = math.inf
        if self.max_duration_s > 0:
            return min(self.max_duration_s, delay)
        return delay


@dataclass(frozen=True)
class SyncPolicy:
    """``spec.syncPolicy``; ``options`` holds the ``syncOptions`` as name -> value."""

    automated: bool = False
    prune: bool = False
    self_heal: bool = False
    allow_empty: bool = False
    options: Mapping[str, str] = field(default_factory=dict)
    retry: RetryPolicy | None = None

    def option_enabled(self, name: str) -> bool:
        """True when sync option ``name`` is set to ``true``."""
        return self.options.get(name) == "true"


@dataclass(frozen=True)
class Application:
    """A valid Argo CD Application. ``origin`` is a file path or ``cluster:<namespace>``."""

    name: str
    namespace: str
    project: str
    sources: tuple[Source, ...]
    destination: Destination
    sync_policy: SyncPolicy = field(default_factory=SyncPolicy)
    ignore_differences: tuple[Mapping[str, Any], ...] = ()
    revision_history_limit: int = DEFAULT_REVISION_HISTORY_LIMIT
    origin: str = ""
    raw: Manifest = field(default_factory=dict, compare=False)

    @property
    def source(self) -> Source:
        """The first (for single-source apps, the only) source."""
        return self.sources[0]

    @property
    def is_multi_source(self) -> bool:
        """True when the app uses ``spec.sources`` (even with one entry), as Argo CD."""
        spec = self.raw.get("spec")
        return len(self.sources) > 1 or (isinstance(spec, dict) and bool(spec.get("sources")))


@dataclass(frozen=True)
class InvalidApplication:
    """An Application document that failed validation, with every problem found."""

    name: str
    origin: str
    conditions: tuple[Condition, ...]

    @property
    def messages(self) -> tuple[str, ...]:
        return tuple(condition.message for condition in self.conditions)


# --------------------------------------------------------------------------- validation rules

_FieldKind = Literal["string", "boolean", "mapping", "list", "string list", "string map"]

_DIRECTORY_FIELDS: dict[str, _FieldKind] = {
    "recurse": "boolean",
    "include": "string",
    "exclude": "string",
}
_KUSTOMIZE_FIELDS: dict[str, _FieldKind] = {
    "namePrefix": "string",
    "nameSuffix": "string",
    "images": "string list",
    "commonLabels": "string map",
    "commonAnnotations": "string map",
    "forceCommonLabels": "boolean",
    "forceCommonAnnotations": "boolean",
    "labelWithoutSelector": "boolean",
    "labelIncludeTemplates": "boolean",
    "namespace": "string",
    "replicas": "list",
    "patches": "list",
    "components": "string list",
    "ignoreMissingComponents": "boolean",
}
_HELM_FIELDS: dict[str, _FieldKind] = {
    "releaseName": "string",
    "valueFiles": "string list",
    "values": "string",
    "valuesObject": "mapping",
    "parameters": "list",
    "fileParameters": "list",
    "namespace": "string",
    "skipCrds": "boolean",
    "skipTests": "boolean",
    "skipSchemaValidation": "boolean",
    "ignoreMissingValueFiles": "boolean",
    "kubeVersion": "string",
    "apiVersions": "string list",
    # Only matter for charts from Helm repositories, which arrive here already pulled.
    "passCredentials": "boolean",
    "version": "string",
}
# Argo CD fields this tool does not implement: an error when set, never silently ignored.
_DIRECTORY_UNSUPPORTED = frozenset({"jsonnet"})
_KUSTOMIZE_UNSUPPORTED = frozenset(
    {"version", "kubeVersion", "apiVersions", "commonAnnotationsEnvsubst"}
)
_HELM_UNSUPPORTED: frozenset[str] = frozenset()

_TOOL_SECTIONS = ("directory", "kustomize", "helm", "plugin")

_BOOLEAN_WORDS = frozenset({"true", "false"})
SYNC_OPTION_VALUES: Mapping[str, frozenset[str]] = {
    "CreateNamespace": _BOOLEAN_WORDS,
    "PruneLast": _BOOLEAN_WORDS,
    "ServerSideApply": _BOOLEAN_WORDS,
    "ApplyOutOfSyncOnly": _BOOLEAN_WORDS,
    "Validate": _BOOLEAN_WORDS,
    "PrunePropagationPolicy": frozenset({"foreground", "background", "orphan"}),
    "Replace": _BOOLEAN_WORDS,
    "Force": _BOOLEAN_WORDS,
    "RespectIgnoreDifferences": _BOOLEAN_WORDS,
    "FailOnSharedResource": _BOOLEAN_WORDS,
    "SkipDryRunOnMissingResource": _BOOLEAN_WORDS,
    "ServerSideApplyForceConflicts": _BOOLEAN_WORDS,
}
"""Application-level ``syncOptions`` and the values each accepts."""

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_REF_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_RELEASE_NAME = 53


def release_name_problem(name: str) -> str | None:
    """Why ``name`` is no Helm release name (a DNS-1123 name of at most 53 characters)."""
    if len(name) > MAX_RELEASE_NAME or not _NAME.match(name):
        return (
            f"{name!r} is not a valid Helm release name (lowercase letters, digits, '-' "
            f"and '.', starting and ending with a letter or digit, at most {MAX_RELEASE_NAME})"
        )
    return None


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class _Problems:
    """Collects ``<field path>: <message>`` strings while one Application is checked."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.messages.append(f"{path}: {message}")


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "mapping", list: "list", str: "string", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def _is_kind(value: Any, kind: _FieldKind) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "mapping":
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    if kind == "string list":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return isinstance(value, dict) and all(isinstance(item, str) for item in value.values())


def _get(obj: Mapping[str, Any], key: str, kind: _FieldKind, path: str, problems: _Problems) -> Any:
    """``obj[key]`` if of ``kind``; ``None`` if absent or wrong (the latter reported)."""
    value = obj.get(key)
    if value is None:
        return None
    if not _is_kind(value, kind):
        problems.add(f"{path}.{key}", f"must be a {kind}, got {_type_name(value)}")
        return None
    return value


def _is_set(value: Any) -> bool:
    return value not in (None, "", False, [], {})


def _check_section_fields(
    section: Mapping[str, Any],
    path: str,
    kinds: Mapping[str, _FieldKind],
    unsupported: frozenset[str],
    problems: _Problems,
) -> None:
    for key in section:
        if key in unsupported:
            if _is_set(section[key]):
                problems.add(f"{path}.{key}", "not supported by gitops-tui")
        elif key not in kinds:
            problems.add(f"{path}.{key}", "unknown field")
        else:
            _get(section, key, kinds[key], path, problems)


def _check_named_items(items: Any, path: str, required: Sequence[str], problems: _Problems) -> None:
    """Each item of a list field must be a mapping with the ``required`` string keys."""
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        item_path = f"{path}[{index}]"
        if not isinstance(item, dict):
            problems.add(item_path, f"must be a mapping, got {_type_name(item)}")
            continue
        for key in required:
            if not isinstance(item.get(key), str) or not item[key]:
                problems.add(f"{item_path}.{key}", "required (a non-empty string)")


def _check_helm_parameters(helm: Mapping[str, Any], path: str, problems: _Problems) -> None:
    release = helm.get("releaseName")
    if isinstance(release, str) and release and (problem := release_name_problem(release)):
        problems.add(f"{path}.releaseName", problem)
    _check_named_items(helm.get("parameters"), f"{path}.parameters", ("name",), problems)
    for index, item in enumerate(_list(helm.get("parameters"))):
        if isinstance(item, dict):
            item_path = f"{path}.parameters[{index}]"
            if not isinstance(item.get("value", ""), str):
                problems.add(f"{item_path}.value", "must be a string")
            if not isinstance(item.get("forceString", False), bool):
                problems.add(f"{item_path}.forceString", "must be a boolean")
    _check_named_items(
        helm.get("fileParameters"), f"{path}.fileParameters", ("name", "path"), problems
    )


def _check_kustomize_lists(kustomize: Mapping[str, Any], path: str, problems: _Problems) -> None:
    _check_named_items(kustomize.get("replicas"), f"{path}.replicas", ("name",), problems)
    for index, item in enumerate(_list(kustomize.get("replicas"))):
        if isinstance(item, dict) and replica_count(item.get("count")) is None:
            problems.add(f"{path}.replicas[{index}].count", "must be a non-negative integer")
    for index, item in enumerate(_list(kustomize.get("patches"))):
        if not isinstance(item, dict):
            problems.add(f"{path}.patches[{index}]", f"must be a mapping, got {_type_name(item)}")


def replica_count(value: Any) -> int | None:
    """A kustomize ``replicas[].count`` (an integer or a string of digits), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _parse_directory(
    section: Mapping[str, Any], path: str, problems: _Problems
) -> DirectoryOptions:
    _check_section_fields(section, path, _DIRECTORY_FIELDS, _DIRECTORY_UNSUPPORTED, problems)
    return DirectoryOptions(
        recurse=section.get("recurse") is True,
        include=section["include"] if isinstance(section.get("include"), str) else "",
        exclude=section["exclude"] if isinstance(section.get("exclude"), str) else "",
    )


def _parse_source(raw: Any, path: str, problems: _Problems) -> Source | None:
    if not isinstance(raw, dict):
        problems.add(path, f"must be a mapping, got {_type_name(raw)}")
        return None
    repo_url = _get(raw, "repoURL", "string", path, problems)
    if not repo_url:
        problems.add(f"{path}.repoURL", "required")
    source_path = _get(raw, "path", "string", path, problems) or ""
    chart = _get(raw, "chart", "string", path, problems) or ""
    ref = _get(raw, "ref", "string", path, problems) or ""
    revision = _get(raw, "targetRevision", "string", path, problems) or "HEAD"
    if not source_path and not chart and not ref:
        problems.add(f"{path}.path", f"required unless {path}.chart is set")
    if ref and not _REF_NAME.match(ref):
        problems.add(f"{path}.ref", "may only hold letters, digits, '-' and '_'")
    sections = [name for name in _TOOL_SECTIONS if raw.get(name) is not None]
    if len(sections) > 1:
        problems.add(path, f"multiple tool sections set ({', '.join(sections)}); use one")
    if raw.get("plugin") is not None:
        problems.add(f"{path}.plugin", "config management plugins are not supported by gitops-tui")
    directory = kustomize = helm = None
    if (section := _get(raw, "directory", "mapping", path, problems)) is not None:
        directory = _parse_directory(section, f"{path}.directory", problems)
    if (section := _get(raw, "kustomize", "mapping", path, problems)) is not None:
        _check_section_fields(
            section, f"{path}.kustomize", _KUSTOMIZE_FIELDS, _KUSTOMIZE_UNSUPPORTED, problems
        )
        _check_kustomize_lists(section, f"{path}.kustomize", problems)
        kustomize = section
    if (section := _get(raw, "helm", "mapping", path, problems)) is not None:
        _check_section_fields(section, f"{path}.helm", _HELM_FIELDS, _HELM_UNSUPPORTED, problems)
        _check_helm_parameters(section, f"{path}.helm", problems)
        helm = section
    return Source(
        repo_url=repo_url or "",
        target_revision=revision,
        path=source_path,
        chart=chart,
        ref=ref,
        directory=directory,
        kustomize=kustomize,
        helm=helm,
    )


def _parse_sources(spec: Mapping[str, Any], problems: _Problems) -> tuple[Source, ...]:
    single = spec.get("source")
    several = spec.get("sources")
    if several is not None and not isinstance(several, list):
        problems.add("spec.sources", f"must be a list, got {_type_name(several)}")
        several = None
    if single is not None and several:
        problems.add("spec", "spec.source and spec.sources are both set; use one")
        return ()
    if several:
        parsed = [
            _parse_source(item, f"spec.sources[{i}]", problems) for i, item in enumerate(several)
        ]
        paths = [f"spec.sources[{i}]" for i in range(len(several))]
    elif single is not None:
        parsed = [_parse_source(single, "spec.source", problems)]
        paths = ["spec.source"]
    else:
        problems.add("spec.source", "required (or spec.sources)")
        return ()
    sources = tuple(source for source in parsed if source is not None)
    if len(sources) == len(parsed):
        _check_refs(sources, paths, multi=bool(several), problems=problems)
    return sources


def _check_refs(
    sources: Sequence[Source], paths: Sequence[str], *, multi: bool, problems: _Problems
) -> None:
    """``ref`` names are unique and every ``$ref/...`` value file names one."""
    refs: set[str] = set()
    for source, path in zip(sources, paths, strict=True):
        if source.ref and source.ref in refs:
            problems.add(f"{path}.ref", f"duplicate ref {source.ref!r}")
        refs.add(source.ref)
    for source, path in zip(sources, paths, strict=True):
        value_files = (source.helm or {}).get("valueFiles")
        for index, value_file in enumerate(_list(value_files)):
            if not isinstance(value_file, str) or not value_file.startswith("$"):
                continue
            ref = value_file[1:].split("/", 1)[0]
            where = f"{path}.helm.valueFiles[{index}]"
            if not multi:
                problems.add(where, f"{value_file!r} refers to a source, which needs spec.sources")
            elif ref not in refs or not ref:
                problems.add(where, f"${ref} is not the ref of any source")


def _parse_destination(spec: Mapping[str, Any], problems: _Problems) -> Destination:
    raw = _get(spec, "destination", "mapping", "spec", problems)
    if raw is None:
        if "destination" not in spec or spec["destination"] is None:
            problems.add("spec.destination", "required")
        return Destination()
    server = _get(raw, "server", "string", "spec.destination", problems) or ""
    name = _get(raw, "name", "string", "spec.destination", problems) or ""
    namespace = _get(raw, "namespace", "string", "spec.destination", problems) or ""
    if server and name:
        problems.add("spec.destination", "destination has both server and name")
    elif not server and not name:
        problems.add("spec.destination", "server or name is required")
    return Destination(server=server, name=name, namespace=namespace)


def parse_duration(text: str) -> float:
    """Seconds in a Go duration (``5s``, ``3m``, ``1h30m``) or a plain number of seconds."""
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        return float(text)
    position, total = 0, 0.0
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if match is None:
            raise ValueError(f"invalid duration {text!r} (use e.g. 5s, 3m, 1h)")
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if not text:
        raise ValueError("empty duration")
    return total


def _parse_retry(raw: Mapping[str, Any], problems: _Problems) -> RetryPolicy:
    path = "spec.syncPolicy.retry"
    limit = raw.get("limit", 0)
    if not isinstance(limit, int) or isinstance(limit, bool):
        problems.add(f"{path}.limit", f"must be an integer, got {_type_name(limit)}")
        limit = 0
    backoff = _get(raw, "backoff", "mapping", path, problems) or {}
    defaults = RetryPolicy()
    factor = backoff.get("factor", defaults.factor)
    if not isinstance(factor, int | float) or isinstance(factor, bool) or factor <= 0:
        problems.add(f"{path}.backoff.factor", "must be a positive number")
        factor = defaults.factor
    durations: dict[str, float] = {}
    for key, default in (
        ("duration", defaults.duration_s),
        ("maxDuration", defaults.max_duration_s),
    ):
        value = _get(backoff, key, "string", f"{path}.backoff", problems)
        try:
            durations[key] = default if value is None else parse_duration(value)
        except ValueError as exc:
            problems.add(f"{path}.backoff.{key}", str(exc))
            durations[key] = default
    return RetryPolicy(
        limit=limit,
        duration_s=durations["duration"],
        factor=float(factor),
        max_duration_s=durations["maxDuration"],
    )


def _parse_sync_options(raw: Any, problems: _Problems) -> dict[str, str]:
    path = "spec.syncPolicy.syncOptions"
    options: dict[str, str] = {}
    if raw is None:
        return options
    if not isinstance(raw, list):
        problems.add(path, f"must be a list, got {_type_name(raw)}")
        return options
    for index, item in enumerate(raw):
        where = f"{path}[{index}]"
        if not isinstance(item, str) or "=" not in item:
            problems.add(where, f"must be a Key=Value string, got {item!r}")
            continue
        name, value = (part.strip() for part in item.split("=", 1))
        allowed = SYNC_OPTION_VALUES.get(name)
        if allowed is None:
            problems.add(where, f"unknown sync option {name!r}")
        elif value not in allowed:
            problems.add(
                where, f"{name} must be one of {', '.join(sorted(allowed))}, got {value!r}"
            )
        else:
            options[name] = value
    return options


def _parse_sync_policy(spec: Mapping[str, Any], problems: _Problems) -> SyncPolicy:
    raw = _get(spec, "syncPolicy", "mapping", "spec", problems)
    if raw is None:
        return SyncPolicy()
    path = "spec.syncPolicy"
    automated = _get(raw, "automated", "mapping", path, problems)
    flags: dict[str, bool] = {}
    for key in ("enabled", "prune", "selfHeal", "allowEmpty"):
        value = (
            None
            if automated is None
            else _get(automated, key, "boolean", f"{path}.automated", problems)
        )
        flags[key] = bool(value)
    retry = _get(raw, "retry", "mapping", path, problems)
    return SyncPolicy(
        automated=automated is not None and automated.get("enabled") is not False,
        prune=flags["prune"],
        self_heal=flags["selfHeal"],
        allow_empty=flags["allowEmpty"],
        options=_parse_sync_options(raw.get("syncOptions"), problems),
        retry=None if retry is None else _parse_retry(retry, problems),
    )


def _parse_ignore_differences(
    spec: Mapping[str, Any], problems: _Problems
) -> tuple[Mapping[str, Any], ...]:
    raw = _get(spec, "ignoreDifferences", "list", "spec", problems) or []
    rules: list[Mapping[str, Any]] = []
    for index, item in enumerate(raw):
        path = f"spec.ignoreDifferences[{index}]"
        found_before = len(problems.messages)
        if not isinstance(item, dict):
            problems.add(path, f"must be a mapping, got {_type_name(item)}")
            continue
        if not isinstance(item.get("kind"), str) or not item["kind"]:
            problems.add(f"{path}.kind", "required")
        for key in ("group", "name", "namespace"):
            _get(item, key, "string", path, problems)
        for key in ("jsonPointers", "jqPathExpressions", "managedFieldsManagers"):
            _get(item, key, "string list", path, problems)
        if len(problems.messages) == found_before:
            # well-typed: now the JSON pointers and jq expressions themselves must compile,
            # or the rule would be dropped silently when comparing
            try:
                IgnoreRule.from_spec(item)
            except ValueError as exc:
                problems.add(path, str(exc))
        rules.append(item)
    return tuple(rules)


def _parse_history_limit(spec: Mapping[str, Any], problems: _Problems) -> int:
    value = spec.get("revisionHistoryLimit")
    if value is None:
        return DEFAULT_REVISION_HISTORY_LIMIT
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        problems.add("spec.revisionHistoryLimit", "must be a non-negative integer")
        return DEFAULT_REVISION_HISTORY_LIMIT
    return value


def is_application_document(doc: Any) -> bool:
    """An Argo CD Application of any version (other ``Application`` CRDs are not)."""
    return (
        isinstance(doc, dict)
        and doc.get("kind") == KIND
        and isinstance(doc.get("apiVersion"), str)
        and doc["apiVersion"].startswith("argoproj.io/")
    )


def declared_name(doc: Any) -> str:
    """``metadata.name`` if it is a non-empty string, else ``""``."""
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else ""


def parse_application(doc: Manifest, origin: str) -> Application | InvalidApplication:
    """Validate one Application document as Argo CD would; collect every problem."""
    problems = _Problems()
    if not isinstance(doc, dict):
        problems.add("(document)", f"must be a mapping, got {_type_name(doc)}")
        return _invalid(doc, origin, problems)
    if doc.get("apiVersion") != API_VERSION:
        problems.add("apiVersion", f"must be {API_VERSION}, got {doc.get('apiVersion')!r}")
    if doc.get("kind") != KIND:
        problems.add("kind", f"must be {KIND}, got {doc.get('kind')!r}")
    meta = _get(doc, "metadata", "mapping", "(document)", problems) or {}
    name = _get(meta, "name", "string", "metadata", problems) or ""
    if not name:
        problems.add("metadata.name", "required")
    elif len(name) > 253 or not _NAME.match(name):
        problems.add(
            "metadata.name", f"{name!r} is not a valid name (lowercase letters, digits, '-', '.')"
        )
    namespace = _get(meta, "namespace", "string", "metadata", problems) or DEFAULT_APP_NAMESPACE
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        problems.add("spec", "required (a mapping)")
        return _invalid(doc, origin, problems)
    project = _get(spec, "project", "string", "spec", problems) or DEFAULT_PROJECT
    sources = _parse_sources(spec, problems)
    destination = _parse_destination(spec, problems)
    sync_policy = _parse_sync_policy(spec, problems)
    ignore_differences = _parse_ignore_differences(spec, problems)
    history_limit = _parse_history_limit(spec, problems)
    if problems.messages:
        return _invalid(doc, origin, problems)
    return Application(
        name=name,
        namespace=namespace,
        project=project,
        sources=sources,
        destination=destination,
        sync_policy=sync_policy,
        ignore_differences=ignore_differences,
        revision_history_limit=history_limit,
        origin=origin,
        raw=doc,
    )


def _invalid(doc: Any, origin: str, problems: _Problems) -> InvalidApplication:
    name = declared_name(doc) or _name_from_origin(origin)
    return invalid_application(name, origin, problems.messages)


def invalid_application(name: str, origin: str, messages: Sequence[str]) -> InvalidApplication:
    """An ``InvalidApplication`` with one ``InvalidSpecError`` condition per message."""
    conditions = tuple(Condition(ConditionType.INVALID_SPEC, message) for message in messages)
    return InvalidApplication(name=name, origin=origin, conditions=conditions)


def _name_from_origin(origin: str) -> str:
    return Path(origin).stem or origin or "(unnamed)"


# --------------------------------------------------------------------------- loading files

_MENTIONS_ARGO = re.compile(r"argoproj\.io")


def load_application_files(paths: Sequence[Path]) -> list[Application | InvalidApplication]:
    """Applications from files and directories (recursively ``*.yaml|*.yml|*.json``).

    Non-Application documents are ignored. A file named explicitly that cannot be
    read or parsed, or that holds no Application at all (an empty file, say),
    becomes an ``InvalidApplication`` named after the file; inside a
    directory, such a file is reported only if it mentions ``argoproj.io`` (so Helm
    templates and other non-YAML ``.yaml`` files do not turn into errors). A second
    Application with an already seen name is invalid.
    """
    results: list[Application | InvalidApplication] = []
    first_origin: dict[str, str] = {}
    for file, named in _candidate_files(paths):
        for doc_or_error in _documents_in_file(file, named=named):
            if isinstance(doc_or_error, InvalidApplication):
                results.append(doc_or_error)
                continue
            entry = parse_application(doc_or_error, str(file))
            name = declared_name(doc_or_error)
            if name and name in first_origin:
                entry = invalid_application(
                    name,
                    str(file),
                    [
                        f"metadata.name: duplicate application name, first defined in {first_origin[name]}"
                    ],
                )
            elif name:
                first_origin[name] = str(file)
            results.append(entry)
    return results


def _candidate_files(paths: Sequence[Path]) -> Iterator[tuple[Path, bool]]:
    """``(file, named explicitly)`` for each path; directories walked in sorted order."""
    for path in paths:
        if not path.is_dir():
            yield path, True
            continue
        for folder, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(name for name in dirnames if not name.startswith("."))
            for filename in sorted(filenames):
                if filename.endswith(MANIFEST_SUFFIXES):
                    yield Path(folder) / filename, False


def _documents_in_file(file: Path, *, named: bool) -> list[Any]:
    """The Application documents of ``file`` (``List`` items included), or one error."""
    try:
        text = read_manifest_text(file)
    except ManifestFileError as exc:
        return [invalid_application(file.stem, str(file), [str(exc)])]
    try:
        docs = load_manifest_documents(text, str(file), as_json=file.suffix == ".json")
    except ManifestFileError as exc:
        if not named and not _MENTIONS_ARGO.search(text):
            return []
        return [invalid_application(file.stem, str(file), [str(exc)])]
    found: list[Any] = []
    for doc in docs:
        items = doc.get("items") if isinstance(doc, dict) and doc.get("kind") == "List" else [doc]
        found.extend(item for item in _list(items) if is_application_document(item))
    if named and not found:
        # a file the user named that holds no Application is a mistake worth showing
        what = "is empty" if all(doc is None for doc in docs) else "holds no Argo CD Application"
        return [
            invalid_application(
                file.stem,
                str(file),
                [f"{file}: {what} (expected documents with apiVersion {API_VERSION}, kind {KIND})"],
            )
        ]
    return found
