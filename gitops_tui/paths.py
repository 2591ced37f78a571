"""Where gitops-tui keeps its files (XDG dirs through platformdirs, overridable by env)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

_APP = "gitops-tui"


def cache_dir() -> Path:
    """Git clones, rendered manifests, built tools. ``GITOPS_TUI_CACHE`` overrides."""
    return Path(os.environ.get("GITOPS_TUI_CACHE") or platformdirs.user_cache_dir(_APP))


def state_dir() -> Path:
    """Sync history and other durable state. ``GITOPS_TUI_STATE`` overrides."""
    return Path(os.environ.get("GITOPS_TUI_STATE") or platformdirs.user_state_dir(_APP))


def config_dir() -> Path:
    """``config.yaml``. ``GITOPS_TUI_CONFIG_DIR`` overrides."""
    return Path(os.environ.get("GITOPS_TUI_CONFIG_DIR") or platformdirs.user_config_dir(_APP))
