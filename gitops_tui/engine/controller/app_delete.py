"""Deleting an app's resources with the local engine: plan, confirm, carry out, record.

``plan(app)`` reads every candidate fresh from the app's cluster (one GET each: the
objects of its last comparison and every live object whose tracking names it) and
builds an immutable ``AppDeletePlan`` (``sync.app_delete``: what goes, in reverse
wave order, and what stays, with the reason). ``delete(plan, cascade)`` carries out
exactly that plan (matched by uid), holding the app's operation slot (no sync runs
meanwhile), publishing progress as the app's operation, recording a history entry of
kind ``delete`` with per-resource results, and re-comparing the app afterwards.

Both refuse in read-only mode (the flag, the config file or the app's context)
before anything is read or sent; orphan is refused in words (it deletes nothing: the
local engine's Application is in Git).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace

from gitops_tui.engine.annotations import option_is_true
from gitops_tui.engine.app.application import Application
from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.cache.tracking import TrackingMethod
from gitops_tui.engine.controller.cluster_links import ClusterLinks
from gitops_tui.engine.controller.operations import Operations
from gitops_tui.engine.controller.publisher import Publisher
from gitops_tui.engine.controller.state import AppState, AppTable
from gitops_tui.engine.errors import EngineError
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.redact import redact_url
from gitops_tui.engine.snapshot import OperationPhase, OperationState, ResourceResult
from gitops_tui.engine.sync.app_delete import (
    MAX_PLANNED,
    ORPHAN_REFUSAL,
    PROPAGATIONS,
    RESULT_MESSAGE,
    AppDeletePlan,
    build_delete_plan,
    carry_out,
)
from gitops_tui.engine.sync.history import HistoryStore
from gitops_tui.engine.sync.history_writer import ThrottledHistory

log = logging.getLogger(__name__)

DELETE_KIND = "delete"
"""``OperationState.kind`` of a deletion of the app's resources."""


def check_local_cascade(cascade: str) -> str:
    if cascade == "orphan":
        raise EngineError(ORPHAN_REFUSAL)
    if cascade not in PROPAGATIONS:
        raise EngineError(f"unknown cascade {cascade[:40]!r}: foreground or background")
    return cascade


