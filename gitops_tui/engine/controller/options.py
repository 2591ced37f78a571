"""What the engine is started with (front ends fill it from flags and the config file)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitops_tui.engine.cache.readonly import ReadOnlyPolicy
from gitops_tui.engine.cache.tracking import TrackingMethod
from gitops_tui.engine.health.customizations import EMPTY as EMPTY_CUSTOMIZATIONS
from gitops_tui.engine.health.customizations import Customizations
from gitops_tui.engine.source.limits import ManifestLimits
from gitops_tui.engine.source.render import RenderPolicy


@dataclass(frozen=True)
class EngineOptions:
    app_paths: tuple[Path, ...] = ()
    kubeconfig: Path | None = None
    context: str | None = None
    read_only: bool = False
    read_only_contexts: frozenset[str] = frozenset()
    # where read-only came from (flag, config file); default: the two fields above
    read_only_policy: ReadOnlyPolicy | None = None
    from_cluster: str | None = None
    repo_poll_interval_s: float = 60.0
    tracking: TrackingMethod = "annotation"
    force_conflicts: bool = True
    """False (config ``forceConflicts: false``): syncs refuse field conflicts unless forced."""
    repo_cache_dir: Path | None = None
    prediction_cache_dir: Path | None = None
    """Dry-run predictions kept on disk across processes (``diff.prediction_disk``); None: off."""
    history_path: Path | None = None
    watch_local_repos: bool = True
    workers: int = 4
    automation: bool = True
    wave_timeout_s: float = 300.0
    # one-shot commands: no cluster-wide watches (GETs and per-namespace lists, as
    # kubectl), and only the named apps are processed
    watch: bool = True
    only_apps: frozenset[str] | None = None
    render_policy: RenderPolicy = RenderPolicy()  # sourceRepos are filled in per app
    # Argo CD's opt-in health check of live Application objects (status.health)
    application_health: bool = False
    limits: ManifestLimits = ManifestLimits()  # objects and bytes of manifests per app
    # resource customizations (config file + healthChecks dirs) and where argocd-cm lives
    customizations: Customizations = EMPTY_CUSTOMIZATIONS
    argocd_namespace: str = "argocd"
    argocd_config_map: bool = True
    # an app whose Application an Argo CD controller reconciled within this window is
    # left to Argo CD (argocd_guard); force_local: operator's --force-local
    argocd_reconcile_window_s: float = 600.0
    force_local: bool = False
