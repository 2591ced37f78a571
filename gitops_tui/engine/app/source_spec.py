"""``spec.source`` / ``spec.sources``: validating the sources of an Application manifest.

The tool sections (``directory``, ``kustomize``, ``helm``) are checked field by field
against the Argo CD fields this tool implements; a field it does not implement is an
error when set, never silently ignored. ``ref`` names and ``$ref/...`` value files of
multi-source apps are cross-checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from gitops_tui.engine.app.application import DirectoryOptions, Source
from gitops_tui.engine.app.spec_fields import (
    DNS_NAME,
    FieldKind,
    Problems,
    as_list,
    check_named_items,
    check_section_fields,
    get_field,
    type_name,
)

_DIRECTORY_FIELDS: dict[str, FieldKind] = {
    "recurse": "boolean",
    "include": "string",
    "exclude": "string",
}
_KUSTOMIZE_FIELDS: dict[str, FieldKind] = {
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
_HELM_FIELDS: dict[str, FieldKind] = {
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

_REF_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_RELEASE_NAME = 53


def release_name_problem(name: str) -> str | None:
    """Why ``name`` is no Helm release name (a DNS-1123 name of at most 53 characters)."""
    if len(name) > MAX_RELEASE_NAME or not DNS_NAME.match(name):
        return (
            f"{name!r} is not a valid Helm release name (lowercase letters, digits, '-' "
            f"and '.', starting and ending with a letter or digit, at most {MAX_RELEASE_NAME})"
        )
    return None


def _check_helm_parameters(helm: Mapping[str, Any], path: str, problems: Problems) -> None:
    release = helm.get("releaseName")
    if isinstance(release, str) and release and (problem := release_name_problem(release)):
        problems.add(f"{path}.releaseName", problem)
    check_named_items(helm.get("parameters"), f"{path}.parameters", ("name",), problems)
    for index, item in enumerate(as_list(helm.get("parameters"))):
        if isinstance(item, dict):
            item_path = f"{path}.parameters[{index}]"
            if not isinstance(item.get("value", ""), str):
                problems.add(f"{item_path}.value", "must be a string")
            if not isinstance(item.get("forceString", False), bool):
                problems.add(f"{item_path}.forceString", "must be a boolean")
    check_named_items(
        helm.get("fileParameters"), f"{path}.fileParameters", ("name", "path"), problems
    )


def _check_kustomize_lists(kustomize: Mapping[str, Any], path: str, problems: Problems) -> None:
    check_named_items(kustomize.get("replicas"), f"{path}.replicas", ("name",), problems)
    for index, item in enumerate(as_list(kustomize.get("replicas"))):
        if isinstance(item, dict) and replica_count(item.get("count")) is None:
            problems.add(f"{path}.replicas[{index}].count", "must be a non-negative integer")
    for index, item in enumerate(as_list(kustomize.get("patches"))):
        if not isinstance(item, dict):
            problems.add(f"{path}.patches[{index}]", f"must be a mapping, got {type_name(item)}")


def replica_count(value: Any) -> int | None:
    """A kustomize ``replicas[].count`` (an integer or a string of digits), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _parse_directory(section: Mapping[str, Any], path: str, problems: Problems) -> DirectoryOptions:
    check_section_fields(section, path, _DIRECTORY_FIELDS, _DIRECTORY_UNSUPPORTED, problems)
    return DirectoryOptions(
        recurse=section.get("recurse") is True,
        include=section["include"] if isinstance(section.get("include"), str) else "",
        exclude=section["exclude"] if isinstance(section.get("exclude"), str) else "",
    )


def _parse_source(raw: Any, path: str, problems: Problems) -> Source | None:
    if not isinstance(raw, dict):
        problems.add(path, f"must be a mapping, got {type_name(raw)}")
        return None
    repo_url = get_field(raw, "repoURL", "string", path, problems)
    if not repo_url:
        problems.add(f"{path}.repoURL", "required")
    source_path = get_field(raw, "path", "string", path, problems) or ""
    chart = get_field(raw, "chart", "string", path, problems) or ""
    ref = get_field(raw, "ref", "string", path, problems) or ""
    revision = get_field(raw, "targetRevision", "string", path, problems) or "HEAD"
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
    if (section := get_field(raw, "directory", "mapping", path, problems)) is not None:
        directory = _parse_directory(section, f"{path}.directory", problems)
    if (section := get_field(raw, "kustomize", "mapping", path, problems)) is not None:
        check_section_fields(
            section, f"{path}.kustomize", _KUSTOMIZE_FIELDS, _KUSTOMIZE_UNSUPPORTED, problems
        )
        _check_kustomize_lists(section, f"{path}.kustomize", problems)
        kustomize = section
    if (section := get_field(raw, "helm", "mapping", path, problems)) is not None:
        check_section_fields(section, f"{path}.helm", _HELM_FIELDS, _HELM_UNSUPPORTED, problems)
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


def parse_sources(spec: Mapping[str, Any], problems: Problems) -> tuple[Source, ...]:
    """The valid sources of ``spec`` (``source`` or ``sources``); problems go to ``problems``."""
    single = spec.get("source")
    several = spec.get("sources")
    if several is not None and not isinstance(several, list):
        problems.add("spec.sources", f"must be a list, got {type_name(several)}")
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
    sources: Sequence[Source], paths: Sequence[str], *, multi: bool, problems: Problems
) -> None:
    """``ref`` names are unique and every ``$ref/...`` value file names one."""
    refs: set[str] = set()
    for source, path in zip(sources, paths, strict=True):
        if source.ref and source.ref in refs:
            problems.add(f"{path}.ref", f"duplicate ref {source.ref!r}")
        refs.add(source.ref)
    for source, path in zip(sources, paths, strict=True):
        value_files = (source.helm or {}).get("valueFiles")
        for index, value_file in enumerate(as_list(value_files)):
            if not isinstance(value_file, str) or not value_file.startswith("$"):
                continue
            ref = value_file[1:].split("/", 1)[0]
            where = f"{path}.helm.valueFiles[{index}]"
            if not multi:
                problems.add(where, f"{value_file!r} refers to a source, which needs spec.sources")
            elif ref not in refs or not ref:
                problems.add(where, f"${ref} is not the ref of any source")
