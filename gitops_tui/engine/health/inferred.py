"""An inferred health for custom resources without a rule, from the Kubernetes status
conventions (as ``kstatus`` reads them). Beyond Argo CD, which gives such resources no
health: shown per resource and marked ``inferred``; it counts in app health only when
the config says so (``inferredHealth: true``).

- ``status.observedGeneration`` behind ``metadata.generation``: Progressing;
- ``Stalled`` True: Degraded (the controller gave up);
- ``Reconciling`` True: Progressing;
- ``Ready`` False: Progressing (kstatus: not yet current), ``Ready`` True: Healthy;
- an observed generation and none of these conditions: Healthy.

A resource with none of these fields gets no inferred health.
"""

from __future__ import annotations

from gitops_tui.engine.health.base import (
    HealthResult,
    condition,
    generation,
    message_of,
    opt_int_at,
    require_conditions,
)
from gitops_tui.engine.model import HealthStatus, Manifest

INFERRED = "inferred"
PREFIX = "inferred: "
"""Every inferred message starts so: the snapshot and the console show it as inferred."""
_CONVENTION_TYPES = ("Ready", "Stalled", "Reconciling")


def inferred_health(obj: Manifest) -> HealthResult | None:
    """The kstatus-style reading of ``obj``'s status, or None when it follows no convention."""
    result = _infer(obj)
    if result is None:
        return None
    return HealthResult(result.status, PREFIX + result.message, INFERRED)


def _infer(obj: Manifest) -> HealthResult | None:
    try:
        require_conditions(obj)
        observed = opt_int_at(obj, "status", "observedGeneration")
    except (TypeError, ValueError):
        return None  # no convention to read: no inferred health
    found = {t: condition(obj, t) for t in _CONVENTION_TYPES}
    if observed is None and not any(found.values()):
        return None
    if observed is not None and generation(obj) > observed:
        return HealthResult(
            HealthStatus.PROGRESSING, f"generation {generation(obj)} not yet observed", INFERRED
        )
    stalled, reconciling, ready = found["Stalled"], found["Reconciling"], found["Ready"]
    if stalled is not None and stalled.get("status") == "True":
        return HealthResult(HealthStatus.DEGRADED, message_of(stalled, "stalled"), INFERRED)
    if reconciling is not None and reconciling.get("status") == "True":
        return HealthResult(
            HealthStatus.PROGRESSING, message_of(reconciling, "reconciling"), INFERRED
        )
    if ready is not None and ready.get("status") != "True":
        return HealthResult(HealthStatus.PROGRESSING, message_of(ready, "not ready"), INFERRED)
    message = message_of(ready) if ready is not None else "observed generation is current"
    return HealthResult(HealthStatus.HEALTHY, message, INFERRED)
