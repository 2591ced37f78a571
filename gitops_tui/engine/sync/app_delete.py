"""Deleting every live resource an app provably owns (local engine), planned then carried out.

What Argo CD's controller does when an Application with its resources finalizer is
deleted (``finalizeApplicationDeletion``), for the local engine, where the
Application itself stays in Git (a sync recreates what is deleted here):

* **owned**: the live object's own tracking mark names this app and this very
  object (``tracked_app``: the annotation id, either namespace form of a
  cluster-scoped id, or the instance label, per the tracking method), with no
  owner references (children go with their owner);
* **kept, listed with the reason**: objects not owned (no mark, another app's mark,
  a copied id), objects another app's Git also wants (shared), objects with
  ``argocd.argoproj.io/sync-options: Delete=false`` or ``helm.sh/resource-policy:
  keep`` (Argo CD's ``shouldBeDeleted``), the ``REFUSED_KINDS`` (Namespace,
  CustomResourceDefinition: Argo CD never deletes a CRD on app deletion either),
  and the destination namespace ``CreateNamespace=true`` made (Argo CD leaves it).
  ``Prune=false`` does not keep an object here (as in Argo CD: only ``Delete=false``
  does); the plan notes it;
* **order**: the highest sync wave first (Argo CD's ``FilterObjectsForDeletion``
  deletes one wave at a time, highest first, and waits until that wave is gone);
  within a wave, the reverse of the sync's kind order.

Carrying a plan out deletes only the objects of that plan, each with its planned
uid as the DELETE precondition (a namesake re-created since the plan is never
touched), after a fresh GET that proves ownership again; then it waits until the
wave is gone (foreground propagation: its dependents first) before the next one,
up to a timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from gitops_tui.engine.annotations import annotations_of, is_hook, option_is_false, sync_options
from gitops_tui.engine.annotations import sync_wave as annotated_wave
from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.cache.tracking import TrackingMethod, claimed_app, tracked_app
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.snapshot import ResourceResult, ResultCode
from gitops_tui.engine.sync.plan import kind_rank
from gitops_tui.engine.textsafe import printable

PROPAGATIONS = {"foreground": "Foreground", "background": "Background"}
"""The cascades that delete resources, as DELETE propagation policies."""

HELM_RESOURCE_POLICY = "helm.sh/resource-policy"
MAX_PLANNED = 5_000
"""At most this many objects are planned (an app holding more is refused: its reach
would not be shown in full)."""

REFUSED_KINDS = {
    ("", "Namespace"): "a Namespace is never deleted with the app's resources (everything "
    "inside it would go, whoever manages it)",
    ("apiextensions.k8s.io", "CustomResourceDefinition"): "a CustomResourceDefinition is "
    "never deleted with the app's resources (every object of its kind would go; Argo CD "
    "keeps CRDs too)",
}

RESULT_MESSAGE = "the Application stays in Git; sync recreates them"

ORPHAN_REFUSAL = (
    "orphan deletes nothing with the local engine: the Application is read from Git "
    "(remove it there); its resources stay. Choose foreground or background to delete "
    "its resources"
)


@dataclass(frozen=True, slots=True)
class PlannedDeletion:
    """One object the plan deletes: its uid when planned, its wave, a note."""

    key: ResourceKey
    uid: str
    wave: int
    hook: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True)
class KeptResource:
    """One object the plan leaves in the cluster, and why (printable)."""

    key: ResourceKey
    reason: str


@dataclass(frozen=True, slots=True)
class AppDeletePlan:
    """An immutable snapshot: what deleting ``app``'s resources deletes and keeps.

    ``deletions`` are in the order they go (highest wave first)."""

    app: str
    cluster: str
    deletions: tuple[PlannedDeletion, ...]
    kept: tuple[KeptResource, ...]
    planned_at: float = field(default_factory=time.time)

    def waves(self) -> list[tuple[int, tuple[PlannedDeletion, ...]]]:
        """(wave, its deletions), highest wave first."""
        out: list[tuple[int, tuple[PlannedDeletion, ...]]] = []
        for item in self.deletions:
            if out and out[-1][0] == item.wave:
                out[-1] = (item.wave, (*out[-1][1], item))
            else:
                out.append((item.wave, (item,)))
        return out


def display(key: ResourceKey) -> str:
    where = f"{key.namespace}/{key.name}" if key.namespace else key.name
    return printable(f"{key.kind} {where}"[:240])


def _wave(obj: Manifest) -> int:
    try:
        return annotated_wave(obj)
    except ValueError:
        return 0  # as Argo CD's syncwaves.Wave: an unreadable wave is 0


def keep_reason(
    app: str,
    obj: Manifest,
    tracking: TrackingMethod,
    wanted_elsewhere: Callable[[ResourceKey], str | None],
) -> str | None:
    """Why ``obj`` stays when ``app``'s resources are deleted, or None (it goes)."""
    key = ResourceKey.of(obj)
    if tracked_app(obj, tracking) != app:
        meta = obj.get("metadata") or {}
        who = claimed_app(obj, tracking)
        if meta.get("ownerReferences"):
            return "not owned: it has an owner (it goes with its owner, if that is deleted)"
        if who == app:
            return "not owned: its tracking id names another object (a copy)"
        if who:
            hook = " (a hook of that app)" if is_hook(obj) else ""
            return f"not owned: tracked by app {printable(who[:100])!r}{hook}"
        return "not owned: it has no tracking mark of this app"
    refused = REFUSED_KINDS.get((key.group, key.kind))
    if refused is not None:
        return refused
    other = wanted_elsewhere(key)
    if other:
        return f"shared: app {printable(other[:100])!r} also has it in Git"
    if option_is_false(sync_options(obj), "Delete"):
        return "Delete=false (argocd.argoproj.io/sync-options)"
    if annotations_of(obj).get(HELM_RESOURCE_POLICY, "").strip() == "keep":
        return "helm.sh/resource-policy: keep"
    return None


