"""Operators' custom resources: KEDA, CloudNativePG, Crossplane, Knative, Strimzi, Istio.

Each rule reads the status its project documents:

- KEDA ScaledObject/ScaledJob: ``Ready`` (False -> Degraded), ``Fallback`` True
  (Degraded: metrics fail, fallback replicas in use), ``Paused`` True (Suspended).
- CloudNativePG Cluster: ``cnpg.io/reconciliation: disabled`` or hibernation
  (Suspended), then ``status.phase`` (the operator's phase sentences).
- Crossplane managed resources, claims and composites (any ``*.crossplane.io``
  group, or ``*.upbound.io`` providers): ``crossplane.io/paused`` (Suspended),
  ``Synced`` False (Degraded: the provider cannot reconcile), ``Ready``.
- Knative Service (and Route/Configuration/Revision): ``Ready`` True/False/Unknown.
- Strimzi Kafka (and KafkaTopic, KafkaUser, KafkaConnect...): ``Ready`` True,
  ``NotReady`` True (Degraded unless still ``Creating``), else Progressing.
- Istio IstioOperator: ``status.status`` (HEALTHY, RECONCILING, UPDATING, ERROR).
"""

from __future__ import annotations

from collections.abc import Mapping

from gitops_tui.engine.annotations import annotations_of
from gitops_tui.engine.health.base import (
    HealthResult,
    condition,
    generation,
    message_of,
    opt_int_at,
    require_conditions,
    require_mapping,
    str_at,
    true_condition,
)
from gitops_tui.engine.model import HealthStatus, Manifest

# -- KEDA ------------------------------------------------------------------------------


def keda_health(obj: Manifest) -> HealthResult:
    """ScaledObject and ScaledJob."""
    require_conditions(obj)
    ready = condition(obj, "Ready")
    fallback = true_condition(obj, "Fallback")
    if ready is not None and ready.get("status") == "False":
        return HealthResult(HealthStatus.DEGRADED, message_of(ready))
    if fallback is not None:
        return HealthResult(HealthStatus.DEGRADED, message_of(fallback, "using fallback replicas"))
    if ready is not None and ready.get("status") == "True":
        paused = true_condition(obj, "Paused")
        if paused is not None:
            return HealthResult(HealthStatus.SUSPENDED, message_of(paused, "autoscaling is paused"))
        return HealthResult(HealthStatus.HEALTHY, message_of(ready))
    return HealthResult(HealthStatus.PROGRESSING, "Creating HorizontalPodAutoscaler Object")


# -- CloudNativePG ---------------------------------------------------------------------

_CNPG_PHASES: Mapping[str, HealthStatus] = {
    "Cluster in healthy state": HealthStatus.HEALTHY,
    "Setting up primary": HealthStatus.PROGRESSING,
    "Creating a new replica": HealthStatus.PROGRESSING,
    "Upgrading cluster": HealthStatus.PROGRESSING,
    "Waiting for the instances to become active": HealthStatus.PROGRESSING,
    "Promoting to primary cluster": HealthStatus.PROGRESSING,
    "Switchover in progress": HealthStatus.DEGRADED,
    "Failing over": HealthStatus.DEGRADED,
    "Upgrading Postgres major version": HealthStatus.DEGRADED,
    "Cluster upgrade delayed": HealthStatus.DEGRADED,
    "Waiting for user action": HealthStatus.DEGRADED,
    "Primary instance is being restarted in-place": HealthStatus.DEGRADED,
    "Primary instance is being restarted without a switchover": HealthStatus.DEGRADED,
    "Online upgrade in progress": HealthStatus.DEGRADED,
    "Applying configuration": HealthStatus.DEGRADED,
    "Unable to create required cluster objects": HealthStatus.SUSPENDED,
    "Cluster is unrecoverable and needs manual intervention": HealthStatus.SUSPENDED,
}
"""CloudNativePG's phase sentences; while the operator switches primaries the
database is briefly unavailable, hence Degraded."""


def cnpg_cluster_health(obj: Manifest) -> HealthResult:
    """Reconciliation disabled / hibernation, then the phase sentence."""
    if annotations_of(obj).get("cnpg.io/reconciliation") == "disabled":
        return HealthResult(HealthStatus.SUSPENDED, "Cluster reconciliation is suspended")
    if require_mapping(obj, "status") is None:
        return HealthResult(HealthStatus.PROGRESSING, "Waiting for the cluster to be set up")
    require_conditions(obj)
    hibernation = condition(obj, "cnpg.io/hibernation")
    if hibernation is not None:
        status = (
            HealthStatus.SUSPENDED if hibernation.get("status") == "True" else HealthStatus.DEGRADED
        )
        return HealthResult(status, message_of(hibernation, "hibernation"))
    phase = str_at(obj, "status", "phase")
    reason = str_at(obj, "status", "phaseReason")
    if not phase:
        return HealthResult(
            HealthStatus.PROGRESSING, reason or "Waiting for the cluster to be set up"
        )
    if phase not in _CNPG_PHASES:
        return HealthResult(HealthStatus.UNKNOWN, reason or f"unknown cluster phase {phase!r}")
    return HealthResult(_CNPG_PHASES[phase], reason or phase)


