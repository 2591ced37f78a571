"""Loading Application manifests from files and directories.

Files are read with ``manifest_yaml`` (safe YAML/JSON reading, shared with rendering)
and each Application document is parsed by ``parse``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from gitops_tui.engine.app.application import (
    API_VERSION,
    KIND,
    Application,
    InvalidApplication,
    invalid_application,
)
from gitops_tui.engine.app.parse import declared_name, is_application_document, parse_application
from gitops_tui.engine.app.spec_fields import as_list
from gitops_tui.engine.manifest_yaml import (
    MANIFEST_SUFFIXES,
    ManifestFileError,
    load_manifest_documents,
    read_manifest_text,
)

_MENTIONS_ARGO = re.compile(r"argoproj\.io")


def load_application_files(paths: Sequence[Path]) -> list[Application | InvalidApplication]:
    """Applications from files and directories (recursively ``*.yaml|*.yml|*.json``).

    Non-Application documents are ignored. A file named explicitly that cannot be
    read or parsed, or that holds no Application at all (an empty file, say; ApplicationSets
    are read by the engine on their own and count as content),
    becomes an ``InvalidApplication`` named after the file; inside a
    directory, such a file is reported only if it mentions ``argoproj.io`` (so Helm
    templates and other non-YAML ``.yaml`` files do not turn into errors). A second
    Application with an already seen name is invalid.
    """
    results: list[Application | InvalidApplication] = []
    first_origin: dict[str, str] = {}
    for file, named in candidate_files(paths):
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


def candidate_files(paths: Sequence[Path]) -> Iterator[tuple[Path, bool]]:
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


def _is_applicationset(doc: Any) -> bool:
    """An ApplicationSet (or a List holding one): the engine reads those on their own."""
    if isinstance(doc, dict) and doc.get("kind") == "List":
        return any(_is_applicationset(item) for item in as_list(doc.get("items")))
    return (
        isinstance(doc, dict)
        and doc.get("kind") == "ApplicationSet"
        and str(doc.get("apiVersion", "")).startswith("argoproj.io/")
    )


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
        found.extend(item for item in as_list(items) if is_application_document(item))
    if named and not found and not any(_is_applicationset(doc) for doc in docs):
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


def may_hold_applicationsets(paths: Sequence[Path]) -> bool:
    """False only when no file of ``paths`` can hold an ApplicationSet: none spells
    ``ApplicationSet`` and none has an escape (``\\u0041``...) that could spell it.

    Lets a command about plain Applications skip loading the ApplicationSet engine;
    any doubt (a file that cannot be read) answers True, and the real loader decides.
    """
    for file, _named in candidate_files(paths):
        try:
            text = read_manifest_text(file)
        except ManifestFileError:
            return True
        if "ApplicationSet" in text or "\\" in text:
            return True
    return False
