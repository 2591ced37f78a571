"""``--argocd [NAMESPACE]``: the command line's way to the Argo CD backend.

Kept apart from ``cli.py`` so the entry point only asks "Argo CD or the local
engine?": the option, its validation and the backend's construction live here.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from gitops_tui.config import ConfigError, Settings

if TYPE_CHECKING:  # imported where used: `gitops-tui sandbox ...` needs no backend
    from gitops_tui.argocd.backend import ArgoCDBackend

DEFAULT_NAMESPACE = "argocd"
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def add_option(parser: argparse.ArgumentParser, default: Callable[[object], object]) -> None:
    parser.add_argument(
        "--argocd",
        nargs="?",
        const=DEFAULT_NAMESPACE,
        default=default(None),
        metavar="NAMESPACE",
        help="show and drive the Applications of an installed Argo CD in NAMESPACE "
        f"(default {DEFAULT_NAMESPACE}): Argo CD compares and syncs, gitops-tui is the console",
    )


def namespace(value: str) -> str:
    if len(value) > 63 or not _NAMESPACE.match(value):
        raise ConfigError(
            f"--argocd: {value[:80]!r} is not a namespace name (lower-case letters, digits and '-')"
        )
    return value


def make_backend(args: argparse.Namespace, settings: Settings) -> ArgoCDBackend:
    """The started backend for ``--argocd``; ``--apps``/``--from-cluster`` make no sense here."""
    from gitops_tui.argocd.backend import ArgoCDBackend, ArgoCDOptions

    if getattr(args, "apps", None) or getattr(args, "from_cluster", None):
        raise ConfigError(
            "--argocd shows the Applications Argo CD manages: leave out --apps and "
            "--from-cluster (they are for gitops-tui's own engine)"
        )
    options = ArgoCDOptions(
        namespace=namespace(str(args.argocd)),
        kubeconfig=settings.kubeconfig,
        context=settings.context,
        read_only_policy=settings.read_only_policy(),
    )
    return ArgoCDBackend(options).start()
