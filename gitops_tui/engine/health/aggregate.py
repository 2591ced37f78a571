"""App health: the worst of its managed objects (``setApplicationHealth``); what counts."""

from __future__ import annotations

from collections.abc import Iterable

from gitops_tui.engine.annotations import is_hook, is_skipped
from gitops_tui.engine.model import HealthStatus, Manifest


def left_out_of_app_health(desired: Manifest | None, live: Manifest | None) -> bool:
    """Skip-annotated targets and live hooks (including hooks that never run) do not count."""
    if desired is not None and is_skipped(desired):
        return True
    return live is not None and is_hook(live)


def aggregate_health(items: Iterable[tuple[HealthStatus | None, bool]]) -> HealthStatus:
    """App health from (health, is_hook) per managed object, as ``setApplicationHealth``.

    Hooks are left out. ``None`` is a live object without health. Missing objects
    do not worsen the app (OutOfSync already says so) unless no object is live:
    then the app is Missing. With no objects at all the app is Healthy.
    """
    worst = HealthStatus.HEALTHY
    counted = any_live = False
    for health, hook in items:
        if hook:
            continue
        counted = True
        if health == HealthStatus.MISSING:
            continue
        any_live = True
        if health is not None and health.severity > worst.severity:
            worst = health
    if counted and not any_live and HealthStatus.MISSING.severity > worst.severity:
        return HealthStatus.MISSING
    return worst
