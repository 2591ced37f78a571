"""``gitops-tui appset list|preview|apply``: ApplicationSets without the console.

``list`` prints the Applications each ApplicationSet generates now; ``preview``
compares them with the existing Applications (``--apps`` files and directories)
and prints what applying the set would create, update and delete under its
``applicationsSync`` policy. Both read Git through the engine's repository cache
(``RepoCache``) and take the ``clusters`` generator's clusters from the kubeconfig
contexts (``--cluster-label CONTEXT=KEY=VALUE`` gives a context labels to select).
With ``--from-cluster`` against a cluster whose ``argocdNamespace`` holds an Argo CD,
the clusters are Argo CD's cluster Secrets there plus its in-cluster, and ``preview``
compares with that cluster's Applications (``appset_argocd``).
``list`` and ``preview`` change nothing; ``apply NAME ... --from-cluster`` writes the
set and its Applications to the cluster (``appset_apply``).

Exit codes: 0 every set generated (and, with ``preview --exit-code``, nothing to
change); 1 a set has an error condition (nothing generated from it) or, with
``--exit-code``, the preview has changes the policy allows; 2 an error (bad
arguments, unreadable files, no ApplicationSet found).

Terminal safety: every name, path and message comes from files or repositories:
text goes through ``SafeOutput`` and one-line cells through ``printable``; JSON
is ``json.dump`` (control characters escaped). Repository URLs are shown
without credentials.

JSON (``-o json``), stable keys:

``list``: ``[{name, namespace, origin, policy, ok, conditions: [{type, message}],
applications: [{name, namespace, project, parent: {kind, name}, destination: {server,
name, namespace}, sources: [{repoURL, path, targetRevision, chart}]}]}]``

``preview``: ``[{name, namespace, origin, policy, ok, conditions, create: [{name}],
update: [{name, allowed, reason, fields, adopt}], delete: [{name, allowed, reason,
cascade}], unchanged: [name], conflicts: [{name, message}]}]``
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from gitops_tui.config import ConfigError, load_settings
from gitops_tui.engine.app.application import Application
from gitops_tui.engine.app.applicationset import (
    Action,
    ApplicationSet,
    ClusterInfo,
    Generated,
    Inputs,
    Plan,
    generate_all,
    load_applicationset_files,
    plan,
)
from gitops_tui.engine.app.parse import is_application_document
from gitops_tui.engine.errors import GitOpsError
from gitops_tui.engine.manifest_yaml import (
    MANIFEST_SUFFIXES,
    ManifestFileError,
    load_manifest_documents,
    read_manifest_text,
)
from gitops_tui.engine.redact import redact_url
from gitops_tui.engine.textsafe import printable

# as gitops_tui.headless (not imported: it loads the diff engine, a second of start-up)
EXIT_OK, EXIT_DIFF, EXIT_ERROR = 0, 1, 2


class SafeOutput:
    """The text stream of a command: every write made printable (newlines kept)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def write(self, text: str) -> int:
        return self._out.write(printable(text, multiline=True))

    def flush(self) -> None:
        self._out.flush()


def error(message: str) -> None:
    """``error: message`` on stderr, made printable."""
    sys.stderr.write(printable(f"error: {message}", multiline=True) + "\n")


# --------------------------------------------------------------------------- inputs


def cluster_inputs(kubeconfig: Path | None, labels: Sequence[str]) -> tuple[ClusterInfo, ...]:
    """The kubeconfig contexts as clusters, with the ``--cluster-label`` labels."""
    from gitops_tui.engine.cache.kubeclient import list_contexts

    contexts, _ = list_contexts(kubeconfig)
    names = {c.name for c in contexts}
    extra: dict[str, dict[str, str]] = {}
    for item in labels:
        context, sep, rest = item.partition("=")
        key, sep2, value = rest.partition("=")
        if not sep or not sep2 or not context or not key:
            raise ConfigError(f"--cluster-label {item!r}: expected CONTEXT=KEY=VALUE")
        if context not in names:
            raise ConfigError(f"--cluster-label {item!r}: no kubeconfig context {context!r}")
        extra.setdefault(context, {})[key] = value
    return tuple(
        ClusterInfo(name=c.name, server=c.server, labels=extra.get(c.name, {}))
        for c in sorted(contexts, key=lambda c: c.name)
    )


def repo_checkout(cache_root: Path | None = None) -> Callable[[str, str], tuple[str, Path]]:
    """The git generator's access to repositories: the engine's ``RepoCache``, fetched
    once per repository and revision in this run (the cache outlives the command: a
    revision resolved without fetching would be the one of an earlier run)."""
    from gitops_tui.engine.source.repo import RepoCache

    cache = RepoCache(cache_root)
    resolved: dict[tuple[str, str], str] = {}

    def checkout(repo_url: str, revision: str) -> tuple[str, Path]:
        sha = resolved.get((repo_url, revision))
        if sha is None:
            sha = resolved[(repo_url, revision)] = cache.resolve(repo_url, revision, refresh=True)
        return sha, cache.checkout(repo_url, sha)

    return checkout


