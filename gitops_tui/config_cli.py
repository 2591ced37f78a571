"""``gitops-tui config show``: the resource customizations in force and where each comes from.

Every health script, ``ignoreDifferences``, ``knownTypeFields``, action and
``resource.exclusions``/``inclusions`` entry of every source, in the order the
engine layers them (``argocd-cm`` < config file < ``healthChecks`` directories,
later wins), each with its origin (``argocd-cm NS/argocd-cm: KEY``, the config
file's path and key, a script's path) and whether it is in force or overridden
(and by what). Argo CD's core exclusions are listed as built in.

``argocd-cm`` comes from ``--argocd-cm FILE`` or, with ``--cluster``, from the
default kubeconfig context's cluster (one GET; nothing is written). Its values
are cluster content: text output is made printable, JSON escapes everything
outside ASCII. Exit 0 when every source could be read and is valid, 2 otherwise
(the problems on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gitops_tui.config import ConfigError, load_settings
from gitops_tui.engine.cache.kubeclient import KubeApiError, KubeClient, KubeTarget
from gitops_tui.engine.health.customizations import (
    EMPTY,
    Customizations,
    Entry,
    layered,
    load_directories,
    parse_keys,
)
from gitops_tui.engine.resource_filter import CORE_EXCLUSIONS, FilteredResource
from gitops_tui.engine.textsafe import printable

EXIT_OK = 0
EXIT_ERROR = 2
CATEGORIES = ("health", "ignoreDifferences", "knownTypeFields", "actions")


def add_parser(sub: Any) -> None:
    config = sub.add_parser("config", help="show the resource customizations in force")
    verbs = config.add_subparsers(dest="config_command", required=True)
    show = verbs.add_parser(
        "show",
        help="every health script, ignoreDifferences, knownTypeFields, action and "
        "exclusion with its origin, later sources overriding earlier ones",
    )
    show.add_argument(
        "--config", type=Path, default=argparse.SUPPRESS, help="config file (its resource.* keys)"
    )
    show.add_argument(
        "--argocd-cm", type=Path, default=None, metavar="FILE", help="an argocd-cm ConfigMap file"
    )
    show.add_argument(
        "--cluster",
        action="store_true",
        help="read argocd-cm from the default kubeconfig context's cluster (one GET)",
    )
    show.add_argument("--kubeconfig", type=Path, default=None)
    show.add_argument("--context", default=None, help="kubeconfig context (with --cluster)")
    show.add_argument(
        "--health-checks",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a directory of <group>/<kind>/health.lua scripts (repeatable)",
    )
    show.add_argument("--output", "-o", choices=("text", "json"), default="text")


def _cluster_argocd_cm(
    kubeconfig: Path | None, context: str | None, namespace: str
) -> Customizations:
    client = KubeClient(KubeTarget(kubeconfig, context, read_only=True))
    try:
        obj = client.request(
            "GET", f"/api/v1/namespaces/{namespace}/configmaps/argocd-cm", timeout=(5.0, 15.0)
        )
    except KubeApiError as exc:
        if exc.status == 404:
            return EMPTY
        raise ConfigError(f"argocd-cm {namespace}/argocd-cm: {exc}") from exc
    finally:
        client.close()
    data = obj.get("data") if isinstance(obj, Mapping) else None
    return parse_keys(data if isinstance(data, Mapping) else {}, f"argocd-cm {namespace}/argocd-cm")


def sources_for(args: argparse.Namespace) -> list[tuple[str, Customizations]]:
    """(source name, its customizations) in the engine's order (later wins)."""
    from gitops_tui.health_cli import argocd_cm_file

    settings = load_settings(getattr(args, "config", None))
    sources: list[tuple[str, Customizations]] = []
    if args.argocd_cm is not None:
        sources.append(("argocd-cm", argocd_cm_file(args.argocd_cm)))
    elif args.cluster and settings.argocd_config_map:
        kubeconfig = args.kubeconfig or settings.kubeconfig
        context = args.context or settings.context
        sources.append(
            ("argocd-cm", _cluster_argocd_cm(kubeconfig, context, settings.argocd_namespace))
        )
    sources.append(("config", settings.customizations))
    sources.append(
        ("healthChecks", load_directories([*settings.health_checks, *args.health_checks]))
    )
    return sources


