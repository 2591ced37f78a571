"""Argo CD's ``Application`` JSON -> the console's snapshot types (pure functions).

What is shown is what Argo CD's controller wrote: ``status.sync``,
``status.health``, ``status.conditions``, ``status.operationState``,
``status.history`` and ``status.resources``. Nothing is recomputed here but the
health of a managed object the controller did not persist (Argo CD 3 keeps
per-resource health in Redis unless ``--persist-resource-health``): that health
comes from the live object (``tree``) through our health rules and its message
says so (``LOCAL_HEALTH_NOTE``).

Every string read from the cluster is untrusted: it is made printable (one line)
and cut to a bounded length here, before any front end sees it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from gitops_tui.engine.app.applicationset.controller_status import appset_owner
from gitops_tui.engine.model import Condition, HealthStatus, ResourceKey, SyncStatus
from gitops_tui.engine.redact import redact_url
from gitops_tui.engine.snapshot import (
    IN_CLUSTER,
    AppSnapshot,
    Destination,
    HistoryEntry,
    OperationPhase,
    OperationState,
    ResourceNode,
    ResourceResult,
    ResultCode,
)
from gitops_tui.engine.textsafe import printable

OPERATION_ID_INFO = "gitops-tui-operation"
"""The ``operation.info`` entry that carries the id of an operation this console started."""
REFRESH_ANNOTATION = "argocd.argoproj.io/refresh"
TRACKING_ANNOTATION = "argocd.argoproj.io/tracking-id"
INSTANCE_LABEL = "app.kubernetes.io/instance"
LOCAL_HEALTH_NOTE = "computed locally (Argo CD did not persist resource health)"

MAX_TEXT = 2000  # characters of one message kept
MAX_NAME = 253  # a Kubernetes name is at most this long
MAX_RESOURCES = 5000  # status.resources entries read per app
MAX_RESULTS = 5000  # sync results read per operation
MAX_HISTORY = 100  # Argo CD keeps 10 by default (revisionHistoryLimit)
MAX_CONDITIONS = 50

_PHASES = {p.value: p for p in OperationPhase}
_RESULTS = {
    "Synced": ResultCode.SYNCED,
    "SyncFailed": ResultCode.SYNC_FAILED,
    "Pruned": ResultCode.PRUNED,
    "PruneSkipped": ResultCode.PRUNE_SKIPPED,
}
_HOOK_RESULTS = {
    "Running": ResultCode.RUNNING,
    "Pending": ResultCode.PENDING,
    "Terminating": ResultCode.RUNNING,
    "Succeeded": ResultCode.SYNCED,
    "Failed": ResultCode.SYNC_FAILED,
    "Error": ResultCode.SYNC_FAILED,
}


def text(value: Any, limit: int = MAX_TEXT) -> str:
    """An untrusted value as one printable line of at most ``limit`` characters."""
    if value is None:
        return ""
    raw = value if isinstance(value, str) else str(value)
    if len(raw) > limit:
        raw = raw[:limit] + "..."
    return printable(raw)


def name(value: Any) -> str:
    return text(value, MAX_NAME)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any, limit: int) -> Sequence[Any]:
    return value[:limit] if isinstance(value, list) else ()


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def parse_time(value: Any) -> float:
    """An RFC 3339 timestamp (``2026-12-01T12:00:00Z``) as epoch seconds; 0.0 if absent."""
    if not isinstance(value, str) or not value:
        return 0.0
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def sync_status(value: Any) -> SyncStatus:
    try:
        return SyncStatus(str(value))
    except ValueError:
        return SyncStatus.UNKNOWN


def health_status(value: Any) -> HealthStatus:
    try:
        return HealthStatus(str(value))
    except ValueError:
        return HealthStatus.UNKNOWN


def first_source(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """``spec.source``, else the first of ``spec.sources`` (multi-source apps)."""
    source = _map(spec.get("source"))
    if source:
        return source
    sources = _list(spec.get("sources"), 1)
    return _map(sources[0]) if sources else {}


def destination(spec: Mapping[str, Any], in_cluster_context: str) -> Destination:
    dest = _map(spec.get("destination"))
    server = text(dest.get("server"), 500)
    dest_name = name(dest.get("name"))
    local = server.rstrip("/") == IN_CLUSTER or dest_name == "in-cluster"
    return Destination(
        server=server,
        name=dest_name,
        namespace=name(dest.get("namespace")),
        context=in_cluster_context if local else "",
    )


def is_in_cluster(dest: Destination) -> bool:
    return dest.server.rstrip("/") == IN_CLUSTER or dest.name == "in-cluster"


def resource_key(entry: Mapping[str, Any]) -> ResourceKey:
    return ResourceKey(
        group=name(entry.get("group")),
        kind=name(entry.get("kind")),
        namespace=name(entry.get("namespace")),
        name=name(entry.get("name")),
    )


def _operation_id(app: str, state: Mapping[str, Any]) -> str:
    for info in _list(_map(state.get("operation")).get("info"), 50):
        info = _map(info)
        if info.get("name") == OPERATION_ID_INFO:
            return text(info.get("value"), 100)
    return f"{app}@{text(state.get('startedAt'), 40)}"


def _result(entry: Mapping[str, Any]) -> ResourceResult:
    hook_type = str(entry.get("hookType") or "")
    status = _RESULTS.get(str(entry.get("status") or ""))
    if hook_type:
        status = _HOOK_RESULTS.get(str(entry.get("hookPhase") or ""), status)
    return ResourceResult(
        key=resource_key(entry),
        status=status or ResultCode.PENDING,
        message=text(entry.get("message")),
        phase=name(entry.get("syncPhase")) or "Sync",
        hook=bool(hook_type),
        action=name(hook_type),
    )


def operation_state(app: str, state: Mapping[str, Any]) -> OperationState | None:
    """``status.operationState`` as an ``OperationState``; None when there is none."""
    if not state:
        return None
    phase = _PHASES.get(str(state.get("phase") or ""), OperationPhase.ERROR)
    operation = _map(state.get("operation"))
    sync = _map(operation.get("sync"))
    result = _map(state.get("syncResult"))
    initiator = _map(operation.get("initiatedBy"))
    finished = parse_time(state.get("finishedAt"))
    return OperationState(
        id=_operation_id(app, state),
        app=app,
        phase=phase,
        message=text(state.get("message")),
        revision=name(result.get("revision") or sync.get("revision")),
        started_at=parse_time(state.get("startedAt")),
        finished_at=finished or None,
        initiated_by="automated"
        if initiator.get("automated")
        else name(initiator.get("username")) or "unknown",
        dry_run=bool(sync.get("dryRun")),
        prune=bool(sync.get("prune")),
        results=tuple(
            _result(_map(entry)) for entry in _list(result.get("resources"), MAX_RESULTS)
        ),
    )


def history_entries(app: str, obj: Mapping[str, Any]) -> list[HistoryEntry]:
    """``status.history``, newest first (Argo CD appends; ids grow)."""
    out: list[HistoryEntry] = []
    for raw in _list(_map(obj.get("status")).get("history"), MAX_HISTORY):
        entry = _map(raw)
        source = _map(entry.get("source")) or _map(next(iter(_list(entry.get("sources"), 1)), {}))
        revision = name(entry.get("revision")) or ",".join(
            name(r) for r in _list(entry.get("revisions"), 10)
        )
        initiator = _map(entry.get("initiatedBy"))
        deployed = parse_time(entry.get("deployedAt"))
        started = parse_time(entry.get("deployStartedAt")) or deployed
        ident = _int(entry.get("id"))
        out.append(
            HistoryEntry(
                id=ident,
                app=app,
                revision=revision,
                repo_url=redact_url(text(source.get("repoURL"), 500)),
                path=text(source.get("path"), 500),
                operation=OperationState(
                    id=f"{app}#{ident}",
                    app=app,
                    phase=OperationPhase.SUCCEEDED,
                    message="deployed",
                    revision=revision,
                    started_at=started,
                    finished_at=deployed or None,
                    initiated_by="automated"
                    if initiator.get("automated")
                    else name(initiator.get("username")) or "unknown",
                ),
            )
        )
    out.sort(key=lambda e: e.id, reverse=True)
    return out


def parent_of(obj: Mapping[str, Any]) -> str | None:
    """The App of Apps parent: the tracking id's app name, else the instance label."""
    meta = _map(obj.get("metadata"))
    tracking = _map(meta.get("annotations")).get(TRACKING_ANNOTATION)
    if isinstance(tracking, str) and ":" in tracking:
        return name(tracking.split(":", 1)[0]) or None
    label = _map(meta.get("labels")).get(INSTANCE_LABEL)
    return name(label) or None


