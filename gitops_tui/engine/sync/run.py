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

The run reaches the cluster only through ``KubeOps`` (``kubeops.py``): the real
``ClusterConnection`` in production and in ``tests/cluster``, an in-memory fake in the
unit tests of this state machine (``tests/unit/test_sync_machine.py``).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import re
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from gitops_tui.engine.annotations import (
    BEFORE_HOOK_CREATION,
    HOOK_FAILED,
    HOOK_SUCCEEDED,
    hook_delete_policies,
    option_is_true,
    sync_options,
)
from gitops_tui.engine.cache.cluster import UnknownKindError
from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.cache.tracking import TrackingMethod
from gitops_tui.engine.errors import EngineSignal, GitOpsError
from gitops_tui.engine.health.dispatch import resource_health
from gitops_tui.engine.model import HealthStatus, Manifest, ResourceKey, group_of
from gitops_tui.engine.redact import redact_text
from gitops_tui.engine.snapshot import OperationPhase, OperationState, ResourceResult, ResultCode
from gitops_tui.engine.source.tools import find_tool
from gitops_tui.engine.sync.hooks import foreign_hook_reason
from gitops_tui.engine.sync.kubeops import KubeOps
from gitops_tui.engine.sync.ownership import namespaces_being_deleted
from gitops_tui.engine.sync.plan import CRD_GROUP, CRD_KIND, SyncPlan, SyncTask, TaskAction
from gitops_tui.engine.sync.takeover import conflict_message, forces_conflicts

log = logging.getLogger(__name__)

TERMINATED_MESSAGE = "terminated by user"
DRY_RUN_MESSAGE = "(dry run)"
POLL_SECONDS = 0.2
KUBECTL_TIMEOUT_S = 60.0
CRD_READY_TIMEOUT_S = 60.0
MAX_MESSAGE = 1500

_PROPAGATION = {"foreground": "Foreground", "background": "Background", "orphan": "Orphan"}


@dataclass(frozen=True)
class SyncSettings:
    """How to run one sync operation (the plan says what to do)."""

    app: str
    revision: str
    destination_namespace: str
    app_options: Mapping[str, str]
    """``syncPolicy.syncOptions`` parsed (``parse_sync_option_list``)."""
    dry_run: bool = False
    """Only the server dry run: nothing changes."""
    force: bool = False
    force_conflicts: bool = True
    """Server-side apply takes over fields other managers own (Argo CD's default); False
    (``--no-force-conflicts``) refuses with a conflict, unless ``force`` or ``Force=true``."""
    prune: bool = False
    """Manual ``--prune`` / ``automated.prune`` (the plan already marks PRUNE_SKIPPED)."""
    wave_timeout_s: float = 300.0
    hook_timeout_s: float = 300.0
    concurrency: int = 8
    initiated_by: str = "user"
    application_health: bool = False
    """The opt-in health rule of live Applications (waves wait for child apps)."""
    tracking: TrackingMethod = "annotation"
    """How the app's objects are tracked (a hook may only replace the app's own hook)."""


class _Terminated(EngineSignal):
    """``cancel`` was set: stop starting things."""


class _TaskError(GitOpsError):
    """A task failed; the message is for the user (no object content)."""

    title = "Sync task failed"


@dataclass
class _Work:
    """A plan task made concrete for this operation (hook names, default namespace)."""

    task: SyncTask
    key: ResourceKey
    obj: Manifest | None  # what to write; None for prunes
    slot: tuple[ResourceKey, str]  # result entry
    skip_dry_run: str = ""  # why the dry run could not check it
    created_uid: str = ""  # uid of the hook we created

    @property
    def is_hook(self) -> bool:
        return self.task.action is TaskAction.HOOK

    @property
    def is_prune(self) -> bool:
        return self.task.action is TaskAction.PRUNE

    @property
    def is_apply(self) -> bool:
        return self.task.action in (TaskAction.CREATE, TaskAction.UPDATE, TaskAction.UNCHANGED)

    @property
    def live_uid(self) -> str:
        return str(((self.task.live or {}).get("metadata") or {}).get("uid") or "")


