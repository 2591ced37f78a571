"""Waiting between waves: what a group applied must be healthy, what it pruned gone.

After every (phase, wave) group but the last, ``wait_healthy`` polls until each
object the group applied (and synced) is Healthy by the health rules
(``health/``), with the controller having observed its latest generation, and
each object it pruned is gone (or replaced by a namesake with another uid). A
Degraded object fails the wave at once; ``wave_timeout_s`` fails it naming the
first object still waited for; ``cancel`` ends the wait at once (``_Terminated``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from gitops_tui.engine.health.dispatch import resource_health
from gitops_tui.engine.model import HealthStatus, Manifest
from gitops_tui.engine.snapshot import ResultCode
from gitops_tui.engine.sync.kubeops import KubeOps
from gitops_tui.engine.sync.progress import Progress
from gitops_tui.engine.sync.settings import SyncSettings
from gitops_tui.engine.sync.work import Work, _Terminated, pause, uid


def _generation_pending(live: Manifest) -> bool:
    """The controller has not yet observed the latest spec (when it reports that at all)."""
    observed = (live.get("status") or {}).get("observedGeneration")
    generation = (live.get("metadata") or {}).get("generation")
    try:
        return observed is not None and generation is not None and int(observed) < int(generation)
    except (TypeError, ValueError):
        return False


def _health_wait_reason(
    conn: KubeOps, settings: SyncSettings, work: Work
) -> tuple[bool, str] | None:
    """None when healthy; (degraded, message) otherwise."""
    live = conn.live(work.key)
    if live is None:
        return False, "waiting for it to appear"
    health = resource_health(live, application_health=settings.application_health)
    if health is None:
        return None
    if _generation_pending(live):
        return False, "waiting for the controller to observe the new generation"
    if health.status is HealthStatus.HEALTHY:
        return None
    if health.status is HealthStatus.DEGRADED:
        return True, f"Degraded: {health.message}".rstrip(": ")
    return False, f"{health.status.value}: {health.message}".rstrip(": ")


def wait_healthy(
    conn: KubeOps,
    settings: SyncSettings,
    progress: Progress,
    cancel: threading.Event,
    phase: str,
    wave: int,
    works: Sequence[Work],
) -> str | None:
    """Wait until the group ``works`` settled; a failure message, or None."""
    entries = progress.entries
    applied = [
        w
        for w in works
        if w.is_apply and not w.task.skipped and entries[w.slot].status is ResultCode.SYNCED
    ]
    pruned = [w for w in works if w.is_prune and entries[w.slot].status is ResultCode.PRUNED]
    if not applied and not pruned:
        return None
    deadline = time.monotonic() + settings.wave_timeout_s
    while True:
        waiting: list[tuple[Work, str]] = []
        for work in applied:
            reason = _health_wait_reason(conn, settings, work)
            if reason is None:
                continue
            degraded, message = reason
            if degraded:
                return f"{work.key.display} is {message}"
            waiting.append((work, message))
        for work in pruned:
            live = conn.live(work.key)
            if live is not None and (not work.live_uid or uid(live) == work.live_uid):
                waiting.append((work, "waiting for the deletion to finish"))
        if not waiting:
            return None
        first, message = waiting[0]
        more = f" and {len(waiting) - 1} more" if len(waiting) > 1 else ""
        if time.monotonic() >= deadline:
            return (
                f"{phase} wave {wave} did not become healthy within "
                f"{settings.wave_timeout_s:g} s: {first.key.display} ({message}){more}"
            )
        progress.set_message(f"{phase} wave {wave}: {first.key.display} ({message}){more}")
        if pause(cancel):
            raise _Terminated()
