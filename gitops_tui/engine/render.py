"""Desired manifests from a checked-out source tree: plain directory, Kustomize or Helm.

The caller hands over the repository checkout (``root``, read-only, at the resolved
commit) and the ``Source``; this module never touches Git and never writes to
``root``. Every path the source names (its ``path``, Helm value files, files read
in directory mode) must stay inside the checkout, symlinks included.

Namespaced objects without a namespace are returned as they are: the caller sets
the destination namespace, which needs API discovery.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from gitops_tui.engine.apps import (
    MANIFEST_SUFFIXES,
    DirectoryOptions,
    ManifestFileError,
    Source,
    decode_manifest_bytes,
    load_manifest_documents,
    read_manifest_text,
    replica_count,
)
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.sandbox.toolchain import find_tool

DEFAULT_TIMEOUT_S = 90.0
MAX_TOOL_OUTPUT_BYTES = 256 * 1024 * 1024
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_STDERR_KEEP = 2000
_NO_REFS: Mapping[str, Path] = MappingProxyType({})


class RenderError(Exception):
    """Manifests could not be generated. ``str()`` reads ``tool: path: reason: stderr``."""

    def __init__(self, reason: str, *, tool: str = "", path: str = "", stderr: str = "") -> None:
        self.reason = reason
        self.tool = tool
        self.path = path
        self.stderr = stderr
        super().__init__(": ".join(part for part in (tool, path, reason, stderr) if part))


def render_source(
    source: Source,
    root: Path,
    *,
    app_name: str,
    namespace: str,
    ref_roots: Mapping[str, Path] = _NO_REFS,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> list[Manifest]:
    """The manifests ``source`` describes inside checkout ``root``.

    ``namespace`` is the destination namespace (Helm's ``--namespace`` unless the
    source sets one); ``ref_roots`` maps ``ref`` names of other sources to their
    checkouts, for ``$ref/...`` Helm value files.
    """
    real_root = root.resolve()
    app_dir = resolve_inside(real_root, source.path or ".", what="path")
    if not app_dir.is_dir():
        raise RenderError("app path does not exist or is not a directory", path=source.path)
    tool = detect_tool(app_dir, source)
    if tool == "helm":
        return _render_helm(
            source,
            app_dir,
            real_root,
            app_name=app_name,
            namespace=namespace,
            ref_roots=ref_roots,
            timeout=timeout,
        )
    if tool == "kustomize":
        return _render_kustomize(source, app_dir, real_root, timeout=timeout)
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


# --------------------------------------------------------------------------- paths


def resolve_inside(root: Path, relative: str, *, what: str, base: Path | None = None) -> Path:
    """``base / relative`` (``base`` defaults to ``root``) resolved; it must stay in ``root``.

    Absolute paths, ``..`` escapes and symlinks resolving outside are refused.
    """
    if Path(relative).is_absolute():
        raise RenderError(f"{what} must be relative to the repository, not absolute", path=relative)
    real_root = root.resolve()
    candidate = ((base or real_root) / relative).resolve()
    if not candidate.is_relative_to(real_root):
        raise RenderError(f"{what} leaves the repository", path=relative)
    return candidate


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return str(path)


def _reject_escaping_symlinks(directory: Path, root: Path) -> None:
    """A tool must not read through a symlink out of the checkout (e.g. via ``.Files``)."""
    for folder, dirnames, filenames in os.walk(directory):
        for name in [*dirnames, *filenames]:
            entry = Path(folder) / name
            if entry.is_symlink() and not entry.resolve().is_relative_to(root):
                raise RenderError(
                    "symlink points outside the repository", path=_relative(entry, root)
                )


# --------------------------------------------------------------------------- documents


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


# --------------------------------------------------------------------------- directory


def render_directory(app_dir: Path, root: Path, options: DirectoryOptions) -> list[Manifest]:
    """Manifests of the ``*.yaml|*.yml|*.json`` files of a plain directory app.

    ``include``/``exclude`` globs (``{a,b}`` alternatives, ``*`` crossing ``/``) match
    the path relative to the app directory; exclude wins. A file that fails to load
    is skipped only if it mentions neither ``apiVersion`` nor ``kind`` (not a
    Kubernetes file, e.g. a ``values.yaml``), as Argo CD skips unrelated YAML.
    """
    root = root.resolve()
    include = glob_regex(options.include, what="include") if options.include else None
    exclude = glob_regex(options.exclude, what="exclude") if options.exclude else None
    manifests: list[Manifest] = []
    for path in _directory_files(app_dir, recurse=options.recurse):
        relative = path.relative_to(app_dir).as_posix()
        if exclude is not None and exclude.fullmatch(relative):
            continue
        if include is not None and not include.fullmatch(relative):
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
    """Candidate files in lexical path order; symlinked directories are not entered."""
    found: list[Path] = []
    for folder, dirnames, filenames in os.walk(app_dir):
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
        raise RenderError(_without_prefix(str(exc), str(real)), path=origin) from exc
    try:
        docs = load_manifest_documents(text, origin, as_json=path.suffix == ".json")
        return manifests_from_documents(docs, origin)
    except (ManifestFileError, RenderError) as exc:
        if "apiVersion" not in text and "kind" not in text:
            return []
        if isinstance(exc, RenderError):
            raise
        raise RenderError(_without_prefix(str(exc), origin), path=origin) from exc


def _without_prefix(message: str, origin: str) -> str:
    prefix = f"{origin}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


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


# --------------------------------------------------------------------------- tools


def _run_tool(
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


def _tool_environment(home: Path) -> dict[str, str]:
    """A minimal environment: PATH and a private, writable HOME; no cluster access."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "KUBECONFIG": str(home / "no-kubeconfig"),
        "LANG": "C.UTF-8",
    }


