"""Batch: Job by its conditions."""

from __future__ import annotations

from gitops_tui.engine.health.base import (
    HealthResult,
    conditions,
)
from gitops_tui.engine.model import HealthStatus, Manifest


def job_health(obj: Manifest) -> HealthResult:
    """Failed -> Degraded, Suspended -> Suspended, Complete -> Healthy, else Progressing."""
    failed = complete = suspended = False
    fail_message = message = ""
    for cond in conditions(obj):
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
