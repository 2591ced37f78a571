"""cert-manager, External Secrets and Bitnami Sealed Secrets: all judged by conditions.

cert-manager: a Certificate is ``Issuing`` (Progressing) until ``Ready`` says
True (Healthy) or False (Degraded); a CertificateRequest is Degraded when
``InvalidRequest``/``Denied`` or ``Ready`` False with reason Failed/Denied;
Issuers are ``Ready`` or not. External Secrets: ``Ready`` (reason
``SecretSyncedError`` / ``ValidationFailed`` when False). SealedSecret: the
controller's ``Synced`` condition once it has observed the generation.
"""

from __future__ import annotations

from gitops_tui.engine.health.base import (
    HealthResult,
    condition,
    generation,
    message_of,
    opt_int_at,
    require_conditions,
    true_condition,
)
from gitops_tui.engine.model import HealthStatus, Manifest


def _ready_rule(obj: Manifest, waiting: str) -> HealthResult:
    """``Ready`` True -> Healthy, False -> Degraded, else Progressing with ``waiting``."""
    require_conditions(obj)
    ready = condition(obj, "Ready")
    if ready is not None and ready.get("status") == "True":
        return HealthResult(HealthStatus.HEALTHY, message_of(ready))
    if ready is not None and ready.get("status") == "False":
        return HealthResult(HealthStatus.DEGRADED, message_of(ready))
    return HealthResult(HealthStatus.PROGRESSING, message_of(ready, waiting))


def certificate_health(obj: Manifest) -> HealthResult:
    """``Issuing`` True wins (Progressing); then ``Ready``."""
    require_conditions(obj)
    issuing = true_condition(obj, "Issuing")
    if issuing is not None:
        return HealthResult(HealthStatus.PROGRESSING, message_of(issuing, "Issuing certificate"))
    return _ready_rule(obj, "Waiting for certificate")


def certificate_request_health(obj: Manifest) -> HealthResult:
    """Denied/InvalidRequest or Ready False (Failed, Denied) -> Degraded; Ready True -> Healthy."""
    require_conditions(obj)
    for bad in ("InvalidRequest", "Denied"):
        found = true_condition(obj, bad)
        if found is not None:
            return HealthResult(HealthStatus.DEGRADED, message_of(found, bad))
    ready = condition(obj, "Ready")
    if ready is not None and ready.get("status") == "True":
        return HealthResult(HealthStatus.HEALTHY, message_of(ready))
    if (
        ready is not None
        and ready.get("status") == "False"
        and ready.get("reason")
        in (
            "Failed",
            "Denied",
        )
    ):
        return HealthResult(HealthStatus.DEGRADED, message_of(ready))
    return HealthResult(HealthStatus.PROGRESSING, message_of(ready, "Waiting for certificate"))


def issuer_health(obj: Manifest) -> HealthResult:
    """Issuer and ClusterIssuer: ``Ready``."""
    return _ready_rule(obj, "Initializing issuer")


def external_secret_health(obj: Manifest) -> HealthResult:
    """ExternalSecret, SecretStore, ClusterSecretStore (and Push/Cluster variants): ``Ready``."""
    return _ready_rule(obj, f"Waiting for {obj.get('kind', 'resource')} to be reconciled")


def sealed_secret_health(obj: Manifest) -> HealthResult:
    """Not yet observed -> Progressing; ``Synced`` True -> Healthy, False -> Degraded."""
    require_conditions(obj)
    observed = opt_int_at(obj, "status", "observedGeneration")
    if observed is not None and generation(obj) > observed:
        return HealthResult(HealthStatus.PROGRESSING, "Waiting for the controller to unseal")
    synced = condition(obj, "Synced")
    if synced is None:
        return HealthResult(HealthStatus.PROGRESSING, "Waiting for the controller to unseal")
    if synced.get("status") == "True":
        return HealthResult(HealthStatus.HEALTHY, message_of(synced))
    return HealthResult(HealthStatus.DEGRADED, message_of(synced, "failed to unseal"))