def _manifests_from_output(text: str, *, tool: str, path: str) -> list[Manifest]:
    origin = f"{tool} output for {path}"
    try:
        docs = load_manifest_documents(text, origin)
    except ManifestFileError as exc:
        raise RenderError(_without_prefix(str(exc), origin), tool=tool, path=path) from exc
    return manifests_from_documents(docs, origin)


# --------------------------------------------------------------------------- kustomize

_KUSTOMIZE_EDITS = (
    "namePrefix",
    "nameSuffix",
    "images",
    "replicas",
    "commonLabels",
    "commonAnnotations",
    "namespace",
    "patches",
    "components",
)


def _render_kustomize(
    source: Source, app_dir: Path, root: Path, *, timeout: float
) -> list[Manifest]:
    _reject_escaping_symlinks(app_dir, root)
    relative = _relative(app_dir, root)
    options = source.kustomize or {}
    with tempfile.TemporaryDirectory(prefix="gitops-tui-kustomize-") as scratch:
        home = Path(scratch) / "home"
        home.mkdir()
        build_root, build_dir = root, app_dir
        if any(options.get(key) for key in _KUSTOMIZE_EDITS):
            build_root = Path(scratch) / "repo"
            shutil.copytree(root, build_root, symlinks=True, ignore=shutil.ignore_patterns(".git"))
            build_dir = build_root / app_dir.relative_to(root)
            edit_kustomization(build_dir, options)
        output = _run_tool(
            _kustomize_command(build_dir),
            tool="kustomize",
            path=relative,
            timeout=timeout,
            cwd=build_root,
            env=_tool_environment(home),
        )
    return _manifests_from_output(output, tool="kustomize", path=relative)


def _kustomize_command(directory: Path) -> list[str]:
    kustomize = find_tool("kustomize")
    if kustomize is not None:
        return [str(kustomize), "build", str(directory)]
    kubectl = find_tool("kubectl")
    if kubectl is not None:
        return [str(kubectl), "kustomize", str(directory)]
    raise RenderError("neither kustomize nor kubectl found", tool="kustomize")


