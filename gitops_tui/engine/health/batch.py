"""Batch: Job by its conditions."""

from __future__ import annotations

from collections.abc import Mapping

from gitops_tui.engine.health.base import (
    HealthResult,
    conditions,
    dig,
    list_at,
    str_at,
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


def cronjob_health(obj: Manifest) -> HealthResult:
    """Suspended; last run succeeded (or still running, or never finished: Healthy); last run failed.

    A CronJob says little: ``lastSuccessfulTime`` older than ``lastScheduleTime``
    with no active job means its last run failed (Degraded). Timestamps are RFC
    3339 in UTC, so comparing the strings orders them.
    """
    if dig(obj, "spec", "suspend") is True:
        return HealthResult(HealthStatus.SUSPENDED, "CronJob is Suspended")
    status = dig(obj, "status")
    if status is None:
        return HealthResult(HealthStatus.PROGRESSING, "Waiting for CronJob")
    if not isinstance(status, Mapping):
        raise TypeError("status is not a mapping")
    scheduled = str_at(obj, "status", "lastScheduleTime")
    if not scheduled:
        return HealthResult(HealthStatus.HEALTHY, "CronJob has not been scheduled yet")
    succeeded = str_at(obj, "status", "lastSuccessfulTime")
    if not succeeded:
        return HealthResult(
            HealthStatus.HEALTHY, "The CronJob never completed successfully. It may not be healthy"
        )
    if list_at(obj, "status", "active"):
        return HealthResult(
            HealthStatus.HEALTHY,
            "The job is running. Its last execution may not have been successful",
        )
    if succeeded < scheduled:
        return HealthResult(
            HealthStatus.DEGRADED, "CronJob has not completed its last execution successfully"
        )
    return HealthResult(
        HealthStatus.HEALTHY, "CronJob has completed its last execution successfully"
    )
