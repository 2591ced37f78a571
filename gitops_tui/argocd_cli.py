"""``--argocd [NAMESPACE]``: the command line's way to the Argo CD backend.

Kept apart from ``cli.py`` so the entry point only asks "Argo CD or the local
engine?": the option, its validation and the backend's construction live here.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from gitops_tui.config import ConfigError, Settings

if TYPE_CHECKING:  # imported where used: `gitops-tui sandbox ...` needs no backend
    from gitops_tui.argocd.backend import ArgoCDBackend, DiffProvider
    from gitops_tui.engine.diff.resource_diff import ResourceDiff
    from gitops_tui.headless import HeadlessEngine

LOCAL_DIFF_TIMEOUT_S = 120.0

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


def add_server_options(
    parser: argparse.ArgumentParser, default: Callable[[object], object]
) -> None:
    """``--argocd-server HOST[:PORT]`` and its transport and token options."""
    parser.add_argument(
        "--argocd-server",
        default=default(None),
        metavar="HOST[:PORT]",
        help="show and drive the Applications of an Argo CD through its API server (token: "
        "--auth-token, ARGOCD_AUTH_TOKEN, or the argocd CLI's config after `argocd login`)",
    )
    parser.add_argument(
        "--auth-token",
        default=default(None),
        metavar="TOKEN",
        help="Argo CD API token (prefer ARGOCD_AUTH_TOKEN: a command line is visible to others)",
    )
    for flag, what in (
        ("--plaintext", "plain HTTP to the Argo CD API server (no TLS)"),
        ("--insecure", "do not verify the Argo CD API server's TLS certificate"),
        ("--grpc-web", "accepted for the argocd CLI's sake: the REST gateway is used either way"),
    ):
        parser.add_argument(flag, action="store_true", default=default(None), help=what)


def bare_flag_before_command(argv: Sequence[str], parser: argparse.ArgumentParser) -> list[str]:
    """``--argocd list`` means the default namespace and the ``list`` command.

    ``nargs="?"`` would take ``list`` for the namespace; a bare ``--argocd`` directly
    before a subcommand name gets the default namespace spelled out instead.
    """
    commands: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            commands.update(action.choices)
    out: list[str] = []
    for index, arg in enumerate(argv):
        out.append(arg)
        if arg in commands:  # after the subcommand a value is a value
            return [*out, *argv[index + 1 :]]
        following = argv[index + 1] if index + 1 < len(argv) else None
        if arg == "--argocd" and following in commands:
            out.append(DEFAULT_NAMESPACE)
    return out


def namespace(value: str) -> str:
    if len(value) > 63 or not _NAMESPACE.match(value):
        raise ConfigError(
            f"--argocd: {value[:80]!r} is not a namespace name (lower-case letters, digits and '-')"
        )
    return value


def argocd_namespace(args: argparse.Namespace, settings: Settings) -> str | None:
    """``--argocd NAMESPACE``, else ``contexts.<ctx>.argocd.namespace`` of the context in
    use (``--context``/``context:``, else the kubeconfig's current one); None: local engine."""
    if getattr(args, "argocd", None) is not None:
        return namespace(str(args.argocd))
    if not settings.argocd_contexts or getattr(args, "apps", None) or args.from_cluster:
        return None
    from gitops_tui.engine.cache.kubeclient import list_contexts

    context = settings.context
    if context is None:
        try:
            _, context = list_contexts(settings.kubeconfig)
        except OSError:
            return None
    return dict(settings.argocd_contexts).get(context or "")


def make_backend(
    args: argparse.Namespace, settings: Settings, argocd_ns: str | None = None
) -> ArgoCDBackend:
    """The started backend for ``--argocd``; ``--apps``/``--from-cluster`` make no sense here."""
    from gitops_tui.argocd.backend import ArgoCDBackend, ArgoCDOptions

    if getattr(args, "apps", None) or getattr(args, "from_cluster", None):
        raise ConfigError(
            "--argocd shows the Applications Argo CD manages: leave out --apps and "
            "--from-cluster (they are for gitops-tui's own engine)"
        )
    argocd_ns = argocd_ns or namespace(str(args.argocd))
    options = ArgoCDOptions(
        namespace=argocd_ns,
        kubeconfig=settings.kubeconfig,
        context=settings.context,
        read_only_policy=settings.read_only_policy(),
        diff_provider=local_diff(settings, argocd_ns),
    )
    backend = ArgoCDBackend(options)
    try:
        backend.probe()
    except BaseException:
        backend.close()
        raise
    return backend.start()


def make_server_backend(args: argparse.Namespace, settings: Settings) -> HeadlessEngine:
    """The started backend for ``--argocd-server`` (probed first: a clear error now)."""
    import os

    from gitops_tui.argocd.server_backend import ArgoCDServerBackend, ServerOptions
    from gitops_tui.argocd.server_config import resolve_target

    if getattr(args, "apps", None) or getattr(args, "from_cluster", None) or args.argocd:
        raise ConfigError(
            "--argocd-server shows the Applications of that Argo CD: leave out --apps, "
            "--from-cluster and --argocd"
        )
    target = resolve_target(
        str(args.argocd_server),
        token=getattr(args, "auth_token", None),
        plaintext=True if getattr(args, "plaintext", None) else None,
        insecure=True if getattr(args, "insecure", None) else None,
        grpc_web=True if getattr(args, "grpc_web", None) else None,
        env=os.environ,
    )
    backend = ArgoCDServerBackend(
        ServerOptions(target=target, read_only_policy=settings.read_only_policy())
    )
    try:
        backend.probe()
    except BaseException:
        backend.close()
        raise
    return backend.start()


def local_diff(settings: Settings, argocd_namespace: str) -> DiffProvider:
    """Diffs from gitops-tui's own engine, run READ-ONLY over the same Application object.

    Argo CD keeps its rendered manifests in its repo server; the Kubernetes API does
    not show them. When this host can reach the app's repository, our engine renders
    the desired state and compares it with the live objects (normalised as for our
    own verdicts). It reads only: read-only is forced whatever the session says.
    """
    local = replace(
        settings, apps=(), from_cluster=argocd_namespace, read_only=True, read_only_flag=True
    )

    def diffs(app: str, context: int) -> list[ResourceDiff]:
        from gitops_tui.cli import make_engine
        from gitops_tui.engine.api import EngineError
        from gitops_tui.engine.model import SyncStatus

        engine = make_engine(
            argparse.Namespace(), interactive=False, only_apps=frozenset({app}), settings=local
        )
        try:
            if not engine.wait_until_compared(timeout=LOCAL_DIFF_TIMEOUT_S, apps=[app]):
                raise EngineError(
                    f"diff of {app}: not rendered within {LOCAL_DIFF_TIMEOUT_S:.0f} s "
                    "(diff needs repository access or the API server)"
                )
            snap = engine.snapshot().by_name.get(app)
            if snap is None or snap.sync == SyncStatus.UNKNOWN:
                why = "; ".join(c.message for c in snap.conditions) if snap else "not found"
                raise EngineError(
                    f"diff of {app} needs repository access or the API server: {why}",
                    title="Diff unavailable",
                )
            return engine.diffs(app, context=context)
        finally:
            engine.close()

    return diffs