def kustomization_file(directory: Path) -> Path:
    """The kustomization file of ``directory`` (``kustomization.yaml``/``.yml``/``Kustomization``)."""
    for name in KUSTOMIZATION_NAMES:
        if (directory / name).is_file():
            return directory / name
    raise RenderError("no kustomization file", tool="kustomize", path=str(directory))


def edit_kustomization(directory: Path, options: Mapping[str, Any]) -> None:
    """Apply ``spec.source.kustomize`` options to the kustomization in ``directory``.

    Same effect as the ``kustomize edit set/add`` commands Argo CD runs; only ever
    called on a scratch copy of the checkout.
    """
    path = kustomization_file(directory)
    try:
        docs = load_manifest_documents(read_manifest_text(path), path.name)
    except ManifestFileError as exc:
        raise RenderError(str(exc), tool="kustomize") from exc
    kustomization = docs[0] if docs and docs[0] is not None else {}
    if not isinstance(kustomization, dict):
        raise RenderError("kustomization is not a mapping", tool="kustomize", path=path.name)
    edited = apply_kustomize_options(kustomization, options, directory)
    path.write_text(yaml.safe_dump(edited, sort_keys=False), encoding="utf-8")


def apply_kustomize_options(
    kustomization: Mapping[str, Any], options: Mapping[str, Any], directory: Path
) -> dict[str, Any]:
    """A new kustomization with the Application's kustomize options applied."""
    result = dict(kustomization)
    for key in ("namePrefix", "nameSuffix", "namespace"):
        if options.get(key):
            result[key] = options[key]
    if options.get("images"):
        result["images"] = merge_images(result.get("images") or [], options["images"])
    if options.get("replicas"):
        wanted = [
            {"name": item["name"], "count": replica_count(item.get("count"))}
            for item in options["replicas"]
        ]
        result["replicas"] = _merge_by_name(result.get("replicas") or [], wanted)
    if options.get("commonLabels"):
        _add_labels(result, options)
    if options.get("commonAnnotations"):
        result["commonAnnotations"] = _add_pairs(
            result.get("commonAnnotations") or {},
            options["commonAnnotations"],
            force=bool(options.get("forceCommonAnnotations")),
            what="annotation",
            force_option="forceCommonAnnotations",
        )
    if options.get("patches"):
        result["patches"] = [*(result.get("patches") or []), *options["patches"]]
    if options.get("components"):
        result["components"] = _added_components(
            result.get("components") or [],
            options["components"],
            directory,
            ignore_missing=bool(options.get("ignoreMissingComponents")),
        )
    return result


def _add_labels(result: dict[str, Any], options: Mapping[str, Any]) -> None:
    labels = options["commonLabels"]
    if options.get("labelWithoutSelector"):
        entry: dict[str, Any] = {"pairs": dict(labels), "includeSelectors": False}
        if options.get("labelIncludeTemplates"):
            entry["includeTemplates"] = True
        result["labels"] = [*(result.get("labels") or []), entry]
        return
    result["commonLabels"] = _add_pairs(
        result.get("commonLabels") or {},
        labels,
        force=bool(options.get("forceCommonLabels")),
        what="label",
        force_option="forceCommonLabels",
    )


def _add_pairs(
    existing: Mapping[str, Any],
    added: Mapping[str, str],
    *,
    force: bool,
    what: str,
    force_option: str,
) -> dict[str, Any]:
    """``kustomize edit add label|annotation``: an existing key needs ``force``."""
    merged = dict(existing)
    for key, value in added.items():
        if key in merged and not force:
            raise RenderError(
                f"{what} {key!r} already in kustomization file (set {force_option} to override)",
                tool="kustomize",
            )
        merged[key] = value
    return merged


def _merge_by_name(existing: Sequence[Any], wanted: Sequence[Mapping[str, Any]]) -> list[Any]:
    by_name = {item["name"]: dict(item) for item in wanted}
    merged = [
        by_name.pop(item.get("name"), item) if isinstance(item, dict) else item for item in existing
    ]
    return [*merged, *by_name.values()]


