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
    """App health from (health, is_hook) per managed object, as a live Argo CD decides it.

    Hooks are left out, and so is ``None`` (a live object without health, or a
    missing object whose kind has no health check: see ``app_health_input``). The
    worst of the rest wins, Missing included (a missing Service makes the app
    Missing, as Argo CD v3.2 shows it). With nothing counted the app is Healthy.
    """
    worst = HealthStatus.HEALTHY
    for health, hook in items:
        if hook or health is None:
            continue
        if health.severity > worst.severity:
            worst = health
    return worst
