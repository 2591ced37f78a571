"""Cluster-level kinds judged by conditions or phase: HPA, APIService, Namespace."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gitops_tui.engine.annotations import annotations_of
from gitops_tui.engine.health.base import (
    HealthResult,
    condition,
    conditions,
    require_conditions,
    str_at,
)
from gitops_tui.engine.model import HealthStatus, Manifest

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
        return conditions(obj)
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
    available = condition(obj, "Available")
    if available is None:
        return HealthResult(HealthStatus.PROGRESSING, "Waiting to be processed")
    message = f"{available.get('reason', '')}: {available.get('message', '')}"
    status = HealthStatus.HEALTHY if available.get("status") == "True" else HealthStatus.PROGRESSING
    return HealthResult(status, message)


def namespace_health(obj: Manifest) -> HealthResult:
    """Active -> Healthy, Terminating -> Progressing."""
    phase = str_at(obj, "status", "phase")
    if phase == "Active":
        return HealthResult(HealthStatus.HEALTHY)
    if phase == "Terminating":
        return HealthResult(HealthStatus.PROGRESSING, "Namespace is terminating")
    return HealthResult(HealthStatus.UNKNOWN, f"unknown namespace phase {phase!r}" if phase else "")


def pdb_health(obj: Manifest) -> HealthResult:
    """``DisruptionAllowed`` and friends: a False condition is Degraded unless the reason is
    ``InsufficientPods`` (a budget that allows no disruption can be intended)."""
    found = require_conditions(obj)
    if not found:
        return HealthResult(HealthStatus.PROGRESSING, "Waiting for status")
    for cond in found:
        if cond.get("status") == "False" and cond.get("reason") != "InsufficientPods":
            return HealthResult(
                HealthStatus.DEGRADED, f"PodDisruptionBudget has {cond.get('reason', '')}"
            )
    return HealthResult(
        HealthStatus.HEALTHY, f"PodDisruptionBudget has {found[-1].get('reason', '')}"
    )