class AppResourcesDeleter:
    """Plans and carries out the deletion of an app's resources (local engine)."""

    def __init__(
        self,
        operations: Operations,
        table: AppTable,
        links: ClusterLinks,
        publisher: Publisher,
        history: HistoryStore,
        schedule: Callable[[str], None],
        *,
        tracking: TrackingMethod,
        wave_timeout_s: float,
    ) -> None:
        self._operations = operations
        self._table = table
        self._links = links
        self._publisher = publisher
        self._history = history
        self._schedule = schedule
        self._tracking = tracking
        self.wave_timeout_s = wave_timeout_s

    # ------------------------------------------------------------------ plan
    def plan(self, app: str) -> AppDeletePlan:
        """What deleting ``app``'s resources deletes and keeps, read fresh (blocking)."""
        self._operations.refuse_if_read_only(f"delete the resources of {app}", app)
        state = self._operations.require_app(app)
        conn = self._links.connection_for(state)
        if conn is None:
            raise EngineError(state.destination_error or f"the cluster of {app} is unreachable")
        source = state.app
        assert isinstance(source, Application)
        with self._table.lock:
            comparison = state.comparison
        if comparison is None:
            raise EngineError(f"{app} has not been compared yet: nothing can be planned")
        keys: set[ResourceKey] = {r.key for r in comparison.resources if r.key.name}
        keys |= {ResourceKey.of(o) for o in conn.cache.claimed_by(app)}
        created = ""
        if option_is_true(dict(source.sync_policy.options), "CreateNamespace"):
            created = source.destination.namespace
            if created:
                keys.add(ResourceKey("", "Namespace", "", created))
        keys = {k for k in keys if not conn.excludes(k.group, k.kind)}
        if len(keys) > MAX_PLANNED:
            raise EngineError(
                f"{app} has {len(keys)} resources, more than {MAX_PLANNED}: not planned "
                "(the list could not be shown in full)"
            )
        live: list[Manifest] = []
        for key in sorted(keys, key=lambda k: (k.group, k.kind, k.namespace, k.name)):
            try:
                obj = conn.get(key)
            except KubeApiError as exc:
                if exc.status in (404, 405):  # 404 also: a kind the cluster no longer serves
                    continue
                raise EngineError(f"cannot read {key.display} of {app}: {exc}") from None
            if obj is not None:
                obj.setdefault("kind", key.kind)
                live.append(obj)
        return build_delete_plan(
            app,
            conn.name,
            live,
            tracking=self._tracking,
            wanted_elsewhere=lambda key: self._table.claimed_elsewhere(conn.name, key, app),
            created_namespace=created or None,
        )

    # ------------------------------------------------------------------ carry out
    def delete(self, plan: AppDeletePlan, cascade: str) -> str:
        """Carry out ``plan`` (blocking); what was done, in words."""
        app = plan.app
        self._operations.refuse_if_read_only(f"delete the resources of {app}", app)
        check_local_cascade(cascade)
        self._operations.refuse_if_argocd("delete the resources", app)
        state = self._operations.require_app(app)
        source = state.app
        assert isinstance(source, Application)
        conn = self._links.connection_for(state)
        if conn is None:
            raise EngineError(state.destination_error or f"the cluster of {app} is unreachable")
        if conn.name != plan.cluster:
            raise EngineError(
                f"{app}'s destination changed since the plan ({plan.cluster} -> {conn.name}): "
                "nothing deleted; plan again"
            )
        if not plan.deletions:
            return f"nothing of {app} to delete ({len(plan.kept)} kept)"
        operation = self._reserve(state, app)
        entry_id = self._begin_history(state, source, operation)
        history = ThrottledHistory(self._history, entry_id) if entry_id is not None else None

        def progress(results: list[ResourceResult]) -> None:
            op = replace(operation, results=tuple(results), message="deleting")
            self._set_operation(state, op)
            if history is not None:
                history.update(op)

        try:
            outcome = carry_out(
                conn,
                plan,
                cascade=cascade,
                tracking=self._tracking,
                wave_timeout_s=self.wave_timeout_s,
                on_result=progress,
            )
        except Exception as exc:  # never left Running
            final = replace(
                operation,
                phase=OperationPhase.ERROR,
                message=f"delete failed: {exc}"[:500],
                finished_at=time.time(),
            )
            self._finish(state, entry_id, history, final)
            raise EngineError(f"deleting the resources of {app} failed: {exc}") from None
        kept = len(plan.kept)
        if outcome.failed or outcome.stopped:
            message = (
                f"deleted {outcome.deleted} of {len(plan.deletions)} resources of {app}, "
                f"{outcome.failed} failed ({outcome.stopped or 'see the results'}); {kept} kept"
            )
            phase = OperationPhase.FAILED
        else:
            message = (
                f"deleted {outcome.deleted} resources of {app} in reverse wave order, "
                f"{kept} kept; {RESULT_MESSAGE}"
            )
            phase = OperationPhase.SUCCEEDED
        final = replace(
            operation,
            phase=phase,
            message=message,
            finished_at=time.time(),
            results=tuple(outcome.results),
        )
        self._finish(state, entry_id, history, final)
        log.info("%s", message)
        return message

    def delete_app(self, app: str, cascade: str) -> str:
        """``EngineAPI.delete_app`` of the local engine: plan now and carry it out (the
        caller confirmed; front ends plan first and show the plan)."""
        self._operations.refuse_if_read_only(f"delete the resources of {app}", app)
        check_local_cascade(cascade)
        return self.delete(self.plan(app), cascade)

    # ------------------------------------------------------------------ bookkeeping
    def _reserve(self, state: AppState, app: str) -> OperationState:
        with self._table.lock:
            if state.operation is not None and not state.operation.phase.done:
                raise EngineError(f"an operation is already running on {app}: nothing deleted")
            operation = OperationState(
                id=uuid.uuid4().hex[:12],
                app=app,
                phase=OperationPhase.RUNNING,
                message="deleting",
                revision=state.generated.revision if state.generated else "",
                started_at=time.time(),
                initiated_by="user",
                kind=DELETE_KIND,
            )
            state.operation = operation
            state.cancel = threading.Event()
            state.snapshot = self._publisher.app_snapshot(state)
        self._publisher.mark_dirty()
        return operation

    def _begin_history(
        self, state: AppState, source: Application, operation: OperationState
    ) -> int | None:
        try:
            return self._history.begin(
                source.name,
                revision=operation.revision,
                repo_url=redact_url(source.source.repo_url),
                path=source.source.path,
                operation=operation,
            )
        except Exception:
            log.exception("history entry of the deletion not written")
            return None

    def _set_operation(self, state: AppState, op: OperationState) -> None:
        with self._table.lock:
            state.operation = op
            state.snapshot = self._publisher.app_snapshot(state)
        self._publisher.mark_dirty()

    def _finish(
        self,
        state: AppState,
        entry_id: int | None,
        history: ThrottledHistory | None,
        final: OperationState,
    ) -> None:
        if history is not None:
            history.close()
        if entry_id is not None:
            try:
                self._history.update(entry_id, final)
            except Exception:
                log.exception("history update of the deletion failed")
        with self._table.lock:
            state.cancel = None
        self._set_operation(state, final)
        self._schedule(final.app)  # re-compared: Missing / OutOfSync now
