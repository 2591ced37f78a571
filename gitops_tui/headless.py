"""Headless commands: list, diff, sync, history, rollback (text or JSON, meaningful exit codes).

Exit codes: 0 success / no differences; 1 differences (``diff --exit-code``) or a
failed sync; 2 an error (bad arguments, unknown app, unreachable cluster).

Terminal safety: names, messages and diffs come from Git and clusters. Every
command writes its output through ``SafeOutput`` (``printable(..., multiline=True)``
on every write: no control character reaches the terminal, newlines kept) and
its errors through ``error``; table cells and the messages of one-line status
rows are made one line (``printable``) so that a newline in them cannot forge
rows. JSON output is exact: ``json.dump`` escapes every control character and,
with ``ensure_ascii``, every non-ASCII one, so the gate leaves it unchanged.

``list --output json``: a list of apps, each an object with these keys (stable;
new keys may be added, none renamed or removed)::

    name, project, origin          strings (origin: where the app was read from)
    sync, health, healthMessage    Argo CD's status words, and the health message
    revision                       resolved commit SHA ("" when unknown)
    targetRevision, repoURL, path  the source as written (repoURL without credentials)
    destination                    {server, name, namespace} as written in the app
    cluster                        what the destination resolved to: {context, server,
                                   reachable}; context and server are the kubeconfig
                                   context and its cluster's server (credentials
                                   redacted), null (and reachable null) while
                                   unresolved
    parent                         the parent's name (App of Apps parent or
                                   ApplicationSet), or null
    parentRef                      {kind, name} of the parent: kind "Application"
                                   (App of Apps) or "ApplicationSet"; null for none.
                                   For kind "ApplicationSet" it also holds the set's
                                   own parentRef: {kind "Application", name} of the
                                   App of Apps parent that renders the set, or null
    automated                      {enabled, prune, selfHeal} (spec.syncPolicy.automated)
    automation                     null, or what holds automated sync back:
                                   {kind, message, attempt, nextAt}; kind is
                                   "self-heal", "retry", "failed" or "refused",
                                   nextAt the epoch seconds of the next attempt or null
    syncOptions                    ["Name=value", ...] as written
    readOnly                       true when the engine refuses to change this app
    conditions                     [{type, message}]
    resources                      [{group, version, kind, namespace, name, status,
                                   health, healthRule, requiresPruning, syncWave, hook}];
                                   healthRule names the rule that judged health:
                                   "built-in", "Lua (<source: key or file>)",
                                   "inferred", or null
    operation, lastSync            the running (or last) operation, the last finished
                                   sync: {id, phase, message, revision, startedAt,
                                   finishedAt, initiatedBy, dryRun, results} or null
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from gitops_tui.engine.api import (
    AppSnapshot,
    AutomationStatus,
    ClusterState,
    EngineAPI,
    EngineError,
    OperationPhase,
    OperationState,
    ResourceNode,
    SyncRequest,
)
from gitops_tui.engine.errors import GitOpsError
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.redact import redact_url
from gitops_tui.engine.sync.history import result_as_dict
from gitops_tui.engine.textsafe import printable

EXIT_OK, EXIT_DIFF, EXIT_ERROR = 0, 1, 2


class HeadlessEngine(EngineAPI, Protocol):
    """``EngineAPI`` plus what one-shot commands need: waiting for the first comparison
    and for an operation's end, the app names, and a close that lets a running sync
    finish its current step. The real ``Engine`` and the tests' fakes implement it
    (mypy checks both: ``_conforms`` below and in ``tests/ui/fake_engine.py``)."""

    def wait_until_compared(
        self, timeout: float = 120.0, apps: Iterable[str] | None = None
    ) -> bool:
        """Block until every (named) app has been compared once; False on timeout."""
        ...

    def uncompared(self, apps: Iterable[str] | None = None) -> list[str]:
        """The (named) apps not compared yet."""
        ...

    def app_names(self) -> list[str]: ...

    def wait_for_operation(
        self, app: str, op_id: str, timeout: float = 600.0
    ) -> OperationState | None:
        """The operation ``op_id`` of ``app`` once it has ended; None on timeout."""
        ...

    def close(self, *, wait_for_operations: bool = False) -> None: ...


if TYPE_CHECKING:
    from gitops_tui.engine.controller.engine import Engine

    def _conforms(engine: Engine) -> HeadlessEngine:
        """mypy checks here that the real ``Engine`` implements ``HeadlessEngine``."""
        return engine


class SafeOutput:
    """The text stream of a command: every write made printable (newlines kept)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def write(self, text: str) -> int:
        return self._out.write(printable(text, multiline=True))

    def flush(self) -> None:
        self._out.flush()


def safe_output(out: TextIO | SafeOutput) -> SafeOutput:
    return out if isinstance(out, SafeOutput) else SafeOutput(out)


