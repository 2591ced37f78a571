"""Argo Rollouts: Rollout, AnalysisRun, Experiment (``argoproj.io``).

From Argo Rollouts' documented status: a Rollout reports ``status.phase``
(Healthy, Progressing, Paused, Degraded) with ``status.message`` once it has
observed its spec (``status.observedGeneration``, a string in older releases);
``InvalidSpec`` is a Degraded spec; ``status.abort`` an aborted update. Analysis
runs and experiments have a terminal phase (Successful, Failed, Error,
Inconclusive) or are still Pending/Running.
"""

from __future__ import annotations

from collections.abc import Mapping

from gitops_tui.engine.health.base import (
    HealthResult,
    condition,
    dig,
    generation,
    require_conditions,
    require_mapping,
    str_at,
)
from gitops_tui.engine.model import HealthStatus, Manifest

_ROLLOUT_PHASES: Mapping[str, HealthStatus] = {
    "Healthy": HealthStatus.HEALTHY,
    "Progressing": HealthStatus.PROGRESSING,
    "Paused": HealthStatus.SUSPENDED,
    "Degraded": HealthStatus.DEGRADED,
}


def rollout_health(obj: Manifest) -> HealthResult:
    """InvalidSpec, observed generation, abort, pause, then ``status.phase``."""
    status = require_mapping(obj, "status")
    if status is None:
        return HealthResult(
            HealthStatus.PROGRESSING, "Waiting for rollout spec update to be observed"
        )
    require_conditions(obj)
    invalid = condition(obj, "InvalidSpec")
    if invalid is not None:
        return HealthResult(HealthStatus.DEGRADED, str(invalid.get("message") or "invalid spec"))
    observed = str_at(obj, "status", "observedGeneration")
    if observed and observed.isdigit() and generation(obj) > int(observed):
        return HealthResult(
            HealthStatus.PROGRESSING, "Waiting for rollout spec update to be observed"
        )
    if status.get("abort") is True:
        return HealthResult(
            HealthStatus.DEGRADED, str_at(obj, "status", "message") or "Rollout aborted update"
        )
    phase = str_at(obj, "status", "phase")
    message = str_at(obj, "status", "message")
    if not phase:
        if dig(obj, "spec", "paused") is True:
            return HealthResult(HealthStatus.SUSPENDED, "Rollout is paused")
        return HealthResult(HealthStatus.PROGRESSING, "Waiting for rollout to report its phase")
    if phase not in _ROLLOUT_PHASES:
        return HealthResult(HealthStatus.UNKNOWN, f"unknown rollout phase {phase!r}")
    return HealthResult(
        _ROLLOUT_PHASES[phase], message or ("Rollout is paused" if phase == "Paused" else "")
    )


_RUN_PHASES: Mapping[str, tuple[HealthStatus, str]] = {
    "": (HealthStatus.PROGRESSING, "status has not been reconciled"),
    "Pending": (HealthStatus.PROGRESSING, "is pending"),
    "Running": (HealthStatus.PROGRESSING, "is running"),
    "Successful": (HealthStatus.HEALTHY, "completed successfully"),
    "Failed": (HealthStatus.DEGRADED, "failed"),
    "Error": (HealthStatus.DEGRADED, "had an error"),
    "Inconclusive": (HealthStatus.UNKNOWN, "was inconclusive"),
}


def _run_health(obj: Manifest, what: str) -> HealthResult:
    require_mapping(obj, "status")
    phase = str_at(obj, "status", "phase")
    if phase not in _RUN_PHASES:
        return HealthResult(HealthStatus.UNKNOWN, f"unknown {what} phase {phase!r}")
    status, words = _RUN_PHASES[phase]
    return HealthResult(status, str_at(obj, "status", "message") or f"{what} {words}")


def analysisrun_health(obj: Manifest) -> HealthResult:
    """By ``status.phase``: Successful, Failed/Error, Inconclusive (Unknown), else Progressing."""
    return _run_health(obj, "Analysis run")


def experiment_health(obj: Manifest) -> HealthResult:
    """By ``status.phase``, like an analysis run."""
    return _run_health(obj, "Experiment")