# -- Crossplane ------------------------------------------------------------------------

CROSSPLANE_SUFFIXES = (".crossplane.io", ".upbound.io")


def is_crossplane(group: str) -> bool:
    """Crossplane core, its providers (``*.crossplane.io``, ``*.upbound.io``)."""
    return group.endswith(CROSSPLANE_SUFFIXES) or group == "crossplane.io"


def crossplane_health(obj: Manifest) -> HealthResult:
    """Paused, Synced False (Degraded), Ready True (Healthy), Ready False (Progressing)."""
    if annotations_of(obj).get("crossplane.io/paused") == "true":
        return HealthResult(HealthStatus.SUSPENDED, "Reconciliation is paused")
    conditions = require_conditions(obj)
    synced = condition(obj, "Synced")
    if synced is not None and synced.get("status") == "False":
        return HealthResult(HealthStatus.DEGRADED, message_of(synced, "not synced"))
    ready = condition(obj, "Ready")
    healthy_kind = condition(obj, "Healthy")  # packages (Provider, Function, Configuration)
    if healthy_kind is not None and healthy_kind.get("status") == "False":
        return HealthResult(HealthStatus.DEGRADED, message_of(healthy_kind, "unhealthy"))
    if ready is not None and ready.get("status") == "True":
        return HealthResult(HealthStatus.HEALTHY, message_of(ready, "Resource is up-to-date"))
    if ready is None and healthy_kind is not None and healthy_kind.get("status") == "True":
        return HealthResult(HealthStatus.HEALTHY, message_of(healthy_kind))
    if not conditions:
        return HealthResult(HealthStatus.PROGRESSING, "Waiting for the resource to be created")
    return HealthResult(HealthStatus.PROGRESSING, message_of(ready, "Waiting to become ready"))


# -- Knative, Strimzi ------------------------------------------------------------------


def knative_health(obj: Manifest) -> HealthResult:
    """Unobserved generation, then ``Ready`` True/False/Unknown."""
    require_conditions(obj)
    observed = opt_int_at(obj, "status", "observedGeneration")
    if observed is not None and generation(obj) > observed:
        return HealthResult(
            HealthStatus.PROGRESSING, "Waiting for the new generation to be observed"
        )
    ready = condition(obj, "Ready")
    if ready is not None and ready.get("status") == "True":
        return HealthResult(HealthStatus.HEALTHY, message_of(ready))
    if ready is not None and ready.get("status") == "False":
        return HealthResult(HealthStatus.DEGRADED, message_of(ready, "not ready"))
    return HealthResult(HealthStatus.PROGRESSING, message_of(ready, "Waiting to become ready"))


def strimzi_health(obj: Manifest) -> HealthResult:
    """``NotReady`` True (unless Creating) -> Degraded; ``Ready`` True -> Healthy."""
    require_conditions(obj)
    not_ready = true_condition(obj, "NotReady")
    if not_ready is not None and not_ready.get("reason") != "Creating":
        return HealthResult(HealthStatus.DEGRADED, message_of(not_ready, "not ready"))
    if true_condition(obj, "Ready") is not None:
        return HealthResult(HealthStatus.HEALTHY)
    return HealthResult(HealthStatus.PROGRESSING, f"Waiting for {obj.get('kind', 'resource')}")


# -- Istio -----------------------------------------------------------------------------

_ISTIO_STATES: Mapping[str, HealthStatus] = {
    "HEALTHY": HealthStatus.HEALTHY,
    "RECONCILING": HealthStatus.PROGRESSING,
    "UPDATING": HealthStatus.PROGRESSING,
    "NONE": HealthStatus.PROGRESSING,
    "": HealthStatus.PROGRESSING,
    "ERROR": HealthStatus.DEGRADED,
    "ACTION_REQUIRED": HealthStatus.DEGRADED,
}


def istio_operator_health(obj: Manifest) -> HealthResult:
    """IstioOperator's overall ``status.status``."""
    require_mapping(obj, "status")
    state = str_at(obj, "status", "status")
    message = str_at(obj, "status", "message")
    if state not in _ISTIO_STATES:
        return HealthResult(HealthStatus.UNKNOWN, message or f"unknown status {state!r}")
    return HealthResult(
        _ISTIO_STATES[state], message or (state.capitalize() if state else "Waiting for status")
    )