def error(message: str) -> None:
    """``error: message`` on stderr, made printable (tool output may span lines)."""
    sys.stderr.write(printable(f"error: {message}", multiline=True) + "\n")


def app_to_json(
    app: AppSnapshot,
    clusters: Mapping[str, ClusterState] | None = None,
    set_parents: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The ``list --output json`` shape (Argo CD's status vocabulary; see the module doc).

    ``clusters``: the fleet's cluster states by kube context, for the resolved server;
    ``set_parents``: the App of Apps parent of each ApplicationSet that has one.
    """
    context = app.destination.context or None
    cluster = (clusters or {}).get(context) if context else None
    return {
        "name": app.name,
        "project": app.project,
        "origin": app.origin,
        "sync": app.sync.value,
        "health": app.health.value,
        "healthMessage": app.health_message,
        "revision": app.revision,
        "targetRevision": app.target_revision,
        "repoURL": app.repo_url,
        "path": app.path,
        "destination": {
            "server": app.destination.server,
            "name": app.destination.name,
            "namespace": app.destination.namespace,
        },
        "cluster": {
            "context": context,
            "server": redact_url(cluster.server) if cluster is not None else None,
            "reachable": cluster.reachable if cluster is not None else None,
        },
        "parent": app.parent,
        "parentRef": _parent_ref(app, set_parents or {}),
        "automated": {"enabled": app.automated, "prune": app.auto_prune, "selfHeal": app.self_heal},
        "automation": _automation_json(app.automation) if app.automation else None,
        "syncOptions": list(app.sync_options),
        "readOnly": app.read_only,
        "conditions": [{"type": c.type, "message": c.message} for c in app.conditions],
        "resources": [_resource_json(r) for r in app.resources],
        "operation": _operation_json(app.operation) if app.operation else None,
        "lastSync": _operation_json(app.last_sync) if app.last_sync else None,
    }


def _automation_json(status: AutomationStatus) -> dict[str, Any]:
    return {
        "kind": status.kind,
        "message": status.message,
        "attempt": status.attempt,
        "nextAt": status.next_at,
    }


def _resource_json(node: ResourceNode) -> dict[str, Any]:
    group, _, version = node.version.rpartition("/")
    return {
        "group": node.key.group,
        "version": version,
        "kind": node.key.kind,
        "namespace": node.key.namespace,
        "name": node.key.name,
        "status": node.status.value if node.status else None,
        "health": node.health.value if node.health else None,
        "healthRule": node.health_rule or None,
        "requiresPruning": node.requires_pruning,
        "syncWave": node.sync_wave,
        "hook": node.hook,
    }


def _operation_json(op: OperationState) -> dict[str, Any]:
    return {
        "id": op.id,
        "phase": op.phase.value,
        "message": op.message,
        "revision": op.revision,
        "startedAt": op.started_at,
        "finishedAt": op.finished_at,
        "initiatedBy": op.initiated_by,
        "dryRun": op.dry_run,
        "results": [result_as_dict(r) for r in op.results],
    }


def _table(rows: list[list[str]], out: SafeOutput) -> None:
    rows = [[printable(cell) for cell in row] for row in rows]  # one line per row
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() + "\n")


def _parent_ref(app: AppSnapshot, set_parents: Mapping[str, str]) -> dict[str, Any] | None:
    if not app.parent:
        return None
    ref: dict[str, Any] = {"kind": app.parent_kind, "name": app.parent}
    if app.parent_kind == "ApplicationSet":
        above = set_parents.get(app.parent)
        ref["parentRef"] = {"kind": "Application", "name": above} if above else None
    return ref


def cmd_list(engine: HeadlessEngine, *, output: str, out: TextIO | SafeOutput = sys.stdout) -> int:
    out = safe_output(out)
    snapshot = engine.snapshot()
    apps = snapshot.apps
    if output == "json":
        clusters = {c.name: c for c in snapshot.clusters}
        set_parents = {s.name: s.parent for s in snapshot.appsets if s.parent}
        json.dump([app_to_json(a, clusters, set_parents) for a in apps], out, indent=2)
        out.write("\n")
        return EXIT_OK
    rows = [["NAME", "PROJECT", "SYNC", "HEALTH", "REVISION", "DESTINATION", "CONDITIONS"]]
    for app in apps:
        rows.append(
            [
                app.name,
                app.project or "-",
                app.sync.value,
                app.health.value,
                app.short_revision or "-",
                app.destination.label or "-",
                "; ".join(f"{c.type}: {c.message}" for c in app.conditions)[:120] or "-",
            ]
        )
    _table(rows, out)
    return EXIT_OK


def _find(engine: HeadlessEngine, name: str) -> AppSnapshot:
    app = engine.snapshot().by_name.get(name)
    if app is None:
        known = ", ".join(engine.app_names()) or "none"
        raise EngineError(f"no app named {name!r} (known: {known})")
    return app


def cmd_diff(
    engine: HeadlessEngine,
    name: str,
    *,
    exit_code: bool,
    output: str,
    out: TextIO | SafeOutput = sys.stdout,
) -> int:
    out = safe_output(out)
    app = _find(engine, name)
    if app.sync.value == "Unknown":
        problems = "; ".join(c.message for c in app.conditions) or "comparison not available"
        error(f"{name}: {problems}")
        return EXIT_ERROR
    diffs = [d for d in engine.diffs(name) if d.modified]
    if output == "json":
        json.dump(
            [
                {
                    "group": d.key.group,
                    "kind": d.key.kind,
                    "namespace": d.key.namespace,
                    "name": d.key.name,
                    "changedPaths": list(d.changed_paths),
                    "diff": d.unified,
                }
                for d in diffs
            ],
            out,
            indent=2,
        )
        out.write("\n")
    else:
        for d in diffs:
            header = f"===== {d.key.group}/{d.key.kind} {d.key.namespace}/{d.key.name} ======"
            out.write(printable(header) + "\n")
            out.write(d.unified if d.unified.endswith("\n") or not d.unified else d.unified + "\n")
    if exit_code and diffs:
        return EXIT_DIFF
    return EXIT_OK


def _print_progress(
    op: OperationState,
    seen: dict[tuple[str, ResourceKey], str],
    out: SafeOutput,
    *,
    prefix: str = "",
) -> None:
    """One line per resource result, printed again only when it changes."""
    for result in op.results:
        state = f"{result.status.value}:{result.message}"
        if seen.get((prefix, result.key)) != state and result.status.value != "Pending":
            seen[(prefix, result.key)] = state
            message = f"  {printable(result.message)}" if result.message else ""
            lead = f"{printable(prefix)}  " if prefix else ""
            out.write(
                f"{lead}{printable(result.phase):<8} wave {result.wave:>3}  "
                f"{result.status.value:<12} {printable(result.key.display)}{message}\n"
            )
            out.flush()


def cmd_sync(
    engine: HeadlessEngine,
    names: str | list[str],
    *,
    prune: bool,
    dry_run: bool,
    force: bool,
    resources: Iterable[str],
    apply_out_of_sync_only: bool,
    wait: bool,
    output: str,
    timeout: float,
    out: TextIO | SafeOutput = sys.stdout,
    force_conflicts: bool = True,
) -> int:
    """Sync one or more apps (concurrently); exit 0 only if every sync succeeded."""
    out = safe_output(out)
    apps = [names] if isinstance(names, str) else list(names)
    for name in apps:
        _find(engine, name)
    selected = frozenset(ResourceKey.parse(r) for r in resources) or None
    started: dict[str, str] = {}
    for name in apps:
        request = SyncRequest(
            app=name,
            prune=prune,
            dry_run=dry_run,
            force=force,
            force_conflicts=force_conflicts,
            resources=selected,
            apply_out_of_sync_only=apply_out_of_sync_only,
            initiated_by="cli",
        )
        started[name] = engine.sync(request)
    if not wait:
        for name, op_id in started.items():
            out.write(printable(f"sync of {name} started (operation {op_id})") + "\n")
        return EXIT_OK
    seen: dict[tuple[str, ResourceKey], str] = {}
    finals: dict[str, OperationState] = {}
    deadline = time.monotonic() + timeout
    while len(finals) < len(started) and time.monotonic() < deadline:
        snap = engine.snapshot()
        for name, op_id in started.items():
            app = snap.by_name.get(name)
            op = app.operation if app else None
            if name in finals or op is None or op.id != op_id:
                continue
            if output == "text":
                _print_progress(op, seen, out, prefix=name if len(apps) > 1 else "")
            if op.phase.done:
                finals[name] = op
        time.sleep(0.05)
    failed = False
    results = {}
    for name, op_id in started.items():
        final = finals.get(name) or engine.wait_for_operation(name, op_id, timeout=1)
        if final is None:
            error(f"sync of {name} did not finish within {timeout:.0f} s")
            failed = True
            continue
        failed |= final.phase != OperationPhase.SUCCEEDED
        results[name] = final
        if output == "text":
            _print_progress(final, seen, out, prefix=name if len(apps) > 1 else "")
            label = f"{name}: " if len(apps) > 1 else ""
            out.write(f"{printable(label)}{final.phase.value}: {printable(final.message)}\n")
    if output == "json":
        payload = {n: _operation_json(op) for n, op in results.items()}
        json.dump(
            payload[apps[0]] if len(apps) == 1 and apps[0] in payload else payload, out, indent=2
        )
        out.write("\n")
    return EXIT_DIFF if failed else EXIT_OK


def cmd_history(
    engine: HeadlessEngine, name: str, *, output: str, out: TextIO | SafeOutput = sys.stdout
) -> int:
    out = safe_output(out)
    entries = engine.history(name)
    if output == "json":
        json.dump(
            [
                {
                    **_operation_json(e.operation),
                    "operationId": e.operation.id,
                    # the history entry's id (what `rollback APP ID` takes), not the operation's
                    "id": e.id,
                    "revision": e.revision,
                    "repoURL": e.repo_url,
                    "path": e.path,
                }
                for e in entries
            ],
            out,
            indent=2,
        )
        out.write("\n")
        return EXIT_OK
    rows = [["ID", "STARTED", "REVISION", "PHASE", "BY", "MESSAGE"]]
    for e in entries:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.operation.started_at))
        rows.append(
            [
                str(e.id),
                started,
                e.revision[:7],
                e.operation.phase.value,
                e.operation.initiated_by,
                e.operation.message[:80],
            ]
        )
    _table(rows, out)
    return EXIT_OK


def run_guarded(fn: Any, *args: Any, **kwargs: Any) -> int:
    """Turn engine errors into a one-line message and exit code 2 (never a traceback)."""
    try:
        return int(fn(*args, **kwargs))
    except (GitOpsError, ValueError) as exc:  # ValueError: the engine's checks of its inputs
        error(str(exc))
        return EXIT_ERROR


def cmd_rollback(
    engine: HeadlessEngine,
    name: str,
    entry_id: int,
    *,
    timeout: float,
    out: TextIO | SafeOutput = sys.stdout,
) -> int:
    out = safe_output(out)
    app = _find(engine, name)
    if app.automated:
        out.write(
            f"automated sync of {printable(name)} turned off for this session before rolling back\n"
        )
    op_id = engine.rollback(name, entry_id)
    final = engine.wait_for_operation(name, op_id, timeout=timeout)
    if final is None:
        error(f"rollback of {name} did not finish within {timeout:.0f} s")
        return EXIT_ERROR
    _print_progress(final, {}, out)
    out.write(f"{final.phase.value}: {printable(final.message)} (revision {final.revision[:7]})\n")
    return EXIT_OK if final.phase == OperationPhase.SUCCEEDED else EXIT_DIFF


def cmd_plan(
    engine: HeadlessEngine,
    names: list[str],
    *,
    prune: bool,
    output: str,
    out: TextIO | SafeOutput = sys.stdout,
) -> int:
    """What a sync of these apps (default: every OutOfSync app) would create, change and prune."""
    out = safe_output(out)
    previews = engine.fleet_preview(names or None, prune=prune)
    report: list[dict[str, Any]] = []
    totals: dict[str, int] = {}
    for name, preview in sorted(previews.items()):
        if isinstance(preview, str):
            report.append({"app": name, "error": preview})
            continue
        summary = preview.plan.summary()
        for action, count in summary.items():
            totals[action] = totals.get(action, 0) + count
        report.append(
            {
                "app": name,
                "revision": preview.revision,
                "summary": summary,
                "errors": list(preview.errors),
                "tasks": [
                    {
                        "action": t.action.value,
                        "phase": t.phase,
                        "wave": t.wave,
                        "group": t.key.group,
                        "kind": t.key.kind,
                        "namespace": t.key.namespace,
                        "name": t.key.name,
                        "note": t.note,
                    }
                    for t in preview.plan.tasks
                    if t.action.value != "Unchanged"
                ],
            }
        )
    if output == "json":
        json.dump({"apps": report, "totals": totals}, out, indent=2)
        out.write("\n")
        return EXIT_OK
    if not report:
        out.write("nothing to sync: every app is Synced\n")
        return EXIT_OK
    for entry in report:
        if "error" in entry:
            out.write(f"{printable(entry['app'])}: cannot plan: {printable(entry['error'])}\n")
            continue
        counts = ", ".join(
            f"{n} {a.lower()}" for a, n in entry["summary"].items() if n and a != "Unchanged"
        )
        out.write(
            f"{printable(entry['app'])} @ {entry['revision'][:7]}: {counts or 'no changes'}\n"
        )
        for task in entry["tasks"]:
            where = f"{task['namespace']}/{task['name']}" if task["namespace"] else task["name"]
            note = f"  ({task['note']})" if task["note"] else ""
            line = f"{task['phase']:<8} wave {task['wave']:>3}  {task['action']:<13} {task['kind']} {where}{note}"
            out.write(f"  {printable(line)}\n")
        for problem in entry["errors"]:
            out.write(f"  error: {printable(problem)}\n")
    total = ", ".join(f"{n} {a.lower()}" for a, n in totals.items() if n and a != "Unchanged")
    out.write(f"total over {len(report)} apps: {total or 'no changes'}\n")
    return EXIT_OK
