"""Pruning one object of a sync: a delete with the uid precondition and its propagation policy.

When prunes run is the plan's business (``SyncPlan.waves``: first in their wave,
in reverse wave order, or after the last wave with ``PruneLast=true``; the run
takes the groups in that order). Here: the delete itself. It carries the uid of
the object the comparison saw, so a namesake deleted and re-created since is never
touched (the server answers 409 and the prune fails with a message saying so); an
object already being deleted counts as pruned without a call; the propagation is
``PrunePropagationPolicy`` (foreground by default, ``settings.propagation``).
An object of a kind the resource filter excludes is never deleted.
"""

from __future__ import annotations

from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.snapshot import ResultCode
from gitops_tui.engine.sync.kubeops import KubeOps
from gitops_tui.engine.sync.progress import Progress
from gitops_tui.engine.sync.settings import SyncSettings, propagation
from gitops_tui.engine.sync.work import Work

EXCLUDED_MESSAGE = (
    "not pruned: its kind is excluded by resource.exclusions/inclusions (never touched)"
)
RECREATED_MESSAGE = (
    "not pruned: the object was deleted and re-created since the comparison "
    "(its uid changed); refresh and sync again"
)


def prune_one(conn: KubeOps, settings: SyncSettings, progress: Progress, work: Work) -> str | None:
    """Delete ``work``'s live object; a failure message, or None when it is pruned."""
    live = work.task.live or {}
    if conn.excludes(work.key.group, work.key.kind):
        # last line of defence: an excluded kind is neither cached nor compared, so it is
        # never a prune candidate; should one reach here, it is still not deleted
        progress.set_result(work, ResultCode.PRUNE_SKIPPED, EXCLUDED_MESSAGE)
        return None
    if (live.get("metadata") or {}).get("deletionTimestamp"):
        progress.set_result(work, ResultCode.PRUNED, "pruned (was already being deleted)")
        return None
    progress.set_result(work, ResultCode.RUNNING, "pruning")
    try:
        existed = conn.delete(
            work.key, propagation=propagation(work, settings), uid=work.live_uid or None
        )
    except KubeApiError as exc:
        if exc.status == 409 and "UID" in exc.message:
            return RECREATED_MESSAGE
        raise
    progress.set_result(work, ResultCode.PRUNED, "pruned" if existed else "already deleted")
    return None
