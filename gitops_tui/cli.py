"""Entry point: the TUI (no subcommand, or ``ui``) and the headless subcommands."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from gitops_tui import __version__, appset_args, config_cli, delete_app_cli, health_cli, logs_cli
from gitops_tui import argocd_cli as argocd_wiring
from gitops_tui.config import ConfigError, Settings, load_settings, merge_cli
from gitops_tui.engine.errors import GitOpsError
from gitops_tui.engine.textsafe import PrintableFormatter
from gitops_tui.sandbox import cli as sandbox_cli

if TYPE_CHECKING:  # imported where used: the sandbox commands need no engine
    from gitops_tui.engine.controller.engine import Engine
    from gitops_tui.headless import HeadlessEngine

DEFAULT_FROM_CLUSTER = "argocd"
DEFAULT_COMPARE_TIMEOUT_S = 180.0


def _common(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """Options accepted before and after the subcommand.

    Subcommand parsers must not reset what the top level parsed, so their
    defaults are SUPPRESS; the top level holds the real defaults.
    """

    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    parser.add_argument(
        "--apps",
        action="append",
        type=Path,
        metavar="PATH",
        default=default(None),
        help="Application manifest file or directory (repeatable)",
    )
    parser.add_argument(
        "--from-cluster",
        nargs="?",
        const=DEFAULT_FROM_CLUSTER,
        default=default(None),
        metavar="NAMESPACE",
        help=f"also read Application objects from this namespace (default {DEFAULT_FROM_CLUSTER})",
    )
    parser.add_argument("--kubeconfig", type=Path, default=default(None))
    parser.add_argument(
        "--context", default=default(None), help="kubeconfig context for in-cluster destinations"
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        default=default(None),
        help="never change the cluster (the engine refuses every mutation)",
    )
    parser.add_argument(
        "--config", type=Path, default=default(None), help="config file (default: XDG config dir)"
    )
    parser.add_argument("--tracking", choices=("annotation", "label"), default=default(None))
    parser.add_argument(
        "--no-cache",
        action="store_true",
        default=default(False),
        help="neither read nor write dry-run predictions on disk (config predictionCache: false)",
    )
    argocd_wiring.add_option(parser, default)
    argocd_wiring.add_server_options(parser, default)


FORCE_LOCAL_HELP = (
    "apply although an Argo CD controller reconciles the app (its Application was "
    "reconciled recently): two engines would fight over its objects"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gitops-tui",
        description="A keyboard-driven terminal console for GitOps on Kubernetes (Argo CD Applications).",
    )
    parser.add_argument("--version", action="version", version=f"gitops-tui {__version__}")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command")

    ui = sub.add_parser("ui", help="the terminal console (default)")
    _common(ui)

    lst = sub.add_parser("list", help="list apps with sync status and health")
    _common(lst)
    lst.add_argument("--output", "-o", choices=("text", "json"), default="text")

    diff = sub.add_parser("diff", help="show what differs between Git and the cluster for an app")
    _common(diff)
    diff.add_argument("app")
    diff.add_argument("--exit-code", action="store_true", help="exit 1 when there are differences")
    diff.add_argument("--output", "-o", choices=("text", "json"), default="text")

    sync = sub.add_parser("sync", help="make the cluster match Git for one or more apps")
    _common(sync)
    sync.add_argument(
        "app", nargs="+", metavar="APP", help="apps to sync (several run concurrently)"
    )
    sync.add_argument(
        "--prune", action="store_true", help="delete tracked objects Git no longer has"
    )
    sync.add_argument(
        "--dry-run", action="store_true", help="server-side dry run only; change nothing"
    )
    conflicts = sync.add_mutually_exclusive_group()
    conflicts.add_argument(
        "--force",
        action="store_true",
        help="take over fields owned by other managers, even where the app or object sets "
        "ServerSideApplyForceConflicts=false",
    )
    conflicts.add_argument(
        "--no-force-conflicts",
        dest="force_conflicts",
        action="store_false",
        help="fail on fields another manager owns (kubectl scale/edit) instead of taking "
        "them back, which is the default",
    )
    sync.add_argument("--apply-out-of-sync-only", action="store_true")
    sync.add_argument("--force-local", action="store_true", help=FORCE_LOCAL_HELP)
    sync.add_argument(
        "--resource",
        action="append",
        default=[],
        metavar="GROUP/KIND/NAMESPACE/NAME",
        help="sync only these resources (repeatable)",
    )
    sync.add_argument(
        "--async", dest="wait", action="store_false", help="start the sync and return"
    )
    sync.add_argument("--timeout", type=float, default=600.0)
    sync.add_argument("--output", "-o", choices=("text", "json"), default="text")

    plan = sub.add_parser(
        "plan", help="what a sync of these apps (default: every OutOfSync app) would do"
    )
    _common(plan)
    plan.add_argument("apps_to_plan", nargs="*", metavar="APP")
    plan.add_argument("--prune", action="store_true", help="include prunes")
    plan.add_argument("--output", "-o", choices=("text", "json"), default="text")

    hist = sub.add_parser("history", help="past syncs of an app")
    _common(hist)
    hist.add_argument("app")
    hist.add_argument("--output", "-o", choices=("text", "json"), default="text")

    rollback = sub.add_parser(
        "rollback", help="re-sync a recorded revision (turns automation off first)"
    )
    _common(rollback)
    rollback.add_argument("app")
    rollback.add_argument("id", type=int)
    rollback.add_argument("--timeout", type=float, default=600.0)
    rollback.add_argument("--force-local", action="store_true", help=FORCE_LOCAL_HELP)

    demo = sub.add_parser("demo", help="start the sandbox, create sample apps, open the console")
    demo.add_argument(
        "--dir", type=Path, default=None, help="demo directory (default: XDG state dir)"
    )
    demo.add_argument(
        "--no-ui", action="store_true", help="prepare everything and print how to open it"
    )

    logs = logs_cli.add_parser(sub, _common)
    delete_app = delete_app_cli.add_parser(sub, _common)
    for one_shot in (lst, diff, sync, plan, rollback, logs, delete_app):
        one_shot.add_argument(
            "--compare-timeout",
            type=float,
            default=DEFAULT_COMPARE_TIMEOUT_S,
            metavar="SECONDS",
            help=f"give up (exit 2) when the apps are not compared by then "
            f"(default {DEFAULT_COMPARE_TIMEOUT_S:g})",
        )
    sandbox_cli.add_parser(sub)
    appset_args.add_parser(sub, _common)
    health_cli.add_parser(sub)
    config_cli.add_parser(sub)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config)
    if args.config is not None and not args.config.exists():
        raise ConfigError(f"{args.config}: no such config file")
    return merge_cli(
        settings,
        apps=args.apps,
        from_cluster=args.from_cluster,
        kubeconfig=args.kubeconfig,
        context=args.context,
        read_only=args.read_only,
        tracking=args.tracking,
    )


def make_engine(
    args: argparse.Namespace,
    *,
    interactive: bool,
    only_apps: frozenset[str] | None = None,
    settings: Settings | None = None,
) -> Engine:
    """The engine for this command. One-shot commands about named apps process only
    those apps and read the cluster like kubectl (GETs, per-namespace lists) instead
    of starting cluster-wide watches."""
    from gitops_tui.engine.controller.engine import Engine, EngineOptions
    from gitops_tui.engine.source.render import RenderPolicy

    settings = settings if settings is not None else _settings(args)
    if not settings.apps and not settings.from_cluster:
        raise ConfigError(
            "no applications: pass --apps PATH (files or directories of Argo CD Application manifests), "
            "--from-cluster [NAMESPACE], or list them under `apps:` in the config file"
        )
    options = EngineOptions(
        app_paths=settings.apps,
        kubeconfig=settings.kubeconfig,
        context=settings.context,
        read_only=settings.read_only,
        read_only_contexts=settings.read_only_contexts,
        read_only_policy=settings.read_only_policy(),
        limits=settings.limits,
        from_cluster=settings.from_cluster,
        repo_poll_interval_s=settings.repo_poll_interval_s,
        tracking=settings.tracking,
        render_policy=RenderPolicy(
            remote_bases=settings.kustomize_remote_bases,
            remote_chart_repositories=settings.helm_chart_repositories,
        ),
        application_health=settings.application_health,
        force_conflicts=settings.force_conflicts,
        argocd_reconcile_window_s=settings.argocd_reconcile_window_s,
        force_local=bool(getattr(args, "force_local", False)),
        prediction_cache_dir=_prediction_cache_dir(args, settings),
        **health_cli.health_rule_options(settings),
        watch_local_repos=interactive,
        automation=interactive,
        watch=interactive or only_apps is None,
        only_apps=only_apps,
    )
    return Engine(options).start()


def _prediction_cache_dir(args: argparse.Namespace, settings: Settings) -> Path | None:
    """Where predictions are kept across processes (None: ``--no-cache`` / ``predictionCache: false``)."""
    from gitops_tui.paths import cache_dir

    if getattr(args, "no_cache", False) or not settings.prediction_cache:
        return None
    return cache_dir() / "predictions"


def _sync_in_background(argv: list[str], app: str) -> int:
    """``sync --async``: the same sync in a detached process that outlives this one."""
    import subprocess
    import time

    from gitops_tui.paths import state_dir

    logs = state_dir() / "operations"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{app}-{time.strftime('%Y%m%d-%H%M%S')}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gitops_tui.cli", *[a for a in argv if a != "--async"]],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    print(f"sync of {app} running in the background (pid {proc.pid}); log: {log_path}")
    print(f"follow it with: gitops-tui history {app}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(
        argocd_wiring.bare_flag_before_command(argv if argv is not None else sys.argv[1:], parser)
    )
    handler = logging.StreamHandler()  # log lines quote outside data: made printable
    handler.setFormatter(PrintableFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    if args.command == "sandbox":
        return sandbox_cli.run(args)
    if args.command == "health":
        return health_cli.run(args)
    if args.command == "config":
        return config_cli.run(args)
    if args.command == "appset":
        from gitops_tui import appset_cli

        return appset_cli.run(args)
    if args.command == "demo":
        from gitops_tui.demo import prepare_demo

        setup = prepare_demo(args.dir)
        if setup is None:
            return 2
        if args.no_ui:
            return 0
        args = parser.parse_args(setup.console_argv())  # the console over the demo
    from gitops_tui import headless

    if args.command == "sync" and not args.wait:
        return _sync_in_background(
            list(argv) if argv is not None else sys.argv[1:], "+".join(args.app)
        )
    named = getattr(args, "app", None) or getattr(args, "apps_to_plan", None)
    if isinstance(named, str):
        named = [named]
    only_apps = frozenset(named) if named else None
    if args.command == "history":
        only_apps = frozenset()  # the history is on disk: nothing needs comparing
    try:
        settings = _settings(args)
        engine: HeadlessEngine
        argocd_ns = None if args.argocd_server else argocd_wiring.argocd_namespace(args, settings)
        if args.argocd_server:  # Argo CD through its API server
            engine = argocd_wiring.make_server_backend(args, settings)
        elif argocd_ns is not None:  # Argo CD compares and syncs; this is its console
            engine = argocd_wiring.make_backend(args, settings, argocd_ns)
        else:
            engine = make_engine(
                args,
                interactive=args.command in (None, "ui"),
                only_apps=only_apps,
                settings=settings,
            )
    except (GitOpsError, ValueError, OSError) as exc:  # the config, the history file, paths
        headless.error(str(exc))
        return headless.EXIT_ERROR
    if args.command in (None, "ui"):
        from gitops_tui.ui.app import run

        try:
            code = run(engine, keymap=dict(settings.keymap))
        except BaseException:
            engine.close()
            raise
        # the UI closed the engine on a daemon thread; do not wait for in-flight
        # network calls of its worker pools before giving the shell back
        _exit_now(code)
    try:
        result = _one_shot(args, engine)
    finally:
        # a sync still running stops after its current step; wait for that step
        engine.close(wait_for_operations=True)
    if result is None:
        parser.print_help()
    code = result or 0
    if argv is None:
        # run as a program: work the closed engine still has in flight (a hung Git
        # fetch, a comparison nobody waits for) must not delay the exit
        _exit_now(code)
    return code


def _exit_now(code: int) -> NoReturn:
    with contextlib.suppress(OSError):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _one_shot(args: argparse.Namespace, engine: HeadlessEngine) -> int | None:
    """Run a headless command on a started engine; None for no command."""
    from gitops_tui import headless

    output = getattr(args, "output", "text")
    if args.command == "history":
        return headless.run_guarded(headless.cmd_history, engine, args.app, output=output)
    timeout = args.compare_timeout
    if not engine.wait_until_compared(timeout=timeout):
        pending = engine.uncompared() or ["the Application objects in the cluster (not read)"]
        if args.command == "list":  # what is known is still worth showing
            headless.run_guarded(headless.cmd_list, engine, output=output)
        print(
            f"error: not compared within {timeout:g} s (see --compare-timeout): "
            + ", ".join(pending),
            file=sys.stderr,
        )
        return headless.EXIT_ERROR
    if args.command == "list":
        return headless.run_guarded(headless.cmd_list, engine, output=output)
    if args.command == "diff":
        return headless.run_guarded(
            headless.cmd_diff, engine, args.app, exit_code=args.exit_code, output=output
        )
    if args.command == "sync":
        return headless.run_guarded(
            headless.cmd_sync,
            engine,
            args.app,
            prune=args.prune,
            dry_run=args.dry_run,
            force=args.force,
            force_conflicts=args.force_conflicts,
            resources=args.resource,
            apply_out_of_sync_only=args.apply_out_of_sync_only,
            wait=args.wait,
            output=output,
            timeout=args.timeout,
        )
    if args.command == "plan":
        return headless.run_guarded(
            headless.cmd_plan, engine, args.apps_to_plan, prune=args.prune, output=output
        )
    if args.command == "logs":
        return logs_cli.run(engine, args)
    if args.command == "delete-app":
        return delete_app_cli.run(engine, args)
    if args.command == "rollback":
        return headless.run_guarded(
            headless.cmd_rollback, engine, args.app, args.id, timeout=args.timeout
        )
    return None


if __name__ == "__main__":
    sys.exit(main())
