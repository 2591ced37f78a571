"""Where the external binaries are: kubectl, kustomize, helm (and the sandbox's own).

The engine only looks tools up; building them from Go modules is the sandbox's job
(``gitops_tui.sandbox.toolchain``), which keeps its builds in the per-user cache at
``<cache>/tools/<component>-<version>/<binary>`` with a ``.complete`` marker once a
build finished. Both sides take the pinned versions and that layout from here, so
the engine never imports the sandbox.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from gitops_tui.paths import cache_dir

KUBERNETES_VERSION = "v1.34.4"
ETCD_VERSION = "v3.6.4"  # what k8s.io/apiserver v0.34 requires
KWOK_VERSION = "v0.7.0"  # the last release with built-in default stages
KUSTOMIZE_VERSION = "v5.8.1"
HELM_VERSION = "v3.19.5"

COMPLETE_MARKER = ".complete"

# binary -> (component, version): the cache directory a pinned build lands in
PINNED: dict[str, tuple[str, str]] = {
    "etcd": ("etcd", ETCD_VERSION),
    "kube-apiserver": ("kubernetes", KUBERNETES_VERSION),
    "kube-controller-manager": ("kubernetes", KUBERNETES_VERSION),
    "kube-scheduler": ("kubernetes", KUBERNETES_VERSION),
    "kubectl": ("kubernetes", KUBERNETES_VERSION),
    "kwok": ("kwok", KWOK_VERSION),
    "kustomize": ("kustomize", KUSTOMIZE_VERSION),
    "helm": ("helm", HELM_VERSION),
}


def tools_dir() -> Path:
    """The per-user cache of built tools (``GITOPS_TUI_CACHE`` moves it)."""
    return cache_dir() / "tools"


def component_key(name: str, version: str) -> str:
    """The cache directory name of one component build: ``<name>-<version>``."""
    return f"{name}-{version}"


def pinned_path(binary: str) -> Path | None:
    """Where the cache keeps ``binary`` at its pinned version; None for an unknown binary."""
    pin = PINNED.get(binary)
    if pin is None:
        return None
    return tools_dir() / component_key(*pin) / binary


def find_tool(name: str) -> Path | None:
    """Locate ``name``: ``KUBEBUILDER_ASSETS``, the pinned build in the cache, then PATH."""
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets and os.access(Path(assets) / name, os.X_OK):
        return Path(assets) / name
    pinned = pinned_path(name)
    if (
        pinned is not None
        and (pinned.parent / COMPLETE_MARKER).exists()
        and os.access(pinned, os.X_OK)
    ):
        return pinned
    found = shutil.which(name)
    return Path(found) if found else None