def load_existing(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """Application documents (raw) from files and directories; unreadable named files raise."""
    found: list[dict[str, Any]] = []
    for path in paths:
        files = (
            sorted(p for p in path.rglob("*") if p.suffix in MANIFEST_SUFFIXES and p.is_file())
            if path.is_dir()
            else [path]
        )
        for file in files:
            try:
                docs = load_manifest_documents(
                    read_manifest_text(file), str(file), as_json=file.suffix == ".json"
                )
            except ManifestFileError:
                if path.is_dir():
                    continue
                raise
            for doc in docs:
                items = (
                    doc.get("items")
                    if isinstance(doc, dict) and doc.get("kind") == "List"
                    else [doc]
                )
                found.extend(
                    i
                    for i in (items if isinstance(items, list) else [])
                    if is_application_document(i)
                )
    return found


# --------------------------------------------------------------------------- JSON


def _conditions(generated: Generated) -> list[dict[str, str]]:
    return [{"type": c.type, "message": c.message} for c in generated.conditions]


def _set_json(generated: Generated) -> dict[str, Any]:
    appset = generated.appset
    full = isinstance(appset, ApplicationSet)
    return {
        "name": appset.name,
        "namespace": appset.namespace if isinstance(appset, ApplicationSet) else None,
        "origin": appset.origin,
        "policy": appset.applications_sync.value if isinstance(appset, ApplicationSet) else None,
        "ok": generated.ok and full,
        "conditions": _conditions(generated),
    }


def app_json(app: Application, parent: str) -> dict[str, Any]:
    return {
        "name": app.name,
        "namespace": app.namespace,
        "project": app.project,
        "parent": {"kind": "ApplicationSet", "name": parent},
        "destination": {
            "server": app.destination.server,
            "name": app.destination.name,
            "namespace": app.destination.namespace,
        },
        "sources": [
            {
                "repoURL": redact_url(s.repo_url),
                "path": s.path,
                "targetRevision": s.target_revision,
                "chart": s.chart,
            }
            for s in app.sources
        ],
    }


def plan_json(generated: Generated, result: Plan) -> dict[str, Any]:
    out = _set_json(generated)
    out["conditions"] = [{"type": c.type, "message": c.message} for c in result.conditions]
    out["ok"] = not result.conditions
    out["create"] = [{"name": c.name} for c in result.of(Action.CREATE)]
    out["update"] = [
        {"name": c.name, "allowed": c.allowed, "reason": c.reason, "fields": list(c.fields),
         "adopt": c.adopt}
        for c in result.of(Action.UPDATE)
    ]  # fmt: skip
    out["delete"] = [
        {"name": c.name, "allowed": c.allowed, "reason": c.reason, "cascade": c.cascade}
        for c in result.of(Action.DELETE)
    ]
    out["unchanged"] = list(result.unchanged)
    out["conflicts"] = [{"name": c.name, "message": c.message} for c in result.conflicts]
    return out


# --------------------------------------------------------------------------- text


def _table(rows: list[list[str]], out: SafeOutput) -> None:
    cells = [[printable(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    for row in cells:
        out.write(
            "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n"
        )


def _heading(generated: Generated, summary: str) -> str:
    appset = generated.appset
    policy = f", {appset.applications_sync.value}" if isinstance(appset, ApplicationSet) else ""
    return printable(f"ApplicationSet {appset.name} ({appset.origin}{policy}): {summary}") + "\n"


def _condition_lines(conditions: Sequence[Any], out: SafeOutput) -> None:
    for condition in conditions:
        out.write(printable(f"  {condition.type}: {condition.message}") + "\n")


def print_list(results: Sequence[Generated], out: SafeOutput) -> None:
    for generated in results:
        if not generated.ok:
            out.write(_heading(generated, "nothing generated"))
            _condition_lines(generated.conditions, out)
            continue
        out.write(_heading(generated, f"{len(generated.applications)} application(s)"))
        if not generated.applications:
            continue
        rows = [["NAME", "PROJECT", "DESTINATION", "REPO", "PATH", "REVISION"]]
        for app in generated.applications:
            dest = app.destination
            rows.append(
                [
                    app.name,
                    app.project,
                    f"{dest.name or dest.server}/{dest.namespace or '-'}",
                    redact_url(app.source.repo_url),
                    app.source.path or app.source.chart or "-",
                    app.source.target_revision or "HEAD",
                ]
            )
        _table(rows, out)


def print_preview(pairs: Sequence[tuple[Generated, Plan]], out: SafeOutput) -> None:
    for generated, result in pairs:
        if result.conditions:
            out.write(_heading(generated, "nothing planned"))
            _condition_lines(result.conditions, out)
            continue
        counts = (
            f"{len(result.of(Action.CREATE))} to create, {len(result.of(Action.UPDATE))} to update, "
            f"{len(result.of(Action.DELETE))} to delete, {len(result.unchanged)} unchanged"
        )
        if result.conflicts:
            counts += f", {len(result.conflicts)} conflict(s)"
        out.write(_heading(generated, counts))
        marks = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-"}
        for change in result.changes:
            notes = []
            if change.fields:
                notes.append(", ".join(change.fields))
            if change.adopt:
                notes.append("adopted (no owner yet)")
            if change.action is Action.DELETE:
                notes.append(
                    "its resources are deleted too" if change.cascade else "resources kept"
                )
            if not change.allowed:
                notes.append(f"SKIPPED ({change.reason})")
            line = f"  {marks[change.action]} {change.name}" + (
                f"  {'; '.join(notes)}" if notes else ""
            )
            out.write(printable(line) + "\n")
        for conflict in result.conflicts:
            out.write(printable(f"  ! {conflict.name}  {conflict.message}") + "\n")


# --------------------------------------------------------------------------- the command


def run(args: argparse.Namespace, *, out: TextIO | SafeOutput | None = None) -> int:
    """Run ``appset list|preview|apply``; the exit code."""
    target = out if out is not None else sys.stdout
    stream = target if isinstance(target, SafeOutput) else SafeOutput(target)
    try:
        config = getattr(args, "config", None)
        if config is not None and not config.exists():
            raise ConfigError(f"{config}: no such config file")
        settings = load_settings(config)
        kubeconfig = getattr(args, "kubeconfig", None) or settings.kubeconfig
        from_cluster = getattr(args, "from_cluster", None)
        merged = settings
        if args.appset_command == "apply" or from_cluster:
            from gitops_tui.appset_apply import LOCAL_MODE
            from gitops_tui.config import merge_cli

            merged = merge_cli(
                settings,
                apps=getattr(args, "apps", None),
                from_cluster=from_cluster,
                kubeconfig=kubeconfig,
                context=getattr(args, "context", None),
                read_only=getattr(args, "read_only", None),
                tracking=getattr(args, "tracking", None),
            )
            if args.appset_command == "apply" and not merged.from_cluster:
                raise ConfigError(LOCAL_MODE)
        missing = [p for p in args.paths if not p.exists()]
        if missing:
            raise ConfigError(f"{missing[0]}: no such file or directory")
        appsets = load_applicationset_files(args.paths)
        if not appsets:
            raise ConfigError("no ApplicationSet found in " + ", ".join(str(p) for p in args.paths))
        # the kubeconfig is read only when a set has a clusters generator (or labels are given)
        wants_clusters = bool(args.cluster_label) or any(
            '"clusters"' in json.dumps(s.raw.get("spec"), default=str)
            for s in appsets
            if isinstance(s, ApplicationSet)
        )
        argocd = None
        if wants_clusters and merged.from_cluster:
            from gitops_tui.appset_argocd import argocd_cluster_inputs

            argocd = argocd_cluster_inputs(merged, args.cluster_label)
        if argocd is not None:
            inputs = Inputs(clusters=argocd, checkout=repo_checkout(), argocd_clusters=True)
        else:
            clusters = cluster_inputs(kubeconfig, args.cluster_label) if wants_clusters else ()
            inputs = Inputs(clusters=clusters, checkout=repo_checkout())
        results = generate_all(appsets, inputs)
        if args.appset_command == "apply":
            from gitops_tui.appset_apply import run_apply

            return run_apply(args.appset_name, results, merged, output=args.output, out=stream)
        if args.appset_command == "list":
            if args.output == "json":
                data = []
                for generated in results:
                    entry = _set_json(generated)
                    entry["applications"] = [
                        app_json(a, generated.name) for a in generated.applications
                    ]
                    data.append(entry)
                json.dump(data, stream, indent=2)
                stream.write("\n")
            else:
                print_list(results, stream)
            return EXIT_DIFF if any(not g.ok for g in results) else EXIT_OK
        if merged.from_cluster:
            from gitops_tui.appset_argocd import cluster_applications

            in_cluster = cluster_applications(merged)
            pairs = [
                (
                    g,
                    plan(
                        g,
                        in_cluster(g.appset.namespace)
                        if isinstance(g.appset, ApplicationSet) and g.ok
                        else [],
                    ),
                )
                for g in results
            ]
        else:
            apps_paths = list(getattr(args, "apps", None) or settings.apps)
            existing = load_existing(apps_paths)
            pairs = [(g, plan(g, existing)) for g in results]
        if args.output == "json":
            json.dump([plan_json(g, p) for g, p in pairs], stream, indent=2)
            stream.write("\n")
        else:
            print_preview(pairs, stream)
        if any(p.conditions for _, p in pairs):
            return EXIT_DIFF
        if args.exit_code and any(p.pending for _, p in pairs):
            return EXIT_DIFF
        return EXIT_OK
    except (GitOpsError, ValueError, OSError) as exc:
        error(str(exc))
        return EXIT_ERROR
