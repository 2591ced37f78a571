"""What rendering with Helm and Kustomize shares: errors, the policy, paths, running a tool.

Repository content and Application fields are untrusted: every path they name must
resolve inside the checkout (symlinks included), and the tools run without a shell,
with a minimal private environment, no cluster access and a timeout.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gitops_tui.engine.errors import GitOpsError
from gitops_tui.engine.manifest_yaml import (
    ManifestFileError,
    decode_manifest_bytes,
    load_manifest_documents,
)
from gitops_tui.engine.model import Manifest
from gitops_tui.engine.source.tools import find_tool

DEFAULT_TIMEOUT_S = 90.0
MAX_TOOL_OUTPUT_BYTES = 256 * 1024 * 1024
_STDERR_KEEP = 2000

NO_REFS: Mapping[str, Path] = MappingProxyType({})
"""No ``ref`` sources: the default of the ``ref_roots`` arguments."""


class RenderError(GitOpsError):
    """Manifests could not be generated. ``str()`` reads ``tool: path: reason: stderr``."""

    title = "Render error"

    def __init__(self, reason: str, *, tool: str = "", path: str = "", stderr: str = "") -> None:
        self.reason = reason
        self.tool = tool
        self.path = path
        self.stderr = stderr
        super().__init__(": ".join(part for part in (tool, path, reason, stderr) if part))


@dataclass(frozen=True, slots=True)
class RenderPolicy:
    """What a render may fetch from outside the checkout (set by the operator's config).

    ``remote_bases``: Kustomize remote resources/bases/components (``https://``,
    ``ssh://``, ``git@host:...``, ``github.com/...``), each only from a repository
    ``source_repos`` permits (the app's AppProject ``sourceRepos`` globs; ``None``:
    no project restriction). ``remote_chart_repositories``: Helm chart dependencies
    from chart repositories. Local ``file://`` sources are never fetched.
    """

    remote_bases: bool = True
    remote_chart_repositories: bool = False
    source_repos: tuple[str, ...] | None = None

    def permits_repo(self, url: str) -> bool:
        if self.source_repos is None:
            return True
        return any(fnmatch.fnmatchcase(url, pattern) for pattern in self.source_repos)

    def cache_key(self) -> str:
        repos = "*" if self.source_repos is None else ",".join(self.source_repos)
        return f"remote={int(self.remote_bases)};charts={int(self.remote_chart_repositories)};repos={repos}"


DEFAULT_POLICY = RenderPolicy()

CONFIG_REMOTE_BASES = "kustomizeRemoteBases"
CONFIG_REMOTE_CHARTS = "helmChartRepositories"
"""Config keys of ``RenderPolicy`` (named in messages that tell the user how to allow more)."""


# --------------------------------------------------------------------------- paths


def resolve_inside(root: Path, relative: str, *, what: str, base: Path | None = None) -> Path:
    """``base / relative`` (``base`` defaults to ``root``) resolved; it must stay in ``root``.

    Absolute paths, ``..`` escapes and symlinks resolving outside are refused.
    """
    if Path(relative).is_absolute():
        raise RenderError(f"{what} must be relative to the repository, not absolute", path=relative)
    if "\x00" in relative:
        raise RenderError(f"{what} holds a NUL character", path=relative.replace("\x00", "\\0"))
    real_root = root.resolve()
    candidate = ((base or real_root) / relative).resolve()
    if not candidate.is_relative_to(real_root):
        raise RenderError(f"{what} leaves the repository", path=relative)
    return candidate


def relative_to_root(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return str(path)


def scratch_copy(root: Path, directory: Path, scratch: Path) -> tuple[Path, Path]:
    """Copy the checkout ``root`` (without ``.git``, symlinks kept) to ``scratch/repo``.

    Returns the copy and ``directory``'s counterpart in it: a tool that writes
    (an edited kustomization, built chart dependencies) writes there, never in
    the shared checkout other apps render from.
    """
    copy = scratch / "repo"
    shutil.copytree(root, copy, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    return copy, copy / directory.relative_to(root)


def reject_escaping_symlinks(directory: Path, root: Path) -> None:
    """No symlink under ``directory`` may point outside ``root`` (a tool reads it all).

    Symlinked directories that stay inside are followed (each real directory once),
    so a link to another part of the repository cannot hide a link out of it.
    """
    real_root = root.resolve()
    pending = [directory.resolve()]
    visited: set[Path] = set()
    while pending:
        folder = pending.pop()
        if folder in visited:
            continue
        visited.add(folder)
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.name == ".git":
                continue
            if entry.is_symlink():
                target = entry.resolve()
                if not target.is_relative_to(real_root):
                    raise RenderError(
                        "symlink points outside the repository",
                        path=relative_to_root(entry, real_root),
                    )
                if target.is_dir():
                    pending.append(target)
            elif entry.is_dir():
                pending.append(entry)


# --------------------------------------------------------------------------- running a tool


def tool_path(name: str) -> Path | None:
    """Where the rendering tool ``name`` is (tests replace ``find_tool`` here)."""
    return find_tool(name)


def run_tool(
    args: Sequence[str], *, tool: str, path: str, timeout: float, cwd: Path, env: Mapping[str, str]
) -> str:
    """Run a rendering tool (argument list, no shell); its stdout as text."""
    try:
        completed = subprocess.run(
            list(args),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"timed out after {timeout:g} s", tool=tool, path=path) from exc
    except OSError as exc:
        raise RenderError(
            f"cannot run {args[0]}: {exc.strerror or exc}", tool=tool, path=path
        ) from exc
    if completed.returncode != 0:
        raise RenderError(
            f"exit status {completed.returncode}",
            tool=tool,
            path=path,
            stderr=trim_stderr(completed.stderr),
        )
    if len(completed.stdout) > MAX_TOOL_OUTPUT_BYTES:
        raise RenderError(
            f"output larger than {MAX_TOOL_OUTPUT_BYTES >> 20} MiB", tool=tool, path=path
        )
    try:
        return decode_manifest_bytes(completed.stdout, f"{tool} output")
    except ManifestFileError as exc:
        raise RenderError(str(exc), tool=tool, path=path) from exc


def trim_stderr(stderr: bytes) -> str:
    """A tool's stderr, decoded, stripped and cut to its last lines when long."""
    text = stderr.decode("utf-8", errors="replace").strip()
    return text if len(text) <= _STDERR_KEEP else "..." + text[-_STDERR_KEEP:]


def tool_environment(home: Path) -> dict[str, str]:
    """A minimal environment: PATH and a private, writable HOME; no cluster access.

    Git (which Kustomize runs for remote bases) reads no system or user config and
    may use only ``https`` and ``ssh``: never ``file`` (another local repository) or
    ``ext`` (a command); it never prompts.
    """
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "KUBECONFIG": str(home / "no-kubeconfig"),
        "LANG": "C.UTF-8",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_ALLOW_PROTOCOL": "https:ssh",
        "GIT_TERMINAL_PROMPT": "0",
    }


def manifests_from_documents(docs: Sequence[Any], origin: str) -> list[Manifest]:
    """Validated Kubernetes objects from parsed documents: ``List`` items flattened.

    Empty documents are skipped; a non-mapping document or an object without
    ``apiVersion``, ``kind`` or ``metadata.name`` (``generateName`` will do) is an error.
    """
    manifests: list[Manifest] = []
    for index, doc in enumerate(docs, start=1):
        if doc is None or doc == {}:
            continue
        where = f"document {index}"
        if not isinstance(doc, dict):
            raise RenderError(f"{where} is a {_kind_of(doc)}, not a mapping", path=origin)
        items = doc.get("items")
        if doc.get("kind") == "List" and isinstance(items, list):
            for number, item in enumerate(items, start=1):
                if not isinstance(item, dict):
                    raise RenderError(
                        f"{where} item {number} is a {_kind_of(item)}, not a mapping", path=origin
                    )
                manifests.append(_checked_object(item, f"{where} item {number}", origin))
        else:
            manifests.append(_checked_object(doc, where, origin))
    return manifests


def _checked_object(obj: Manifest, where: str, origin: str) -> Manifest:
    missing = [field for field in ("apiVersion", "kind") if not _non_empty_string(obj.get(field))]
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not (
        _non_empty_string(meta.get("name")) or _non_empty_string(meta.get("generateName"))
    ):
        missing.append("metadata.name")
    if missing:
        raise RenderError(f"{where} is missing {', '.join(missing)}", path=origin)
    return obj


def _non_empty_string(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _kind_of(value: Any) -> str:
    return {list: "list", str: "string", bool: "boolean"}.get(type(value), type(value).__name__)


def manifests_from_output(text: str, *, tool: str, path: str) -> list[Manifest]:
    origin = f"{tool} output for {path}"
    try:
        docs = load_manifest_documents(text, origin)
    except ManifestFileError as exc:
        raise RenderError(without_prefix(str(exc), origin), tool=tool, path=path) from exc
    return manifests_from_documents(docs, origin)


def without_prefix(message: str, origin: str) -> str:
    prefix = f"{origin}: "
    return message[len(prefix) :] if message.startswith(prefix) else message
