"""Storage: PersistentVolumeClaim by phase."""

from __future__ import annotations

from gitops_tui.engine.annotations import annotations_of
from gitops_tui.engine.health.base import (
    HealthResult,
    str_at,
)
from gitops_tui.engine.model import HealthStatus, Manifest

_PROVISIONER_ANNOTATIONS = (
    "volume.beta.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/storage-provisioner",
)


def pvc_health(obj: Manifest) -> HealthResult:
    """Bound -> Healthy, Lost -> Degraded; Pending is Progressing only while provisioning.

    A Pending claim with no provisioner at work waits for its first consumer
    (``WaitForFirstConsumer``), which upstream counts as Healthy.
    """
    phase = str_at(obj, "status", "phase")
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
