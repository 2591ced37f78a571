"""What a kustomization reads, checked before Kustomize runs.

Kustomize follows ``resources``, ``bases`` and ``components`` to other
directories anywhere on the disk (its load restrictor only guards plain files)
and fetches remote ones with ``git``. Starting at the app's kustomization, every
local entry must resolve inside the checkout, and every remote one must be
``https``/``ssh``, allowed by the config and permitted by the app's project.
``file://`` (another local repository) is never followed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from gitops_tui.engine.manifest_yaml import (
    ManifestFileError,
    load_manifest_documents,
    read_manifest_text,
)
from gitops_tui.engine.source.rendertools import (
    CONFIG_REMOTE_BASES,
    DEFAULT_POLICY,
    RenderError,
    RenderPolicy,
    relative_to_root,
    resolve_inside,
)

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MAX_KUSTOMIZATIONS = 1000

# entries that name a kustomization directory, a resource file or a remote base
_TARGET_FIELDS = ("resources", "bases", "components")
# entries that name a file
_FILE_FIELDS = (
    "crds",
    "configurations",
    "generators",
    "transformers",
    "validators",
    "patchesStrategicMerge",
)
_PATH_ITEM_FIELDS = ("patches", "patchesJson6902", "replacements")
_GENERATOR_FIELDS = ("configMapGenerator", "secretGenerator", "helmCharts")

_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
_SCP = re.compile(r"^[^/\s:@]+@[^/\s:]+:")
_KNOWN_HOSTS = re.compile(r"^(?:github\.com|gitlab\.com|bitbucket\.org)[/:]", re.IGNORECASE)
_SAFE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/+-]*$")


def kustomization_file(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_NAMES:
        if (directory / name).is_file():
            return directory / name
    return None


def is_remote(entry: str) -> bool:
    """True for what Kustomize fetches (a URL, ``git::``, ``user@host:path``, ``github.com/...``)."""
    text = entry.strip()
    return bool(
        _SCHEME.match(text)
        or text.startswith(("git::", "gh:"))
        or _SCP.match(text)
        or _KNOWN_HOSTS.match(text)
    )


def remote_repository(entry: str) -> str:
    """The repository URL a remote entry fetches from (for AppProject ``sourceRepos``)."""
    text = entry.strip().removeprefix("git::").split("?", 1)[0]
    if _KNOWN_HOSTS.match(text):
        text = (
            "https://" + text.replace(":", "/", 1)
            if ":" in text.split("/")[0]
            else "https://" + text
        )
    scheme = _SCHEME.match(text)
    prefix_len = scheme.end() if scheme else 0
    rest = text[prefix_len:]
    if "//" in rest:
        return text[: prefix_len + rest.index("//")]
    if ".git/" in rest or rest.endswith(".git"):
        return text[: prefix_len + rest.index(".git") + 4]
    host, _, path = rest.partition("/") if scheme else rest.partition(":")
    if host.lower().endswith(("github.com", "gitlab.com", "bitbucket.org")):
        segments = path.split("/")[:2]
        separator = "/" if scheme else ":"
        return text[:prefix_len] + host + separator + "/".join(segments)
    return text


def check_remote(entry: str, policy: RenderPolicy, *, where: str) -> None:
    """Refuse a remote entry unless it is https/ssh, allowed and permitted by the project."""
    text = entry.strip()
    bare = text.removeprefix("git::")
    scheme_match = _SCHEME.match(bare)
    if scheme_match:
        scheme = scheme_match["scheme"].lower()
    elif _KNOWN_HOSTS.match(bare):
        scheme = "https"
    elif _SCP.match(bare):
        scheme = "ssh"
    else:
        scheme = bare.partition(":")[0] or "unknown"
    if scheme == "file" or text.startswith("gh:"):
        raise RenderError(
            f"{where}: {entry!r} refers to a local repository (file://); only the app's own "
            "repository and permitted https/ssh remote bases are read",
            tool="kustomize",
        )
    if scheme not in ("https", "ssh"):
        raise RenderError(
            f"{where}: remote base {entry!r} uses {scheme!r}; only https and ssh are allowed",
            tool="kustomize",
        )
    query = text.partition("?")[2]
    for part in query.split("&") if query else ():
        key, _, value = part.partition("=")
        if key in ("ref", "version") and not _SAFE_REF.match(value):
            raise RenderError(
                f"{where}: remote base {entry!r} has an invalid ref", tool="kustomize"
            )
    if any(ch.isspace() for ch in text) or text.startswith("-") or "/-" in text or "@-" in text:
        raise RenderError(f"{where}: remote base {entry!r} is not a valid URL", tool="kustomize")
    if not policy.remote_bases:
        raise RenderError(
            f"{where}: remote base {entry!r} refused ({CONFIG_REMOTE_BASES} is false in the "
            "config file)",
            tool="kustomize",
        )
    repository = remote_repository(text)
    if not policy.permits_repo(repository):
        raise RenderError(
            f"{where}: remote base {entry!r}: repository {repository!r} is not permitted by "
            "the app's project (AppProject sourceRepos)",
            tool="kustomize",
        )


def check_kustomization_tree(
    app_dir: Path, root: Path, policy: RenderPolicy = DEFAULT_POLICY
) -> list[Path]:
    """Every local path the kustomization at ``app_dir`` reads; all inside ``root``.

    Follows local ``resources``/``bases``/``components`` directories; raises
    ``RenderError`` for an entry leaving the checkout or a refused remote base.
    """
    root = root.resolve()
    queue = [app_dir.resolve()]
    seen: set[Path] = set()
    read: list[Path] = []
    while queue:
        directory = queue.pop()
        if directory in seen:
            continue
        seen.add(directory)
        if len(seen) > MAX_KUSTOMIZATIONS:
            raise RenderError(
                f"more than {MAX_KUSTOMIZATIONS} kustomizations are referenced", tool="kustomize"
            )
        path = kustomization_file(directory)
        if path is None:
            continue
        read.append(path)
        shown = relative_to_root(path, root)
        for field, entry in _entries(_load(path, shown)):
            where = f"{shown}: {field}"
            if field in _TARGET_FIELDS and is_remote(entry):
                check_remote(entry, policy, where=where)
                continue
            target = _local(entry, directory, root, where)
            read.append(target)
            if field in _TARGET_FIELDS and target.is_dir():
                queue.append(target)
    return read


def _load(path: Path, shown: str) -> Mapping[str, Any]:
    try:
        docs = load_manifest_documents(read_manifest_text(path), shown)
    except ManifestFileError as exc:
        raise RenderError(str(exc), tool="kustomize") from exc
    doc = docs[0] if docs else None
    return doc if isinstance(doc, dict) else {}


def _local(entry: str, directory: Path, root: Path, where: str) -> Path:
    if _SCHEME.match(entry.strip()):
        raise RenderError(f"{where}: {entry!r}: URLs are not allowed here", tool="kustomize")
    try:
        return resolve_inside(root, entry, what="entry", base=directory)
    except RenderError as exc:
        reason = exc.reason.removeprefix("entry ")
        written = Path(os.path.normpath(directory / entry))
        if not Path(entry).is_absolute() and written.is_relative_to(root):
            # inside as written: a symlink on the way leads out
            link = _escaping_link(written, root)
            reason = f"reaches a symlink that points outside the repository ({link})"
        raise RenderError(f"{where}: {entry!r} {reason}", tool="kustomize") from exc


def _escaping_link(path: Path, root: Path) -> str:
    """The first symlink on ``path`` (normalized, inside ``root``) that leads out of it."""
    current = root
    for part in path.relative_to(root).parts:
        current = current / part
        if current.is_symlink() and not current.resolve().is_relative_to(root):
            return relative_to_root(current, root)
    return relative_to_root(path, root)


def _entries(kustomization: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(field, path)`` for every path-like entry of a kustomization."""
    for field in (*_TARGET_FIELDS, *_FILE_FIELDS):
        for item in _strings(kustomization.get(field)):
            if "\n" not in item:  # a multi-line string is an inline patch or config
                yield field, item
    for field in _PATH_ITEM_FIELDS:
        for mapping in _mappings(kustomization.get(field)):
            if isinstance(mapping.get("path"), str):
                yield f"{field}.path", mapping["path"]
    openapi = kustomization.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        yield "openapi.path", openapi["path"]
    for field in _GENERATOR_FIELDS:
        for generator in _mappings(kustomization.get(field)):
            for key in ("files", "envs"):
                for value in _strings(generator.get(key)):
                    yield f"{field}.{key}", value.partition("=")[2] or value
            for key in ("env", "valuesFile", "chartHome"):
                if isinstance(generator.get(key), str):
                    yield f"{field}.{key}", generator[key]
    helm_globals = kustomization.get("helmGlobals")
    if isinstance(helm_globals, dict) and isinstance(helm_globals.get("chartHome"), str):
        yield "helmGlobals.chartHome", helm_globals["chartHome"]


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
