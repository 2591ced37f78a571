"""Helm charts of a checkout rendered with ``helm template``.

The command line comes from :func:`helm_template_arguments`, a pure function:
every string of the Application is a ``--flag=value`` value or comes after ``--``,
and every file it names resolves inside its checkout. Chart dependencies that
are not vendored under ``charts/`` are built as Argo CD does
(``helm dependency build``), in a scratch copy of the checkout: local
(``file://``) ones always, ones from chart repositories only when the config
allows it.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_tui.engine.app.application import Source
from gitops_tui.engine.manifest_yaml import (
    ManifestFileError,
    load_manifest_documents,
    read_manifest_text,
)
from gitops_tui.engine.model import Manifest
from gitops_tui.engine.source.argv import list_option, option, positionals, release_name
from gitops_tui.engine.source.rendertools import (
    CONFIG_REMOTE_CHARTS,
    DEFAULT_POLICY,
    NO_REFS,
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

_SET_FILE_NAME = re.compile(r"^[^,=\\\s]+$")


def render_helm(
    source: Source,
    app_dir: Path,
    root: Path,
    *,
    app_name: str,
    namespace: str,
    ref_roots: Mapping[str, Path],
    timeout: float,
    policy: RenderPolicy = DEFAULT_POLICY,
) -> list[Manifest]:
    reject_escaping_symlinks(app_dir, root)  # and each local dependency's chart: below
    relative = relative_to_root(app_dir, root)
    missing = missing_dependencies(app_dir, root, policy)
    helm = tool_path("helm")
    if helm is None:
        raise RenderError("helm not found", tool="helm", path=relative)
    with tempfile.TemporaryDirectory(prefix="gitops-tui-helm-") as scratch:
        scratch_dir = Path(scratch)
        env = _helm_environment(scratch_dir)
        chart_root, chart_dir = root, app_dir
        if missing:
            # never write into the shared checkout: other apps render from it
            chart_root, chart_dir = scratch_copy(root, app_dir, scratch_dir)
            _build_dependencies(helm, chart_dir, missing, env, timeout=timeout, shown=relative)
        values_file = _write_inline_values(source.helm or {}, scratch_dir)
        arguments = helm_template_arguments(
            source,
            chart_dir,
            chart_root,
            app_name=app_name,
            namespace=namespace,
            ref_roots=ref_roots,
            values_file=values_file,
        )
        output = run_tool(
            [str(helm), *arguments],
            tool="helm",
            path=relative,
            timeout=timeout,
            cwd=chart_dir,
            env=env,
        )
    return manifests_from_output(output, tool="helm", path=relative)


def _helm_environment(scratch: Path) -> dict[str, str]:
    home = scratch / "home"
    env = tool_environment(home)
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


# --------------------------------------------------------------------------- the command line


def helm_template_arguments(
    source: Source,
    app_dir: Path,
    root: Path,
    *,
    app_name: str,
    namespace: str,
    ref_roots: Mapping[str, Path] = NO_REFS,
    values_file: Path | None = None,
) -> list[str]:
    """Arguments after ``helm`` for ``helm template``, value files resolved and checked.

    Options are ``--flag=value`` elements; the release name and chart come last,
    after ``--``. Paths given to Helm are absolute and inside their checkout.
    """
    helm = source.helm or {}
    arguments = ["template"]
    release_namespace = helm.get("namespace") or namespace
    if release_namespace:
        arguments.append(option("--namespace", release_namespace))
    if helm.get("kubeVersion"):
        arguments.append(option("--kube-version", helm["kubeVersion"]))
    for value_file in helm.get("valueFiles") or []:
        resolved = resolve_value_file(value_file, app_dir, root, ref_roots)
        if resolved is not None:
            arguments.append(_path_option("--values", resolved, "helm value file path"))
        elif not helm.get("ignoreMissingValueFiles"):
            raise RenderError("value file not found", tool="helm", path=value_file)
    if values_file is not None:
        arguments.append(_path_option("--values", values_file, "helm value file path"))
    for parameter in helm.get("parameters") or []:
        flag = "--set-string" if parameter.get("forceString") else "--set"
        value = escape_set_value(parameter.get("value", ""))
        arguments.append(option(flag, f"{parameter['name']}={value}"))
    for parameter in helm.get("fileParameters") or []:
        arguments.append(_set_file(parameter, app_dir, root))
    for api_version in helm.get("apiVersions") or []:
        arguments.append(list_option("--api-versions", api_version, tool="helm", what="apiVersion"))
    arguments.append("--skip-crds" if helm.get("skipCrds") else "--include-crds")
    if helm.get("skipTests"):
        arguments.append("--skip-tests")
    if helm.get("skipSchemaValidation"):
        arguments.append("--skip-schema-validation")
    return [
        *arguments,
        *positionals(release_name(helm.get("releaseName") or app_name), str(app_dir)),
    ]


def _path_option(flag: str, path: Path, what: str) -> str:
    """``--values`` splits on commas: a path holding one would name two files."""
    return list_option(flag, str(path), tool="helm", what=what)


def _set_file(parameter: Mapping[str, Any], app_dir: Path, root: Path) -> str:
    """``--set-file=name=path``; Helm splits it on commas, so neither part may hold one."""
    name = str(parameter["name"])
    if not _SET_FILE_NAME.match(name):
        raise RenderError(
            "fileParameters name may not contain ',', '=', '\\' or spaces", tool="helm", path=name
        )
    path = resolve_inside(root, parameter["path"], what="helm fileParameters path", base=app_dir)
    if re.search(r"[,\\\s]", str(path)):
        raise RenderError(
            "fileParameters path may not contain ',', '\\' or spaces",
            tool="helm",
            path=parameter["path"],
        )
    return option("--set-file", f"{name}={path}")


def resolve_value_file(
    value_file: str, app_dir: Path, root: Path, ref_roots: Mapping[str, Path] = NO_REFS
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


# --------------------------------------------------------------------------- dependencies


@dataclass(frozen=True, slots=True)
class Dependency:
    """A chart dependency that is not vendored under ``charts/``."""

    name: str
    repository: str  # a "file://" URL, or a chart repository (https://, oci://)


def chart_dependencies(chart_dir: Path) -> list[Mapping[str, Any]]:
    """``dependencies`` of ``Chart.yaml`` (or a v1 chart's ``requirements.yaml``)."""
    found: list[Mapping[str, Any]] = []
    for name in ("Chart.yaml", "requirements.yaml"):
        path = chart_dir / name
        if not path.is_file():
            continue
        try:
            docs = load_manifest_documents(read_manifest_text(path), name)
        except ManifestFileError as exc:
            raise RenderError(str(exc), tool="helm", path=path.name) from exc
        doc = docs[0] if docs else None
        deps = doc.get("dependencies") if isinstance(doc, dict) else None
        found.extend(dep for dep in deps or [] if isinstance(dep, dict))
    return found


def _vendored(chart_dir: Path, name: str) -> bool:
    charts = chart_dir / "charts"
    if not charts.is_dir():
        return False
    for entry in charts.iterdir():
        if entry.name.endswith(".tgz") and entry.name.startswith(f"{name}-"):
            return True
        if entry.is_dir() and (entry / "Chart.yaml").is_file():
            try:
                docs = load_manifest_documents(read_manifest_text(entry / "Chart.yaml"), "")
            except ManifestFileError:
                continue
            if docs and isinstance(docs[0], dict) and docs[0].get("name") == name:
                return True
    return False


def missing_dependencies(
    chart_dir: Path, root: Path, policy: RenderPolicy = DEFAULT_POLICY
) -> list[Dependency]:
    """Dependencies ``helm dependency build`` must fetch; refused ones raise ``RenderError``.

    A ``file://`` dependency must be a chart inside the repository; one from a
    chart repository needs ``policy.remote_chart_repositories``.
    """
    shown = relative_to_root(chart_dir, root)
    missing: list[Dependency] = []
    for dep in chart_dependencies(chart_dir):
        name = str(dep.get("name") or "")
        repository = str(dep.get("repository") or "")
        if not name or _vendored(chart_dir, name):
            continue
        what = f"chart dependency {name!r}"
        if repository.startswith("file://"):
            target = resolve_inside(
                root, repository[len("file://") :], what=f"{what} ({repository})", base=chart_dir
            )
            if not (target / "Chart.yaml").is_file():
                raise RenderError(f"{what}: {repository} is not a chart", tool="helm", path=shown)
            reject_escaping_symlinks(target, root)
        elif not repository:
            raise RenderError(
                f"{what} is not under charts/ and names no repository", tool="helm", path=shown
            )
        elif not re.match(r"^(https?|oci)://[^\s]+$", repository):
            raise RenderError(
                f"{what}: repository {repository!r} is not supported "
                "(use file://, https:// or oci:// URLs, not repository aliases)",
                tool="helm",
                path=shown,
            )
        elif not policy.remote_chart_repositories:
            raise RenderError(
                f"{what} from {repository} is not vendored under charts/ and fetching from "
                f"chart repositories is off (set {CONFIG_REMOTE_CHARTS}: true in the config "
                "file, or commit the chart under charts/)",
                tool="helm",
                path=shown,
            )
        missing.append(Dependency(name, repository))
    return missing


def dependency_build_commands(chart_dir: Path, missing: Sequence[Dependency]) -> list[list[str]]:
    """Arguments after ``helm`` to fetch ``missing`` into ``chart_dir/charts`` (a copy)."""
    commands: list[list[str]] = []
    seen: list[str] = []
    for dep in missing:
        if dep.repository.startswith(("http://", "https://")) and dep.repository not in seen:
            seen.append(dep.repository)
            commands.append(
                ["repo", "add", *positionals(f"dependency-{len(seen)}", dep.repository)]
            )
    commands.append(["dependency", "build", "--skip-refresh", *positionals(str(chart_dir))])
    return commands


def _build_dependencies(
    helm: Path,
    chart_dir: Path,
    missing: Sequence[Dependency],
    env: Mapping[str, str],
    *,
    timeout: float,
    shown: str,
) -> None:
    for arguments in dependency_build_commands(chart_dir, missing):
        run_tool(
            [str(helm), *arguments],
            tool="helm dependency build",
            path=shown,
            timeout=timeout,
            cwd=chart_dir,
            env=env,
        )