def _added_components(
    existing: Sequence[Any], added: Sequence[str], directory: Path, *, ignore_missing: bool
) -> list[Any]:
    components = list(existing)
    for component in added:
        if component in components:
            continue
        if "://" not in component and not (directory / component).exists():
            if ignore_missing:
                continue
            raise RenderError(f"component {component!r} not found", tool="kustomize")
        components.append(component)
    return components


def merge_images(existing: Sequence[Any], overrides: Sequence[str]) -> list[dict[str, Any]]:
    """``kustomize edit set image``: overrides replace entries of the same name; ``*`` keeps."""
    merged: dict[str, dict[str, Any]] = {
        item["name"]: dict(item) for item in existing if isinstance(item, dict) and "name" in item
    }
    for override in overrides:
        image = parse_image_override(override)
        previous = merged.get(image["name"], {})
        for field in ("newName", "newTag", "digest"):
            if image.get(field) == "*":
                if previous.get(field):
                    image[field] = previous[field]
                else:
                    del image[field]
        merged[image["name"]] = image
    return [merged[name] for name in sorted(merged)]


def parse_image_override(text: str) -> dict[str, str]:
    """``[old=]new[:tag][@digest]`` (Argo CD ``images`` entry) as a kustomize image entry."""
    key, separator, value = text.partition("=")
    if not separator:
        key, value = "", text
    name, tag, digest = split_image_name(value)
    if not name or name == text:
        raise RenderError(
            f"invalid image {text!r}: use name:tag, name@digest or name=new[:tag][@digest]",
            tool="kustomize",
        )
    image = {"name": key, "newName": name} if key else {"name": name}
    if tag:
        image["newTag"] = tag
    if digest:
        image["digest"] = digest
    return image


def split_image_name(image: str) -> tuple[str, str, str]:
    """``registry:5000/app:1.0@sha256:...`` -> (``registry:5000/app``, ``1.0``, ``sha256:...``)."""
    slash = max(image.find("/"), 0)
    tail = image[slash:]
    at, colon = tail.find("@"), tail.find(":")
    if at < 0 and colon < 0:
        return image, "", ""
    if at >= 0 and (colon < 0 or at < colon):
        return image[: slash + at], "", image[slash + at + 1 :]
    if at >= 0:
        return (
            image[: slash + colon],
            image[slash + colon + 1 : slash + at],
            image[slash + at + 1 :],
        )
    return image[: slash + colon], image[slash + colon + 1 :], ""


# --------------------------------------------------------------------------- helm


def _render_helm(
    source: Source,
    app_dir: Path,
    root: Path,
    *,
    app_name: str,
    namespace: str,
    ref_roots: Mapping[str, Path],
    timeout: float,
) -> list[Manifest]:
    _reject_escaping_symlinks(app_dir, root)
    relative = _relative(app_dir, root)
    with tempfile.TemporaryDirectory(prefix="gitops-tui-helm-") as scratch:
        scratch_dir = Path(scratch)
        values_file = _write_inline_values(source.helm or {}, scratch_dir)
        arguments = helm_template_arguments(
            source,
            app_dir,
            root,
            app_name=app_name,
            namespace=namespace,
            ref_roots=ref_roots,
            values_file=values_file,
        )
        helm = find_tool("helm")
        if helm is None:
            raise RenderError("helm not found", tool="helm", path=relative)
        output = _run_tool(
            [str(helm), *arguments],
            tool="helm",
            path=relative,
            timeout=timeout,
            cwd=app_dir,
            env=_helm_environment(scratch_dir),
        )
    return _manifests_from_output(output, tool="helm", path=relative)


def _helm_environment(scratch: Path) -> dict[str, str]:
    home = scratch / "home"
    env = _tool_environment(home)
    for name in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        directory = home / name.lower()
        directory.mkdir(parents=True, exist_ok=True)
        env[name] = str(directory)
    env["HELM_NO_PLUGINS"] = "1"
    return env


