"""Making a plan's tasks concrete for one operation, before the dry run (``prepare``).

* a hook without a name gets ``<generateName><revision>-<phase>-<start time>``;
* an object without a namespace gets the destination namespace when its kind is
  namespaced (by discovery, or by a CRD the same plan creates);
* the kinds the plan's CRDs define and the namespaces the sync creates (its
  Namespace objects, and the destination with ``CreateNamespace=true``) are noted:
  the dry run cannot check objects that depend on them;
* ``CreateNamespace=true`` with a missing destination adds an untracked Namespace
  task (``namespace_work``), created before the first wave.

Every task is listed as pending in the results, except SyncFail hooks: they only
show up once they run.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from gitops_tui.engine.annotations import option_is_true
from gitops_tui.engine.model import Manifest, ResourceKey, group_of
from gitops_tui.engine.sync.kubeops import KubeOps
from gitops_tui.engine.sync.plan import SyncPlan, SyncTask, TaskAction
from gitops_tui.engine.sync.progress import Progress
from gitops_tui.engine.sync.settings import SyncSettings
from gitops_tui.engine.sync.work import Work, crd_names, is_crd


@dataclass
class Prepared:
    """The concrete tasks of one operation and the facts the dry run needs."""

    works: list[Work] = field(default_factory=list)
    fail_works: list[Work] = field(default_factory=list)
    by_task: dict[int, Work] = field(default_factory=dict)  # id(SyncTask) -> its Work
    namespaces_created_by_sync: set[str] = field(default_factory=set)
    crd_kinds: dict[tuple[str, str], str] = field(default_factory=dict)  # -> scope
    namespace_work: Work | None = None  # CreateNamespace=true


class _Preparer:
    def __init__(
        self, conn: KubeOps, settings: SyncSettings, progress: Progress, out: Prepared
    ) -> None:
        self.conn = conn
        self.s = settings
        self.progress = progress
        self.out = out

    def concrete(self, task: SyncTask) -> tuple[ResourceKey, Manifest | None]:
        """The object to write: a hook's generated name, the destination namespace."""
        if task.desired is None:
            return task.key, None
        obj = copy.deepcopy(task.desired)
        meta = obj.setdefault("metadata", {})
        if task.action is TaskAction.HOOK and not meta.get("name"):
            revision = self.s.revision[:7]
            suffix = f"{revision}-{task.phase}-{int(self.progress.started_at)}".lower()
            meta["name"] = f"{meta.get('generateName') or ''}{suffix}"
        group, kind = group_of(str(obj.get("apiVersion", ""))), str(obj.get("kind"))
        if (
            not meta.get("namespace")
            and self.s.destination_namespace
            and self.namespaced(group, kind)
        ):
            meta["namespace"] = self.s.destination_namespace
        return ResourceKey.of(obj), obj

    def namespaced(self, group: str, kind: str) -> bool:
        resource = self.conn.discovery.lookup(group, kind)
        if resource is not None:
            return resource.namespaced
        return self.out.crd_kinds.get((group, kind), "Namespaced") == "Namespaced"

    def make_work(self, task: SyncTask, *, listed: bool = True) -> Work:
        key, obj = self.concrete(task)
        work = Work(task=task, key=key, obj=obj, slot=(key, task.phase))
        if listed:
            self.progress.list_pending(work)
        self.out.by_task[id(task)] = work
        return work


def prepare(conn: KubeOps, plan: SyncPlan, settings: SyncSettings, progress: Progress) -> Prepared:
    """The concrete tasks of ``plan`` (listed as pending in ``progress``)."""
    out = Prepared()
    maker = _Preparer(conn, settings, progress, out)
    for task in (*plan.tasks, *plan.sync_fail_tasks):
        if task.desired is not None and is_crd(task.key):
            names = crd_names(task.desired)
            if names is not None:
                out.crd_kinds[(names[0], names[1])] = names[2]
    for task in plan.tasks:
        if task.desired is not None and task.key.group == "" and task.key.kind == "Namespace":
            out.namespaces_created_by_sync.add(task.key.name)
    dest = settings.destination_namespace
    if (
        option_is_true(settings.app_options, "CreateNamespace")
        and dest
        and dest not in out.namespaces_created_by_sync
    ):
        out.namespaces_created_by_sync.add(dest)
        if conn.live(ResourceKey("", "Namespace", "", dest)) is None:
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
            out.namespace_work = maker.make_work(ns_task)
    out.works = [maker.make_work(t) for t in plan.tasks]
    # SyncFail hooks only show up in the results once they run
    out.fail_works = [maker.make_work(t, listed=False) for t in plan.sync_fail_tasks]
    return out
