"""``gitops-tui delete-app APP [--cascade foreground|background|orphan] [--yes] [-o json]``.

Argo CD mode (``--argocd`` / ``--argocd-server``): deletes the Application itself, its
resources as the cascade says (required there). Local engine (the Application is read
from Git and stays there): deletes the live resources the app provably owns, as Argo
CD's cascade would (``--cascade`` foreground, the default, or background; orphan is
refused: it deletes nothing); the plan is read fresh from the cluster and exactly its
objects are deleted (matched by uid). What goes (and, locally, what stays and why) is
printed first; without ``--yes`` the app's name must be typed on a terminal (the
console's rule for every path that deletes); with no terminal and no ``--yes`` nothing
is deleted. Exit codes as the other commands: 0 done, 1 the local deletion ended with
failures, 2 an error in words (nothing deleted).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from gitops_tui.app_delete_plan import (
    ARGOCD_ORIGINS,
    check_cascade,
    listing,
    plan_as_dict,
    plan_lines,
)
from gitops_tui.engine.api import (
    APP_DELETE_CASCADES,
    ORPHAN_REFUSAL,
    EngineError,
    OperationPhase,
    delete_app_resources,
    plan_app_delete,
)
from gitops_tui.engine.textsafe import printable

if TYPE_CHECKING:
    from gitops_tui.headless import HeadlessEngine


def add_parser(
    sub: Any, common: Callable[[argparse.ArgumentParser], None]
) -> argparse.ArgumentParser:
    cmd: argparse.ArgumentParser = sub.add_parser(
        "delete-app",
        help="delete an Application in Argo CD (with --argocd), with a cascade choice; "
        "with the local engine, the app's resources in the cluster (the Application stays "
        "in Git)",
    )
    common(cmd)
    cmd.add_argument("app")
    cmd.add_argument(
        "--cascade",
        choices=APP_DELETE_CASCADES,
        help="foreground/background: the app's resources are deleted (with --argocd: before "
        "the Application; required there); orphan: they stay. Local engine: foreground "
        "(default) or background",
    )
    cmd.add_argument(
        "--yes", action="store_true", help="do not ask to type the app's name (scripts)"
    )
    cmd.add_argument("--output", "-o", choices=("text", "json"), default="text")
    return cmd


def cmd_delete_app(
    engine: HeadlessEngine,
    name: str,
    cascade: str | None,
    *,
    yes: bool = False,
    out: TextIO | None = None,
    ask: Callable[[str], str] | None = None,
    interactive: bool | None = None,
    output: str = "text",
) -> int:
    from gitops_tui.headless import EXIT_ERROR, EXIT_OK, safe_output

    stream = safe_output(out if out is not None else sys.stdout)
    app = engine.snapshot().by_name.get(name)
    if app is None:
        raise EngineError(f"no app named {printable(name)!r}")
    if not app.origin.startswith(ARGOCD_ORIGINS):
        return _delete_resources(
            engine,
            name,
            cascade or "foreground",
            yes=yes,
            out=out if out is not None else sys.stdout,
            ask=ask,
            interactive=interactive,
            output=output,
        )
    if cascade is None:
        raise EngineError(
            "--cascade is required to delete an Application in Argo CD: "
            + ", ".join(APP_DELETE_CASCADES)
        )
    check_cascade(cascade)
    stream.write(f"Delete Application {printable(name)}, cascade {cascade}\n")
    for line in listing(app, cascade, limit=50):
        stream.write(line + "\n")
    stream.flush()
    if not _confirmed(name, yes=yes, ask=ask, interactive=interactive):
        return EXIT_ERROR
    stream.write(printable(engine.delete_app(name, cascade)) + "\n")
    return EXIT_OK


def _confirmed(
    name: str, *, yes: bool, ask: Callable[[str], str] | None, interactive: bool | None
) -> bool:
    """``--yes``, or the app's name typed on a terminal (the error is printed)."""
    from gitops_tui.headless import error

    if yes:
        return True
    tty = sys.stdin.isatty() if interactive is None else interactive
    if not tty:
        error("not deleted: confirm with --yes (no terminal to type the app's name on)")
        return False
    typed = (ask or input)(f"Type the app name ({printable(name)}) to delete it: ")
    if typed.strip() != name:
        error(f"not deleted: the name does not match {printable(name)!r}")
        return False
    return True


def _delete_resources(
    engine: HeadlessEngine,
    name: str,
    cascade: str,
    *,
    yes: bool,
    out: TextIO,
    ask: Callable[[str], str] | None,
    interactive: bool | None,
    output: str,
) -> int:
    """The local engine: plan (read fresh), print it, confirm, delete exactly the plan."""
    from gitops_tui.headless import EXIT_DIFF, EXIT_ERROR, EXIT_OK, safe_output

    if cascade == "orphan":
        raise EngineError(ORPHAN_REFUSAL)
    plan = plan_app_delete(engine, name)  # ReadOnlyError in read-only mode, nothing read
    payload: dict[str, object] = {"plan": plan_as_dict(plan), "cascade": cascade}
    stream = safe_output(out)
    if output == "text":
        stream.write(
            f"Delete the resources of {name} (cascade {cascade}); the Application stays in "
            f"Git. Read from cluster {plan.cluster} now:\n"
        )
        for line in plan_lines(plan, limit=500):
            stream.write(line + "\n")
        stream.flush()
    if not plan.deletions:
        payload["deleted"] = False
        payload["result"] = "nothing to delete"
        return _finish(out, output, payload, "nothing to delete", EXIT_OK)
    if not _confirmed(name, yes=yes, ask=ask, interactive=interactive):
        payload["deleted"] = False
        if output == "json":
            _finish(out, output, payload, "", EXIT_ERROR)
        return EXIT_ERROR
    result = delete_app_resources(engine, plan, cascade)
    app = engine.snapshot().by_name.get(name)
    op = app.operation if app is not None else None
    failed = op is not None and op.kind == "delete" and op.phase is not OperationPhase.SUCCEEDED
    payload["deleted"] = True
    payload["result"] = printable(result)
    if op is not None and op.kind == "delete":
        payload["results"] = [
            {
                "kind": printable(r.key.kind),
                "namespace": printable(r.key.namespace),
                "name": printable(r.key.name),
                "wave": r.wave,
                "status": r.status.value,
                "message": printable(r.message),
            }
            for r in op.results
        ]
    return _finish(out, output, payload, result, EXIT_DIFF if failed else EXIT_OK)


def _finish(out: TextIO, output: str, payload: dict[str, object], text: str, code: int) -> int:
    from gitops_tui.headless import safe_output

    if output == "json":
        json.dump(payload, out, indent=2)  # json escapes every control character
        out.write("\n")
    elif text:
        safe_output(out).write(printable(text) + "\n")
    return code


def run(engine: HeadlessEngine, args: argparse.Namespace) -> int:
    from gitops_tui.headless import run_guarded

    return run_guarded(
        cmd_delete_app,
        engine,
        args.app,
        args.cascade,
        yes=args.yes,
        output=getattr(args, "output", "text"),
    )
