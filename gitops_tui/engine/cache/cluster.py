"""One cluster: its client, discovery and live cache, and the writes the sync engine makes.

Discovery is in ``discovery``, the watch-based cache in ``live_cache`` (and
``kind_watch``); this module ties them into a ``ClusterConnection``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from gitops_tui.engine.cache.discovery import ApiResource, Discovery
from gitops_tui.engine.cache.kubeclient import (
    FIELD_MANAGER,
    KubeApiError,
    KubeClient,
    KubeTarget,
)
from gitops_tui.engine.cache.live_cache import LiveCache
from gitops_tui.engine.cache.tracking import TrackingMethod
from gitops_tui.engine.model import APPLICATION_GROUP, APPLICATION_KIND, Manifest, ResourceKey
from gitops_tui.engine.resource_filter import IN_CLUSTER_URL, is_excluded

# Kinds watched for every cluster: the common kinds apps use (so a tracked object
# whose kind left Git is still seen for pruning) and the children shown in the tree.
BASELINE_KINDS: tuple[tuple[str, str], ...] = (
    ("", "Namespace"),
    ("", "ConfigMap"),
    ("", "Secret"),
    ("", "Service"),
    ("", "ServiceAccount"),
    ("", "PersistentVolumeClaim"),
    ("", "Pod"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("apps", "ReplicaSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("networking.k8s.io", "Ingress"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("policy", "PodDisruptionBudget"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    (APPLICATION_GROUP, APPLICATION_KIND),
)


class UnknownKindError(KubeApiError):
    """The cluster serves no such kind (a CRD is missing)."""

    def __init__(self, group: str, kind: str) -> None:
        what = f"{kind}.{group}" if group else kind
        super().__init__(
            404, "UnknownKind", f"the cluster has no resource type {what} (is its CRD installed?)"
        )


class ClusterConnection:
    """Client, discovery and live cache of one cluster, plus the writes the sync engine makes."""

    def __init__(
        self, name: str, target: KubeTarget, *, tracking: TrackingMethod = "annotation"
    ) -> None:
        self.name = name
        self.target = target
        self.client = KubeClient(target)
        self.server = self.client.server
        self.discovery = Discovery(self.client)
        self.cache = LiveCache(self.client, self.discovery, tracking=tracking)
        self.cache.excluded = self.excludes
        self.in_cluster: Callable[[], bool] = lambda: False
        """Whether this is the default context's cluster (Argo CD's in-cluster one)."""
        self._watching = False
        self._started = False
        self._start_lock = threading.Lock()
        self.error: str | None = None

    def start(self, extra_kinds: Iterable[tuple[str, str]] = (), *, watch: bool = True) -> None:
        """Discover and start the baseline watches (once); raises KubeApiError if unreachable.

        ``watch=False`` (one-shot commands) only discovers: objects are then read with
        GETs and ``load_namespace``, like kubectl does, instead of cluster-wide lists.
        """
        with self._start_lock:
            if not self._started:
                self.discovery.refresh()
                if watch:
                    self._watching = True
                    self.cache.watch_kinds(BASELINE_KINDS)
                self._started = True
        if extra_kinds:
            self.cache.watch_kinds(extra_kinds)

    def cluster_names(self) -> tuple[str, ...]:
        """What ``clusters`` globs of ``resource.exclusions``/``inclusions`` match: the
        server URL, and Argo CD's in-cluster URL for the default context's cluster."""
        return (self.server, IN_CLUSTER_URL) if self.in_cluster() else (self.server,)

    def excludes(self, group: str, kind: str) -> bool:
        """Whether the resource filter in force excludes (group, kind) on this cluster."""
        return is_excluded(group, kind, self.cluster_names())

    def refilter(self) -> None:
        """The resource filter changed: close the watches of excluded kinds, drop their
        objects, and watch again the kinds no longer excluded (without waiting)."""
        again = self.cache.refilter()
        if self._watching and again:
            self.cache.watch_kinds(again, wait=0.0)

    def close(self) -> None:
        self.cache.stop()
        self.client.close()

    def resource(self, group: str, kind: str) -> ApiResource:
        found = self.discovery.resolve(group, kind)
        if found is None:
            raise UnknownKindError(group, kind)
        return found

    def live(self, key: ResourceKey) -> Manifest | None:
        """From the cache when the kind is watched, else one GET."""
        if self.cache.is_watched(key.group, key.kind):
            return self.cache.get(key)
        return self.get(key)

    def get(self, key: ResourceKey) -> Manifest | None:
        res = self.resource(key.group, key.kind)
        try:
            obj = self.client.request("GET", res.object_path(key.namespace, key.name))
        except KubeApiError as exc:
            if exc.status == 404:
                return None
            raise
        return obj if isinstance(obj, dict) else None

    def apply(
        self,
        obj: Manifest,
        *,
        dry_run: bool = False,
        force: bool = False,
        manager: str = FIELD_MANAGER,
        timeout: float = 30.0,
        field_validation: str | None = None,
    ) -> Manifest:
        """Server-side apply of ``obj`` (a dry run when asked); returns the server's result.

        ``field_validation`` is the API's ``fieldValidation`` (``Strict``, ``Warn``,
        ``Ignore``); None leaves the server's default.
        """
        key = ResourceKey.of(obj)
        res = self.resource(key.group, key.kind)
        body = dict(obj)
        body["apiVersion"] = str(obj.get("apiVersion") or res.api_version)
        result = self.client.request(
            "PATCH",
            res.object_path(key.namespace, key.name),
            query={
                "fieldManager": manager,
                "force": "true" if force else "false",
                "dryRun": "All" if dry_run else None,
                "fieldValidation": field_validation,
            },
            body=body,
            content_type="application/apply-patch+yaml",
            timeout=(5.0, timeout),
        )
        return self._written(result, dry_run)

    def _written(self, result: Any, dry_run: bool) -> Manifest:
        """The server's answer to a write; a real write is recorded in the cache at once."""
        if not isinstance(result, dict):
            return {}
        if not dry_run:
            self.cache.upsert(result)
        return result

    def replace(self, obj: Manifest, *, dry_run: bool = False, timeout: float = 30.0) -> Manifest:
        """PUT (``Replace=true``): create when missing, else replace wholesale."""
        key = ResourceKey.of(obj)
        res = self.resource(key.group, key.kind)
        query = {"fieldManager": FIELD_MANAGER, "dryRun": "All" if dry_run else None}
        current = self.get(key)
        if current is None:
            return self.create(obj, dry_run=dry_run, timeout=timeout)
        body = dict(obj)
        meta = dict(body.get("metadata") or {})
        meta["resourceVersion"] = (current.get("metadata") or {}).get("resourceVersion")
        body["metadata"] = meta
        result = self.client.request(
            "PUT",
            res.object_path(key.namespace, key.name),
            query=query,
            body=body,
            timeout=(5.0, timeout),
        )
        return self._written(result, dry_run)

    def create(self, obj: Manifest, *, dry_run: bool = False, timeout: float = 30.0) -> Manifest:
        key = ResourceKey.of(obj)
        res = self.resource(key.group, key.kind)
        query = {"fieldManager": FIELD_MANAGER, "dryRun": "All" if dry_run else None}
        result = self.client.request(
            "POST",
            res.collection_path(key.namespace),
            query=query,
            body=obj,
            timeout=(5.0, timeout),
        )
        return self._written(result, dry_run)

    def delete(
        self,
        key: ResourceKey,
        *,
        propagation: str = "Foreground",
        dry_run: bool = False,
        uid: str | None = None,
        timeout: float = 30.0,
    ) -> bool:
        """Delete one object (``uid`` as a precondition guards against a re-created namesake).

        Returns False when it was already gone.
        """
        res = self.resource(key.group, key.kind)
        body: dict[str, Any] = {
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "propagationPolicy": propagation,
        }
        if uid:
            body["preconditions"] = {"uid": uid}
        if dry_run:
            # the API server ignores a DELETE's query parameters when a body is sent:
            # the dry-run flag must be in DeleteOptions, or the object is really deleted
            body["dryRun"] = ["All"]
        try:
            self.client.request(
                "DELETE",
                res.object_path(key.namespace, key.name),
                query={"dryRun": "All" if dry_run else None},
                body=body,
                timeout=(5.0, timeout),
            )
        except KubeApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True
