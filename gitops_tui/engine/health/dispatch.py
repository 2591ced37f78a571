"""Argo CD's built-in health assessment of live objects: the dispatcher.

Rules follow ``gitops-engine/pkg/health/health_*.go``; each family of kinds has
its own module (``workloads``, ``networking``, ``storage``, ``batch``,
``platform``, ``argo``) and app health aggregation lives in ``aggregate``.
``resource_health`` dispatches on (group, kind) and never raises: malformed
status data gives Unknown. The names below stay importable from here.
"""

from __future__ import annotations

from collections.abc import Mapping

from gitops_tui.engine.annotations import IGNORE_HEALTHCHECK, annotations_of
from gitops_tui.engine.health.aggregate import aggregate_health, left_out_of_app_health
from gitops_tui.engine.health.argo import (
    APPLICATION_GROUP,
    APPLICATION_KIND,
    argo_application_health,
    is_child_application,
    workflow_health,
)
from gitops_tui.engine.health.base import HealthCheck, HealthResult
from gitops_tui.engine.health.batch import job_health
from gitops_tui.engine.health.networking import ingress_health, service_health
from gitops_tui.engine.health.platform import apiservice_health, hpa_health, namespace_health
from gitops_tui.engine.health.storage import pvc_health
from gitops_tui.engine.health.workloads import (
    IGNORE_RESTART_POLICY,
    daemonset_health,
    deployment_health,
    pod_health,
    replicaset_health,
    statefulset_health,
)
from gitops_tui.engine.model import HealthStatus, Manifest, group_of

HOOK_FINALIZER = "argocd.argoproj.io/hook-finalizer"

HEALTH_CHECKS: Mapping[tuple[str, str], HealthCheck] = {
    ("apps", "Deployment"): deployment_health,
    ("apps", "StatefulSet"): statefulset_health,
    ("apps", "DaemonSet"): daemonset_health,
    ("apps", "ReplicaSet"): replicaset_health,
    ("", "Pod"): pod_health,
    ("", "Service"): service_health,
    ("", "PersistentVolumeClaim"): pvc_health,
    ("", "Namespace"): namespace_health,
    ("extensions", "Ingress"): ingress_health,
    ("networking.k8s.io", "Ingress"): ingress_health,
    ("batch", "Job"): job_health,
    ("autoscaling", "HorizontalPodAutoscaler"): hpa_health,
    ("apiregistration.k8s.io", "APIService"): apiservice_health,
    (APPLICATION_GROUP, "Workflow"): workflow_health,
}
"""Built-in health rules by (group, kind); kinds not listed have no health.

``argoproj.io/Application`` is not among them (opt-in: ``application_health``)."""


def _pending_deletion(obj: Manifest) -> bool:
    meta = obj.get("metadata") or {}
    finalizers = meta.get("finalizers") or []
    return bool(meta.get("deletionTimestamp")) and HOOK_FINALIZER not in finalizers


def resource_health(obj: Manifest, *, application_health: bool = False) -> HealthResult | None:
    """Health of a live object, or None when Argo CD has no rule for it (or is told to ignore it).

    ``application_health`` is the opt-in rule for live ``argoproj.io/Application``
    objects (their ``status.health``, written by an Argo CD controller); without it
    they have no health, as in Argo CD without the health customization.
    """
    if annotations_of(obj).get(IGNORE_HEALTHCHECK) == "true":
        return None
    if _pending_deletion(obj):
        return HealthResult(HealthStatus.PROGRESSING, "Pending deletion")
    check = HEALTH_CHECKS.get((group_of(str(obj.get("apiVersion", ""))), str(obj.get("kind", ""))))
    if check is None and application_health and is_child_application(obj):
        check = argo_application_health
    if check is None:
        return None
    try:
        return check(obj)
    except (TypeError, ValueError, AttributeError) as exc:
        return HealthResult(HealthStatus.UNKNOWN, f"failed to assess health: {exc}")


def app_health_input(
    live: Manifest | None, *, application_health: bool = False
) -> HealthStatus | None:
    """What one managed object contributes to ``aggregate_health``.

    Missing when there is no live object; None when it has no health rule, is
    ignored, or is a child Application whose health is Missing/Unknown (upstream
    does not let those affect the parent). ``application_health``: see
    ``resource_health``.
    """
    if live is None:
        return HealthStatus.MISSING
    result = resource_health(live, application_health=application_health)
    if result is None:
        return None
    if is_child_application(live) and result.status in (HealthStatus.MISSING, HealthStatus.UNKNOWN):
        return None
    return result.status


__all__ = [
    "APPLICATION_GROUP",
    "APPLICATION_KIND",
    "HEALTH_CHECKS",
    "HOOK_FINALIZER",
    "IGNORE_RESTART_POLICY",
    "HealthCheck",
    "HealthResult",
    "aggregate_health",
    "app_health_input",
    "is_child_application",
    "left_out_of_app_health",
    "resource_health",
]
