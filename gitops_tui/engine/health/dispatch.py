"""Argo CD's built-in health assessment of live objects: the dispatcher.

Rules follow ``gitops-engine/pkg/health/health_*.go``; each family of kinds has
its own module (``workloads``, ``networking``, ``storage``, ``batch``,
``platform``, ``argo``) and app health aggregation lives in ``aggregate``.
``resource_health`` dispatches on (group, kind) and never raises: malformed
status data gives Unknown. The names below stay importable from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from gitops_tui.engine.annotations import IGNORE_HEALTHCHECK, annotations_of
from gitops_tui.engine.health.aggregate import aggregate_health, left_out_of_app_health
from gitops_tui.engine.health.argo import (
    APPLICATION_GROUP,
    APPLICATION_KIND,
    APPLICATIONSET_KIND,
    applicationset_health,
    argo_application_health,
    is_child_application,
    workflow_health,
)
from gitops_tui.engine.health.base import HealthCheck, HealthResult
from gitops_tui.engine.health.batch import cronjob_health, job_health
from gitops_tui.engine.health.certs_secrets import (
    certificate_health,
    certificate_request_health,
    external_secret_health,
    issuer_health,
    sealed_secret_health,
)
from gitops_tui.engine.health.customizations import Customizations, HealthOverride, active
from gitops_tui.engine.health.flux import FLUX_GROUPS, flux_health
from gitops_tui.engine.health.inferred import inferred_health
from gitops_tui.engine.health.lua_runtime import LuaScriptError, health_from_script
from gitops_tui.engine.health.networking import ingress_health, service_health
from gitops_tui.engine.health.operators import (
    cnpg_cluster_health,
    crossplane_health,
    is_crossplane,
    istio_operator_health,
    keda_health,
    knative_health,
    strimzi_health,
)
from gitops_tui.engine.health.platform import (
    apiservice_health,
    hpa_health,
    namespace_health,
    pdb_health,
)
from gitops_tui.engine.health.rollouts import analysisrun_health, experiment_health, rollout_health
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
    (APPLICATION_GROUP, APPLICATIONSET_KIND): applicationset_health,
    # Argo CD ships these as Lua (resource_customizations/); here they are Python
    ("batch", "CronJob"): cronjob_health,
    ("policy", "PodDisruptionBudget"): pdb_health,
    (APPLICATION_GROUP, "Rollout"): rollout_health,
    (APPLICATION_GROUP, "AnalysisRun"): analysisrun_health,
    (APPLICATION_GROUP, "Experiment"): experiment_health,
    ("cert-manager.io", "Certificate"): certificate_health,
    ("cert-manager.io", "CertificateRequest"): certificate_request_health,
    ("cert-manager.io", "Issuer"): issuer_health,
    ("cert-manager.io", "ClusterIssuer"): issuer_health,
    ("external-secrets.io", "ExternalSecret"): external_secret_health,
    ("external-secrets.io", "ClusterExternalSecret"): external_secret_health,
    ("external-secrets.io", "SecretStore"): external_secret_health,
    ("external-secrets.io", "ClusterSecretStore"): external_secret_health,
    ("external-secrets.io", "PushSecret"): external_secret_health,
    ("bitnami.com", "SealedSecret"): sealed_secret_health,
    ("keda.sh", "ScaledObject"): keda_health,
    ("keda.sh", "ScaledJob"): keda_health,
    ("postgresql.cnpg.io", "Cluster"): cnpg_cluster_health,
    ("serving.knative.dev", "Service"): knative_health,
    ("serving.knative.dev", "Route"): knative_health,
    ("serving.knative.dev", "Configuration"): knative_health,
    ("serving.knative.dev", "Revision"): knative_health,
    ("install.istio.io", "IstioOperator"): istio_operator_health,
}
"""Built-in health rules by (group, kind); see also ``builtin_check`` (whole groups).