def _value(category: str, value: Any) -> Any:
    """A JSON-shaped, bounded view of a customization's value (scripts summarised)."""
    if category == "health":
        return {"script": value.script, "useOpenLibs": value.use_open_libs}
    if category == "knownTypeFields":
        return [{"field": f, "type": t} for f, t in value]
    if category == "actions":
        names = [d.get("name") for d in value.get("definitions") or [] if isinstance(d, Mapping)]
        return {"actions": [str(n) for n in names], "hasDiscovery": "discovery.lua" in value}
    if category == "ignoreDifferences":
        return {k: list(v) for k, v in value.items() if v}
    return value


def entries(sources: list[tuple[str, Customizations]]) -> list[dict[str, Any]]:
    """One row per customization of every source, marked in force or overridden."""
    merged = layered([c for _, c in sources])
    rows: list[dict[str, Any]] = []
    for category in CATEGORIES:
        in_force: Mapping[str, Any] = _category(merged, category)
        for source, custom in sources:
            for target, item in sorted(_category(custom, category).items()):
                winner = in_force.get(target)
                by = winner.origin if winner is not None and winner.origin != item.origin else None
                rows.append(
                    {
                        "category": category,
                        "target": target,
                        "source": source,
                        "origin": item.origin,
                        "inForce": by is None,
                        "overriddenBy": by,
                        "value": _value(category, item if category == "health" else item.value),
                    }
                )
    for category in ("exclusions", "inclusions"):
        last: Entry | None = getattr(merged, category)
        for source, custom in sources:
            entry: Entry | None = getattr(custom, category)
            if entry is None:
                continue
            overridden = last is not None and last.origin != entry.origin
            rows.append(
                {
                    "category": category,
                    "target": "*",
                    "source": source,
                    "origin": entry.origin,
                    "inForce": not overridden,
                    "overriddenBy": last.origin if last is not None and overridden else None,
                    "value": [FilteredResource.of(i).as_dict() for i in entry.value],
                }
            )
    rows.append(
        {
            "category": "exclusions",
            "target": "*",
            "source": "built-in",
            "origin": "Argo CD's core exclusions (always in force)",
            "inForce": True,
            "overriddenBy": None,
            "value": [f.as_dict() for f in CORE_EXCLUSIONS],
        }
    )
    return rows


def _category(custom: Customizations, category: str) -> Mapping[str, Any]:
    return {
        "health": custom.health,
        "ignoreDifferences": custom.ignore_differences,
        "knownTypeFields": custom.known_type_fields,
        "actions": custom.actions,
    }[category]


def _summary(row: Mapping[str, Any]) -> str:
    value = row["value"]
    category = row["category"]
    if category == "health":
        lines = len(str(value["script"]).splitlines())
        return f"Lua, {lines} lines" + (", open libraries" if value["useOpenLibs"] else "")
    if category in ("exclusions", "inclusions"):
        return "; ".join(
            " ".join(f"{k}={','.join(repr(x) for x in v)}" for k, v in item.items()) or "everything"
            for item in value
        )
    if category == "knownTypeFields":
        return ", ".join(f"{i['field']}={i['type']}" for i in value)
    if category == "actions":
        return "actions: " + (", ".join(value["actions"]) or "-")
    return "; ".join(f"{k}: {', '.join(v)}" for k, v in value.items())


def run(args: argparse.Namespace) -> int:
    try:
        sources = sources_for(args)
    except (ConfigError, OSError) as exc:
        print(f"error: {printable(str(exc), multiline=True)}", file=sys.stderr)
        return EXIT_ERROR
    rows = entries(sources)
    problems = [p for _, c in sources for p in c.problems]
    if args.output == "json":
        payload = {"sources": [name for name, _ in sources], "customizations": rows}
        print(json.dumps({**payload, "problems": problems}, indent=2))
    else:
        for row in rows:
            state = "in force" if row["inForce"] else f"overridden by {row['overriddenBy']}"
            print(
                printable(
                    f"{row['category']} {row['target']}: {_summary(row)}  "
                    f"[{row['origin']}] ({state})"
                )
            )
        for problem in problems:
            print(f"error: {printable(problem)}", file=sys.stderr)
    return EXIT_ERROR if problems else EXIT_OK