def build_delete_plan(
    app: str,
    cluster: str,
    live: Iterable[Manifest],
    *,
    tracking: TrackingMethod,
    wanted_elsewhere: Callable[[ResourceKey], str | None],
    created_namespace: str | None = None,
) -> AppDeletePlan:
    """The plan for the live objects ``live`` (fresh reads of every candidate).

    ``created_namespace``: the destination namespace when the app creates it
    (``CreateNamespace=true``) and it exists: listed as kept."""
    deletions: list[PlannedDeletion] = []
    kept: list[KeptResource] = []
    seen: set[ResourceKey] = set()
    for obj in live:
        key = ResourceKey.of(obj)
        if key in seen:
            continue
        seen.add(key)
        if key.group == "" and key.kind == "Namespace" and key.name == created_namespace:
            kept.append(KeptResource(key, "created by CreateNamespace=true: Argo CD leaves it too"))
            continue
        reason = keep_reason(app, obj, tracking, wanted_elsewhere)
        if reason is not None:
            kept.append(KeptResource(key, reason))
            continue
        meta = obj.get("metadata") or {}
        notes = []
        if option_is_false(sync_options(obj), "Prune"):
            notes.append("Prune=false does not keep it (only Delete=false does)")
        if meta.get("deletionTimestamp"):
            notes.append("already being deleted")
        deletions.append(
            PlannedDeletion(
                key,
                uid=str(meta.get("uid") or ""),
                wave=_wave(obj),
                hook=is_hook(obj),
                note="; ".join(notes),
            )
        )
    deletions.sort(key=lambda d: (-d.wave, -kind_rank(d.key.kind), d.key.namespace, d.key.name))
    kept.sort(key=lambda k: (k.key.kind, k.key.namespace, k.key.name))
    return AppDeletePlan(app, cluster, tuple(deletions), tuple(kept))


class DeleteOps(Protocol):
    """What carrying a plan out needs of a cluster connection."""

    def get(self, key: ResourceKey) -> Manifest | None: ...

    def delete(
        self,
        key: ResourceKey,
        *,
        propagation: str = "Foreground",
        dry_run: bool = False,
        uid: str | None = None,
        timeout: float = 30.0,
    ) -> bool: ...


@dataclass
class DeleteOutcome:
    results: list[ResourceResult]
    deleted: int = 0
    failed: int = 0
    stopped: str = ""  # why later waves were not started ("" when all ran)


def _result(item: PlannedDeletion, code: ResultCode, message: str) -> ResourceResult:
    return ResourceResult(
        item.key, code, message[:500], wave=item.wave, action="delete", hook=item.hook
    )


