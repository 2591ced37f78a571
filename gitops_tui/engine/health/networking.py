"""Networking: Service (LoadBalancer address) and Ingress."""

from __future__ import annotations

from gitops_tui.engine.health.base import (
    HealthResult,
    list_at,
    str_at,
)
from gitops_tui.engine.model import HealthStatus, Manifest


def service_health(obj: Manifest) -> HealthResult:
    """A LoadBalancer waits for an ingress address; every other Service is Healthy."""
    if str_at(obj, "spec", "type") == "LoadBalancer" and not list_at(
        obj, "status", "loadBalancer", "ingress"
    ):
        return HealthResult(
            HealthStatus.PROGRESSING, "Waiting for the load balancer to get an address"
        )
    return HealthResult(HealthStatus.HEALTHY)


def ingress_health(obj: Manifest) -> HealthResult:
    """Healthy once the controller has published a load balancer address."""
    if list_at(obj, "status", "loadBalancer", "ingress"):
        return HealthResult(HealthStatus.HEALTHY)
    return HealthResult(
        HealthStatus.PROGRESSING, "Waiting for the ingress controller to assign an address"
    )
