"""``gitops-tui delete-app APP --cascade foreground|background|orphan [--yes]``.

Deletes the Application itself in Argo CD mode (``--argocd`` / ``--argocd-server``),
its resources as the cascade says (``app_delete_plan``). What goes is printed first;
without ``--yes`` the app's name must be typed on a terminal (the console's rule for
every path that deletes); with no terminal and no ``--yes`` nothing is deleted.
The local engine refuses: its Applications come from Git. Exit codes as the other
commands: 0 done, 2 an error in words (nothing deleted).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from gitops_tui.app_delete_plan import check_cascade, listing
from gitops_tui.engine.api import APP_DELETE_CASCADES, EngineError
from gitops_tui.engine.textsafe import printable

if TYPE_CHECKING:
    from gitops_tui.headless import HeadlessEngine


def add_parser(
    sub: Any, common: Callable[[argparse.ArgumentParser], None]
) -> argparse.ArgumentParser:
    cmd: argparse.ArgumentParser = sub.add_parser(
        "delete-app",
        help="delete an Application in Argo CD (with --argocd), with a cascade choice",
    )
    common(cmd)
    cmd.add_argument("app")
    cmd.add_argument(
        "--cascade",
        required=True,
        choices=APP_DELETE_CASCADES,
        help="foreground/background: Argo CD deletes the app's resources first; orphan: they stay",
    )
    cmd.add_argument(
        "--yes", action="store_true", help="do not ask to type the app's name (scripts)"
    )
    return cmd


def cmd_delete_app(
    engine: HeadlessEngine,
    name: str,
    cascade: str,
    *,
    yes: bool = False,
    out: TextIO | None = None,
    ask: Callable[[str], str] | None = None,
    interactive: bool | None = None,
) -> int:
    from gitops_tui.headless import EXIT_ERROR, EXIT_OK, error, safe_output

    check_cascade(cascade)
    stream = safe_output(out if out is not None else sys.stdout)
    app = engine.snapshot().by_name.get(name)
    if app is None:
        raise EngineError(f"no app named {printable(name)!r}")
    stream.write(f"Delete Application {printable(name)}, cascade {cascade}\n")
    for line in listing(app, cascade, limit=50):
        stream.write(line + "\n")
    stream.flush()
    if not yes:
        tty = sys.stdin.isatty() if interactive is None else interactive
        if not tty:
            error("not deleted: confirm with --yes (no terminal to type the app's name on)")
            return EXIT_ERROR
        typed = (ask or input)(f"Type the app name ({printable(name)}) to delete it: ")
        if typed.strip() != name:
            error(f"not deleted: the name does not match {printable(name)!r}")
            return EXIT_ERROR
    stream.write(printable(engine.delete_app(name, cascade)) + "\n")
    return EXIT_OK


def run(engine: HeadlessEngine, args: argparse.Namespace) -> int:
    from gitops_tui.headless import run_guarded

    return run_guarded(cmd_delete_app, engine, args.app, args.cascade, yes=args.yes)