``argoproj.io/Application`` is not among them (opt-in: ``application_health``)."""


def builtin_check(group: str, kind: str) -> HealthCheck | None:
    """The built-in rule for (group, kind): an exact entry, else a rule for the whole group
    (Flux toolkit groups, Crossplane and its providers, Strimzi)."""
    check = HEALTH_CHECKS.get((group, kind))
    if check is not None:
        return check
    if group in FLUX_GROUPS:
        return flux_health
    if is_crossplane(group):
        return crossplane_health
    if group == "kafka.strimzi.io":
        return strimzi_health
    return None


def is_custom_group(group: str) -> bool:
    """A group of custom resources: dotted, and not Kubernetes' own ``*.k8s.io`` (the
    ``*.x-k8s.io`` SIG projects are CRDs)."""
    return "." in group and (not group.endswith(".k8s.io") or group.endswith(".x-k8s.io"))


def _pending_deletion(obj: Manifest) -> bool:
    meta = obj.get("metadata") or {}
    finalizers = meta.get("finalizers") or []
    return bool(meta.get("deletionTimestamp")) and HOOK_FINALIZER not in finalizers


def resource_health(
    obj: Manifest,
    *,
    application_health: bool = False,
    customizations: Customizations | None = None,
    inferred: bool = False,
) -> HealthResult | None:
    """Health of a live object, or None when Argo CD has no rule for it (or is told to ignore it).

    ``inferred``: an object without a rule gets the inferred health of the status
    conventions (``inferred.py``; marked ``rule="inferred"``) when it follows them.

    A Lua health script for the kind (``customizations``, by default the ones the
    engine installed) overrides the built-in rule; a failing script gives Unknown
    with its error. ``application_health`` is the opt-in rule for live
    ``argoproj.io/Application`` objects (their ``status.health``, written by an
    Argo CD controller); without it they have no health, as in Argo CD without
    the health customization.
    """
    if annotations_of(obj).get(IGNORE_HEALTHCHECK) == "true":
        return None
    if _pending_deletion(obj):
        return HealthResult(HealthStatus.PROGRESSING, "Pending deletion")
    group, kind = group_of(str(obj.get("apiVersion", ""))), str(obj.get("kind", ""))
    override = (customizations if customizations is not None else active()).health_for(group, kind)
    if override is not None:
        return lua_health(override, obj)
    check = builtin_check(group, kind)
    if check is None and application_health and is_child_application(obj):
        check = argo_application_health
    if check is None:
        return inferred_health(obj) if inferred and is_custom_group(group) else None
    try:
        return replace(check(obj), rule="built-in")
    except (TypeError, ValueError, AttributeError) as exc:
        return HealthResult(HealthStatus.UNKNOWN, f"failed to assess health: {exc}", "built-in")


SECRET_MASK = "++++++++"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _without_secret_values(obj: Manifest) -> Manifest:
    """A Secret's values never reach a script (whose message is shown): masked, keys kept."""
    if group_of(str(obj.get("apiVersion", ""))) != "" or obj.get("kind") != "Secret":
        return obj
    masked = dict(obj)
    for field_name in ("data", "stringData"):
        values = obj.get(field_name)
        if isinstance(values, Mapping):
            masked[field_name] = dict.fromkeys(values, SECRET_MASK)
        elif values is not None:
            masked[field_name] = SECRET_MASK
    meta = obj.get("metadata")
    if isinstance(meta, Mapping) and LAST_APPLIED in (meta.get("annotations") or {}):
        annotations = {k: v for k, v in meta["annotations"].items() if k != LAST_APPLIED}
        masked["metadata"] = {**meta, "annotations": annotations}
    return masked


def lua_health(override: HealthOverride, obj: Manifest) -> HealthResult:
    """Run a customization's health script; its failure is this object's Unknown health."""
    rule = f"Lua ({override.origin})"
    try:
        status, message = health_from_script(
            override.script, _without_secret_values(obj), use_open_libs=override.use_open_libs
        )
    except LuaScriptError as exc:
        return HealthResult(HealthStatus.UNKNOWN, str(exc), rule, script_error=True)
    return HealthResult(status, message, rule)


def has_health_check(
    obj: Manifest,
    *,
    application_health: bool = False,
    customizations: Customizations | None = None,
) -> bool:
    """Whether (group, kind) of ``obj`` has a health rule: built-in or a Lua customization."""
    group, kind = group_of(str(obj.get("apiVersion", ""))), str(obj.get("kind", ""))
    rules = customizations if customizations is not None else active()
    if rules.health_for(group, kind) is not None or builtin_check(group, kind) is not None:
        return True
    return application_health and is_child_application(obj)


def app_health_input(
    live: Manifest | None,
    *,
    application_health: bool = False,
    desired: Manifest | None = None,
) -> HealthStatus | None:
    """What one managed object contributes to ``aggregate_health``.

    No live object: Missing when its kind has a health check (``desired`` tells the
    kind; without it, Missing), else None: Argo CD leaves missing objects of kinds
    without a check out of app health. None also when the live object has no
    health rule, is ignored, or is a child Application whose health is
    Missing/Unknown (upstream does not let those affect the parent).
    ``application_health``: see ``resource_health``.
    """
    if live is None:
        if desired is None or has_health_check(desired, application_health=application_health):
            return HealthStatus.MISSING
        return None
    result = resource_health(
        live, application_health=application_health, inferred=active().inferred_in_app_health
    )
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
    "builtin_check",
    "aggregate_health",
    "app_health_input",
    "is_child_application",
    "has_health_check",
    "left_out_of_app_health",
    "lua_health",
    "resource_health",
]
