"""The dry run that gates every sync: each task tried with ``dryRun=All`` before any write.

``DryRun.check`` tries one task the way it will run: a prune as a delete with its
uid precondition, a hook whose live namesake ``BeforeHookCreation`` will delete as
that delete (a namesake that is not this app's own hook fails here, before anything
is written), everything else through ``Applier.write``. What cannot be checked is
let through with the reason noted, as upstream does: an object in a namespace the
sync creates, and a custom resource whose CRD the sync creates or that is marked
``SkipDryRunOnMissingResource=true``. Every kind is still looked up first, even in a
namespace the sync creates: a plan that cannot fully apply must apply nothing.

``record`` turns a passed dry run into the result of a dry-run-only operation.
"""

from __future__ import annotations

from collections.abc import Sequence

from gitops_tui.engine.annotations import BEFORE_HOOK_CREATION, hook_delete_policies
from gitops_tui.engine.cache.cluster import UnknownKindError
from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.snapshot import OperationPhase, OperationState, ResultCode
from gitops_tui.engine.sync import settings as opts
from gitops_tui.engine.sync.apply import Applier
from gitops_tui.engine.sync.hooks import foreign_hook_reason
from gitops_tui.engine.sync.kubeops import KubeOps
from gitops_tui.engine.sync.plan import TaskAction
from gitops_tui.engine.sync.progress import Progress
from gitops_tui.engine.sync.settings import SyncSettings
from gitops_tui.engine.sync.work import Work, uid

DRY_RUN_MESSAGE = "(dry run)"


class DryRun:
    def __init__(
        self,
        conn: KubeOps,
        settings: SyncSettings,
        applier: Applier,
        *,
        crd_kinds: dict[tuple[str, str], str],
        namespaces_created_by_sync: set[str],
    ) -> None:
        self.conn = conn
        self.s = settings
        self.applier = applier
        self.crd_kinds = crd_kinds
        self.namespaces_created_by_sync = namespaces_created_by_sync

    def _namespace_missing(self, namespace: str) -> bool:
        if not namespace or namespace not in self.namespaces_created_by_sync:
            return False
        return self.conn.live(ResourceKey("", "Namespace", "", namespace)) is None

    def check(self, work: Work) -> str | None:
        """Dry-run ``work``; a failure message, or None (raises what the server raised)."""
        key = work.key
        if work.is_prune:
            self.conn.delete(
                key,
                propagation=opts.propagation(work, self.s),
                uid=work.live_uid or None,
                dry_run=True,
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
            if opts.is_true(work, self.s, "SkipDryRunOnMissingResource"):
                work.skip_dry_run = "SkipDryRunOnMissingResource=true"
                return None
            raise
        if self._namespace_missing(key.namespace):
            work.skip_dry_run = f"namespace {key.namespace} is created by this sync"
            return None
        if work.is_hook:
            live = self.conn.live(key)
            if live is not None:
                foreign = foreign_hook_reason(live, work.key, self.s.app, self.s.tracking)
                if foreign is not None:
                    return foreign
            if live is not None and BEFORE_HOOK_CREATION in hook_delete_policies(work.obj):
                # it will be deleted before creation: check that delete, not an update
                self.conn.delete(
                    key,
                    propagation=opts.propagation(work, self.s),
                    uid=uid(live) or None,
                    dry_run=True,
                )
                return None
        try:
            self.applier.write(work, dry_run=True)
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


def record(progress: Progress, works: Sequence[Work], sync_fail: Sequence[Work]) -> OperationState:
    """The final state of a dry-run-only operation whose dry run passed (SyncFail hooks
    in ``sync_fail`` are not listed)."""
    applied = pruned = 0
    skip = {id(w) for w in sync_fail}
    for work in works:
        task = work.task
        if id(work) in skip:
            continue
        if task.action is TaskAction.PRUNE_SKIPPED:
            progress.set_result(work, ResultCode.PRUNE_SKIPPED, task.note)
        elif task.skipped:
            progress.set_result(work, ResultCode.SKIPPED, task.note)
        elif work.is_prune:
            pruned += 1
            progress.set_result(work, ResultCode.PRUNED, DRY_RUN_MESSAGE)
        else:
            applied += 1
            message = DRY_RUN_MESSAGE
            if work.skip_dry_run:
                message += f" not checked: {work.skip_dry_run}"
            progress.set_result(work, ResultCode.SYNCED, message)
    return progress.finish(
        OperationPhase.SUCCEEDED,
        f"dry run: {applied} objects would be applied, {pruned} pruned",
    )
