"""Validating ``ApplicationSet`` documents and loading them from files.

Every problem of one document is collected into an :class:`InvalidApplicationSet`
whose conditions each start with the field path, as for Applications. Generators
are checked when they run (:mod:`.generators`), so an unsupported generator is a
condition of that set at generation time, with the set's other problems.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gitops_tui.engine.app.applicationset.gofuncs import TemplateError
from gitops_tui.engine.app.applicationset.gotemplate import Options, parse_options
from gitops_tui.engine.app.applicationset.model import (
    API_VERSION,
    DEFAULT_NAMESPACE,
    KIND,
    ApplicationSet,
    ApplicationsSync,
    IgnoreDifference,
    InvalidApplicationSet,
    error_condition,
)
from gitops_tui.engine.app.loading import candidate_files
from gitops_tui.engine.manifest_yaml import (
    ManifestFileError,
    load_manifest_documents,
    read_manifest_text,
)

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SPEC_FIELDS = frozenset(
    {
        "generators",
        "template",
        "templatePatch",
        "goTemplate",
        "goTemplateOptions",
        "syncPolicy",
        "ignoreApplicationDifferences",
        "preservedFields",
        "strategy",
        "applyNestedSelectors",
    }
)


def is_applicationset_document(doc: Any) -> bool:
    """An Argo CD ApplicationSet of any version."""
    return (
        isinstance(doc, dict)
        and doc.get("kind") == KIND
        and isinstance(doc.get("apiVersion"), str)
        and doc["apiVersion"].startswith("argoproj.io/")
    )


def _name_of(doc: Any) -> str:
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else ""


def _strings(value: Any, path: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{path}: must be a list of strings")
        return ()
    return tuple(value)


def _ignore_differences(raw: Any, problems: list[str]) -> tuple[IgnoreDifference, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append("spec.ignoreApplicationDifferences: must be a list")
        return ()
    out: list[IgnoreDifference] = []
    for i, item in enumerate(raw):
        path = f"spec.ignoreApplicationDifferences[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{path}: must be a mapping")
            continue
        name = item.get("name", "")
        if not isinstance(name, str):
            problems.append(f"{path}.name: must be a string")
            name = ""
        pointers = _strings(item.get("jsonPointers"), f"{path}.jsonPointers", problems)
        for pointer in pointers:
            if pointer and not pointer.startswith("/"):
                problems.append(f"{path}.jsonPointers: {pointer!r} must start with '/'")
        jq = _strings(item.get("jqPathExpressions"), f"{path}.jqPathExpressions", problems)
        out.append(IgnoreDifference(name, pointers, jq))
    return tuple(out)


def parse_applicationset(doc: Any, origin: str) -> ApplicationSet | InvalidApplicationSet:
    """Validate one ApplicationSet document; collect every problem."""
    problems: list[str] = []
    if not isinstance(doc, dict):
        return _invalid("(unnamed)", origin, ["(document): must be a mapping"])
    if doc.get("apiVersion") != API_VERSION:
        problems.append(f"apiVersion: must be {API_VERSION}, got {doc.get('apiVersion')!r}")
    if doc.get("kind") != KIND:
        problems.append(f"kind: must be {KIND}, got {doc.get('kind')!r}")
    meta = doc.get("metadata")
    if not isinstance(meta, dict):
        problems.append("metadata: required (a mapping)")
        meta = {}
    name = _name_of(doc)
    if not name:
        problems.append("metadata.name: required")
    elif len(name) > 253 or not _NAME.match(name):
        problems.append(f"metadata.name: {name!r} is not a valid name")
    namespace = meta.get("namespace") or DEFAULT_NAMESPACE
    if not isinstance(namespace, str):
        problems.append("metadata.namespace: must be a string")
        namespace = DEFAULT_NAMESPACE
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        problems.append("spec: required (a mapping)")
        return _invalid(name or Path(origin).stem, origin, problems)
    for key in sorted(set(spec) - _SPEC_FIELDS):
        problems.append(f"spec.{key}: unknown field")
    generators = spec.get("generators")
    if not isinstance(generators, list) or not generators:
        problems.append("spec.generators: required (a non-empty list)")
        generators = []
    for i, generator in enumerate(generators):
        if not isinstance(generator, dict):
            problems.append(f"spec.generators[{i}]: must be a mapping")
    template = spec.get("template")
    if not isinstance(template, dict):
        problems.append("spec.template: required (a mapping with metadata and spec)")
        template = {}
    else:
        for part in ("metadata", "spec"):
            if part in template and not isinstance(template[part], dict):
                problems.append(f"spec.template.{part}: must be a mapping")
    go_template = spec.get("goTemplate", False)
    if not isinstance(go_template, bool):
        problems.append("spec.goTemplate: must be a boolean")
        go_template = False
    options = Options()
    raw_options = spec.get("goTemplateOptions") or []
    if not isinstance(raw_options, list):
        problems.append("spec.goTemplateOptions: must be a list of strings")
    else:
        try:
            options = parse_options(raw_options)
        except TemplateError as exc:
            problems.append(f"spec.{exc}")
    template_patch = spec.get("templatePatch") or ""
    if not isinstance(template_patch, str):
        problems.append("spec.templatePatch: must be a string (a YAML or JSON patch template)")
        template_patch = ""
    policy = spec.get("syncPolicy") or {}
    sync = ApplicationsSync.SYNC
    preserve = False
    if not isinstance(policy, dict):
        problems.append("spec.syncPolicy: must be a mapping")
    else:
        raw_sync = policy.get("applicationsSync") or "sync"
        try:
            sync = ApplicationsSync(raw_sync)
        except ValueError:
            allowed = ", ".join(p.value for p in ApplicationsSync)
            problems.append(
                f"spec.syncPolicy.applicationsSync: {raw_sync!r} is not one of {allowed}"
            )
        preserve = policy.get("preserveResourcesOnDeletion", False)
        if not isinstance(preserve, bool):
            problems.append("spec.syncPolicy.preserveResourcesOnDeletion: must be a boolean")
            preserve = False
    ignore = _ignore_differences(spec.get("ignoreApplicationDifferences"), problems)
    preserved = spec.get("preservedFields") or {}
    if not isinstance(preserved, dict):
        problems.append("spec.preservedFields: must be a mapping")
        preserved = {}
    annotations = _strings(
        preserved.get("annotations"), "spec.preservedFields.annotations", problems
    )
    labels = _strings(preserved.get("labels"), "spec.preservedFields.labels", problems)
    if problems:
        return _invalid(name or Path(origin).stem, origin, problems)
    return ApplicationSet(
        name=name,
        namespace=namespace,
        origin=origin,
        generators=tuple(generators),
        template=template,
        template_patch=template_patch,
        go_template=go_template,
        go_options=options,
        applications_sync=sync,
        preserve_resources_on_deletion=preserve,
        ignore_differences=ignore,
        preserved_annotations=annotations,
        preserved_labels=labels,
        raw=doc,
    )


def _invalid(name: str, origin: str, messages: Sequence[str]) -> InvalidApplicationSet:
    return InvalidApplicationSet(
        name=name, origin=origin, conditions=tuple(error_condition(m) for m in messages)
    )


# --------------------------------------------------------------------------- files


def load_applicationset_files(
    paths: Sequence[Path], *, beside_applications: bool = False
) -> list[ApplicationSet | InvalidApplicationSet]:
    """ApplicationSets from files and directories (``*.yaml|*.yml|*.json``, recursively).

    Other documents are ignored. A file named explicitly that cannot be read or
    holds no ApplicationSet becomes an invalid set named after the file; inside a
    directory an unreadable file counts only if it mentions ``ApplicationSet``.
    A second set with an already seen name is invalid.

    ``beside_applications`` (the engine's ``--apps``, read for Applications too): a
    named file without an ApplicationSet, or unreadable, is no set's problem (the
    Application loader reports what is wrong with it).
    """
    results: list[ApplicationSet | InvalidApplicationSet] = []
    first: dict[str, str] = {}
    for file, named in candidate_files(paths):
        for entry in _documents(file, named=named and not beside_applications):
            if isinstance(entry, InvalidApplicationSet):
                results.append(entry)
                continue
            parsed = parse_applicationset(entry, str(file))
            name = _name_of(entry)
            if name and name in first:
                parsed = _invalid(
                    name,
                    str(file),
                    [
                        f"metadata.name: duplicate ApplicationSet name, first defined in {first[name]}"
                    ],
                )
            elif name:
                first[name] = str(file)
            results.append(parsed)
    return results


def _documents(file: Path, *, named: bool) -> list[Any]:
    try:
        text = read_manifest_text(file)
        docs = load_manifest_documents(text, str(file), as_json=file.suffix == ".json")
    except ManifestFileError as exc:
        if not named and "ApplicationSet" not in _peek(file):
            return []
        return [_invalid(file.stem, str(file), [str(exc)])]
    found: list[Any] = []
    for doc in docs:
        items = doc.get("items") if isinstance(doc, dict) and doc.get("kind") == "List" else [doc]
        found.extend(
            i for i in (items if isinstance(items, list) else []) if is_applicationset_document(i)
        )
    if named and not found:
        return [
            _invalid(
                file.stem,
                str(file),
                [f"{file}: holds no ApplicationSet (apiVersion {API_VERSION}, kind {KIND})"],
            )
        ]
    return found


def _peek(file: Path) -> str:
    try:
        with file.open("rb") as handle:
            return handle.read(64 * 1024).decode("utf-8", "replace")
    except OSError:
        return ""


def as_mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
