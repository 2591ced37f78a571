"""What a prune deletes beyond its own object: the contents of a pruned Namespace.

Deleting a Namespace makes the API server delete everything in it, whoever
manages it. Before such a prune is offered, every namespaced kind the cluster
serves is listed in that namespace (bounded: ``PER_KIND_LIMIT`` per kind) and
the root objects are counted: those tracked by this app and all the others.
The plan's Namespace task and ``SyncPlan.cascades`` say so up front, so the
typed confirmation can name it. A plan that prunes a Namespace holding objects
this app still wants is refused by ``build_plan`` itself.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from gitops_tui.engine.cache.cluster import ClusterConnection
from gitops_tui.engine.cache.discovery import ApiResource
from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.cache.tracking import TrackingMethod, tracked_app
from gitops_tui.engine.model import Manifest, ResourceKey
from gitops_tui.engine.sync.kubeops import KubeOps
from gitops_tui.engine.sync.plan import NamespaceCascade, SyncPlan, TaskAction

PER_KIND_LIMIT = 500
LIST_TIMEOUT = (5.0, 30.0)

# objects the cluster itself puts in every namespace: not worth a warning
_AUTOMATIC = {("", "ConfigMap", "kube-root-ca.crt"), ("", "ServiceAccount", "default")}
_SKIPPED_KINDS = {("", "Event"), ("events.k8s.io", "Event")}


def _namespaced_kinds(conn: ClusterConnection) -> list[ApiResource]:
    found = conn.discovery.resources()
    return sorted(
        (
            r
            for r in found
            if r.namespaced and "list" in r.verbs and (r.group, r.kind) not in _SKIPPED_KINDS
        ),
        key=lambda r: (r.group, r.kind),
    )


def namespace_cascade(
    conn: ClusterConnection, namespace: str, app: str, tracking: TrackingMethod
) -> NamespaceCascade:
    """Count what deleting ``namespace`` would delete with it; raises ``KubeApiError``."""

    def list_kind(resource: ApiResource) -> tuple[ApiResource, list[Manifest], bool]:
        try:
            page = conn.client.request(
                "GET",
                resource.collection_path(namespace),
                query={"limit": PER_KIND_LIMIT},
                timeout=LIST_TIMEOUT,
            )
        except KubeApiError as exc:
            if exc.status in (404, 405):
                return resource, [], False
            raise
        items = [i for i in (page or {}).get("items") or [] if isinstance(i, dict)]
        more = bool(((page or {}).get("metadata") or {}).get("continue"))
        return resource, items, more

    managed = 0
    unmanaged: Counter[str] = Counter()
    more = False
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="ns-contents") as pool:
        for resource, items, truncated in pool.map(list_kind, _namespaced_kinds(conn)):
            more = more or truncated
            for obj in items:
                meta = obj.get("metadata") or {}
                if meta.get("ownerReferences"):
                    continue  # goes with its owner, which is counted
                name = str(meta.get("name") or "")
                if (resource.group, resource.kind, name) in _AUTOMATIC:
                    continue
                obj.setdefault("kind", resource.kind)
                if tracked_app(obj, tracking) == app:
                    managed += 1
                else:
                    unmanaged[resource.kind] += 1
    return NamespaceCascade(
        namespace=namespace,
        managed=managed,
        unmanaged=sum(unmanaged.values()),
        kinds=tuple(sorted(unmanaged.items(), key=lambda kv: (-kv[1], kv[0]))),
        more=more,
    )


def with_namespace_cascades(
    plan: SyncPlan, conn: ClusterConnection, app: str, tracking: TrackingMethod
) -> SyncPlan:
    """The plan with the contents of each Namespace it prunes (notes and ``cascades``).

    When a namespace's contents cannot be listed, the plan gets an error: a prune
    whose reach is unknown is not offered.
    """
    cascades: list[NamespaceCascade] = []
    errors = list(plan.errors)
    tasks = list(plan.tasks)
    for index, task in enumerate(tasks):
        key = task.key
        if task.action is not TaskAction.PRUNE or key.group != "" or key.kind != "Namespace":
            continue
        try:
            cascade = namespace_cascade(conn, key.name, app, tracking)
        except KubeApiError as exc:
            errors.append(
                f"{key.display} would be pruned, but what it holds cannot be listed "
                f"({exc.reason or exc.status}: {exc.message[:200]}): not pruned"
            )
            continue
        cascades.append(cascade)
        note = "deletes everything inside: " + cascade.describe()
        tasks[index] = dataclasses.replace(task, note=f"{task.note}; {note}" if task.note else note)
    if not cascades and errors == list(plan.errors):
        return plan
    return dataclasses.replace(
        plan, tasks=tuple(tasks), errors=tuple(errors), cascades=tuple(cascades)
    )


def namespaces_being_deleted(conn: KubeOps, applied: list[ResourceKey]) -> str | None:
    """Why a sync that applied ``applied`` cannot count as succeeded, or None.

    A namespace being deleted takes the objects just applied in it along (fresh
    GETs, one per namespace: the sync's last check).
    """
    counts = Counter(key.namespace for key in applied if key.namespace)
    doomed = []
    for namespace in sorted(counts):
        live = conn.get(ResourceKey("", "Namespace", "", namespace))
        if live is not None and (live.get("metadata") or {}).get("deletionTimestamp"):
            doomed.append(
                f"Namespace {namespace} is being deleted: the {counts[namespace]} object(s) "
                "this sync applied in it are deleted with it"
            )
    return "; ".join(doomed) or None