@dataclass
class _Outcome:
    """What a step (a batch of tasks) came to."""

    failures: list[str] = field(default_factory=list)
    terminated: bool = False


# -- helpers ---------------------------------------------------------------------------


def _truncate(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "..."


_VALUE_ECHO = re.compile(r"got &value\.[^\n]*")
_INVALID_VALUE = re.compile(r'Invalid value: "(?:[^"\\]|\\.)*"')


def safe_message(text: str, key: ResourceKey | None = None) -> str:
    """A server or tool message with anything that may echo object content removed.

    Server-side apply type errors print the offending value
    (``got &value.valueUnstructured{Value:...}``); for Secrets even field values
    named in validation errors are hidden.
    """
    text = _VALUE_ECHO.sub("got a value of the wrong type", text)
    if key is not None and key.group == "" and key.kind == "Secret":
        text = _INVALID_VALUE.sub('Invalid value: "***"', text)
    return _truncate(redact_text(text))


def _api_error(exc: KubeApiError, key: ResourceKey) -> str:
    conflict = conflict_message(exc)
    if conflict is not None:
        return conflict
    if isinstance(exc, UnknownKindError):
        return exc.message
    text = f"{exc.reason}: {exc.message}" if exc.reason else exc.message
    return safe_message(text, key)


def _kubectl_error(stderr: str, key: ResourceKey) -> str:
    """The reason from ``kubectl apply``'s stderr, without the patch/object it may echo."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return "kubectl apply failed"
    text = stderr
    if "error when applying patch" in stderr or "for: " in stderr:
        marker = stderr.rfind('for: "STDIN":')
        text = stderr[marker + len('for: "STDIN":') :] if marker >= 0 else lines[-1]
    else:
        # keep the lines that look like messages, drop any that look like object content
        kept = [line for line in lines if not line.startswith(("{", '"', "}", "data:"))]
        text = "\n".join(kept) if kept else lines[-1]
    return safe_message(text, key)


def _uid(obj: Manifest | None) -> str:
    return str(((obj or {}).get("metadata") or {}).get("uid") or "")


def _is_crd(key: ResourceKey) -> bool:
    return key.group == CRD_GROUP and key.kind == CRD_KIND


def _crd_names(obj: Manifest) -> tuple[str, str, str] | None:
    """(group, kind, scope) a CRD manifest defines."""
    spec = obj.get("spec") or {}
    group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
    if not isinstance(group, str) or not isinstance(kind, str):
        return None
    return group, kind, str(spec.get("scope") or "Namespaced")


def _generation_pending(live: Manifest) -> bool:
    """The controller has not yet observed the latest spec (when it reports that at all)."""
    observed = (live.get("status") or {}).get("observedGeneration")
    generation = (live.get("metadata") or {}).get("generation")
    try:
        return observed is not None and generation is not None and int(observed) < int(generation)
    except (TypeError, ValueError):
        return False


def _batches(works: Sequence[_Work]) -> list[list[_Work]]:
    """Consecutive runs of the same kind (applied in parallel; runs one after the other)."""
    out: list[list[_Work]] = []
    for work in works:
        if out and (out[-1][0].key.group, out[-1][0].key.kind) == (work.key.group, work.key.kind):
            out[-1].append(work)
        else:
            out.append([work])
    return out


# -- the operation ---------------------------------------------------------------------


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
        self.id = operation_id
        self.on_progress = on_progress
        self.cancel = cancel
        self.started_at = time.time()
        self.message = "starting"
        self.lock = threading.RLock()
        self.entries: dict[tuple[ResourceKey, str], ResourceResult] = {}
        self.pool: ThreadPoolExecutor | None = None
        self.app_options = settings.app_options
        self.works: list[_Work] = []
        self.fail_works: list[_Work] = []
        self.by_task: dict[int, _Work] = {}
        self.namespaces_created_by_sync: set[str] = set()
        self.crd_kinds: dict[tuple[str, str], str] = {}
        self.namespace_work: _Work | None = None
        self.in_dry_run = False

    # -- state publication -------------------------------------------------
    def _state(self, phase: OperationPhase, *, final: bool = False) -> OperationState:
        results = tuple(self.entries.values())
        if final:
            results = tuple(r for r in results if r.status is not ResultCode.PENDING)
        return OperationState(
            id=self.id,
            app=self.s.app,
            phase=phase,
            message=self.message,
            revision=self.s.revision,
            started_at=self.started_at,
            finished_at=time.time() if final else None,
            initiated_by=self.s.initiated_by,
            dry_run=self.s.dry_run,
            prune=self.s.prune,
            results=results,
        )

    def publish(self) -> None:
        with self.lock:
            state = self._state(OperationPhase.RUNNING)
            try:
                self.on_progress(state)
            except Exception:
                log.exception("sync progress callback failed")

    def set_message(self, message: str) -> None:
        with self.lock:
            if message == self.message:
                return
            self.message = message
        self.publish()

    def set_result(self, work: _Work, status: ResultCode, message: str | None = None) -> None:
        with self.lock:
            current = self.entries.get(work.slot) or self._pending(work)
            new = dataclasses.replace(
                current,
                key=work.key,
                status=status,
                message=current.message if message is None else message,
            )
            if new == current:
                return
            self.entries[work.slot] = new
        self.publish()

    def finish(self, phase: OperationPhase, message: str) -> OperationState:
        with self.lock:
            self.message = _truncate(message)
            for slot, entry in list(self.entries.items()):
                if entry.status is ResultCode.RUNNING:
                    note = "terminated" if self.cancel.is_set() else "not finished"
                    if entry.hook:
                        note += " (the hook was left running)"
                    self.entries[slot] = dataclasses.replace(
                        entry,
                        status=ResultCode.SYNC_FAILED,
                        message=(entry.message + "; " if entry.message else "") + note,
                    )
            return self._state(phase, final=True)

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise _Terminated()

    # -- option lookups ----------------------------------------------------
    def _option(self, work: _Work, name: str) -> str | None:
        """The object's own sync option (desired, then live), else the app's."""
        for options in (work.task.options, sync_options(work.task.live or {})):
            if name in options:
                return options[name]
        return self.app_options.get(name)

    def _is_true(self, work: _Work, name: str) -> bool:
        value = self._option(work, name)
        return value is not None and value.lower() == "true"

    def _is_false(self, work: _Work, name: str) -> bool:
        value = self._option(work, name)
        return value is not None and value.lower() == "false"

    def _propagation(self, work: _Work) -> str:
        raw = self._option(work, "PrunePropagationPolicy")
        if raw is None or not raw.strip():
            return "Foreground"
        found = _PROPAGATION.get(raw.strip().lower())
        if found is None:
            raise _TaskError(
                f"invalid PrunePropagationPolicy={raw!r} (expected foreground, background or orphan)"
            )
        return found

    def _force(self, work: _Work) -> bool:
        options = dict(sync_options(work.task.live or {}))
        options.update(work.task.options)
        return forces_conflicts(
            options, self.app_options, force=self.s.force, default=self.s.force_conflicts
        )

    # -- preparation -------------------------------------------------------
    def _concrete(self, task: SyncTask) -> tuple[ResourceKey, Manifest | None]:
        """The object to write: a hook's generated name, the destination namespace."""
        if task.desired is None:
            return task.key, None
        obj = copy.deepcopy(task.desired)
        meta = obj.setdefault("metadata", {})
        if task.action is TaskAction.HOOK and not meta.get("name"):
            revision = self.s.revision[:7]
            suffix = f"{revision}-{task.phase}-{int(self.started_at)}".lower()
            meta["name"] = f"{meta.get('generateName') or ''}{suffix}"
        group, kind = group_of(str(obj.get("apiVersion", ""))), str(obj.get("kind"))
        if (
            not meta.get("namespace")
            and self.s.destination_namespace
            and self._namespaced(group, kind)
        ):
            meta["namespace"] = self.s.destination_namespace
        return ResourceKey.of(obj), obj

    def _namespaced(self, group: str, kind: str) -> bool:
        resource = self.conn.discovery.lookup(group, kind)
        if resource is not None:
            return resource.namespaced
        return self.crd_kinds.get((group, kind), "Namespaced") == "Namespaced"

    @staticmethod
    def _pending(work: _Work) -> ResourceResult:
        task = work.task
        return ResourceResult(
            key=work.key,
            status=ResultCode.PENDING,
            message=task.note,
            phase=task.phase,
            wave=task.wave,
            action=task.action.value,
            hook=task.action is TaskAction.HOOK,
        )

    def _make_work(self, task: SyncTask, *, listed: bool = True) -> _Work:
        key, obj = self._concrete(task)
        work = _Work(task=task, key=key, obj=obj, slot=(key, task.phase))
        if listed:
            self.entries[work.slot] = self._pending(work)
        self.by_task[id(task)] = work
        return work

    def prepare(self) -> None:
        for task in (*self.plan.tasks, *self.plan.sync_fail_tasks):
            if task.desired is not None and _is_crd(task.key):
                names = _crd_names(task.desired)
                if names is not None:
                    self.crd_kinds[(names[0], names[1])] = names[2]
        for task in self.plan.tasks:
            if task.desired is not None and task.key.group == "" and task.key.kind == "Namespace":
                self.namespaces_created_by_sync.add(task.key.name)
        dest = self.s.destination_namespace
        if (
            option_is_true(self.app_options, "CreateNamespace")
            and dest
            and dest not in self.namespaces_created_by_sync
        ):
            self.namespaces_created_by_sync.add(dest)
            if self.conn.live(ResourceKey("", "Namespace", "", dest)) is None:
                ns_obj: Manifest = {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {"name": dest},
                }
                ns_task = SyncTask(
                    ResourceKey("", "Namespace", "", dest),
                    TaskAction.CREATE,
                    "PreSync",
                    0,
                    ns_obj,
                    None,
                )
                self.namespace_work = self._make_work(ns_task)
        self.works = [self._make_work(t) for t in self.plan.tasks]
        # SyncFail hooks only show up in the results once they run
        self.fail_works = [self._make_work(t, listed=False) for t in self.plan.sync_fail_tasks]

    # -- entry point -------------------------------------------------------
    def run(self) -> OperationState:
        self.publish()
        if self.plan.errors:
            self.entries.clear()
            return self.finish(
                OperationPhase.FAILED,
                "cannot sync, the plan has errors: " + "; ".join(self.plan.errors),
            )
        try:
            self.check_cancel()
            self.prepare()
            self.set_message("dry run")
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
                return self.finish_dry_run()
            return self.run_for_real()
        except _Terminated:
            return self.finish(OperationPhase.FAILED, TERMINATED_MESSAGE)

    # -- dry run -----------------------------------------------------------
    def _all_works(self) -> list[_Work]:
        head = [self.namespace_work] if self.namespace_work is not None else []
        return [*head, *self.works, *self.fail_works]

    def dry_run(self) -> _Outcome:
        todo = [
            w
            for w in self._all_works()
            if not w.task.skipped and w.task.action is not TaskAction.PRUNE_SKIPPED
        ]
        outcome = self.parallel(todo, self.dry_run_one)
        return outcome

    def _namespace_missing(self, namespace: str) -> bool:
        if not namespace or namespace not in self.namespaces_created_by_sync:
            return False
        return self.conn.live(ResourceKey("", "Namespace", "", namespace)) is None

    def dry_run_one(self, work: _Work) -> str | None:
        key = work.key
        if work.is_prune:
            self.conn.delete(
                key, propagation=self._propagation(work), uid=work.live_uid or None, dry_run=True
            )
            return None
        assert work.obj is not None
        # every kind is checked, even in a namespace this sync creates: a plan that
        # cannot fully apply must apply nothing (not the namespace and half the objects)
        try:
            self.conn.resource(key.group, key.kind)
        except UnknownKindError:
            if (key.group, key.kind) in self.crd_kinds:
                work.skip_dry_run = "its CRD is created by this sync"
                return None
            if self._is_true(work, "SkipDryRunOnMissingResource"):
                work.skip_dry_run = "SkipDryRunOnMissingResource=true"
                return None
            raise
        if self._namespace_missing(key.namespace):
            work.skip_dry_run = f"namespace {key.namespace} is created by this sync"
            return None
        if work.is_hook:
            live = self.conn.live(key)
            foreign = self._foreign_hook(work, live)
            if foreign is not None:
                return foreign
            if live is not None and BEFORE_HOOK_CREATION in hook_delete_policies(work.obj):
                # it will be deleted before creation: check that delete, not an update
                self.conn.delete(
                    key, propagation=self._propagation(work), uid=_uid(live) or None, dry_run=True
                )
                return None
        try:
            self.write(work, dry_run=True)
        except KubeApiError as exc:
            details = exc.details
            if (
                exc.status == 404
                and details.get("kind") == "namespaces"
                and self._namespace_missing(str(details.get("name") or ""))
            ):
                work.skip_dry_run = f"namespace {key.namespace} is created by this sync"
                return None
            raise
        return None

    def finish_dry_run(self) -> OperationState:
        applied = pruned = 0
        sync_fail = {id(w) for w in self.fail_works}
        for work in self._all_works():
            task = work.task
            if id(work) in sync_fail:
                continue
            if task.action is TaskAction.PRUNE_SKIPPED:
                self.set_result(work, ResultCode.PRUNE_SKIPPED, task.note)
            elif task.skipped:
                self.set_result(work, ResultCode.SKIPPED, task.note)
            elif work.is_prune:
                pruned += 1
                self.set_result(work, ResultCode.PRUNED, DRY_RUN_MESSAGE)
            else:
                applied += 1
                message = DRY_RUN_MESSAGE
                if work.skip_dry_run:
                    message += f" not checked: {work.skip_dry_run}"
                self.set_result(work, ResultCode.SYNCED, message)
        return self.finish(
            OperationPhase.SUCCEEDED,
            f"dry run: {applied} objects would be applied, {pruned} pruned",
        )

    # -- concurrency -------------------------------------------------------
    def parallel(self, works: Sequence[_Work], step: Callable[[_Work], str | None]) -> _Outcome:
        """Run ``step`` over ``works`` on the pool; a non-None return or error is a failure.

        Each worker checks ``cancel`` before it starts; started calls always finish.
        """
        assert self.pool is not None
        outcome = _Outcome()
        futures: list[tuple[_Work, Future[str | None]]] = [
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

    def _guarded(self, work: _Work, step: Callable[[_Work], str | None]) -> str | None:
        self.check_cancel()
        try:
            failure = step(work)
        except KubeApiError as exc:
            failure = _api_error(exc, work.key)
        except _TaskError as exc:
            failure = str(exc)
        if failure is not None:
            prefix = "(dry run) " if self.in_dry_run else ""
            self.set_result(work, ResultCode.SYNC_FAILED, prefix + failure)
        return failure

    # -- the real run ------------------------------------------------------
    def run_for_real(self) -> OperationState:
        failure: str | None = None
        if self.namespace_work is not None:
            self.check_cancel()
            self.set_message(f"creating namespace {self.namespace_work.key.name}")
            outcome = self.parallel([self.namespace_work], self.apply_one)
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
            self.set_message(f"{phase} wave {wave}: running {len(works)} task(s)")
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
                and w.slot in self.entries
                and self.entries[w.slot].status is ResultCode.SYNCED
            ],
        )

    def fail(self, message: str) -> OperationState:
        if self.cancel.is_set():
            return self.finish(OperationPhase.FAILED, TERMINATED_MESSAGE)
        if self.fail_works:
            self.set_message(message + " (running SyncFail hooks)")
            with self.lock:
                for work in self.fail_works:
                    self.entries[work.slot] = self._pending(work)
            self.publish()
            try:
                hook_failure = self.run_hooks(self.fail_works)
            except _Terminated:
                return self.finish(OperationPhase.FAILED, TERMINATED_MESSAGE)
            if hook_failure is not None:
                message += f"\none or more SyncFail hooks failed: {hook_failure}"
        return self.finish(OperationPhase.FAILED, message)

    def run_group(self, works: Sequence[_Work]) -> str | None:
        prunes = [w for w in works if w.task.is_prune]
        hooks = [w for w in works if w.is_hook]
        applies = [w for w in works if w.is_apply]
        for work in prunes:
            if work.task.action is TaskAction.PRUNE_SKIPPED:
                self.set_result(work, ResultCode.PRUNE_SKIPPED, work.task.note)
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
                self.set_result(work, ResultCode.SKIPPED, work.task.note)
        for batch in _batches([w for w in applies if not w.task.skipped]):
            self.check_cancel()
            outcome = self.parallel(batch, self.apply_one)
            if outcome.terminated:
                raise _Terminated()
            if outcome.failures:
                return "one or more objects failed to apply: " + "; ".join(outcome.failures)
        return None

    # -- single steps ------------------------------------------------------
    def prune_one(self, work: _Work) -> str | None:
        live = work.task.live or {}
        if (live.get("metadata") or {}).get("deletionTimestamp"):
            self.set_result(work, ResultCode.PRUNED, "pruned (was already being deleted)")
            return None
        self.set_result(work, ResultCode.RUNNING, "pruning")
        try:
            existed = self.conn.delete(
                work.key, propagation=self._propagation(work), uid=work.live_uid or None
            )
        except KubeApiError as exc:
            if exc.status == 409 and "UID" in exc.message:
                return (
                    "not pruned: the object was deleted and re-created since the comparison "
                    "(its uid changed); refresh and sync again"
                )
            raise
        self.set_result(work, ResultCode.PRUNED, "pruned" if existed else "already deleted")
        return None

    def write(self, work: _Work, *, dry_run: bool) -> Manifest:
        """Apply ``work.obj`` the way its options say (server-side, replace, or kubectl)."""
        obj = work.obj
        assert obj is not None
        if self._is_true(work, "Replace"):
            return self.conn.replace(obj, dry_run=dry_run)
        validate = not self._is_false(work, "Validate")
        if self._is_false(work, "ServerSideApply"):
            return self.kubectl_apply(work, dry_run=dry_run, validate=validate)
        return self.conn.apply(
            obj,
            dry_run=dry_run,
            force=self._force(work),
            field_validation="Strict" if validate else "Ignore",
        )

    def apply_one(self, work: _Work) -> str | None:
        self.set_result(work, ResultCode.RUNNING, "applying")
        result = self.write(work, dry_run=False)
        if work.is_hook:
            work.created_uid = _uid(result)
        verb = "created" if work.task.live is None else "configured"
        if self._is_true(work, "Replace"):
            verb = "replaced" if work.task.live is not None else "created"
        if self._is_false(work, "ServerSideApply"):
            verb += " (client-side apply)"
        if (result.get("metadata") or {}).get("deletionTimestamp"):
            # applied to an object that is being deleted (its namespace, or someone):
            # it is going away, so this sync cannot have succeeded
            return f"{verb}, but it is being deleted (it has a deletionTimestamp)"
        if _is_crd(work.key) and work.obj is not None:
            self.await_crd(work.obj)
        if not work.is_hook:
            self.set_result(work, ResultCode.SYNCED, verb)
        else:
            self.set_result(work, ResultCode.RUNNING, f"{verb}, running")
        return None

    def kubectl_apply(self, work: _Work, *, dry_run: bool, validate: bool) -> Manifest:
        """Client-side ``kubectl apply -f -`` (``ServerSideApply=false``)."""
        kubectl = find_tool("kubectl")
        if kubectl is None:
            raise _TaskError(
                "ServerSideApply=false needs kubectl for a client-side apply, and it was not "
                "found (put it on PATH, or drop the option to use server-side apply)"
            )
        argv = [str(kubectl), "apply", "-f", "-", "-o", "json", "--request-timeout=30s"]
        target = self.conn.target
        if target.kubeconfig is not None:
            argv.append(f"--kubeconfig={target.kubeconfig}")
        if target.context:
            argv.append(f"--context={target.context}")
        argv.append("--validate=strict" if validate else "--validate=false")
        if dry_run:
            argv.append("--dry-run=server")
        try:
            proc = subprocess.run(
                argv,
                input=json.dumps(work.obj),
                capture_output=True,
                text=True,
                timeout=KUBECTL_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise _TaskError(
                f"kubectl apply did not finish within {KUBECTL_TIMEOUT_S:g} s"
            ) from None
        except OSError as exc:
            raise _TaskError(f"cannot run kubectl: {exc.strerror or exc}") from None
        if proc.returncode != 0:
            raise _TaskError(_kubectl_error(proc.stderr, work.key))
        try:
            result = json.loads(proc.stdout)
        except ValueError:
            result = {}
        if not isinstance(result, dict):
            result = {}
        if not dry_run and result:
            self.conn.cache.upsert(result)
        return result

    def await_crd(self, crd: Manifest) -> None:
        """Wait (bounded) until a CRD just applied is Established and served by discovery."""
        names = _crd_names(crd)
        key = ResourceKey.of(crd)
        deadline = time.monotonic() + min(CRD_READY_TIMEOUT_S, self.s.wave_timeout_s)
        while time.monotonic() < deadline:
            live = self.conn.get(key) or {}
            conditions = (live.get("status") or {}).get("conditions") or []
            if any(
                c.get("type") == "Established" and c.get("status") == "True" for c in conditions
            ):
                break
            if self.cancel.wait(POLL_SECONDS):
                return
        if names is None:
            return
        while time.monotonic() < deadline:
            self.conn.discovery.refresh()
            if self.conn.discovery.lookup(names[0], names[1]) is not None:
                return
            if self.cancel.wait(POLL_SECONDS):
                return
        log.warning("CRD %s not served after %.0f s", key.name, CRD_READY_TIMEOUT_S)

    # -- hooks -------------------------------------------------------------
    def run_hooks(self, hooks: Sequence[_Work]) -> str | None:
        """Delete-before-creation, create, wait for completion, then delete by policy."""
        outcome = self.parallel(hooks, self.delete_before_creation)
        if outcome.terminated:
            raise _Terminated()
        if outcome.failures:
            return "one or more hooks failed: " + "; ".join(outcome.failures)
        outcome = self.parallel(hooks, self.apply_one)
        if outcome.terminated:
            raise _Terminated()
        if outcome.failures:
            return "one or more hooks failed to start: " + "; ".join(outcome.failures)
        return self.wait_hooks(hooks)

    def _foreign_hook(self, work: _Work, live: Manifest | None) -> str | None:
        """Why ``live`` (the hook's namesake) is not this app's own hook; None when it is."""
        if live is None:
            return None
        return foreign_hook_reason(live, work.key, self.s.app, self.s.tracking)

    def delete_before_creation(self, work: _Work) -> str | None:
        assert work.obj is not None
        live = self.conn.live(work.key)
        foreign = self._foreign_hook(work, live)
        if foreign is not None:  # appeared since the dry run: still never touched
            return foreign
        if live is None or BEFORE_HOOK_CREATION not in hook_delete_policies(work.obj):
            return None
        uid = _uid(live)
        self.set_result(work, ResultCode.RUNNING, "deleting the previous hook")
        self.conn.delete(work.key, propagation=self._propagation(work), uid=uid or None)
        deadline = time.monotonic() + self.s.hook_timeout_s
        while True:
            current = self.conn.live(work.key)
            if current is None or _uid(current) != uid:
                return None
            if time.monotonic() >= deadline:
                return (
                    f"the previous hook was not deleted within {self.s.hook_timeout_s:g} s "
                    "(BeforeHookCreation)"
                )
            if self.cancel.wait(POLL_SECONDS):
                raise _Terminated()

    def _hook_status(self, work: _Work) -> tuple[str, str]:
        """("done"|"failed"|"running", message) of a created hook."""
        live = self.conn.live(work.key)
        if live is None or (work.created_uid and _uid(live) != work.created_uid):
            return "failed", "the hook is missing: it might have been deleted"
        health = resource_health(live, application_health=self.s.application_health)
        if health is None or health.status is HealthStatus.HEALTHY:
            return "done", (health.message if health else "") or "completed"
        if health.status is HealthStatus.DEGRADED:
            return "failed", health.message or "failed"
        return "running", f"{health.status.value}: {health.message}".rstrip(": ")

    def wait_hooks(self, hooks: Sequence[_Work]) -> str | None:
        deadline = time.monotonic() + self.s.hook_timeout_s
        remaining = list(hooks)
        failures: list[str] = []
        while remaining:
            still: list[tuple[_Work, str]] = []
            for work in remaining:
                state, message = self._hook_status(work)
                if state == "done":
                    self.set_result(work, ResultCode.SYNCED, message)
                    self._policy_delete(work, succeeded=True)
                elif state == "failed":
                    self.set_result(work, ResultCode.SYNC_FAILED, message)
                    failures.append(f"{work.key.display}: {message}")
                    self._policy_delete(work, succeeded=False)
                else:
                    still.append((work, message))
            remaining = [work for work, _ in still]
            if not still:
                break
            waiting, message = still[0]
            self.set_message(f"waiting for hook {waiting.key.display} ({message})")
            if time.monotonic() >= deadline:
                for work in remaining:
                    msg = f"did not complete within {self.s.hook_timeout_s:g} s"
                    self.set_result(work, ResultCode.SYNC_FAILED, msg)
                    failures.append(f"{work.key.display}: {msg}")
                    self._policy_delete(work, succeeded=False)
                break
            if self.cancel.wait(POLL_SECONDS):
                raise _Terminated()
        if failures:
            return "one or more hooks failed: " + "; ".join(failures)
        return None

    def _policy_delete(self, work: _Work, *, succeeded: bool) -> None:
        """Delete a finished hook when its policy says so (errors only noted)."""
        assert work.obj is not None
        policy = HOOK_SUCCEEDED if succeeded else HOOK_FAILED
        if policy not in hook_delete_policies(work.obj) or self.cancel.is_set():
            return
        entry = self.entries[work.slot]
        try:
            self.conn.delete(
                work.key, propagation=self._propagation(work), uid=work.created_uid or None
            )
        except (KubeApiError, _TaskError) as exc:
            reason = _api_error(exc, work.key) if isinstance(exc, KubeApiError) else str(exc)
            self.set_result(work, entry.status, f"{entry.message}; deleting it failed: {reason}")
            return
        self.set_result(work, entry.status, f"{entry.message}; deleted ({policy})")

    # -- waiting between waves --------------------------------------------
    def _health_wait_reason(self, work: _Work) -> tuple[bool, str] | None:
        """None when healthy; (degraded, message) otherwise."""
        live = self.conn.live(work.key)
        if live is None:
            return False, "waiting for it to appear"
        health = resource_health(live, application_health=self.s.application_health)
        if health is None:
            return None
        if _generation_pending(live):
            return False, "waiting for the controller to observe the new generation"
        if health.status is HealthStatus.HEALTHY:
            return None
        if health.status is HealthStatus.DEGRADED:
            return True, f"Degraded: {health.message}".rstrip(": ")
        return False, f"{health.status.value}: {health.message}".rstrip(": ")

    def wait_healthy(self, phase: str, wave: int, works: Sequence[_Work]) -> str | None:
        applied = [
            w
            for w in works
            if w.is_apply
            and not w.task.skipped
            and self.entries[w.slot].status is ResultCode.SYNCED
        ]
        pruned = [
            w for w in works if w.is_prune and self.entries[w.slot].status is ResultCode.PRUNED
        ]
        if not applied and not pruned:
            return None
        deadline = time.monotonic() + self.s.wave_timeout_s
        while True:
            waiting: list[tuple[_Work, str]] = []
            for work in applied:
                reason = self._health_wait_reason(work)
                if reason is None:
                    continue
                degraded, message = reason
                if degraded:
                    return f"{work.key.display} is {message}"
                waiting.append((work, message))
            for work in pruned:
                live = self.conn.live(work.key)
                if live is not None and (not work.live_uid or _uid(live) == work.live_uid):
                    waiting.append((work, "waiting for the deletion to finish"))
            if not waiting:
                return None
            first, message = waiting[0]
            more = f" and {len(waiting) - 1} more" if len(waiting) > 1 else ""
            if time.monotonic() >= deadline:
                return (
                    f"{phase} wave {wave} did not become healthy within "
                    f"{self.s.wave_timeout_s:g} s: {first.key.display} ({message}){more}"
                )
            self.set_message(f"{phase} wave {wave}: {first.key.display} ({message}){more}")
            if self.cancel.wait(POLL_SECONDS):
                raise _Terminated()


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
