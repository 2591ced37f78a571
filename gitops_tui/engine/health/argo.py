"""Argo kinds: a live Application (opt-in), an ApplicationSet and Argo Workflows' Workflow."""

from __future__ import annotations

from collections.abc import Mapping

from gitops_tui.engine.health.base import (
    HealthResult,
    conditions,
    str_at,
)
from gitops_tui.engine.model import HealthStatus, Manifest, group_of

APPLICATION_GROUP = "argoproj.io"
APPLICATION_KIND = "Application"


def argo_application_health(obj: Manifest) -> HealthResult:
    """A live Argo CD Application's own ``status.health`` (Progressing until set).

    Not a built-in rule: upstream dropped it in Argo CD 1.8 and restores it only
    through the ``resource.customizations.health.argoproj.io_Application`` check
    in ``argocd-cm``; here the config key ``applicationHealth: true`` turns it on
    (see ``resource_health``).
    """
    word = str_at(obj, "status", "health", "status")
    message = str_at(obj, "status", "health", "message")
    if not word:
        return HealthResult(HealthStatus.PROGRESSING, message)
    try:
        return HealthResult(HealthStatus(word), message)
    except ValueError:
        return HealthResult(HealthStatus.UNKNOWN, message or f"unknown health status {word!r}")


APPLICATIONSET_KIND = "ApplicationSet"

_APPLICATIONSET_RULES = (
    ("ErrorOccurred", "True", HealthStatus.DEGRADED),
    ("ResourcesUpToDate", "False", HealthStatus.DEGRADED),
    ("RolloutProgressing", "True", HealthStatus.PROGRESSING),
    ("ResourcesUpToDate", "True", HealthStatus.HEALTHY),
)
"""(condition type, status, health), in the order Argo CD's script tries them."""


def applicationset_health(obj: Manifest) -> HealthResult:
    """An ApplicationSet from its controller's conditions, as Argo CD v3.2's
    ``resource_customizations/argoproj.io/ApplicationSet/health.lua``: the first rule
    any condition meets wins (an error, resources not up to date, a progressive sync
    rolling out, up to date); no such condition: Progressing until the controller
    reports."""
    found = conditions(obj)
    for kind, status, health in _APPLICATIONSET_RULES:
        for cond in found:
            if cond.get("type") == kind and cond.get("status") == status:
                return HealthResult(health, str(cond.get("message") or ""))
    return HealthResult(HealthStatus.PROGRESSING, "Waiting for the status to be reported")


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
    phase = str_at(obj, "status", "phase")
    return HealthResult(
        _WORKFLOW_PHASES.get(phase, HealthStatus.UNKNOWN), str_at(obj, "status", "message")
    )


def is_child_application(obj: Manifest) -> bool:
    return (
        group_of(str(obj.get("apiVersion", ""))) == APPLICATION_GROUP
        and obj.get("kind") == APPLICATION_KIND
    )
