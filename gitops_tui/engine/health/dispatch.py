"""Argo CD's built-in health assessment of live objects, and app health aggregation.

Rules follow ``gitops-engine/pkg/health/health_*.go`` and ``controller/health.go``
(``setApplicationHealth``). Each kind has one small function; ``resource_health``
dispatches on (group, kind) and never raises: malformed status data gives Unknown.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gitops_tui.engine.annotations import (
    IGNORE_HEALTHCHECK,
    annotations_of,
    is_hook,
    is_skipped,
)
from gitops_tui.engine.model import HealthStatus, Manifest, group_of

HOOK_FINALIZER = "argocd.argoproj.io/hook-finalizer"
IGNORE_RESTART_POLICY = "argocd.argoproj.io/ignore-restart-policy"
APPLICATION_GROUP = "argoproj.io"
APPLICATION_KIND = "Application"


@dataclass(frozen=True)
class HealthResult:
    """One object's health and Argo CD's explanation of it."""

    status: HealthStatus
    message: str = ""


# -- small readers ---------------------------------------------------------------------


def _dig(obj: Mapping[str, Any], *path: str) -> Any:
    value: Any = obj
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _int(obj: Mapping[str, Any], *path: str) -> int:
    """Integer at ``path`` (0 when absent), like Go's zero value."""
    value = _dig(obj, *path)
    return 0 if value is None else int(value)


def _opt_int(obj: Mapping[str, Any], *path: str) -> int | None:
    value = _dig(obj, *path)
    return None if value is None else int(value)


def _str(obj: Mapping[str, Any], *path: str) -> str:
    value = _dig(obj, *path)
    return "" if value is None else str(value)


def _list(obj: Mapping[str, Any], *path: str) -> list[Any]:
    value = _dig(obj, *path)
    return list(value) if isinstance(value, list) else []