LiveHealth = Mapping[ResourceKey, tuple[HealthStatus | None, str]]
Children = Mapping[ResourceKey, tuple[ResourceNode, ...]]


def resource_nodes(
    status: Mapping[str, Any], live_health: LiveHealth, children: Children
) -> tuple[ResourceNode, ...]:
    """``status.resources`` with their health (persisted, else computed locally) and
    the live children found by owner references."""
    nodes: list[ResourceNode] = []
    for raw in _list(status.get("resources"), MAX_RESOURCES):
        entry = _map(raw)
        key = resource_key(entry)
        persisted = _map(entry.get("health"))
        health: HealthStatus | None
        if persisted.get("status"):
            health = health_status(persisted.get("status"))
            message = text(persisted.get("message"))
        elif key in live_health:
            health, local_message = live_health[key]
            message = (
                f"{local_message} ({LOCAL_HEALTH_NOTE})" if local_message else LOCAL_HEALTH_NOTE
            )
            if health is None:
                message = ""
        else:
            health, message = None, ""
        hook = bool(entry.get("hook"))
        nodes.append(
            ResourceNode(
                key=key,
                version=name(entry.get("version")),
                status=None
                if hook and not entry.get("status")
                else sync_status(entry.get("status")),
                health=health,
                health_message=message,
                requires_pruning=bool(entry.get("requiresPruning")),
                sync_wave=_int(entry.get("syncWave")),
                hook=hook,
                exists=health != HealthStatus.MISSING,
                children=children.get(key, ()),
            )
        )
    return tuple(nodes)