def _write_inline_values(helm: Mapping[str, Any], scratch: Path) -> Path | None:
    """``valuesObject`` (which wins) or ``values`` written to a file for ``--values``."""
    if helm.get("valuesObject") is not None:
        text = json.dumps(helm["valuesObject"])
    elif helm.get("values"):
        text = str(helm["values"])
    else:
        return None
    path = scratch / "inline-values.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def helm_template_arguments(
    source: Source,
    app_dir: Path,
    root: Path,
    *,
    app_name: str,
    namespace: str,
    ref_roots: Mapping[str, Path] = _NO_REFS,
    values_file: Path | None = None,
) -> list[str]:
    """Arguments after ``helm`` for ``helm template``, value files resolved and checked."""
    helm = source.helm or {}
    arguments = ["template", helm.get("releaseName") or app_name, str(app_dir)]
    release_namespace = helm.get("namespace") or namespace
    if release_namespace:
        arguments += ["--namespace", release_namespace]
    if helm.get("kubeVersion"):
        arguments += ["--kube-version", helm["kubeVersion"]]
    for value_file in helm.get("valueFiles") or []:
        resolved = resolve_value_file(value_file, app_dir, root, ref_roots)
        if resolved is not None:
            arguments += ["--values", str(resolved)]
        elif not helm.get("ignoreMissingValueFiles"):
            raise RenderError("value file not found", tool="helm", path=value_file)
    if values_file is not None:
        arguments += ["--values", str(values_file)]
    for parameter in helm.get("parameters") or []:
        flag = "--set-string" if parameter.get("forceString") else "--set"
        arguments += [flag, f"{parameter['name']}={escape_set_value(parameter.get('value', ''))}"]
    for parameter in helm.get("fileParameters") or []:
        path = resolve_inside(
            root, parameter["path"], what="helm fileParameters path", base=app_dir
        )
        arguments += ["--set-file", f"{parameter['name']}={path}"]
    for api_version in helm.get("apiVersions") or []:
        arguments += ["--api-versions", api_version]
    arguments.append("--skip-crds" if helm.get("skipCrds") else "--include-crds")
    if helm.get("skipTests"):
        arguments.append("--skip-tests")
    if helm.get("skipSchemaValidation"):
        arguments.append("--skip-schema-validation")
    return arguments


def resolve_value_file(
    value_file: str, app_dir: Path, root: Path, ref_roots: Mapping[str, Path] = _NO_REFS
) -> Path | None:
    """The file a ``valueFiles`` entry names, or ``None`` when it does not exist.

    Relative paths start at the app directory, absolute ones at the repository root
    (as Argo CD); ``$ref/...`` starts at the root of the source with that ``ref``.
    The result must stay inside the repository it belongs to.
    """
    if "://" in value_file:
        raise RenderError("remote value files are not supported", tool="helm", path=value_file)
    what = "helm value file"
    if value_file.startswith("$"):
        ref, _, rest = value_file[1:].partition("/")
        if ref not in ref_roots:
            raise RenderError(f"no source with ref {ref!r}", tool="helm", path=value_file)
        resolved = _resolve_in(ref_roots[ref].resolve(), rest or ".", value_file, what)
    elif Path(value_file).is_absolute():
        resolved = _resolve_in(root, value_file.lstrip("/"), value_file, what)
    else:
        resolved = _resolve_in(root, value_file, value_file, what, base=app_dir)
    return resolved if resolved.is_file() else None


def _resolve_in(root: Path, relative: str, shown: str, what: str, base: Path | None = None) -> Path:
    try:
        return resolve_inside(root, relative, what=what, base=base)
    except RenderError as exc:
        raise RenderError(exc.reason, tool="helm", path=shown) from exc


def escape_set_value(value: str) -> str:
    """Escape commas for ``--set`` (Helm splits on them) unless the value is a ``{list}``."""
    if value.startswith("{") and value.endswith("}"):
        return value
    return re.sub(r"(?<!\\),", r"\\,", value)
