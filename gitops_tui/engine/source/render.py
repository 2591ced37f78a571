"""Desired manifests from a checked-out source tree: plain directory, Kustomize or Helm.

The caller hands over the repository checkout (``root``, read-only, at the resolved
commit) and the ``Source``; this module never touches Git and never writes to
``root``. Every path the source names (its ``path``, Helm value files, files read
in directory mode) must stay inside the checkout, symlinks included.

Namespaced objects without a namespace are returned as they are: the caller sets
the destination namespace, which needs API discovery.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from gitops_tui.engine.app.application import DirectoryOptions, Source
from gitops_tui.engine.manifest_yaml import (
    MANIFEST_SUFFIXES,
    ManifestFileError,
    load_manifest_documents,
    read_manifest_text,
)
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.source.kustomize_refs import KUSTOMIZATION_NAMES
from gitops_tui.engine.source.rendertools import (
    DEFAULT_POLICY,
    DEFAULT_TIMEOUT_S,
    NO_REFS,
    RenderError,
    RenderPolicy,
    manifests_from_documents,
    resolve_inside,
    without_prefix,
)
from gitops_tui.engine.source.rendertools import relative_to_root as _relative

__all__ = ["RenderError", "RenderPolicy", "render_source", "resolve_inside"]


def render_source(
    source: Source,
    root: Path,
    *,
    app_name: str,
    namespace: str,
    ref_roots: Mapping[str, Path] = NO_REFS,
    timeout: float = DEFAULT_TIMEOUT_S,
    policy: RenderPolicy = DEFAULT_POLICY,
    revision: str = "",
) -> list[Manifest]:
    """The manifests ``source`` describes inside checkout ``root``.

    ``namespace`` is the destination namespace (Helm's ``--namespace`` unless the
    source sets one); ``ref_roots`` maps ``ref`` names of other sources to their
    checkouts, for ``$ref/...`` Helm value files; ``policy`` says what may be
    fetched from elsewhere (remote Kustomize bases, Helm chart repositories);
    ``revision``: the commit ``root`` holds, named when the app path is missing there.
    An app path that exists but holds no manifests is a valid, empty app.
    """
    real_root = root.resolve()
    app_dir = resolve_inside(real_root, source.path or ".", what="path")
    if not app_dir.is_dir():
        at = f" at revision {revision[:12]}" if revision else ""
        if os.path.lexists(app_dir):
            raise RenderError(f"app path is not a directory{at}", path=source.path)
        raise RenderError(f"app path does not exist{at}", path=source.path)
    tool = detect_tool(app_dir, source)
    if tool == "helm":  # the tools' modules load with the first app that needs them
        from gitops_tui.engine.source.helm import render_helm

        return render_helm(
            source,
            app_dir,
            real_root,
            app_name=app_name,
            namespace=namespace,
            ref_roots=ref_roots,
            timeout=timeout,
            policy=policy,
        )
    if tool == "kustomize":
        from gitops_tui.engine.source.kustomize import render_kustomize

        return render_kustomize(source, app_dir, real_root, timeout=timeout, policy=policy)
    return render_directory(app_dir, real_root, source.directory or DirectoryOptions())


def detect_tool(app_dir: Path, source: Source | None = None) -> str:
    """``helm``, ``kustomize`` or ``directory``: an explicit section of the source wins.

    Otherwise files decide, as Argo CD's discovery: a kustomization (which wins when
    both exist, as in Argo CD), then ``Chart.yaml``, else a plain directory.
    """
    if source is not None:
        if source.helm is not None or source.chart:
            return "helm"
        if source.kustomize is not None:
            return "kustomize"
        if source.directory is not None:
            return "directory"
    if any((app_dir / name).is_file() for name in KUSTOMIZATION_NAMES):
        return "kustomize"
    if (app_dir / "Chart.yaml").is_file():
        return "helm"
    return "directory"


def find_duplicates(manifests: Iterable[Manifest], namespace: str = "") -> list[ResourceKey]:
    """Keys that occur more than once, each listed once in order of its second occurrence.

    Objects with only ``metadata.generateName`` are never duplicates. Call it after
    the destination namespace has been applied, or pass it as ``namespace``: objects
    without one are then keyed as if in it (see ``defaulted_key``).
    """
    seen: set[ResourceKey] = set()
    duplicates: list[ResourceKey] = []
    for manifest in manifests:
        key = defaulted_key(manifest, namespace)
        if not key.name:
            continue
        if key in seen and key not in duplicates:
            duplicates.append(key)
        seen.add(key)
    return duplicates


def defaulted_key(manifest: Manifest, namespace: str) -> ResourceKey:
    """The object's key with an empty namespace read as ``namespace`` (the destination's).

    Without discovery this cannot tell cluster-scoped kinds apart; it only serves to
    match an object written with the destination namespace against the same object
    written without one.
    """
    key = ResourceKey.of(manifest)
    if key.namespace or not namespace:
        return key
    return ResourceKey(key.group, key.kind, namespace, key.name)


# --------------------------------------------------------------------------- directory


def render_directory(app_dir: Path, root: Path, options: DirectoryOptions) -> list[Manifest]:
    """Manifests of the ``*.yaml|*.yml|*.json`` files of a plain directory app.

    ``include``/``exclude`` globs (``{a,b}`` alternatives, ``*`` crossing ``/``) match
    the path relative to the app directory; exclude wins. A file that fails to load
    is skipped only if it mentions neither ``apiVersion`` nor ``kind`` (not a
    Kubernetes file, e.g. a ``values.yaml``), as Argo CD skips unrelated YAML.
    """
    root = root.resolve()
    selected = directory_filter(options)
    manifests: list[Manifest] = []
    for path in _directory_files(app_dir, recurse=options.recurse):
        if not selected(path.relative_to(app_dir).as_posix()):
            continue
        origin = _relative(path, root)
        if path.name.endswith(".jsonnet"):
            raise RenderError(
                "jsonnet is not supported; exclude the file with spec.source.directory.exclude",
                path=origin,
            )
        manifests.extend(_manifests_in_file(path, root, origin))
    return manifests


def _directory_files(app_dir: Path, *, recurse: bool) -> list[Path]:
    """Candidate files in lexical path order; symlinked directories are not entered.

    A directory that cannot be listed fails the render (``os.walk`` would skip it
    silently: a checkout pruned mid-render would cache a partial app)."""
    found: list[Path] = []

    def unlisted(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else app_dir
        shown = where.relative_to(app_dir).as_posix() if where.is_relative_to(app_dir) else ""
        raise RenderError(
            f"cannot list the directory: {exc.strerror or exc}", path=shown or "."
        ) from None

    for folder, dirnames, filenames in os.walk(app_dir, onerror=unlisted):
        dirnames[:] = [name for name in dirnames if recurse and name != ".git"]
        for name in filenames:
            if name.endswith((*MANIFEST_SUFFIXES, ".jsonnet")):
                found.append(Path(folder) / name)
    return sorted(found, key=lambda path: path.relative_to(app_dir).parts)


def _manifests_in_file(path: Path, root: Path, origin: str) -> list[Manifest]:
    real = path.resolve()
    if not real.is_relative_to(root):
        raise RenderError("symlink points outside the repository", path=origin)
    try:
        mode = real.stat().st_mode
    except OSError as exc:
        raise RenderError(f"cannot read: {exc.strerror or exc}", path=origin) from exc
    if not stat.S_ISREG(mode):
        raise RenderError("not a regular file", path=origin)
    try:
        text = read_manifest_text(real)
    except ManifestFileError as exc:
        raise RenderError(without_prefix(str(exc), str(real)), path=origin) from exc
    try:
        docs = load_manifest_documents(text, origin, as_json=path.suffix == ".json")
        return manifests_from_documents(docs, origin)
    except (ManifestFileError, RenderError) as exc:
        if "apiVersion" not in text and "kind" not in text:
            return []
        if isinstance(exc, RenderError):
            raise
        raise RenderError(without_prefix(str(exc), origin), path=origin) from exc


def directory_filter(options: DirectoryOptions | None) -> Callable[[str], bool]:
    """Whether a directory app reads a file, given its path relative to the app directory.

    The ``include``/``exclude`` globs of ``options`` (:func:`glob_regex`, compiled
    here: an invalid one raises now); exclude wins; no glob: every file.
    """
    include = glob_regex(options.include, what="include") if options and options.include else None
    exclude = glob_regex(options.exclude, what="exclude") if options and options.exclude else None

    def selected(relative: str) -> bool:
        if exclude is not None and exclude.fullmatch(relative):
            return False
        return include is None or include.fullmatch(relative) is not None

    return selected


def glob_regex(pattern: str, *, what: str = "glob") -> re.Pattern[str]:
    """Compile a glob as Argo CD matches directory include/exclude (gobwas/glob).

    ``*`` and ``**`` match any run of characters including ``/``, ``?`` one character,
    ``[abc]``/``[!a-z]`` classes, ``{a,b}`` alternatives (nestable), ``\\`` escapes.
    """
    regex, position = _glob_sequence(pattern, 0, in_braces=False, what=what)
    if position != len(pattern):
        raise RenderError(f"invalid {what} glob: unexpected {pattern[position]!r}", path=pattern)
    return re.compile(regex, re.DOTALL)


def _glob_sequence(pattern: str, position: int, *, in_braces: bool, what: str) -> tuple[str, int]:
    parts: list[str] = []
    while position < len(pattern):
        char = pattern[position]
        if in_braces and char in ",}":
            return "".join(parts), position
        if char == "*":
            parts.append(".*")
            position += 1
        elif char == "?":
            parts.append(".")
            position += 1
        elif char == "[":
            regex, position = _glob_class(pattern, position, what)
            parts.append(regex)
        elif char == "{":
            regex, position = _glob_alternatives(pattern, position, what)
            parts.append(regex)
        elif char == "\\" and position + 1 < len(pattern):
            parts.append(re.escape(pattern[position + 1]))
            position += 2
        else:
            parts.append(re.escape(char))
            position += 1
    if in_braces:
        raise RenderError(f"invalid {what} glob: unclosed '{{'", path=pattern)
    return "".join(parts), position


def _glob_class(pattern: str, position: int, what: str) -> tuple[str, int]:
    start = position + 1
    negate = start < len(pattern) and pattern[start] == "!"
    if negate:
        start += 1
    close = pattern.find("]", start)
    if close <= start:
        raise RenderError(f"invalid {what} glob: bad '[...]' class", path=pattern)
    body = "".join("-" if char == "-" else re.escape(char) for char in pattern[start:close])
    return f"[{'^' if negate else ''}{body}]", close + 1


def _glob_alternatives(pattern: str, position: int, what: str) -> tuple[str, int]:
    alternatives: list[str] = []
    position += 1
    while True:
        regex, position = _glob_sequence(pattern, position, in_braces=True, what=what)
        alternatives.append(regex)
        closing = pattern[position] == "}"
        position += 1
        if closing:
            return f"(?:{'|'.join(alternatives)})", position