def app_snapshot(
    obj: Mapping[str, Any],
    *,
    origin: str,
    in_cluster_context: str,
    read_only: bool,
    projects: frozenset[str] | None = None,
    live_health: LiveHealth | None = None,
    children: Children | None = None,
) -> AppSnapshot:
    """One ``Application`` object as the console shows it."""
    meta = _map(obj.get("metadata"))
    spec = _map(obj.get("spec"))
    status = _map(obj.get("status"))
    app = name(meta.get("name"))
    source = first_source(spec)
    policy = _map(spec.get("syncPolicy"))
    automated = _map(policy.get("automated")) if "automated" in policy else None
    enabled = automated is not None and automated.get("enabled") is not False
    sync = _map(status.get("sync"))
    health = _map(status.get("health"))
    conditions = [
        Condition(type=name(c.get("type")), message=text(c.get("message")))
        for c in (_map(raw) for raw in _list(status.get("conditions"), MAX_CONDITIONS))
    ]
    project = name(spec.get("project")) or "default"
    missing_project = projects is not None and project not in projects
    if missing_project and not any(c.type == "InvalidSpecError" for c in conditions):
        conditions.append(
            Condition(
                type="InvalidSpecError",
                message=f"AppProject {project!r} does not exist in this namespace",
            )
        )
    op = operation_state(app, _map(status.get("operationState")))
    annotations = _map(meta.get("annotations"))
    owner_set = appset_owner(obj)
    revision = name(sync.get("revision")) or ",".join(
        name(r) for r in _list(sync.get("revisions"), 10)
    )
    return AppSnapshot(
        name=app,
        project=project,
        sync=sync_status(sync.get("status")),
        health=health_status(health.get("status")),
        health_message=text(health.get("message")),
        revision=revision,
        target_revision=name(source.get("targetRevision")) or "HEAD",
        repo_url=redact_url(text(source.get("repoURL"), 500)),
        path=text(source.get("path") or source.get("chart"), 500),
        destination=destination(spec, in_cluster_context),
        automated=enabled,
        auto_prune=enabled and bool(automated and automated.get("prune")),
        self_heal=enabled and bool(automated and automated.get("selfHeal")),
        conditions=tuple(conditions),
        resources=resource_nodes(status, live_health or {}, children or {}),
        operation=op,
        last_sync=op if op is not None and op.phase.done else None,
        parent=owner_set or parent_of(obj),
        parent_kind="ApplicationSet" if owner_set else "Application",
        origin=origin,
        compared_at=parse_time(status.get("reconciledAt")),
        comparing=REFRESH_ANNOTATION in annotations,  # Argo CD removes it once refreshed
        read_only=read_only,
        sync_options=tuple(text(o, 200) for o in _list(policy.get("syncOptions"), 50)),
    )
