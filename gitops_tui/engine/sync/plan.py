"""The pure part of sync planning: which task runs in which (phase, wave), in what order.

Follows ``gitops-engine/pkg/sync/sync_tasks.go`` and ``getSyncTasks`` in
``sync_context.go``:

* order is phase (PreSync, Sync, PostSync), wave, kind (``KIND_ORDER``, unknown
  kinds last), name; then a Namespace is moved just before the first object in
  it and a CRD just before its first custom resource, taking that object's phase
  and wave;
* prune tasks keep the wave of the live object, mirrored across the set of prune
  waves (the highest prune wave is pruned first); within a wave they come before
  the apply tasks, because Argo CD prunes first, then applies; among themselves
  they are in reversed kind order (Deployments before their Namespace);
* ``PruneLast=true`` (app or object) moves a prune to one wave after the last
  Sync wave;
* a hook yields one task per phase; SyncFail hooks go to ``sync_fail_tasks``;
  ``Skip`` objects, PostDelete hooks and Helm hooks Argo CD does not run are
  left out; selective sync (``selected``) keeps only the selected objects and,
  as in Argo CD, runs no hooks;
* with ``ApplyOutOfSyncOnly=true`` UNCHANGED tasks stay in the plan (so a preview
  can list them) with ``skipped=True``; the executor must not apply them.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from gitops_tui.engine.annotations import (
    POST_SYNC,
    PRE_SYNC,
    SYNC,
    SYNC_FAIL,
    hook_phases,
    is_hook,
    is_skipped,
    option_is_false,
    option_is_true,
    sync_options,
    sync_wave,
    unknown_hook_types,
)
from gitops_tui.engine.model import Manifest, ResourceKey

PHASE_ORDER: Mapping[str, int] = {PRE_SYNC: 0, SYNC: 1, POST_SYNC: 2, SYNC_FAIL: 3}
"""Execution order of the sync phases (SyncFail only runs when the sync fails)."""

KIND_ORDER: tuple[str, ...] = (
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
)
"""Apply order of kinds within a wave (Helm's kind sorter, as Argo CD uses it)."""

_KIND_RANK = {kind: rank for rank, kind in enumerate(KIND_ORDER)}

CRD_GROUP = "apiextensions.k8s.io"
CRD_KIND = "CustomResourceDefinition"


def kind_rank(kind: str) -> int:
    """Position of ``kind`` in ``KIND_ORDER``; unknown kinds after all known ones."""
    return _KIND_RANK.get(kind, len(KIND_ORDER))


class TaskAction(enum.StrEnum):
    CREATE = "Create"
    UPDATE = "Update"
    UNCHANGED = "Unchanged"
    PRUNE = "Prune"
    PRUNE_SKIPPED = "PruneSkipped"
    HOOK = "Hook"


PRUNE_ACTIONS = frozenset({TaskAction.PRUNE, TaskAction.PRUNE_SKIPPED})


@dataclass(frozen=True)
class SyncTask:
    """One step of a sync: apply ``desired``, prune ``live``, or run a hook in ``phase``.

    ``options`` are the object's own sync options (from the desired object, or the
    live one for prunes). ``skipped`` marks an UNCHANGED task that
    ``ApplyOutOfSyncOnly`` leaves alone; ``note`` says why a task will not act.
    """

    key: ResourceKey
    action: TaskAction
    phase: str
    wave: int
    desired: Manifest | None
    live: Manifest | None
    options: Mapping[str, str] = field(default_factory=dict)
    skipped: bool = False
    note: str = ""

    @property
    def is_prune(self) -> bool:
        return self.action in PRUNE_ACTIONS

    @property
    def sort_name(self) -> str:
        """The name used for ordering: ``metadata.name``, else ``generateName`` (hooks)."""
        if self.key.name:
            return self.key.name
        meta = (self.desired or self.live or {}).get("metadata") or {}
        return str(meta.get("generateName") or "")

    @property
    def order_key(self) -> tuple[int, int, int, int, str, str, str, str]:
        """Sort key before dependency moves: phase, wave, prunes first, kind, name.

        Prunes use the reversed kind order. The trailing fields only make the
        order total.
        """
        rank = kind_rank(self.key.kind)
        return (
            PHASE_ORDER.get(self.phase, len(PHASE_ORDER)),
            self.wave,
            0 if self.is_prune else 1,
            -rank if self.is_prune else rank,
            self.sort_name,
            self.key.kind,
            self.key.group,
            self.key.namespace,
        )


WaveId = tuple[str, int]


@dataclass(frozen=True)
class NamespaceCascade:
    """What pruning a Namespace deletes with it (the API server deletes its contents).

    Counts are of root objects (no owner references; Events and the objects the
    cluster puts in every namespace left out): ``managed`` are tracked by this app,
    ``unmanaged`` are everything else (other apps' and untracked objects).
    """

    namespace: str
    managed: int
    unmanaged: int
    kinds: tuple[tuple[str, int], ...] = ()
    """(kind, count) of the unmanaged objects, most first."""
    more: bool = False
    """A kind had more objects than were counted: the counts are lower bounds."""

    @property
    def total(self) -> int:
        return self.managed + self.unmanaged

    def describe(self) -> str:
        """``3 more objects go with it: 1 of this app, 2 not managed by it (2 ConfigMap)``."""
        if not self.total:
            return "it holds no other objects"
        plus = "+" if self.more else ""
        text = (
            f"{self.total}{plus} more object(s) go with it: {self.managed} of this app, "
            f"{self.unmanaged}{plus} NOT managed by this app"
        )
        if self.kinds:
            text += " (" + ", ".join(f"{n} {kind}" for kind, n in self.kinds[:5])
            text += ", ...)" if len(self.kinds) > 5 else ")"
        return text


@dataclass(frozen=True)
class SyncPlan:
    """Tasks in execution order, SyncFail hooks kept apart, and errors that forbid syncing."""

    tasks: tuple[SyncTask, ...]
    sync_fail_tasks: tuple[SyncTask, ...] = ()
    errors: tuple[str, ...] = ()
    cascades: tuple[NamespaceCascade, ...] = ()
    """Namespaces this plan prunes and what goes with them (when the cluster was asked)."""

    @property
    def ok(self) -> bool:
        return not self.errors

    def waves(self) -> list[tuple[WaveId, tuple[SyncTask, ...]]]:
        """Consecutive tasks grouped by (phase, wave), in execution order."""
        groups: list[tuple[WaveId, tuple[SyncTask, ...]]] = []
        for task in self.tasks:
            wave_id = (task.phase, task.wave)
            if groups and groups[-1][0] == wave_id:
                groups[-1] = (wave_id, (*groups[-1][1], task))
            else:
                groups.append((wave_id, (task,)))
        return groups

    def summary(self) -> dict[str, int]:
        """Count of ``tasks`` per action (every action present; SyncFail hooks not counted)."""
        counts = Counter(task.action for task in self.tasks)
        return {action.value: counts.get(action, 0) for action in TaskAction}


# -- task creation ---------------------------------------------------------------------


def _wave(obj: Manifest, errors: list[str]) -> int:
    try:
        return sync_wave(obj)
    except ValueError as exc:
        errors.append(str(exc))
        return 0


def _check_hook_types(obj: Manifest, errors: list[str]) -> None:
    unknown = unknown_hook_types(obj)
    if unknown:
        errors.append(
            f"{ResourceKey.of(obj).display}: unknown hook type(s) {', '.join(unknown)} in "
            "argocd.argoproj.io/hook (expected PreSync, Sync, PostSync, SyncFail, PostDelete or Skip)"
        )


def _hook_tasks(obj: Manifest, live: Manifest | None, wave: int) -> list[SyncTask]:
    key = ResourceKey.of(obj)
    phases = sorted(hook_phases(obj) & frozenset(PHASE_ORDER), key=PHASE_ORDER.__getitem__)
    return [
        SyncTask(key, TaskAction.HOOK, phase, wave, obj, live, sync_options(obj))
        for phase in phases
    ]


def _resource_task(
    obj: Manifest, live: Manifest | None, modified: bool, wave: int, out_of_sync_only: bool
) -> SyncTask:
    if live is None:
        action = TaskAction.CREATE
    else:
        action = TaskAction.UPDATE if modified else TaskAction.UNCHANGED
    skipped = action is TaskAction.UNCHANGED and out_of_sync_only
    note = "skipped: ApplyOutOfSyncOnly and in sync" if skipped else ""
    return SyncTask(
        ResourceKey.of(obj), action, SYNC, wave, obj, live, sync_options(obj), skipped, note
    )


def _prune_task(live: Manifest, wave: int, prune_enabled: bool) -> SyncTask:
    options = sync_options(live)
    action, note = TaskAction.PRUNE, ""
    if option_is_false(options, "Prune"):
        action, note = TaskAction.PRUNE_SKIPPED, "ignored (no prune)"
    elif not prune_enabled:
        action, note = TaskAction.PRUNE_SKIPPED, "ignored (requires pruning)"
    return SyncTask(ResourceKey.of(live), action, SYNC, wave, None, live, options, note=note)


def _check_namespace_prune(
    key: ResourceKey, desired: Sequence[Manifest], errors: list[str]
) -> None:
    """Pruning a Namespace deletes what is inside: never the objects this app still wants."""
    if key.group != "" or key.kind != "Namespace":
        return
    inside = sorted(
        ResourceKey.of(obj) for obj in desired if ResourceKey.of(obj).namespace == key.name
    )
    if not inside:
        return
    shown = ", ".join(k.display for k in inside[:3]) + (", ..." if len(inside) > 3 else "")
    errors.append(
        f"{key.display} would be pruned, but this app still wants {len(inside)} object(s) "
        f"in it ({shown}): deleting the namespace would delete them. Keep the Namespace "
        "in Git or move those objects out of it"
    )


# -- wave adjustments ------------------------------------------------------------------


def mirror_prune_waves(tasks: Sequence[SyncTask]) -> list[SyncTask]:
    """Swap prune waves symmetrically (lowest <-> highest) so deletion runs in reverse."""
    waves = sorted({t.wave for t in tasks if t.is_prune})
    mirrored = dict(zip(waves, reversed(waves), strict=True))
    return [replace(t, wave=mirrored[t.wave]) if t.is_prune else t for t in tasks]


def apply_prune_last(tasks: Sequence[SyncTask], app_prune_last: bool) -> list[SyncTask]:
    """Move PruneLast prunes to one wave after the last Sync-phase wave (at least wave 1)."""
    last = max([0, *(t.wave for t in tasks if t.phase == SYNC)]) + 1
    return [
        replace(t, wave=last)
        if t.is_prune and (app_prune_last or option_is_true(t.options, "PruneLast"))
        else t
        for t in tasks
    ]


# -- dependency moves ------------------------------------------------------------------

DepKey = Callable[[SyncTask], str | None]


def _namespace_provided(task: SyncTask) -> str | None:
    key = task.key
    return key.name if key.group == "" and key.kind == "Namespace" else None


def _namespace_used(task: SyncTask) -> str | None:
    return task.key.namespace or None


def _crd_provided(task: SyncTask) -> str | None:
    if task.key.group != CRD_GROUP or task.key.kind != CRD_KIND or task.desired is None:
        return None
    spec = task.desired.get("spec") or {}
    group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
    if not isinstance(group, str) or not isinstance(kind, str):
        return None
    return f"{group}/{kind}"


def _crd_used(task: SyncTask) -> str | None:
    return f"{task.key.group}/{task.key.kind}"


def move_dependencies(tasks: list[SyncTask], provided: DepKey, used: DepKey) -> None:
    """Move each provider just before the first task that uses it, in that task's (phase, wave).

    Prune tasks neither provide nor use anything. Works in place.
    """
    first_user: dict[str, int] = {}
    for index in range(len(tasks)):
        task = tasks[index]
        if task.desired is None:
            continue
        dep = provided(task)
        if dep is not None:
            target = first_user.get(dep)
            if target is None:
                continue
            anchor = tasks[target]
            del tasks[index]
            tasks.insert(target, replace(task, phase=anchor.phase, wave=anchor.wave))
            for name, position in first_user.items():
                if position >= target:
                    first_user[name] = position + 1
        else:
            ref = used(task)
            if ref is not None and ref not in first_user:
                first_user[ref] = index


def order_tasks(tasks: Sequence[SyncTask]) -> list[SyncTask]:
    """Sort by ``order_key``, then move Namespaces and CRDs before their first users."""
    ordered = sorted(tasks, key=lambda t: t.order_key)
    move_dependencies(ordered, _namespace_provided, _namespace_used)
    move_dependencies(ordered, _crd_provided, _crd_used)
    return ordered


# -- entry point -----------------------------------------------------------------------


def build_plan(
    desired: Sequence[Manifest],
    live: Mapping[ResourceKey, Manifest],
    modified: Mapping[ResourceKey, bool],
    prune_candidates: Sequence[Manifest],
    *,
    app_options: Mapping[str, str],
    selected: frozenset[ResourceKey] | None = None,
    prune: bool = True,
) -> SyncPlan:
    """Plan a sync of ``desired`` against ``live``.

    ``modified`` is the compare result per key (a key absent counts as modified);
    ``prune_candidates`` are live objects of the app that are no longer desired;
    ``app_options`` is the parsed ``syncPolicy.syncOptions``; ``selected`` limits a
    selective sync; ``prune=False`` (no prune flag, no ``automated.prune``) turns
    every prune into PRUNE_SKIPPED. Bad annotations land in ``errors``.
    """
    errors: list[str] = []
    tasks: list[SyncTask] = []
    out_of_sync_only = option_is_true(app_options, "ApplyOutOfSyncOnly")

    def wanted(key: ResourceKey) -> bool:
        return selected is None or key in selected

    for obj in desired:
        key = ResourceKey.of(obj)
        if not wanted(key):
            continue
        _check_hook_types(obj, errors)
        if is_skipped(obj):
            continue
        wave = _wave(obj, errors)
        if is_hook(obj):
            if selected is None:
                tasks.extend(_hook_tasks(obj, live.get(key), wave))
            continue
        tasks.append(
            _resource_task(obj, live.get(key), modified.get(key, True), wave, out_of_sync_only)
        )

    for obj in prune_candidates:
        if not wanted(ResourceKey.of(obj)) or is_hook(obj) or is_skipped(obj):
            continue
        task = _prune_task(obj, _wave(obj, errors), prune)
        if task.action is TaskAction.PRUNE:
            _check_namespace_prune(task.key, desired, errors)
        tasks.append(task)

    tasks = mirror_prune_waves(tasks)
    tasks = apply_prune_last(tasks, option_is_true(app_options, "PruneLast"))
    ordered = order_tasks(tasks)
    return SyncPlan(
        tasks=tuple(t for t in ordered if t.phase != SYNC_FAIL),
        sync_fail_tasks=tuple(t for t in ordered if t.phase == SYNC_FAIL),
        errors=tuple(errors),
    )
