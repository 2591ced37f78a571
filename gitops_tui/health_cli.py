"""``gitops-tui health FILE...``: the health of the objects in manifest files, for script authors.

Like ``argocd admin settings resource-overrides health``: each object in the
files is judged with the rules that would apply in the console (the built-in
rule, or a Lua customization from ``--argocd-cm FILE``, the config file's keys
and ``healthChecks`` directories, later sources winning), and the rule is named.
No cluster is contacted. Exit 0 when every object could be evaluated (whatever
its health), 2 on errors: unreadable or invalid files, invalid customizations,
a script that fails.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from gitops_tui.config import ConfigError, Settings, load_settings
from gitops_tui.engine.health.customizations import (
    Customizations,
    layered,
    load_directories,
    parse_keys,
)
from gitops_tui.engine.health.dispatch import resource_health
from gitops_tui.engine.manifest_yaml import (
    ManifestFileError,
    load_manifest_documents,
    read_manifest_text,
)
from gitops_tui.engine.textsafe import printable

EXIT_OK = 0
EXIT_ERROR = 2
NO_RULE = "no health check (Argo CD leaves it out of app health)"


def health_rule_options(settings: Settings) -> dict[str, Any]:
    """The engine options for customizations: the config file's keys under its
    ``healthChecks`` directories (``ConfigError`` when a directory is unusable)."""
    directories = load_directories(settings.health_checks)
    if directories.problems:
        raise ConfigError(list(directories.problems))
    custom = settings.customizations.merged(directories)
    return {
        "customizations": replace(custom, inferred_in_app_health=settings.inferred_health),
        "argocd_namespace": settings.argocd_namespace,
        "argocd_config_map": settings.argocd_config_map,
    }


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "health",
        help="health of the objects in manifest files, with the rules that apply (no cluster)",
    )
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE")
    parser.add_argument(
        "--list-rules",
        action="store_true",
        help="list the customizations in force and where each comes from",
    )
    parser.add_argument(
        "--config", type=Path, default=argparse.SUPPRESS, help="config file (its resource.* keys)"
    )
    parser.add_argument(
        "--argocd-cm", type=Path, default=None, metavar="FILE", help="an argocd-cm ConfigMap file"
    )
    parser.add_argument(
        "--health-checks",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a directory of <group>/<kind>/health.lua scripts (repeatable)",
    )
    parser.add_argument("--output", "-o", choices=("text", "json"), default="text")


def argocd_cm_file(path: Path) -> Customizations:
    """The customizations of an argocd-cm ConfigMap file (or a plain mapping of its keys)."""
    try:
        docs = [d for d in load_manifest_documents(read_manifest_text(path), str(path)) if d]
    except ManifestFileError as exc:
        raise ConfigError(str(exc)) from exc
    if len(docs) != 1 or not isinstance(docs[0], Mapping):
        raise ConfigError(f"{path}: expected one ConfigMap")
    data = docs[0].get("data", docs[0]) if docs[0].get("kind") == "ConfigMap" else docs[0]
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: data is not a mapping")
    return parse_keys(data, f"argocd-cm file {path}")


def rules_for(args: argparse.Namespace) -> tuple[Customizations, Settings]:
    """argocd-cm file, then the config file's keys, then directories (later wins)."""
    settings = load_settings(getattr(args, "config", None))
    sources = []
    if args.argocd_cm is not None:
        sources.append(argocd_cm_file(args.argocd_cm))
    sources.append(settings.customizations)
    sources.append(load_directories([*settings.health_checks, *args.health_checks]))
    rules = layered(sources)
    if rules.problems:
        raise ConfigError(list(rules.problems))
    return rules, settings


def evaluate(
    files: list[Path], rules: Customizations, *, application_health: bool = False
) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per object (file, identity, status, message, rule) and the errors met."""
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    for path in files:
        try:
            docs = load_manifest_documents(read_manifest_text(path), str(path))
        except ManifestFileError as exc:
            errors.append(str(exc))
            continue
        for index, doc in enumerate(docs):
            if doc is None:
                continue
            if not isinstance(doc, dict) or not doc.get("kind"):
                errors.append(f"{path}: document {index + 1} is not a Kubernetes object")
                continue
            raw_meta = doc.get("metadata")
            meta: Mapping[str, Any] = raw_meta if isinstance(raw_meta, Mapping) else {}
            result = resource_health(
                doc, application_health=application_health, customizations=rules, inferred=True
            )
            row = {
                "file": str(path),
                "apiVersion": str(doc.get("apiVersion", "")),
                "kind": str(doc.get("kind", "")),
                "namespace": str(meta.get("namespace") or ""),
                "name": str(meta.get("name") or ""),
                "status": result.status.value if result else None,
                "message": result.message if result else "",
                "rule": result.rule if result else None,
            }
            rows.append(row)
            if result is not None and result.script_error:
                errors.append(f"{path}: {row['kind']}/{row['name']}: {result.message}")
    return rows, errors


def run(args: argparse.Namespace) -> int:
    try:
        rules, settings = rules_for(args)
    except (ConfigError, OSError) as exc:
        print(f"error: {printable(str(exc), multiline=True)}", file=sys.stderr)
        return EXIT_ERROR
    if args.list_rules or not args.files:
        for line in rules.report() or ["no customizations (built-in rules only)"]:
            print(printable(line))
        if not args.files:
            return EXIT_OK
    rows, errors = evaluate(args.files, rules, application_health=settings.application_health)
    if args.output == "json":
        print(json.dumps({"resources": rows, "errors": errors}, indent=2))
    else:
        for row in rows:
            name = "/".join(p for p in (row["namespace"], row["name"]) if p)
            status = row["status"] or "-"
            line = f"{row['kind']} {name}: {status}"
            if row["message"]:
                line += f" ({row['message']})"
            line += f"  [{row['rule'] or NO_RULE}]"
            print(printable(line))
        for error in errors:
            print(f"error: {printable(error)}", file=sys.stderr)
    return EXIT_ERROR if errors else EXIT_OK
