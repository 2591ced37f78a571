"""Kustomize apps rendered with ``kustomize build`` (or ``kubectl kustomize``).

The Application's ``spec.source.kustomize`` options are written into the
kustomization of a scratch copy of the checkout (what ``kustomize edit`` would
do; nothing reaches a command line), then every path the kustomization tree
reads is checked to stay inside the checkout and every remote base against the
policy (:mod:`kustomize_refs`). The command line holds only the directory, after ``--``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from gitops_tui.engine.app.application import Source
from gitops_tui.engine.app.source_spec import replica_count
from gitops_tui.engine.manifest_yaml import (
    ManifestFileError,
    load_manifest_documents,
    read_manifest_text,
)
from gitops_tui.engine.model import Manifest
from gitops_tui.engine.source.argv import positionals
from gitops_tui.engine.source.kustomize_refs import (
    check_kustomization_tree,
    is_remote,
    kustomization_file,
)
from gitops_tui.engine.source.rendertools import (
    DEFAULT_POLICY,
    RenderError,
    RenderPolicy,
    manifests_from_output,
    reject_escaping_symlinks,
    relative_to_root,
    resolve_inside,
    run_tool,
    scratch_copy,
    tool_environment,
    tool_path,
)

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


def render_kustomize(
    source: Source,
    app_dir: Path,
    root: Path,
    *,
    timeout: float,
    policy: RenderPolicy = DEFAULT_POLICY,
) -> list[Manifest]:
    reject_escaping_symlinks(app_dir, root)  # then every other directory it reads: below
    relative = relative_to_root(app_dir, root)
    with tempfile.TemporaryDirectory(prefix="gitops-tui-kustomize-") as scratch:
        home = Path(scratch) / "home"
        home.mkdir()
        build_root, build_dir = prepare_build(source, app_dir, root, Path(scratch), policy)
        env = tool_environment(home)
        if not policy.remote_bases:
            env["GIT_ALLOW_PROTOCOL"] = ""  # git may use no transport at all
        output = run_tool(
            kustomize_command(build_dir),
            tool="kustomize",
            path=relative,
            timeout=timeout,
            cwd=build_root,
            env=env,
        )
    return manifests_from_output(output, tool="kustomize", path=relative)


def prepare_build(
    source: Source, app_dir: Path, root: Path, scratch: Path, policy: RenderPolicy = DEFAULT_POLICY
) -> tuple[Path, Path]:
    """``(build_root, build_dir)``: the checkout, or a scratch copy with the options applied.

    Every path the resulting kustomization tree reads is inside ``build_root``
    and every remote base is one ``policy`` permits, else ``RenderError``.
    """
    options = source.kustomize or {}
    build_root, build_dir = root, app_dir
    if any(options.get(key) for key in _KUSTOMIZE_EDITS):
        build_root, build_dir = scratch_copy(root, app_dir, scratch)
        edit_kustomization(build_dir, options, root=build_root)
    check_kustomization_tree(build_dir, build_root, policy)
    return build_root, build_dir


def kustomize_build_arguments(directory: Path) -> list[str]:
    """Arguments after ``kustomize`` (``build``; the directory after ``--``)."""
    return ["build", *positionals(str(directory))]


def kustomize_command(directory: Path) -> list[str]:
    kustomize = tool_path("kustomize")
    if kustomize is not None:
        return [str(kustomize), *kustomize_build_arguments(directory)]
    kubectl = tool_path("kubectl")
    if kubectl is not None:
        return [str(kubectl), "kustomize", *positionals(str(directory))]
    raise RenderError("neither kustomize nor kubectl found", tool="kustomize")


def edit_kustomization(directory: Path, options: Mapping[str, Any], *, root: Path) -> None:
    """Apply ``spec.source.kustomize`` options to the kustomization in ``directory``.

    Same effect as the ``kustomize edit set/add`` commands Argo CD runs; only ever
    called on a scratch copy of the checkout.
    """
    path = kustomization_file(directory)
    if path is None:
        raise RenderError("no kustomization file", tool="kustomize", path=str(directory))
    try:
        docs = load_manifest_documents(read_manifest_text(path), path.name)
    except ManifestFileError as exc:
        raise RenderError(str(exc), tool="kustomize") from exc
    kustomization = docs[0] if docs and docs[0] is not None else {}
    if not isinstance(kustomization, dict):
        raise RenderError("kustomization is not a mapping", tool="kustomize", path=path.name)
    edited = apply_kustomize_options(kustomization, options, directory, root=root)
    path.write_text(yaml.safe_dump(edited, sort_keys=False), encoding="utf-8")


def apply_kustomize_options(
    kustomization: Mapping[str, Any],
    options: Mapping[str, Any],
    directory: Path,
    *,
    root: Path | None = None,
) -> dict[str, Any]:
    """A new kustomization with the Application's kustomize options applied.

    Local components must resolve inside ``root`` (default: ``directory``).
    """
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
            root or directory,
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
    existing: Sequence[Any],
    added: Sequence[str],
    directory: Path,
    root: Path,
    *,
    ignore_missing: bool,
) -> list[Any]:
    components = list(existing)
    for component in added:
        if component in components:
            continue
        if is_remote(component):
            components.append(component)  # checked with the whole tree
            continue
        try:
            local = resolve_inside(root, component, what="component", base=directory)
        except RenderError as exc:
            raise RenderError(exc.reason, tool="kustomize", path=component) from exc
        if not local.exists():
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
