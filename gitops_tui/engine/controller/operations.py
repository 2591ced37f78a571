"""Operations on apps: sync (and its dry run), preview, fleet preview, terminate and
rollback, with their bookkeeping (one operation per app, history, child apps).

Mutations are refused in read-only mode before anything reaches the cluster.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from gitops_tui.engine.api import EngineError, HistoryEntry, SyncPreview, SyncRequest
from gitops_tui.engine.app.application import Application, InvalidApplication
from gitops_tui.engine.cache.cluster import ClusterConnection
from gitops_tui.engine.cache.readonly import ReadOnlyPolicy
from gitops_tui.engine.controller.applied_predictions import remembering
from gitops_tui.engine.controller.argocd_guard import ArgoCDGuard
from gitops_tui.engine.controller.automation import Automation
from gitops_tui.engine.controller.child_apps import ChildApps
from gitops_tui.engine.controller.cluster_links import ClusterLinks
from gitops_tui.engine.controller.options import EngineOptions
from gitops_tui.engine.controller.publisher import Publisher
from gitops_tui.engine.controller.reconcile import Reconciler
from gitops_tui.engine.controller.state import AppState, AppTable
from gitops_tui.engine.diff.compare import Comparison, PredictionCache
from gitops_tui.engine.errors import GitOpsError
from gitops_tui.engine.model import Manifest
from gitops_tui.engine.redact import redact_text, redact_url
from gitops_tui.engine.snapshot import OperationPhase, OperationState
from gitops_tui.engine.sync.history import HistoryStore
from gitops_tui.engine.sync.history_writer import ThrottledHistory
from gitops_tui.engine.sync.ownership import with_namespace_cascades
from gitops_tui.engine.sync.plan import SyncPlan, build_plan
from gitops_tui.engine.sync.takeover import with_takeovers

log = logging.getLogger(__name__)


class Operations:
    """Plans and runs the operations of apps (one at a time per app)."""

    def __init__(
        self,
        options: EngineOptions,
        policy: ReadOnlyPolicy,
        table: AppTable,
        links: ClusterLinks,
        reconciler: Reconciler,
        children: ChildApps,
        publisher: Publisher,
        history: HistoryStore,
        automation: Automation,
        schedule: Callable[[str], None],
        predictions: PredictionCache | None = None,
    ) -> None:
        self._options = options
        self._policy = policy
        self._table = table
        self._links = links
        self._reconciler = reconciler
        self._children = children
        self._publisher = publisher
        self._history = history
        self._automation = automation
        self._schedule = schedule
        self._predictions = predictions
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sync")
        self.guard: ArgoCDGuard | None = None  # never two engines on one app

    def close(self, *, wait: bool) -> None:
        """Cancel running operations (they stop after their current step)."""
        with self._table.lock:
            for state in self._table.states.values():
                if state.cancel is not None:
                    state.cancel.set()
        self.pool.shutdown(wait=wait, cancel_futures=True)

    # ------------------------------------------------------------------ planning
    def require_app(self, name: str) -> AppState:
        with self._table.lock:
            state = self._table.states.get(name)
        if state is None:
            raise EngineError(f"no app named {name!r}")
        if isinstance(state.app, InvalidApplication):
            raise EngineError(f"app {name!r} is invalid: " + "; ".join(state.app.messages))
        if state.project_problems:
            raise EngineError(
                f"app {name!r} is not permitted: " + "; ".join(state.project_problems)
            )
        return state

    def _plan_for(
        self, state: AppState, request: SyncRequest
    ) -> tuple[SyncPlan, str, ClusterConnection]:
        app = state.app
        assert isinstance(app, Application)
        conn = self._links.connection_for(state)
        if conn is None:
            raise EngineError(
                state.destination_error or f"the cluster of {state.app.name} is unreachable"
            )
        comparison: Comparison | None
        desired: list[Manifest]
        if request.revision:
            desired, comparison, revision = self._reconciler.compare_at(app, conn, request.revision)
        else:
            with self._table.lock:
                comparison = state.comparison
                desired = list(state.desired)
                revision = state.generated.revision if state.generated else ""
                source_error = state.source_error
            if source_error is not None and source_error.kind != "repo":
                raise EngineError(f"cannot sync {app.name}: {source_error}")
            if comparison is None:
                raise EngineError(
                    f"{app.name} has not been compared yet (Git or cluster unavailable)"
                )
            if not revision:  # a failed fetch keeps the last manifests, a failed checkout none
                raise EngineError(f"cannot sync {app.name}: {source_error or 'no manifests'}")
        by_key = comparison.by_key()
        live = {k: r.live for k, r in by_key.items() if r.live is not None}
        modified = {k: r.modified for k, r in by_key.items()}
        candidates = [  # never an excluded kind (resource.exclusions), whatever its tracking
            r.live
            for r in comparison.resources
            if r.requires_pruning
            and r.live is not None
            and not conn.excludes(r.key.group, r.key.kind)
        ]
        options = dict(app.sync_policy.options)
        if request.apply_out_of_sync_only:
            options["ApplyOutOfSyncOnly"] = "true"
        plan = build_plan(
            desired,
            live,
            modified,
            candidates,
            app_options=options,
            selected=request.resources,
            prune=request.prune,
        )
        plan = with_takeovers(
            plan,
            {k: (r.live, r.predicted) for k, r in by_key.items()},
            options,
            force=request.force,
            default=request.force_conflicts and self._options.force_conflicts,
        )
        plan = with_namespace_cascades(plan, conn, app.name, self._options.tracking)
        return plan, revision, conn

    def preview(self, request: SyncRequest) -> SyncPreview:
        state = self.require_app(request.app)
        try:
            plan, revision, _conn = self._plan_for(state, request)
        except GitOpsError as exc:
            raise EngineError(redact_text(str(exc))) from None
        return SyncPreview(request=request, plan=plan, revision=revision, errors=tuple(plan.errors))

    def fleet_preview(self, names: list[str], *, prune: bool) -> dict[str, SyncPreview | str]:
        """The plan of a sync of each app of ``names``, or an error message for apps that
        cannot be planned. Plans run concurrently; nothing is applied."""

        def one(name: str) -> SyncPreview | str:
            try:
                return self.preview(SyncRequest(app=name, prune=prune))
            except EngineError as exc:
                return str(exc)

        with ThreadPoolExecutor(max_workers=max(1, min(8, len(names)))) as pool:
            return dict(zip(names, pool.map(one, names), strict=True))

    # ------------------------------------------------------------------ mutations
    def refuse_if_read_only(self, action: str, name: str) -> None:
        """ReadOnlyError naming the flag or the config key when ``name`` may not change."""
        if self._policy.everywhere:
            self._policy.check(action, None)
        with self._table.lock:
            state = self._table.states.get(name)
        if state is not None:
            self._policy.check(f"{action} of {name}", self._links.context_of(state))

    def refuse_if_argocd(self, action: str, name: str, *, forced: bool = False) -> None:
        """EngineError when an Argo CD controller reconciles ``name``, unless forced
        (the request's typed confirmation, or the operator's ``--force-local``)."""
        if self.guard is not None:
            self.guard.refuse(action, name, forced=forced or self._options.force_local)

    def sync(self, request: SyncRequest) -> str:
        action = "sync" if not request.prune else "sync with prune"
        self.refuse_if_read_only(action, request.app)
        if not request.dry_run and request.initiated_by != "rollback":  # checked before
            if request.initiated_by == "automated":  # automation never overrides Argo CD
                if self.guard is not None:
                    self.guard.refuse("automated sync", request.app, forced=False)
            else:
                self.refuse_if_argocd(action, request.app, forced=request.force_local)
        state = self.require_app(request.app)
        app = state.app
        assert isinstance(app, Application)
        with self._table.lock:
            if state.operation is not None and not state.operation.phase.done:
                raise EngineError(f"an operation is already running on {app.name}")
            # reserve the slot before planning so two requests cannot both start
            op_id = uuid.uuid4().hex[:12]
            state.operation = OperationState(
                id=op_id,
                app=app.name,
                phase=OperationPhase.RUNNING,
                message="planning",
                revision="",
                started_at=time.time(),
                initiated_by=request.initiated_by,
                dry_run=request.dry_run,
                prune=request.prune,
            )
            state.cancel = threading.Event()
            state.snapshot = self._publisher.app_snapshot(state)
        self._publisher.mark_dirty()
        try:
            plan, revision, conn = self._plan_for(state, request)
        except GitOpsError as exc:  # whatever fails, the operation ends (never left "planning")
            self._finish(
                state,
                None,
                replace(
                    state.operation,
                    phase=OperationPhase.ERROR,
                    message=redact_text(str(exc)),
                    finished_at=time.time(),
                ),
            )
            raise EngineError(redact_text(str(exc))) from None
        operation = replace(state.operation, revision=revision, message="starting")
        entry_id = None
        if not request.dry_run:
            entry_id = self._history.begin(
                app.name,
                revision=revision,
                repo_url=redact_url(app.source.repo_url),
                path=app.source.path,
                operation=operation,
            )
        from gitops_tui.engine.sync.run import (
            SyncSettings,
            run_sync,
        )  # the executor loads on first sync

        settings = SyncSettings(
            app=app.name,
            revision=revision,
            destination_namespace=app.destination.namespace,
            app_options=dict(app.sync_policy.options),
            dry_run=request.dry_run,
            force=request.force,
            force_conflicts=request.force_conflicts and self._options.force_conflicts,
            prune=request.prune,
            initiated_by=request.initiated_by,
            tracking=self._options.tracking,
            wave_timeout_s=self._options.wave_timeout_s,
            application_health=self._options.application_health,
        )
        cancel = state.cancel or threading.Event()

        history = ThrottledHistory(self._history, entry_id) if entry_id is not None else None

        def progress(op: OperationState) -> None:
            with self._table.lock:
                state.operation = op
                state.snapshot = self._publisher.app_snapshot(state)
            self._publisher.mark_dirty()
            if history is not None:
                history.update(op)  # phase changes at once, else at most every 250 ms

        def run() -> None:
            try:
                final = run_sync(
                    remembering(conn, self._predictions),
                    plan,
                    settings,
                    operation_id=op_id,
                    on_progress=progress,
                    cancel=cancel,
                )
            except Exception as exc:  # run_sync reports its own errors; this is a last resort
                final = replace(
                    operation,
                    phase=OperationPhase.ERROR,
                    message=f"{type(exc).__name__}: {exc}",
                    finished_at=time.time(),
                )
            if history is not None:
                history.close()  # the final state is written last, by _finish
            self._finish(state, entry_id, final)

        with self._table.lock:
            state.operation = operation
        self.pool.submit(run)
        return op_id

    def _finish(self, state: AppState, entry_id: int | None, final: OperationState) -> None:
        app = state.app
        if entry_id is not None:
            try:
                self._history.update(entry_id, final)
                if isinstance(app, Application):
                    self._history.trim(app.name, app.revision_history_limit)
            except Exception:
                log.exception("history update failed")
        if (
            final.phase == OperationPhase.SUCCEEDED
            and not final.dry_run
            and isinstance(app, Application)
            and final.initiated_by != "rollback-children"
        ):
            with self._table.lock:
                docs = list(state.child_docs)
                sets = list(state.set_docs)
            if docs or sets or state.children or state.has_sets:
                self._children.register(app.name, docs, prune=final.prune, sets=sets)
        with self._table.lock:
            state.operation = final
            if not final.dry_run:
                state.last_sync = final
            state.cancel = None
            state.snapshot = self._publisher.app_snapshot(state)
        self._publisher.mark_dirty()
        self._schedule(app.name)

    def wait_for_operation(
        self, app: str, op_id: str, timeout: float = 600.0
    ) -> OperationState | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._table.lock:
                op = self._table.states[app].operation
            if op is not None and op.id == op_id and op.phase.done:
                return op
            time.sleep(0.05)
        return None

    def terminate(self, app: str) -> bool:
        self.refuse_if_read_only("terminate", app)
        with self._table.lock:
            state = self._table.states.get(app)
            if (
                state is None
                or state.cancel is None
                or state.operation is None
                or state.operation.phase.done
            ):
                return False
            state.cancel.set()
            state.operation = replace(
                state.operation, phase=OperationPhase.TERMINATING, message="terminating"
            )
            state.snapshot = self._publisher.app_snapshot(state)
        self._publisher.mark_dirty()
        return True

    def history(self, app: str) -> list[HistoryEntry]:
        return self._history.entries(app)

    def rollback(self, app: str, history_id: int) -> str:
        self.refuse_if_read_only("rollback", app)
        self.refuse_if_argocd("rollback", app)
        entry = self._history.get(history_id)
        if entry is None or entry.app != app:
            raise EngineError(f"no history entry {history_id} for app {app!r}")
        if entry.operation.kind != "sync":
            raise EngineError(
                f"history entry {history_id} of {app} is a deletion of its resources, not a "
                "sync: there is no revision to roll back to in it"
            )
        state = self.require_app(app)
        current = state.app
        assert isinstance(current, Application)
        if current.sync_policy.automated:
            policy = replace(current.sync_policy, automated=False)
            with self._table.lock:
                state.app = replace(current, sync_policy=policy)
            self._automation.clear(app)
            log.warning("automated sync turned off for %s before rollback", app)
        return self.sync(
            SyncRequest(app=app, prune=False, revision=entry.revision, initiated_by="rollback")
        )