def carry_out(
    ops: DeleteOps,
    plan: AppDeletePlan,
    *,
    cascade: str,
    tracking: TrackingMethod,
    wave_timeout_s: float,
    on_result: Callable[[list[ResourceResult]], None] = lambda _results: None,
    poll_s: float = 0.2,
    clock: Callable[[], float] = time.monotonic,
) -> DeleteOutcome:
    """Delete the plan's objects wave by wave (highest first), waiting for each wave to be
    gone. Only objects of ``plan`` whose live uid is still the planned one are deleted."""
    propagation = PROPAGATIONS[cascade]
    outcome = DeleteOutcome(results=[])
    kept = [
        ResourceResult(k.key, ResultCode.PRUNE_SKIPPED, f"kept: {k.reason}"[:500], action="delete")
        for k in plan.kept
    ]
    done: dict[ResourceKey, ResourceResult] = {}

    def publish() -> None:
        outcome.results = [*done.values(), *kept]
        on_result(list(outcome.results))

    for wave, items in plan.waves():
        if outcome.stopped:
            for item in items:
                done[item.key] = _result(
                    item, ResultCode.SKIPPED, f"not started: {outcome.stopped}"
                )
            continue
        waiting: dict[ResourceKey, PlannedDeletion] = {}
        for item in items:
            result = _delete_one(ops, plan.app, item, propagation, tracking)
            done[item.key] = result
            if result.status is ResultCode.RUNNING:
                waiting[item.key] = item
            publish()
        deadline = clock() + wave_timeout_s
        while waiting:
            for key, item in list(waiting.items()):
                try:
                    live = ops.get(key)
                except KubeApiError:
                    continue  # unreadable now: look again next round
                if live is None or str((live.get("metadata") or {}).get("uid") or "") != item.uid:
                    done[key] = _result(item, ResultCode.PRUNED, "deleted")
                    del waiting[key]
                    publish()
            if not waiting:
                break
            if clock() >= deadline:
                names = ", ".join(display(k) for k in list(waiting)[:5])
                outcome.stopped = (
                    f"wave {wave} was not gone after {wave_timeout_s:.0f}s ({names}: a "
                    "finalizer or dependents still being deleted)"
                )
                for key, item in waiting.items():
                    done[key] = _result(
                        item, ResultCode.SYNC_FAILED, "still being deleted at the timeout"
                    )
                publish()
                break
            time.sleep(poll_s)
        if any(done[i.key].status is ResultCode.SYNC_FAILED for i in items) and not outcome.stopped:
            outcome.stopped = f"a deletion of wave {wave} failed"
    publish()
    outcome.deleted = sum(1 for r in done.values() if r.status is ResultCode.PRUNED)
    outcome.failed = sum(1 for r in done.values() if r.status is ResultCode.SYNC_FAILED)
    return outcome


def _delete_one(
    ops: DeleteOps, app: str, item: PlannedDeletion, propagation: str, tracking: TrackingMethod
) -> ResourceResult:
    """DELETE one planned object after a fresh GET proves it is still the planned, owned
    one; RUNNING when sent (the wave then waits for it to be gone)."""
    try:
        live = ops.get(item.key)
    except KubeApiError as exc:
        return _result(item, ResultCode.SYNC_FAILED, f"cannot read it: {printable(str(exc))}")
    if live is None:
        return _result(item, ResultCode.PRUNED, "already gone")
    meta = live.get("metadata") or {}
    if str(meta.get("uid") or "") != item.uid:
        return _result(
            item,
            ResultCode.PRUNE_SKIPPED,
            "not deleted: re-created since the plan (its uid changed)",
        )
    if tracked_app(live, tracking) != app:
        return _result(item, ResultCode.PRUNE_SKIPPED, "not deleted: no longer owned by this app")
    if option_is_false(sync_options(live), "Delete"):
        return _result(item, ResultCode.PRUNE_SKIPPED, "not deleted: Delete=false since the plan")
    if meta.get("deletionTimestamp"):
        return _result(item, ResultCode.RUNNING, "being deleted")
    try:
        ops.delete(item.key, propagation=propagation, uid=item.uid or None)
    except KubeApiError as exc:
        if exc.status == 409:
            return _result(
                item,
                ResultCode.PRUNE_SKIPPED,
                "not deleted: re-created since the plan (its uid changed)",
            )
        return _result(item, ResultCode.SYNC_FAILED, f"delete failed: {printable(str(exc))}")
    return _result(item, ResultCode.RUNNING, "deleting")
