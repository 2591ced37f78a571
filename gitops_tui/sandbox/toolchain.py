"""Find, and if missing build, the binaries gitops-tui needs from Go modules.

Stub for now: ``find_tool`` is final; the builder follows.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from gitops_tui.paths import cache_dir


def tools_dir() -> Path:
    return cache_dir() / "tools"


def find_tool(name: str) -> Path | None:
    """Locate binary ``name``: ``KUBEBUILDER_ASSETS``, the tool cache, then PATH."""
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets and (Path(assets) / name).is_file():
        return Path(assets) / name
    for candidate in sorted(tools_dir().glob(f"*/{name}")):
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    return Path(found) if found else None
