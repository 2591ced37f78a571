"""How to run one sync operation (``SyncSettings``) and each object's sync options.

An object's own ``argocd.argoproj.io/sync-options`` win (desired, then live), else the
app's ``syncPolicy.syncOptions``: ``Replace``, ``ServerSideApply``, ``Validate``,
``SkipDryRunOnMissingResource``, ``PrunePropagationPolicy`` (foreground by default)
and whether server-side apply forces conflicts (``takeover.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gitops_tui.engine.annotations import sync_options
from gitops_tui.engine.cache.tracking import TrackingMethod
from gitops_tui.engine.sync.takeover import forces_conflicts
from gitops_tui.engine.sync.work import TaskError, Work

_PROPAGATION = {"foreground": "Foreground", "background": "Background", "orphan": "Orphan"}


@dataclass(frozen=True)
class SyncSettings:
    """How to run one sync operation (the plan says what to do)."""

    app: str
    revision: str
    destination_namespace: str
    app_options: Mapping[str, str]
    """``syncPolicy.syncOptions`` parsed (``parse_sync_option_list``)."""
    dry_run: bool = False
    """Only the server dry run: nothing changes."""
    force: bool = False
    force_conflicts: bool = True
    """Server-side apply takes over fields other managers own (Argo CD's default); False
    (``--no-force-conflicts``) refuses with a conflict, unless ``force`` or ``Force=true``."""
    prune: bool = False
    """Manual ``--prune`` / ``automated.prune`` (the plan already marks PRUNE_SKIPPED)."""
    wave_timeout_s: float = 300.0
    hook_timeout_s: float = 300.0
    concurrency: int = 8
    initiated_by: str = "user"
    application_health: bool = False
    """The opt-in health rule of live Applications (waves wait for child apps)."""
    tracking: TrackingMethod = "annotation"
    """How the app's objects are tracked (a hook may only replace the app's own hook)."""


def option(work: Work, settings: SyncSettings, name: str) -> str | None:
    """The object's own sync option (desired, then live), else the app's."""
    for options in (work.task.options, sync_options(work.task.live or {})):
        if name in options:
            return options[name]
    return settings.app_options.get(name)


def is_true(work: Work, settings: SyncSettings, name: str) -> bool:
    value = option(work, settings, name)
    return value is not None and value.lower() == "true"


def is_false(work: Work, settings: SyncSettings, name: str) -> bool:
    value = option(work, settings, name)
    return value is not None and value.lower() == "false"


def propagation(work: Work, settings: SyncSettings) -> str:
    """The deletion propagation policy of ``work`` (``PrunePropagationPolicy``)."""
    raw = option(work, settings, "PrunePropagationPolicy")
    if raw is None or not raw.strip():
        return "Foreground"
    found = _PROPAGATION.get(raw.strip().lower())
    if found is None:
        raise TaskError(
            f"invalid PrunePropagationPolicy={raw!r} (expected foreground, background or orphan)"
        )
    return found


def force(work: Work, settings: SyncSettings) -> bool:
    """Whether server-side apply of ``work`` forces field conflicts."""
    options = dict(sync_options(work.task.live or {}))
    options.update(work.task.options)
    return forces_conflicts(
        options, settings.app_options, force=settings.force, default=settings.force_conflicts
    )
