"""The ``git`` generator: directories and files of one commit of a repository.

The tree comes from :class:`~.model.Checkout` (the engine's ``RepoCache``: a
read-only extracted commit). Behaviour follows Argo CD's ``GitGenerator``:

* ``directories``: every directory of the tree (hidden ones and symlinks skipped)
  matched with Go's ``path.Match`` (``*`` stays within one path segment); an entry
  with ``exclude: true`` removes what it matches, whichever order the entries have.
* ``files``: every file matched greedily as Argo CD's default ``git ls-files``
  globbing does (``*`` also crosses ``/``); each file holds a YAML/JSON mapping or a
  list of mappings, one parameter set each (flattened to ``a.b`` keys unless
  ``goTemplate``).
* path parameters ``path``, ``path.basename``, ``path.basenameNormalized``,
  ``path[n]`` (``path.segments`` with goTemplate), ``path.filename``,
  ``path.filenameNormalized`` for files, ``commitSHA``; ``pathParamPrefix``.

Trust: a pattern that is absolute or has a ``..`` segment, and a matched file whose
symlink resolves outside the checkout, are errors (nothing is generated).
Tree size, file size and counts are bounded.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_tui.engine.app.applicationset.gofuncs import as_go_numbers, sanitize_name
from gitops_tui.engine.app.applicationset.model import Checkout, GenerationError
from gitops_tui.engine.app.applicationset.selector import flatten
from gitops_tui.engine.errors import GitOpsError
from gitops_tui.engine.manifest_yaml import (
    ManifestFileError,
    load_manifest_documents,
    read_manifest_text,
)

MAX_TREE_ENTRIES = 200_000
"""Most files plus directories of one checkout the generator lists."""

MAX_PARAMS_FILE_BYTES = 4 * 1024 * 1024
"""Largest file the ``files`` generator reads (4 MiB)."""

Params = dict[str, Any]
ValuesFn = Callable[[Params], None]


@dataclass(frozen=True)
class Tree:
    sha: str
    root: Path
    directories: tuple[str, ...]
    files: tuple[str, ...]


class TreeCache:
    """One listing per (repository, revision) for a whole generation (matrix rows reuse it)."""

    def __init__(self, checkout: Checkout | None) -> None:
        self._checkout = checkout
        self._trees: dict[tuple[str, str], Tree] = {}

    def get(self, repo_url: str, revision: str, where: str) -> Tree:
        key = (repo_url, revision)
        if key not in self._trees:
            if self._checkout is None:
                raise GenerationError(f"{where}: no Git access in this mode")
            try:
                sha, root = self._checkout(repo_url, revision)
            except GitOpsError as exc:
                raise GenerationError(f"{where}: {exc}") from exc
            self._trees[key] = _list_tree(sha, root, where)
        return self._trees[key]


def _list_tree(sha: str, root: Path, where: str) -> Tree:
    directories: list[str] = []
    files: list[str] = []
    count = 0
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        rel = Path(folder).relative_to(root).as_posix()
        keep = []
        for name in sorted(dirnames):
            if name == ".git":
                continue
            if os.path.islink(os.path.join(folder, name)):
                files.append(name if rel == "." else f"{rel}/{name}")  # a symlink is a blob
                continue
            keep.append(name)
        dirnames[:] = keep
        if rel != ".":
            # Argo CD's repo server skips hidden directories (and what is under them)
            if any(part.startswith(".") for part in rel.split("/")):
                pass
            else:
                directories.append(rel)
        for name in sorted(filenames):
            files.append(name if rel == "." else f"{rel}/{name}")
        count += len(dirnames) + len(filenames)
        if count > MAX_TREE_ENTRIES:
            raise GenerationError(
                f"{where}: the repository has more than {MAX_TREE_ENTRIES} files and directories"
            )
    # directories in the walk's order (depth first, names sorted: filepath.Walk's order in
    # Argo CD's repo server); files sorted as strings (Argo CD sorts them so)
    return Tree(sha, root, tuple(directories), tuple(sorted(files)))


# --------------------------------------------------------------------------- patterns


def _check_pattern(pattern: Any, where: str) -> str:
    if not isinstance(pattern, str) or not pattern:
        raise GenerationError(f"{where}: path must be a non-empty string")
    if pattern.startswith("/") or ".." in pattern.split("/") or "\x00" in pattern:
        raise GenerationError(f"{where}: path {pattern!r} escapes the repository")
    return pattern


def go_path_match_regex(pattern: str) -> re.Pattern[str]:
    """Go's ``path.Match`` as a regex: ``*`` and ``?`` never match ``/``; ``[...]`` classes."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\":
            if i + 1 >= len(pattern):
                raise ValueError("trailing backslash")
            out.append(re.escape(pattern[i + 1]))
            i += 1
        elif char == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("^", "]") else i + 1)
            if end < 0:
                raise ValueError("unclosed '['")
            body = pattern[i + 1 : end]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            if not body:
                raise ValueError("empty character class")
            escaped = body.replace("\\", "\\\\").replace("[", "\\[")
            out.append(f"[{'^/' if negate else ''}{escaped}]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out))


def _items(raw: Any, where: str) -> list[tuple[str, bool, str]]:
    if not isinstance(raw, list) or not raw:
        raise GenerationError(f"{where}: must be a non-empty list of {{path, exclude}}")
    out = []
    for i, item in enumerate(raw):
        path = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            raise GenerationError(f"{path}: must be a mapping with a path")
        exclude = item.get("exclude", False)
        if not isinstance(exclude, bool):
            raise GenerationError(f"{path}.exclude: must be a boolean")
        out.append((_check_pattern(item.get("path"), f"{path}.path"), exclude, path))
    return out


def _select(
    candidates: Sequence[str], items: list[tuple[str, bool, str]], match: Callable[[str, str], bool]
) -> list[str]:
    selected = []
    for candidate in candidates:
        included = any(not ex and match(p, candidate) for p, ex, _ in items)
        excluded = any(ex and match(p, candidate) for p, ex, _ in items)
        if included and not excluded:
            selected.append(candidate)
    return selected


# --------------------------------------------------------------------------- parameters


def _path_params(directory: str, filename: str | None, sha: str, go: bool, prefix: str) -> Params:
    base = posixpath.basename(directory)
    if go:
        path: Params = {
            "path": directory,
            "basename": base,
            "basenameNormalized": sanitize_name(base),
            "segments": directory.split("/"),
        }
        if filename is not None:
            path["filename"] = filename
            path["filenameNormalized"] = sanitize_name(filename)
        own: Params = {"path": path, "commitSHA": sha}
        return {prefix: own} if prefix else own
    name = f"{prefix}.path" if prefix else "path"
    params: Params = {
        (f"{prefix}.commitSHA" if prefix else "commitSHA"): sha,
        name: directory,
        f"{name}.basename": base,
        f"{name}.basenameNormalized": sanitize_name(base),
    }
    if filename is not None:
        params[f"{name}.filename"] = filename
        params[f"{name}.filenameNormalized"] = sanitize_name(filename)
    for index, segment in enumerate(directory.split("/")):
        if segment:
            params[f"{name}[{index}]"] = segment
    return params


def git_params(
    spec: Mapping[str, Any],
    *,
    trees: TreeCache,
    go: bool,
    add_values: ValuesFn,
    limit: int,
    where: str,
) -> list[Params]:
    """The parameter sets of one ``git`` generator."""
    repo_url = spec.get("repoURL")
    if not isinstance(repo_url, str) or not repo_url.strip():
        raise GenerationError(f"{where}.repoURL: required")
    revision = spec.get("revision") or "HEAD"
    if not isinstance(revision, str):
        raise GenerationError(f"{where}.revision: must be a string")
    prefix = spec.get("pathParamPrefix") or ""
    if not isinstance(prefix, str):
        raise GenerationError(f"{where}.pathParamPrefix: must be a string")
    if spec.get("directories"):
        items = _items(spec["directories"], f"{where}.directories")
        tree = trees.get(repo_url, revision, where)
        try:
            regexes = {p: go_path_match_regex(p) for p, _, _ in items}
        except ValueError as exc:
            raise GenerationError(f"{where}.directories: bad pattern: {exc}") from exc
        chosen = _select(tree.directories, items, lambda p, c: bool(regexes[p].fullmatch(c)))
        if len(chosen) > limit:
            raise GenerationError(
                f"{where}: {len(chosen)} directories match, more than the limit of {limit}"
            )
        out = []
        for directory in chosen:
            params = _path_params(directory, None, tree.sha, go, prefix)
            add_values(params)
            out.append(params)
        return out
    if spec.get("files"):
        items = _items(spec["files"], f"{where}.files")
        tree = trees.get(repo_url, revision, where)
        chosen = _select(tree.files, items, lambda p, c: fnmatch.fnmatchcase(c, p))
        out = []
        for rel in chosen:
            for found in _file_objects(tree, rel, where):
                directory = posixpath.dirname(rel) or "."
                if go:
                    params = dict(as_go_numbers(found))
                else:
                    params = dict(flatten(as_go_numbers(found)))
                params.update(
                    _path_params(directory, posixpath.basename(rel), tree.sha, go, prefix)
                )
                add_values(params)
                out.append(params)
                if len(out) > limit:
                    raise GenerationError(
                        f"{where}: the files yield more than the limit of {limit} parameter sets"
                    )
        return out
    raise GenerationError(f"{where}: needs directories or files")


def _file_objects(tree: Tree, rel: str, where: str) -> list[Mapping[str, Any]]:
    path = tree.root / rel
    root = tree.root.resolve()
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise GenerationError(f"{where}: git file {rel!r} cannot be read: {exc}") from exc
    if not real.is_relative_to(root):
        raise GenerationError(f"{where}: git file {rel!r} resolves outside the repository")
    if not real.is_file():
        raise GenerationError(f"{where}: git file {rel!r} is not a regular file")
    try:
        text = read_manifest_text(real, limit=MAX_PARAMS_FILE_BYTES)
        # YAML for every file, as Argo CD (sigs.k8s.io/yaml reads JSON as YAML)
        docs = load_manifest_documents(text, rel)
    except ManifestFileError as exc:
        raise GenerationError(f"{where}: unable to process file {rel!r}: {exc}") from exc
    doc = docs[0] if docs else None
    if doc is None:
        return []  # an empty file: no parameter set, as Argo CD
    if isinstance(doc, Mapping):
        return [doc]
    if isinstance(doc, list) and all(isinstance(item, Mapping) for item in doc):
        return list(doc)
    raise GenerationError(
        f"{where}: unable to process file {rel!r}: it must hold a mapping or a list of mappings"
    )
