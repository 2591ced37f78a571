"""Workloads: Deployment, StatefulSet, DaemonSet, ReplicaSet and Pod (``health_deployment.go`` and its siblings)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops_tui.engine.annotations import annotations_of
from gitops_tui.engine.health.base import (
    HealthResult,
    condition,
    dig,
    generation,
    int_at,
    list_at,
    observed,
    opt_int_at,
    str_at,
)
from gitops_tui.engine.model import HealthStatus, Manifest

IGNORE_RESTART_POLICY = "argocd.argoproj.io/ignore-restart-policy"


def deployment_health(obj: Manifest) -> HealthResult:
    """Paused, generation, progress deadline, then replica counters (kubectl rollout status)."""
    if dig(obj, "spec", "paused") is True:
        return HealthResult(HealthStatus.SUSPENDED, "Deployment is paused")
    if generation(obj) > observed(obj):
        return HealthResult(
            HealthStatus.PROGRESSING,
            "Waiting for rollout to finish: observed deployment generation less than desired generation",
        )
    progressing = condition(obj, "Progressing")
    if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
        name = str_at(obj, "metadata", "name")
        return HealthResult(
            HealthStatus.DEGRADED, f'Deployment "{name}" exceeded its progress deadline'
        )
    wanted = opt_int_at(obj, "spec", "replicas")
    updated = int_at(obj, "status", "updatedReplicas")
    replicas = int_at(obj, "status", "replicas")
    available = int_at(obj, "status", "availableReplicas")
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
    observed_gen = observed(obj)
    if observed_gen == 0 or generation(obj) > observed_gen:
        return HealthResult(
            HealthStatus.PROGRESSING, "Waiting for statefulset spec update to be observed..."
        )
    wanted = opt_int_at(obj, "spec", "replicas")
    ready = int_at(obj, "status", "readyReplicas")
    updated = int_at(obj, "status", "updatedReplicas")
    if wanted is not None and ready < wanted:
        return HealthResult(
            HealthStatus.PROGRESSING, f"Waiting for {wanted - ready} pods to be ready..."
        )
    strategy = str_at(obj, "spec", "updateStrategy", "type") or "RollingUpdate"
    rolling = dig(obj, "spec", "updateStrategy", "rollingUpdate")
    if strategy == "RollingUpdate" and isinstance(rolling, Mapping):
        partition = opt_int_at(rolling, "partition")
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
    update_rev = str_at(obj, "status", "updateRevision")
    current_rev = str_at(obj, "status", "currentRevision")
    if update_rev != current_rev:
        return HealthResult(
            HealthStatus.PROGRESSING,
            f"waiting for statefulset rolling update to complete {updated} pods at revision {update_rev}...",
        )
    current = int_at(obj, "status", "currentReplicas")
    return HealthResult(
        HealthStatus.HEALTHY,
        f"statefulset rolling update complete {current} pods at revision {current_rev}...",
    )


def daemonset_health(obj: Manifest) -> HealthResult:
    """Generation, OnDelete, then scheduled/updated/available counters."""
    if generation(obj) > observed(obj):
        return HealthResult(
            HealthStatus.PROGRESSING,
            "Waiting for rollout to finish: observed daemon set generation less than desired generation",
        )
    desired = int_at(obj, "status", "desiredNumberScheduled")
    updated = int_at(obj, "status", "updatedNumberScheduled")
    available = int_at(obj, "status", "numberAvailable")
    if str_at(obj, "spec", "updateStrategy", "type") == "OnDelete":
        return HealthResult(
            HealthStatus.HEALTHY,
            f"daemon set {updated} out of {desired} new pods have been updated",
        )
    name = str_at(obj, "metadata", "name")
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
    if generation(obj) > observed(obj):
        return HealthResult(
            HealthStatus.PROGRESSING,
            "Waiting for rollout to finish: observed replica set generation less than desired generation",
        )
    failure = condition(obj, "ReplicaFailure")
    if failure is not None and failure.get("status") == "True":
        return HealthResult(HealthStatus.DEGRADED, str(failure.get("message") or ""))
    wanted = opt_int_at(obj, "spec", "replicas")
    available = int_at(obj, "status", "availableReplicas")
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
    terminated = dig(status, "state", "terminated")
    if not isinstance(terminated, Mapping):
        return ""
    if terminated.get("message"):
        return str(terminated["message"])
    if terminated.get("reason") == "OOMKilled":
        return "OOMKilled"
    exit_code = int_at(terminated, "exitCode")
    if exit_code != 0:
        return f'container "{status.get("name", "")}" failed with exit code {exit_code}'
    return ""


def _pod_ready(obj: Manifest) -> bool:
    ready = condition(obj, "Ready")
    return ready is not None and ready.get("status") == "True"


def pod_health(obj: Manifest) -> HealthResult:
    """Waiting errors (restartPolicy Always), then the pod phase.

    A missing ``restartPolicy`` counts as ``Always``, the API server's default. A
    running pod with another policy is usually a hook (Progressing until it ends),
    unless it carries ``argocd.argoproj.io/ignore-restart-policy``: then it is
    judged by readiness like an ``Always`` pod. As in gitops-engine, the
    annotation's presence counts, whatever its value.
    """
    restart_policy = str_at(obj, "spec", "restartPolicy") or "Always"
    containers = [s for s in list_at(obj, "status", "containerStatuses") if isinstance(s, Mapping)]
    message = str_at(obj, "status", "message")
    if restart_policy == "Always":
        errors = [
            str_at(s, "state", "waiting", "message")
            for s in containers
            if _is_error_reason(str_at(s, "state", "waiting", "reason"))
        ]
        if errors:
            return HealthResult(HealthStatus.DEGRADED, ", ".join(errors))
    phase = str_at(obj, "status", "phase")
    if phase == "Pending":
        return HealthResult(HealthStatus.PROGRESSING, message)
    if phase == "Succeeded":
        return HealthResult(HealthStatus.HEALTHY, message)
    if phase == "Failed":
        if message:
            return HealthResult(HealthStatus.DEGRADED, message)
        inits = [
            s for s in list_at(obj, "status", "initContainerStatuses") if isinstance(s, Mapping)
        ]
        reasons = (_terminated_message(s) for s in inits + containers)
        return HealthResult(HealthStatus.DEGRADED, next((r for r in reasons if r), ""))
    if phase == "Running":
        if restart_policy != "Always" and IGNORE_RESTART_POLICY not in annotations_of(obj):
            return HealthResult(HealthStatus.PROGRESSING, message)
        if _pod_ready(obj):
            return HealthResult(HealthStatus.HEALTHY, message)
        if any(dig(s, "lastState", "terminated") is not None for s in containers):
            return HealthResult(HealthStatus.DEGRADED, message)
        return HealthResult(HealthStatus.PROGRESSING, message)
    return HealthResult(HealthStatus.UNKNOWN, message)
