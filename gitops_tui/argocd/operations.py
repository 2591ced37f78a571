"""What the console writes into an ``Application`` to make Argo CD act (pure functions).

The same objects Argo CD's own API server writes (``server/application/application.go``
in v3.2): a sync is an ``operation`` field whose ``syncOptions`` are copied from
``spec.syncPolicy`` (the controller does not read them from the spec for a manual
sync), a rollback is a sync operation at a history entry's revision and source
with the apply strategy, a terminate sets ``status.operationState.phase`` to
``Terminating``, a refresh is the ``argocd.argoproj.io/refresh`` annotation. Every
patch carries the ``resourceVersion`` it was computed from, so a concurrent change
is a conflict (retried by the caller) instead of a lost update.

``preview_plan`` turns ``status.resources`` into the sync dialog's plan: which
objects Argo CD would create, update or prune. Argo CD computed it; nothing is
rendered here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops_tui.argocd.status import (
    OPERATION_ID_INFO,
    REFRESH_ANNOTATION,
    first_source,
    resource_key,
)
from gitops_tui.engine.api import SyncRequest
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.sync.plan import SyncPlan, SyncTask, TaskAction

PRUNE_LAST = "PruneLast=true"


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _sync_options(spec: Mapping[str, Any]) -> list[str]:
    options = _map(spec.get("syncPolicy")).get("syncOptions")
    return [str(o) for o in options] if isinstance(options, list) else []


def _resources(keys: frozenset[ResourceKey] | None) -> list[dict[str, str]] | None:
    if not keys:
        return None
    return [
        {"group": k.group, "kind": k.kind, "namespace": k.namespace, "name": k.name}
        for k in sorted(keys)
    ]


def sync_operation(
    obj: Mapping[str, Any], request: SyncRequest, *, operation_id: str, username: str
) -> dict[str, Any]:
    """The ``operation`` Argo CD's server would set for ``request`` on ``obj``."""
    spec = _map(obj.get("spec"))
    source = first_source(spec)
    sync: dict[str, Any] = {
        "revision": request.revision or str(source.get("targetRevision") or "HEAD"),
        "prune": request.prune,
        "dryRun": request.dry_run,
        "syncOptions": _sync_options(spec),
        "syncStrategy": {"hook": {"force": True}} if request.force else {"hook": {}},
    }
    if request.apply_out_of_sync_only and "ApplyOutOfSyncOnly=true" not in sync["syncOptions"]:
        sync["syncOptions"].append("ApplyOutOfSyncOnly=true")
    if not request.force_conflicts and "ServerSideApply=true" in sync["syncOptions"]:
        sync["syncOptions"].append("ServerSideApplyForceConflicts=false")
    if "source" in spec:
        sync["source"] = dict(source)
    elif "sources" in spec:
        sync["sources"] = spec["sources"]
    resources = _resources(request.resources)
    if resources is not None:
        sync["resources"] = resources
    operation: dict[str, Any] = {
        "sync": sync,
        "initiatedBy": {"username": username},
        "info": [{"name": OPERATION_ID_INFO, "value": operation_id}],
    }
    retry = _map(spec.get("syncPolicy")).get("retry")
    if isinstance(retry, Mapping):
        operation["retry"] = dict(retry)
    return operation


def history_entry(obj: Mapping[str, Any], history_id: int) -> Mapping[str, Any] | None:
    history = _map(obj.get("status")).get("history")
    for entry in history if isinstance(history, list) else []:
        if isinstance(entry, Mapping) and entry.get("id") == history_id:
            return entry
    return None


def rollback_operation(
    obj: Mapping[str, Any], entry: Mapping[str, Any], *, operation_id: str, username: str
) -> dict[str, Any]:
    """A sync at the history entry's revision and source, apply strategy (as Argo CD)."""
    spec = _map(obj.get("spec"))
    sync: dict[str, Any] = {
        "revision": str(entry.get("revision") or ""),
        "prune": False,
        "dryRun": False,
        "syncOptions": _sync_options(spec),
        "syncStrategy": {"apply": {}},
    }
    if isinstance(entry.get("source"), Mapping) and entry["source"]:
        sync["source"] = dict(entry["source"])
    if isinstance(entry.get("sources"), list) and entry["sources"]:
        sync["sources"] = entry["sources"]
        sync["revisions"] = entry.get("revisions") or []
    return {
        "sync": sync,
        "initiatedBy": {"username": username},
        "info": [{"name": OPERATION_ID_INFO, "value": operation_id}],
    }


def set_operation_patch(resource_version: str, operation: Mapping[str, Any]) -> dict[str, Any]:
    """Set ``operation`` and clear the last ``operationState`` (``argo.SetAppOperation``)."""
    return {
        "metadata": {"resourceVersion": resource_version},
        "operation": dict(operation),
        "status": {"operationState": None},
    }


def automation_off_patch(resource_version: str) -> dict[str, Any]:
    return {
        "metadata": {"resourceVersion": resource_version},
        "spec": {"syncPolicy": {"automated": None}},
    }


def terminate_patch(resource_version: str) -> dict[str, Any]:
    return {
        "metadata": {"resourceVersion": resource_version},
        "status": {"operationState": {"phase": "Terminating"}},
    }


def refresh_patch(*, hard: bool) -> dict[str, Any]:
    return {"metadata": {"annotations": {REFRESH_ANNOTATION: "hard" if hard else "normal"}}}


def preview_plan(obj: Mapping[str, Any], request: SyncRequest) -> SyncPlan:
    """The sync dialog's plan from Argo CD's ``status.resources``.

    OutOfSync objects are updated (created when Argo CD says Missing), objects
    that require pruning are pruned with ``prune`` (else skipped), the rest left
    unchanged; ``resources`` narrows it as Argo CD's partial sync does.
    """
    tasks: list[SyncTask] = []
    status = _map(obj.get("status"))
    entries = status.get("resources")
    for raw in entries if isinstance(entries, list) else []:
        entry = _map(raw)
        key = resource_key(entry)
        if request.resources and key not in request.resources:
            continue
        if entry.get("hook"):
            continue
        health = str(_map(entry.get("health")).get("status") or "")
        wave = entry.get("syncWave")
        wave_n = wave if isinstance(wave, int) else 0
        if entry.get("requiresPruning"):
            action = TaskAction.PRUNE if request.prune else TaskAction.PRUNE_SKIPPED
            note = "" if request.prune else "prune not selected"
        elif entry.get("status") == "OutOfSync":
            action = TaskAction.CREATE if health == "Missing" else TaskAction.UPDATE
            note = ""
        else:
            action, note = TaskAction.UNCHANGED, ""
        tasks.append(
            SyncTask(
                key=key,
                action=action,
                phase="Sync",
                wave=wave_n,
                desired=None,
                live=None,
                skipped=action == TaskAction.UNCHANGED and request.apply_out_of_sync_only,
                note=note,
            )
        )
    tasks.sort(key=lambda t: t.order_key)
    return SyncPlan(tasks=tuple(tasks))
