"""Flux: Kustomization, HelmRelease and the sources (GitRepository, HelmRepository, OCIRepository...).

Flux objects follow the Kubernetes status conventions (kstatus): ``spec.suspend``
stops reconciliation (Suspended); ``status.observedGeneration`` behind
``metadata.generation`` is an unobserved change; ``Stalled`` True is a failure
that retrying will not fix; ``Ready`` True is done, ``Ready`` Unknown or
``Reconciling`` True is work in progress, ``Ready`` False a failure.
"""

from __future__ import annotations

from gitops_tui.engine.health.base import (
    HealthResult,
    condition,
    dig,
    generation,
    message_of,
    opt_int_at,
    require_conditions,
    true_condition,
)
from gitops_tui.engine.model import HealthStatus, Manifest

FLUX_GROUPS = (
    "kustomize.toolkit.fluxcd.io",
    "helm.toolkit.fluxcd.io",
    "source.toolkit.fluxcd.io",
    "notification.toolkit.fluxcd.io",
    "image.toolkit.fluxcd.io",
)


def flux_health(obj: Manifest) -> HealthResult:
    """Suspended, unobserved generation, Stalled, then Ready/Reconciling."""
    kind = str(obj.get("kind", "object"))
    if dig(obj, "spec", "suspend") is True:
        return HealthResult(HealthStatus.SUSPENDED, f"{kind} is suspended")
    conditions = require_conditions(obj)
    observed = opt_int_at(obj, "status", "observedGeneration")
    if observed is not None and generation(obj) > observed:
        return HealthResult(HealthStatus.PROGRESSING, f"{kind} generation not yet observed")
    stalled = true_condition(obj, "Stalled")
    if stalled is not None:
        return HealthResult(HealthStatus.DEGRADED, message_of(stalled, "stalled"))
    ready = condition(obj, "Ready")
    reconciling = true_condition(obj, "Reconciling")
    if ready is not None and ready.get("status") == "True":
        return HealthResult(HealthStatus.HEALTHY, message_of(ready))
    if ready is not None and ready.get("status") == "False" and reconciling is None:
        return HealthResult(HealthStatus.DEGRADED, message_of(ready))
    if ready is None and reconciling is None and conditions:
        return HealthResult(HealthStatus.PROGRESSING, "Waiting for a Ready condition")
    return HealthResult(
        HealthStatus.PROGRESSING, message_of(reconciling or ready, "Waiting for reconciliation")
    )
