"""Run a ``SyncPlan`` against a cluster: dry run everything, then wave by wave, safely.

Follows ``gitops-engine/pkg/sync/sync_context.go`` (learned from, not ported):

* **dry run first**: every task is tried with ``dryRun=All`` (server-side apply,
  replace, delete with the uid precondition) before anything is written; one
  failure fails the operation and nothing is applied. Objects in a namespace the
  sync will create, and custom resources whose CRD the sync creates (or that are
  marked ``SkipDryRunOnMissingResource=true``), cannot be checked and are let
  through, as upstream does;
* ``CreateNamespace=true`` creates the destination namespace (untracked, like
  Argo CD, which does not add a tracking mark to it) before the first wave;
* then per (phase, wave): prunes (uid precondition, ``PrunePropagationPolicy``,
  foreground by default), hooks (``BeforeHookCreation`` deletes the old one
  first; we wait for Job Complete / Pod Succeeded, then apply the
  ``HookSucceeded``/``HookFailed`` policy), then the applies, concurrently within a
  run of the same kind (kinds in plan order, as upstream); after every group but
  the last the applied objects must become healthy and the pruned ones gone;
* a failure runs the SyncFail hooks (best effort) and ends ``Failed``;
* ``cancel`` is honoured between every two API calls: calls already in flight
  finish, nothing new starts, and the operation ends ``Failed`` "terminated by
  user". Nothing is ever retried: each write runs at most once per operation.

Differences from upstream, on purpose:

* server-side apply (field manager ``gitops-tui``) is the default, and it forces
  conflicts as Argo CD's does (a sync after ``kubectl scale`` restores Git's
  values; the plan names the fields taken, ``takeover.py``); refusing is opt-in
  (``force_conflicts=False``, ``ServerSideApplyForceConflicts=false``);
  ``ServerSideApply=false`` uses ``kubectl apply`` (client-side), found with
  ``find_tool`` (``tools.py``); ``Force=true`` there is *not* ``kubectl apply --force``
  (which deletes and re-creates objects), it only forces server-side apply conflicts;
* a hook replaces only a live namesake that is this app's own hook (``hooks.py``);
  every kind is checked before anything is applied, also in a namespace the sync
  creates; a sync whose applied objects are being deleted (their namespace pruned
  or deleted) fails instead of succeeding;
* hook delete policies act on each hook's own outcome right after it finishes
  (as the Argo CD documentation describes them), not at the end of the operation;
* hooks get no ``argocd.argoproj.io/hook-finalizer``; a hook that vanishes while
  we wait for it fails the operation;
* a running hook is left running on terminate (upstream deletes it): a half-run
  migration job is better finished than killed, and deleting would be a new write;
* a hook that does not finish within ``hook_timeout_s`` fails (upstream waits forever).

Here is the state machine (``_SyncRun``): preparation, the dry run gate, the
(phase, wave) groups in order, hooks, SyncFail, terminate. Its parts live beside it:
``settings.py`` (``SyncSettings``, each object's sync options), ``work.py`` (a task
made concrete, the stop signals, the poll), ``prepare.py`` (hook names, default
namespaces, what the dry run cannot check), ``progress.py`` (results and the
published ``OperationState``), ``dry_run.py``, ``apply.py`` (server-side apply,
replace, ``kubectl apply``, waiting for a new CRD), ``prune.py``, ``health_wait.py``
(between waves) and ``messages.py`` (user messages without object content).

The run reaches the cluster only through ``KubeOps`` (``kubeops.py``): the real
``ClusterConnection`` in production and in ``tests/cluster``, an in-memory fake in the
unit tests of this state machine (``tests/unit/test_sync_machine.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from gitops_tui.engine.annotations import (
    BEFORE_HOOK_CREATION,
    HOOK_FAILED,
    HOOK_SUCCEEDED,
    hook_delete_policies,
)
from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.health.dispatch import resource_health
from gitops_tui.engine.model import HealthStatus, Manifest
from gitops_tui.engine.snapshot import OperationPhase, OperationState, ResultCode
from gitops_tui.engine.sync import dry_run as dry_run_step
from gitops_tui.engine.sync.apply import Applier
from gitops_tui.engine.sync.dry_run import DryRun
from gitops_tui.engine.sync.health_wait import wait_healthy
from gitops_tui.engine.sync.hooks import foreign_hook_reason
from gitops_tui.engine.sync.kubeops import KubeOps
from gitops_tui.engine.sync.messages import api_error, safe_message
from gitops_tui.engine.sync.ownership import namespaces_being_deleted
from gitops_tui.engine.sync.plan import SyncPlan, TaskAction
from gitops_tui.engine.sync.prepare import prepare
from gitops_tui.engine.sync.progress import Progress
from gitops_tui.engine.sync.prune import prune_one
from gitops_tui.engine.sync.settings import SyncSettings, propagation
from gitops_tui.engine.sync.work import (
    Outcome,
    TaskError,
    Work,
    _Terminated,
    batches,
    pause,
    uid,
)

__all__ = ["TERMINATED_MESSAGE", "SyncSettings", "run_sync", "safe_message"]

log = logging.getLogger(__name__)

TERMINATED_MESSAGE = "terminated by user"


class _SyncRun:
    def __init__(
        self,
        conn: KubeOps,
        plan: SyncPlan,
        settings: SyncSettings,
        operation_id: str,
        on_progress: Callable[[OperationState], None],
        cancel: threading.Event,
    ) -> None:
        self.conn = conn
        self.plan = plan
        self.s = settings
        self.cancel = cancel
        self.progress = Progress(settings, operation_id, on_progress, cancel)
        self.applier = Applier(conn, settings, self.progress, cancel)
        self.pool: ThreadPoolExecutor | None = None
        self.works: list[Work] = []
        self.fail_works: list[Work] = []
        self.by_task: dict[int, Work] = {}
        self.namespaces_created_by_sync: set[str] = set()
        self.crd_kinds: dict[tuple[str, str], str] = {}
        self.namespace_work: Work | None = None
        self.in_dry_run = False

    def finish(self, phase: OperationPhase, message: str) -> OperationState:
        return self.progress.finish(phase, message)

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise _Terminated()

    # -- preparation -------------------------------------------------------
    def prepare(self) -> None:
        prepared = prepare(self.conn, self.plan, self.s, self.progress)
        self.works, self.fail_works = prepared.works, prepared.fail_works
        self.by_task, self.namespace_work = prepared.by_task, prepared.namespace_work
        self.crd_kinds = prepared.crd_kinds
        self.namespaces_created_by_sync = prepared.namespaces_created_by_sync

    # -- entry point -------------------------------------------------------
    def run(self) -> OperationState:
        self.progress.publish()
        if self.plan.errors:
            self.progress.entries.clear()
            return self.finish(
                OperationPhase.FAILED,
                "cannot sync, the plan has errors: " + "; ".join(self.plan.errors),
            )
        try:
            self.check_cancel()
            self.prepare()
            self.progress.set_message("dry run")
            self.in_dry_run = True
            failures = self.dry_run()
            self.in_dry_run = False
            if failures.terminated:
                return self.finish(OperationPhase.FAILED, TERMINATED_MESSAGE)
            if failures.failures:
                return self.finish(
                    OperationPhase.FAILED,
                    "one or more objects failed to apply (dry run), nothing was changed: "
                    + "; ".join(failures.failures),
                )
            if self.s.dry_run:
                return dry_run_step.record(self.progress, self._all_works(), self.fail_works)
            return self.run_for_real()
        except _Terminated:
            return self.finish(OperationPhase.FAILED, TERMINATED_MESSAGE)

    # -- dry run -----------------------------------------------------------
    def _all_works(self) -> list[Work]:
        head = [self.namespace_work] if self.namespace_work is not None else []
        return [*head, *self.works, *self.fail_works]

    def dry_run(self) -> Outcome:
        todo = [
            w
            for w in self._all_works()
            if not w.task.skipped and w.task.action is not TaskAction.PRUNE_SKIPPED
        ]
        checker = DryRun(
            self.conn,
            self.s,
            self.applier,
            crd_kinds=self.crd_kinds,
            namespaces_created_by_sync=self.namespaces_created_by_sync,
        )
        outcome = self.parallel(todo, checker.check)
        return outcome

    # -- concurrency -------------------------------------------------------
    def parallel(self, works: Sequence[Work], step: Callable[[Work], str | None]) -> Outcome:
        """Run ``step`` over ``works`` on the pool; a non-None return or error is a failure.

        Each worker checks ``cancel`` before it starts; started calls always finish.
        """
        assert self.pool is not None
        outcome = Outcome()
        futures: list[tuple[Work, Future[str | None]]] = [
            (w, self.pool.submit(self._guarded, w, step)) for w in works
        ]
        for work, future in futures:
            try:
                failure = future.result()
            except _Terminated:
                outcome.terminated = True
                continue
            if failure is not None:
                outcome.failures.append(f"{work.key.display}: {failure}")
        if self.cancel.is_set():
            outcome.terminated = True
        return outcome

    def _guarded(self, work: Work, step: Callable[[Work], str | None]) -> str | None:
        self.check_cancel()
        try:
            failure = step(work)
        except KubeApiError as exc:
            failure = api_error(exc, work.key)
        except TaskError as exc:
            failure = str(exc)
        if failure is not None:
            prefix = "(dry run) " if self.in_dry_run else ""
            self.progress.set_result(work, ResultCode.SYNC_FAILED, prefix + failure)
        return failure

    # -- the real run ------------------------------------------------------
    def run_for_real(self) -> OperationState:
        failure: str | None = None
        if self.namespace_work is not None:
            self.check_cancel()
            self.progress.set_message(f"creating namespace {self.namespace_work.key.name}")
            outcome = self.parallel([self.namespace_work], self.applier.apply_one)
            if outcome.terminated:
                raise _Terminated()
            if outcome.failures:
                failure = "namespace auto creation failed: " + "; ".join(outcome.failures)
        groups = self.plan.waves()
        for index, ((phase, wave), tasks) in enumerate(groups):
            if failure is not None:
                break
            self.check_cancel()
            works = [self.by_task[id(t)] for t in tasks]
            self.progress.set_message(f"{phase} wave {wave}: running {len(works)} task(s)")
            failure = self.run_group(works)
            if failure is None and index < len(groups) - 1:
                failure = self.wait_healthy(phase, wave, works)
        if failure is None:
            failure = self.check_namespaces()
        if failure is not None:
            return self.fail(failure)
        return self.finish(OperationPhase.SUCCEEDED, "successfully synced (all tasks run)")

    def check_namespaces(self) -> str | None:
        """A failure when a namespace this sync applied objects into is being deleted."""
        return namespaces_being_deleted(
            self.conn,
            [
                w.key
                for w in self._all_works()
                if w.is_apply
                and w.slot in self.progress.entries
                and self.progress.entries[w.slot].status is ResultCode.SYNCED
            ],
        )

    def fail(self, message: str) -> OperationState:
        if self.cancel.is_set():
            return self.finish(OperationPhase.FAILED, TERMINATED_MESSAGE)
        if self.fail_works:
            self.progress.set_message(message + " (running SyncFail hooks)")
            with self.progress.lock:
                for work in self.fail_works:
                    self.progress.list_pending(work)
            self.progress.publish()
            try:
                hook_failure = self.run_hooks(self.fail_works)
            except _Terminated:
                return self.finish(OperationPhase.FAILED, TERMINATED_MESSAGE)
            if hook_failure is not None:
                message += f"\none or more SyncFail hooks failed: {hook_failure}"
        return self.finish(OperationPhase.FAILED, message)

    def run_group(self, works: Sequence[Work]) -> str | None:
        prunes = [w for w in works if w.task.is_prune]
        hooks = [w for w in works if w.is_hook]
        applies = [w for w in works if w.is_apply]
        for work in prunes:
            if work.task.action is TaskAction.PRUNE_SKIPPED:
                self.progress.set_result(work, ResultCode.PRUNE_SKIPPED, work.task.note)
        outcome = self.parallel([w for w in prunes if w.is_prune], self.prune_one)
        if outcome.terminated:
            raise _Terminated()
        if outcome.failures:
            return "one or more objects failed to prune: " + "; ".join(outcome.failures)
        if hooks:
            failure = self.run_hooks(hooks)
            if failure is not None:
                return failure
        for work in applies:
            if work.task.skipped:
                self.progress.set_result(work, ResultCode.SKIPPED, work.task.note)
        for batch in batches([w for w in applies if not w.task.skipped]):
            self.check_cancel()
            outcome = self.parallel(batch, self.applier.apply_one)
            if outcome.terminated:
                raise _Terminated()
            if outcome.failures:
                return "one or more objects failed to apply: " + "; ".join(outcome.failures)
        return None

    # -- single steps ------------------------------------------------------
    def prune_one(self, work: Work) -> str | None:
        return prune_one(self.conn, self.s, self.progress, work)

    def wait_healthy(self, phase: str, wave: int, works: Sequence[Work]) -> str | None:
        return wait_healthy(self.conn, self.s, self.progress, self.cancel, phase, wave, works)

    # -- hooks -------------------------------------------------------------
    def run_hooks(self, hooks: Sequence[Work]) -> str | None:
        """Delete-before-creation, create, wait for completion, then delete by policy."""
        outcome = self.parallel(hooks, self.delete_before_creation)
        if outcome.terminated:
            raise _Terminated()
        if outcome.failures:
            return "one or more hooks failed: " + "; ".join(outcome.failures)
        outcome = self.parallel(hooks, self.applier.apply_one)
        if outcome.terminated:
            raise _Terminated()
        if outcome.failures:
            return "one or more hooks failed to start: " + "; ".join(outcome.failures)
        return self.wait_hooks(hooks)

    def _foreign_hook(self, work: Work, live: Manifest | None) -> str | None:
        """Why ``live`` (the hook's namesake) is not this app's own hook; None when it is."""
        if live is None:
            return None
        return foreign_hook_reason(live, work.key, self.s.app, self.s.tracking)

    def delete_before_creation(self, work: Work) -> str | None:
        assert work.obj is not None
        live = self.conn.live(work.key)
        foreign = self._foreign_hook(work, live)
        if foreign is not None:  # appeared since the dry run: still never touched
            return foreign
        if live is None or BEFORE_HOOK_CREATION not in hook_delete_policies(work.obj):
            return None
        old_uid = uid(live)
        self.progress.set_result(work, ResultCode.RUNNING, "deleting the previous hook")
        self.conn.delete(work.key, propagation=propagation(work, self.s), uid=old_uid or None)
        deadline = time.monotonic() + self.s.hook_timeout_s
        while True:
            current = self.conn.live(work.key)
            if current is None or uid(current) != old_uid:
                return None
            if time.monotonic() >= deadline:
                return (
                    f"the previous hook was not deleted within {self.s.hook_timeout_s:g} s "
                    "(BeforeHookCreation)"
                )
            if pause(self.cancel):
                raise _Terminated()

    def _hook_status(self, work: Work) -> tuple[str, str]:
        """("done"|"failed"|"running", message) of a created hook."""
        live = self.conn.live(work.key)
        if live is None or (work.created_uid and uid(live) != work.created_uid):
            return "failed", "the hook is missing: it might have been deleted"
        health = resource_health(live, application_health=self.s.application_health)
        if health is None or health.status is HealthStatus.HEALTHY:
            return "done", (health.message if health else "") or "completed"
        if health.status is HealthStatus.DEGRADED:
            return "failed", health.message or "failed"
        return "running", f"{health.status.value}: {health.message}".rstrip(": ")

    def wait_hooks(self, hooks: Sequence[Work]) -> str | None:
        deadline = time.monotonic() + self.s.hook_timeout_s
        remaining = list(hooks)
        failures: list[str] = []
        while remaining:
            still: list[tuple[Work, str]] = []
            for work in remaining:
                state, message = self._hook_status(work)
                if state == "done":
                    self.progress.set_result(work, ResultCode.SYNCED, message)
                    self._policy_delete(work, succeeded=True)
                elif state == "failed":
                    self.progress.set_result(work, ResultCode.SYNC_FAILED, message)
                    failures.append(f"{work.key.display}: {message}")
                    self._policy_delete(work, succeeded=False)
                else:
                    still.append((work, message))
            remaining = [work for work, _ in still]
            if not still:
                break
            waiting, message = still[0]
            self.progress.set_message(f"waiting for hook {waiting.key.display} ({message})")
            if time.monotonic() >= deadline:
                for work in remaining:
                    msg = f"did not complete within {self.s.hook_timeout_s:g} s"
                    self.progress.set_result(work, ResultCode.SYNC_FAILED, msg)
                    failures.append(f"{work.key.display}: {msg}")
                    self._policy_delete(work, succeeded=False)
                break
            if pause(self.cancel):
                raise _Terminated()
        if failures:
            return "one or more hooks failed: " + "; ".join(failures)
        return None

    def _policy_delete(self, work: Work, *, succeeded: bool) -> None:
        """Delete a finished hook when its policy says so (errors only noted)."""
        assert work.obj is not None
        policy = HOOK_SUCCEEDED if succeeded else HOOK_FAILED
        if policy not in hook_delete_policies(work.obj) or self.cancel.is_set():
            return
        entry = self.progress.entries[work.slot]
        try:
            self.conn.delete(
                work.key, propagation=propagation(work, self.s), uid=work.created_uid or None
            )
        except (KubeApiError, TaskError) as exc:
            reason = api_error(exc, work.key) if isinstance(exc, KubeApiError) else str(exc)
            self.progress.set_result(
                work, entry.status, f"{entry.message}; deleting it failed: {reason}"
            )
            return
        self.progress.set_result(work, entry.status, f"{entry.message}; deleted ({policy})")


def run_sync(
    conn: KubeOps,
    plan: SyncPlan,
    settings: SyncSettings,
    *,
    operation_id: str,
    on_progress: Callable[[OperationState], None],
    cancel: threading.Event,
) -> OperationState:
    """Run ``plan`` (blocking); ``on_progress`` gets a new ``OperationState`` after each change.

    Returns the final state: Succeeded, Failed (a task failed, the dry run
    failed, or ``cancel`` was set: "terminated by user") or Error (an unexpected
    exception; its message, never a traceback).
    """
    run = _SyncRun(conn, plan, settings, operation_id, on_progress, cancel)
    pool = ThreadPoolExecutor(
        max_workers=max(1, settings.concurrency), thread_name_prefix=f"sync-{settings.app}"
    )
    run.pool = pool
    try:
        return run.run()
    except Exception as exc:
        log.exception("sync of %s failed unexpectedly", settings.app)
        # calls in flight finish; queued ones never start
        pool.shutdown(wait=True, cancel_futures=True)
        return run.finish(
            OperationPhase.ERROR, safe_message(f"sync error: {type(exc).__name__}: {exc}")
        )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
