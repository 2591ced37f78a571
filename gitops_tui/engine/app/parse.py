"""Parsing an Application manifest into an ``Application``, validated as Argo CD does.

Validation follows Argo CD's rules (``pkg/apis/application/v1alpha1/types.go``) and
collects every problem of one Application into a single ``InvalidApplication`` whose
messages each start with the field path (``spec.destination: ...``). The sources are
checked in ``source_spec``; the metadata, destination, sync policy, ignoreDifferences
and history limit here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gitops_tui.engine.app.application import (
    API_VERSION,
    DEFAULT_APP_NAMESPACE,
    DEFAULT_PROJECT,
    DEFAULT_REVISION_HISTORY_LIMIT,
    KIND,
    Application,
    Destination,
    InvalidApplication,
    RetryPolicy,
    SyncPolicy,
    invalid_application,
)
from gitops_tui.engine.app.ignore_rules import IgnoreRule
from gitops_tui.engine.app.source_spec import parse_sources
from gitops_tui.engine.app.spec_fields import DNS_NAME, Problems, get_field, type_name
from gitops_tui.engine.model import Manifest

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

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _parse_destination(spec: Mapping[str, Any], problems: Problems) -> Destination:
    raw = get_field(spec, "destination", "mapping", "spec", problems)
    if raw is None:
        if "destination" not in spec or spec["destination"] is None:
            problems.add("spec.destination", "required")
        return Destination()
    server = get_field(raw, "server", "string", "spec.destination", problems) or ""
    name = get_field(raw, "name", "string", "spec.destination", problems) or ""
    namespace = get_field(raw, "namespace", "string", "spec.destination", problems) or ""
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


def _parse_retry(raw: Mapping[str, Any], problems: Problems) -> RetryPolicy:
    path = "spec.syncPolicy.retry"
    limit = raw.get("limit", 0)
    if not isinstance(limit, int) or isinstance(limit, bool):
        problems.add(f"{path}.limit", f"must be an integer, got {type_name(limit)}")
        limit = 0
    backoff = get_field(raw, "backoff", "mapping", path, problems) or {}
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
        value = get_field(backoff, key, "string", f"{path}.backoff", problems)
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


def _parse_sync_options(raw: Any, problems: Problems) -> dict[str, str]:
    path = "spec.syncPolicy.syncOptions"
    options: dict[str, str] = {}
    if raw is None:
        return options
    if not isinstance(raw, list):
        problems.add(path, f"must be a list, got {type_name(raw)}")
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


def _parse_sync_policy(spec: Mapping[str, Any], problems: Problems) -> SyncPolicy:
    raw = get_field(spec, "syncPolicy", "mapping", "spec", problems)
    if raw is None:
        return SyncPolicy()
    path = "spec.syncPolicy"
    automated = get_field(raw, "automated", "mapping", path, problems)
    flags: dict[str, bool] = {}
    for key in ("enabled", "prune", "selfHeal", "allowEmpty"):
        value = (
            None
            if automated is None
            else get_field(automated, key, "boolean", f"{path}.automated", problems)
        )
        flags[key] = bool(value)
    retry = get_field(raw, "retry", "mapping", path, problems)
    return SyncPolicy(
        automated=automated is not None and automated.get("enabled") is not False,
        prune=flags["prune"],
        self_heal=flags["selfHeal"],
        allow_empty=flags["allowEmpty"],
        options=_parse_sync_options(raw.get("syncOptions"), problems),
        retry=None if retry is None else _parse_retry(retry, problems),
    )


def _parse_ignore_differences(
    spec: Mapping[str, Any], problems: Problems
) -> tuple[Mapping[str, Any], ...]:
    raw = get_field(spec, "ignoreDifferences", "list", "spec", problems) or []
    rules: list[Mapping[str, Any]] = []
    for index, item in enumerate(raw):
        path = f"spec.ignoreDifferences[{index}]"
        found_before = len(problems.messages)
        if not isinstance(item, dict):
            problems.add(path, f"must be a mapping, got {type_name(item)}")
            continue
        if not isinstance(item.get("kind"), str) or not item["kind"]:
            problems.add(f"{path}.kind", "required")
        for key in ("group", "name", "namespace"):
            get_field(item, key, "string", path, problems)
        for key in ("jsonPointers", "jqPathExpressions", "managedFieldsManagers"):
            get_field(item, key, "string list", path, problems)
        if len(problems.messages) == found_before:
            # well-typed: now the JSON pointers and jq expressions themselves must compile,
            # or the rule would be dropped silently when comparing
            try:
                IgnoreRule.from_spec(item)
            except ValueError as exc:
                problems.add(path, str(exc))
        rules.append(item)
    return tuple(rules)


def _parse_history_limit(spec: Mapping[str, Any], problems: Problems) -> int:
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
    problems = Problems()
    if not isinstance(doc, dict):
        problems.add("(document)", f"must be a mapping, got {type_name(doc)}")
        return _invalid(doc, origin, problems)
    if doc.get("apiVersion") != API_VERSION:
        problems.add("apiVersion", f"must be {API_VERSION}, got {doc.get('apiVersion')!r}")
    if doc.get("kind") != KIND:
        problems.add("kind", f"must be {KIND}, got {doc.get('kind')!r}")
    meta = get_field(doc, "metadata", "mapping", "(document)", problems) or {}
    name = get_field(meta, "name", "string", "metadata", problems) or ""
    if not name:
        problems.add("metadata.name", "required")
    elif len(name) > 253 or not DNS_NAME.match(name):
        problems.add(
            "metadata.name", f"{name!r} is not a valid name (lowercase letters, digits, '-', '.')"
        )
    namespace = (
        get_field(meta, "namespace", "string", "metadata", problems) or DEFAULT_APP_NAMESPACE
    )
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        problems.add("spec", "required (a mapping)")
        return _invalid(doc, origin, problems)
    project = get_field(spec, "project", "string", "spec", problems) or DEFAULT_PROJECT
    sources = parse_sources(spec, problems)
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


def _invalid(doc: Any, origin: str, problems: Problems) -> InvalidApplication:
    name = declared_name(doc) or _name_from_origin(origin)
    return invalid_application(name, origin, problems.messages)


def _name_from_origin(origin: str) -> str:
    return Path(origin).stem or origin or "(unnamed)"