def _conditions(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [c for c in _list(obj, "status", "conditions") if isinstance(c, Mapping)]


def _condition(obj: Mapping[str, Any], cond_type: str) -> Mapping[str, Any] | None:
    return next((c for c in _conditions(obj) if c.get("type") == cond_type), None)


def _generation(obj: Mapping[str, Any]) -> int:
    return _int(obj, "metadata", "generation")


def _observed(obj: Mapping[str, Any]) -> int:
    return _int(obj, "status", "observedGeneration")


# -- workloads -------------------------------------------------------------------------


def deployment_health(obj: Manifest) -> HealthResult:
    """Paused, generation, progress deadline, then replica counters (kubectl rollout status)."""
    if _dig(obj, "spec", "paused") is True:
        return HealthResult(HealthStatus.SUSPENDED, "Deployment is paused")
    if _generation(obj) > _observed(obj):
        return HealthResult(
            HealthStatus.PROGRESSING,
            "Waiting for rollout to finish: observed deployment generation less than desired generation",
        )
    progressing = _condition(obj, "Progressing")
    if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
        name = _str(obj, "metadata", "name")
        return HealthResult(
            HealthStatus.DEGRADED, f'Deployment "{name}" exceeded its progress deadline'
        )
    wanted = _opt_int(obj, "spec", "replicas")
    updated = _int(obj, "status", "updatedReplicas")
    replicas = _int(obj, "status", "replicas")
    available = _int(obj, "status", "availableReplicas")
    if wanted is not None and updated < wanted:
        return HealthResult(
            HealthStatus.PROGRESSING,
            f"Waiting for rollout to finish: {updated} out of {wanted} new replicas have been updated...",
        )
    if replicas > updated:
        return HealthResult(
            HealthStatus.PROGRESSING,
            f"Waiting for rollout to finish: {replicas - updated} old replicas are pending termination...",
        )
    if available < updated:
        return HealthResult(
            HealthStatus.PROGRESSING,
            f"Waiting for rollout to finish: {available} of {updated} updated replicas are available...",
        )
    return HealthResult(HealthStatus.HEALTHY)


def statefulset_health(obj: Manifest) -> HealthResult:
    """Generation, ready pods, then the update strategy (partition, OnDelete, revisions)."""
    observed = _observed(obj)
    if observed == 0 or _generation(obj) > observed:
        return HealthResult(
            HealthStatus.PROGRESSING, "Waiting for statefulset spec update to be observed..."
        )
    wanted = _opt_int(obj, "spec", "replicas")
    ready = _int(obj, "status", "readyReplicas")
    updated = _int(obj, "status", "updatedReplicas")
    if wanted is not None and ready < wanted:
        return HealthResult(
            HealthStatus.PROGRESSING, f"Waiting for {wanted - ready} pods to be ready..."
        )
    strategy = _str(obj, "spec", "updateStrategy", "type") or "RollingUpdate"
    rolling = _dig(obj, "spec", "updateStrategy", "rollingUpdate")
    if strategy == "RollingUpdate" and isinstance(rolling, Mapping):
        partition = _opt_int(rolling, "partition")
        if wanted is not None and partition is not None and updated < wanted - partition:
            return HealthResult(
                HealthStatus.PROGRESSING,
                "Waiting for partitioned roll out to finish: "
                f"{updated} out of {wanted - partition} new pods have been updated...",
            )
        return HealthResult(
            HealthStatus.HEALTHY,
            f"partitioned roll out complete: {updated} new pods have been updated...",
        )
    if strategy == "OnDelete":
        return HealthResult(HealthStatus.HEALTHY, f"statefulset has {ready} ready pods")
    update_rev = _str(obj, "status", "updateRevision")
    current_rev = _str(obj, "status", "currentRevision")
    if update_rev != current_rev:
        return HealthResult(
            HealthStatus.PROGRESSING,
            f"waiting for statefulset rolling update to complete {updated} pods at revision {update_rev}...",
        )
    current = _int(obj, "status", "currentReplicas")
    return HealthResult(
        HealthStatus.HEALTHY,
        f"statefulset rolling update complete {current} pods at revision {current_rev}...",
    )


def daemonset_health(obj: Manifest) -> HealthResult:
    """Generation, OnDelete, then scheduled/updated/available counters."""
    if _generation(obj) > _observed(obj):
        return HealthResult(
            HealthStatus.PROGRESSING,
            "Waiting for rollout to finish: observed daemon set generation less than desired generation",
        )
    desired = _int(obj, "status", "desiredNumberScheduled")
    updated = _int(obj, "status", "updatedNumberScheduled")
    available = _int(obj, "status", "numberAvailable")
    if _str(obj, "spec", "updateStrategy", "type") == "OnDelete":
        return HealthResult(
            HealthStatus.HEALTHY,
            f"daemon set {updated} out of {desired} new pods have been updated",
        )
    name = _str(obj, "metadata", "name")
    if updated < desired:
        return HealthResult(
            HealthStatus.PROGRESSING,
            f'Waiting for daemon set "{name}" rollout to finish: '
            f"{updated} out of {desired} new pods have been updated...",
        )
    if available < desired:
        return HealthResult(
            HealthStatus.PROGRESSING,
            f'Waiting for daemon set "{name}" rollout to finish: '
            f"{available} of {desired} updated pods are available...",
        )
    return HealthResult(HealthStatus.HEALTHY)


def replicaset_health(obj: Manifest) -> HealthResult:
    """Generation, ReplicaFailure=True -> Degraded, then available replicas."""
    if _generation(obj) > _observed(obj):
        return HealthResult(
            HealthStatus.PROGRESSING,
            "Waiting for rollout to finish: observed replica set generation less than desired generation",
        )
    failure = _condition(obj, "ReplicaFailure")
    if failure is not None and failure.get("status") == "True":
        return HealthResult(HealthStatus.DEGRADED, str(failure.get("message") or ""))
    wanted = _opt_int(obj, "spec", "replicas")
    available = _int(obj, "status", "availableReplicas")
    if wanted is not None and available < wanted:
        return HealthResult(
            HealthStatus.PROGRESSING,
            f"Waiting for rollout to finish: {available} out of {wanted} new replicas are available...",
        )
    return HealthResult(HealthStatus.HEALTHY)


# -- pods ------------------------------------------------------------------------------


def _is_error_reason(reason: str) -> bool:
    return reason.startswith("Err") or reason.endswith("Error") or reason.endswith("BackOff")


def _terminated_message(status: Mapping[str, Any]) -> str:
    terminated = _dig(status, "state", "terminated")
    if not isinstance(terminated, Mapping):
        return ""
    if terminated.get("message"):
        return str(terminated["message"])
    if terminated.get("reason") == "OOMKilled":
        return "OOMKilled"
    exit_code = _int(terminated, "exitCode")
    if exit_code != 0:
        return f'container "{status.get("name", "")}" failed with exit code {exit_code}'
    return ""


def _pod_ready(obj: Manifest) -> bool:
    ready = _condition(obj, "Ready")
    return ready is not None and ready.get("status") == "True"


def pod_health(obj: Manifest) -> HealthResult:
    """Waiting errors (restartPolicy Always), then the pod phase.

    A missing ``restartPolicy`` counts as ``Always``, the API server's default. A
    running pod with another policy is usually a hook (Progressing until it ends),
    unless it carries ``argocd.argoproj.io/ignore-restart-policy``: then it is
    judged by readiness like an ``Always`` pod. As in gitops-engine, the
    annotation's presence counts, whatever its value.
    """
    restart_policy = _str(obj, "spec", "restartPolicy") or "Always"
    containers = [s for s in _list(obj, "status", "containerStatuses") if isinstance(s, Mapping)]
    message = _str(obj, "status", "message")
    if restart_policy == "Always":
        errors = [
            _str(s, "state", "waiting", "message")
            for s in containers
            if _is_error_reason(_str(s, "state", "waiting", "reason"))
        ]
        if errors:
            return HealthResult(HealthStatus.DEGRADED, ", ".join(errors))
    phase = _str(obj, "status", "phase")
    if phase == "Pending":
        return HealthResult(HealthStatus.PROGRESSING, message)
    if phase == "Succeeded":
        return HealthResult(HealthStatus.HEALTHY, message)
    if phase == "Failed":
        if message:
            return HealthResult(HealthStatus.DEGRADED, message)
        inits = [s for s in _list(obj, "status", "initContainerStatuses") if isinstance(s, Mapping)]
        reasons = (_terminated_message(s) for s in inits + containers)
        return HealthResult(HealthStatus.DEGRADED, next((r for r in reasons if r), ""))
    if phase == "Running":
        if restart_policy != "Always" and IGNORE_RESTART_POLICY not in annotations_of(obj):
            return HealthResult(HealthStatus.PROGRESSING, message)
        if _pod_ready(obj):
            return HealthResult(HealthStatus.HEALTHY, message)
        if any(_dig(s, "lastState", "terminated") is not None for s in containers):
            return HealthResult(HealthStatus.DEGRADED, message)
        return HealthResult(HealthStatus.PROGRESSING, message)
    return HealthResult(HealthStatus.UNKNOWN, message)


# -- networking, storage, batch --------------------------------------------------------


def service_health(obj: Manifest) -> HealthResult:
    """A LoadBalancer waits for an ingress address; every other Service is Healthy."""
    if _str(obj, "spec", "type") == "LoadBalancer" and not _list(
        obj, "status", "loadBalancer", "ingress"
    ):
        return HealthResult(
            HealthStatus.PROGRESSING, "Waiting for the load balancer to get an address"
        )
    return HealthResult(HealthStatus.HEALTHY)


def ingress_health(obj: Manifest) -> HealthResult:
    """Healthy once the controller has published a load balancer address."""
    if _list(obj, "status", "loadBalancer", "ingress"):
        return HealthResult(HealthStatus.HEALTHY)
    return HealthResult(
        HealthStatus.PROGRESSING, "Waiting for the ingress controller to assign an address"
    )


_PROVISIONER_ANNOTATIONS = (
    "volume.beta.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/storage-provisioner",
)


def pvc_health(obj: Manifest) -> HealthResult:
    """Bound -> Healthy, Lost -> Degraded; Pending is Progressing only while provisioning.

    A Pending claim with no provisioner at work waits for its first consumer
    (``WaitForFirstConsumer``), which upstream counts as Healthy.
    """
    phase = _str(obj, "status", "phase")
    if phase == "Bound":
        return HealthResult(HealthStatus.HEALTHY)
    if phase == "Lost":
        return HealthResult(HealthStatus.DEGRADED)
    if phase == "Pending":
        annotations = annotations_of(obj)
        if any(a in annotations for a in _PROVISIONER_ANNOTATIONS):
            return HealthResult(HealthStatus.PROGRESSING, "Provisioning volume")
        return HealthResult(HealthStatus.HEALTHY, "Waiting for consumer")
    return HealthResult(HealthStatus.UNKNOWN)


def job_health(obj: Manifest) -> HealthResult:
    """Failed -> Degraded, Suspended -> Suspended, Complete -> Healthy, else Progressing."""
    failed = complete = suspended = False
    fail_message = message = ""
    for cond in _conditions(obj):
        if cond.get("status") == "False":
            continue
        kind = cond.get("type")
        if kind == "Failed":
            failed = complete = True
            fail_message = str(cond.get("message") or "")
        elif kind == "Complete":
            complete = True
            message = str(cond.get("message") or "")
        elif kind == "Suspended":
            complete = suspended = True
            message = str(cond.get("message") or "")
    if not complete:
        return HealthResult(HealthStatus.PROGRESSING, message)
    if failed:
        return HealthResult(HealthStatus.DEGRADED, fail_message)
    if suspended:
        return HealthResult(HealthStatus.SUSPENDED, message)
    return HealthResult(HealthStatus.HEALTHY, message)


# -- condition based -------------------------------------------------------------------

_HPA_DEGRADED = frozenset(
    {
        ("AbleToScale", "FailedGetScale"),
        ("AbleToScale", "FailedUpdateScale"),
        ("ScalingActive", "FailedGetResourceMetric"),
        ("ScalingActive", "FailedGetObjectMetric"),
        ("ScalingActive", "FailedGetPodsMetric"),
        ("ScalingActive", "FailedGetExternalMetric"),
        ("ScalingActive", "FailedComputeMetricsReplicas"),
        ("ScalingActive", "InvalidSelector"),
    }
)
"""(condition type, reason) pairs that make an HPA Degraded, whatever the condition's status."""
_HPA_HEALTHY_TYPES = frozenset({"AbleToScale", "ScalingLimited"})
_HPA_WAITING = HealthResult(HealthStatus.PROGRESSING, "Waiting to Autoscale")


def _hpa_conditions(obj: Manifest) -> list[Mapping[str, Any]]:
    """v1 keeps its conditions as JSON in an annotation; later versions in status."""
    if str(obj.get("apiVersion", "")) != "autoscaling/v1":
        return _conditions(obj)
    text = annotations_of(obj).get("autoscaling.alpha.kubernetes.io/conditions")
    if text is None:
        return []
    parsed = json.loads(text)
    if not isinstance(parsed, list):
        raise ValueError("conditions annotation is not a JSON list")
    return [c for c in parsed if isinstance(c, Mapping)]


def hpa_health(obj: Manifest) -> HealthResult:
    """Any failure reason -> Degraded; else AbleToScale/ScalingLimited True -> Healthy.

    Every condition is searched for a failure before a healthy one is looked for:
    the controller lists ``AbleToScale`` (usually True) before ``ScalingActive``,
    which carries the metric failures.
    """
    conditions = _hpa_conditions(obj)
    for cond in conditions:
        if (str(cond.get("type", "")), str(cond.get("reason", ""))) in _HPA_DEGRADED:
            return HealthResult(HealthStatus.DEGRADED, str(cond.get("message") or ""))
    for cond in conditions:
        if cond.get("type") in _HPA_HEALTHY_TYPES and cond.get("status") == "True":
            return HealthResult(HealthStatus.HEALTHY, str(cond.get("message") or ""))
    return _HPA_WAITING


def apiservice_health(obj: Manifest) -> HealthResult:
    """The ``Available`` condition: True -> Healthy, otherwise Progressing."""
    available = _condition(obj, "Available")
    if available is None:
        return HealthResult(HealthStatus.PROGRESSING, "Waiting to be processed")
    message = f"{available.get('reason', '')}: {available.get('message', '')}"
    status = HealthStatus.HEALTHY if available.get("status") == "True" else HealthStatus.PROGRESSING
    return HealthResult(status, message)


# -- Argo and namespaces ---------------------------------------------------------------


def argo_application_health(obj: Manifest) -> HealthResult:
    """A live Argo CD Application's own ``status.health`` (Progressing until set).

    Not a built-in rule: upstream dropped it in Argo CD 1.8 and restores it only
    through the ``resource.customizations.health.argoproj.io_Application`` check
    in ``argocd-cm``; here the config key ``applicationHealth: true`` turns it on
    (see ``resource_health``).
    """
    word = _str(obj, "status", "health", "status")
    message = _str(obj, "status", "health", "message")
    if not word:
        return HealthResult(HealthStatus.PROGRESSING, message)
    try:
        return HealthResult(HealthStatus(word), message)
    except ValueError:
        return HealthResult(HealthStatus.UNKNOWN, message or f"unknown health status {word!r}")


_WORKFLOW_PHASES: Mapping[str, HealthStatus] = {
    "": HealthStatus.PROGRESSING,
    "Pending": HealthStatus.PROGRESSING,
    "Running": HealthStatus.PROGRESSING,
    "Succeeded": HealthStatus.HEALTHY,
    "Failed": HealthStatus.DEGRADED,
    "Error": HealthStatus.DEGRADED,
}


def workflow_health(obj: Manifest) -> HealthResult:
    """Argo Workflows: by ``status.phase``."""
    phase = _str(obj, "status", "phase")
    return HealthResult(
        _WORKFLOW_PHASES.get(phase, HealthStatus.UNKNOWN), _str(obj, "status", "message")
    )


def namespace_health(obj: Manifest) -> HealthResult:
    """Active -> Healthy, Terminating -> Progressing."""
    phase = _str(obj, "status", "phase")
    if phase == "Active":
        return HealthResult(HealthStatus.HEALTHY)
    if phase == "Terminating":
        return HealthResult(HealthStatus.PROGRESSING, "Namespace is terminating")
    return HealthResult(HealthStatus.UNKNOWN, f"unknown namespace phase {phase!r}" if phase else "")


# -- dispatch --------------------------------------------------------------------------

HealthCheck = Callable[[Manifest], HealthResult]

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


# -- app health ------------------------------------------------------------------------


def is_child_application(obj: Manifest) -> bool:
    return (
        group_of(str(obj.get("apiVersion", ""))) == APPLICATION_GROUP
        and obj.get("kind") == APPLICATION_KIND
    )


def left_out_of_app_health(desired: Manifest | None, live: Manifest | None) -> bool:
    """Skip-annotated targets and live hooks (including hooks that never run) do not count."""
    if desired is not None and is_skipped(desired):
        return True
    return live is not None and is_hook(live)


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


def aggregate_health(items: Iterable[tuple[HealthStatus | None, bool]]) -> HealthStatus:
    """App health from (health, is_hook) per managed object, as ``setApplicationHealth``.

    Hooks are left out. ``None`` is a live object without health. Missing objects
    do not worsen the app (OutOfSync already says so) unless no object is live:
    then the app is Missing. With no objects at all the app is Healthy.
    """
    worst = HealthStatus.HEALTHY
    counted = any_live = False
    for health, hook in items:
        if hook:
            continue
        counted = True
        if health == HealthStatus.MISSING:
            continue
        any_live = True
        if health is not None and health.severity > worst.severity:
            worst = health
    if counted and not any_live and HealthStatus.MISSING.severity > worst.severity:
        return HealthStatus.MISSING
    return worst
