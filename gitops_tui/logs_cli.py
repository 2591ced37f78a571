"""``gitops-tui logs APP POD [-c C] [-f] [--previous] [--since 5m] [--tail N]``.

A container's log of a Pod of the app's resource tree, printed as it arrives (like
``kubectl logs``, but only for pods the app owns, and every line made printable).
Exit codes as the other commands: 0 done (or interrupted while following), 2 an
error in words (no such pod in the app, unreachable cluster, bad duration).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from gitops_tui.engine.api import EngineAPI, EngineError, LogOptions, follow_tree, open_logs
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.podlogs import MAX_LOG_BYTES, parse_duration
from gitops_tui.engine.textsafe import printable

if TYPE_CHECKING:
    from gitops_tui.headless import HeadlessEngine

MAX_LISTED = 10
TREE_WAIT_S = 30.0  # for the first read of a tree the backend reads on demand


def add_parser(
    sub: Any, common: Callable[[argparse.ArgumentParser], None]
) -> argparse.ArgumentParser:
    logs: argparse.ArgumentParser = sub.add_parser(
        "logs", help="print a container's log of one of an app's pods (like kubectl logs)"
    )
    common(logs)
    logs.add_argument("app")
    logs.add_argument("pod", help="a Pod of the app's resource tree: NAME or NAMESPACE/NAME")
    logs.add_argument("-c", "--container", help="default: kubectl's default container")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs.add_argument(
        "-p", "--previous", action="store_true", help="the previous (terminated) container's log"
    )
    logs.add_argument("--since", metavar="DURATION", help="only lines newer than this: 30s, 5m, 1h")
    logs.add_argument("--tail", type=int, metavar="N", help="only the last N lines")
    return logs


def find_pod(engine: EngineAPI, app: str, text: str) -> ResourceKey:
    """The Pod of ``app``'s tree named ``text`` (``NAME`` or ``NAMESPACE/NAME``)."""
    from gitops_tui.engine.controller.inspect import tree_keys

    found = engine.snapshot().by_name.get(app)
    if found is None:
        raise EngineError(f"no app named {app!r}")
    pods = sorted(
        {k for k in tree_keys(found.resources) if k.kind == "Pod" and not k.group},
        key=lambda k: (k.namespace, k.name),
    )
    namespace, _, name = text.rpartition("/")
    matches = [p for p in pods if p.name == name and (not namespace or p.namespace == namespace)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        spaces = ", ".join(p.namespace for p in matches)
        raise EngineError(f"several pods named {name!r} in {app} ({spaces}): give NAMESPACE/NAME")
    listed = ", ".join(f"{p.namespace}/{p.name}" for p in pods[:MAX_LISTED])
    more = f" (+{len(pods) - MAX_LISTED} more)" if len(pods) > MAX_LISTED else ""
    which = f"its pods: {listed}{more}" if pods else "it has no pods"
    raise EngineError(f"no pod {printable(text)!r} in {app}'s resources; {which}")


def cmd_logs(
    engine: EngineAPI,
    app: str,
    pod: str,
    *,
    container: str | None = None,
    follow: bool = False,
    previous: bool = False,
    since: str | None = None,
    tail: int | None = None,
    out: TextIO | None = None,
) -> int:
    from gitops_tui.headless import EXIT_OK, error, safe_output

    stream_out = safe_output(out if out is not None else sys.stdout)
    unfollow = follow_tree(engine, app)  # over Argo CD's API server: the tree is read now
    try:
        wait_tree = getattr(engine, "wait_tree", None)
        if wait_tree is not None:
            wait_tree(app, TREE_WAIT_S)
        key = find_pod(engine, app, pod)
    finally:
        unfollow()
    options = LogOptions(
        container, follow, previous, parse_duration(since) if since else None, tail
    ).checked()
    stream = open_logs(engine, app, key, options)
    try:
        for batch in stream.batches():
            stream_out.write("\n".join(batch) + "\n")
            stream_out.flush()
    except KeyboardInterrupt:  # Ctrl-C ends a follow: not an error
        return EXIT_OK
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        return EXIT_OK
    finally:
        stream.close()
    if stream.truncated:
        error(
            f"the log was cut at {MAX_LOG_BYTES >> 20} MiB (older lines first): "
            "use --tail or --since for the newest"
        )
    return EXIT_OK


def run(engine: HeadlessEngine, args: argparse.Namespace) -> int:
    from gitops_tui.headless import run_guarded

    return run_guarded(
        cmd_logs,
        engine,
        args.app,
        args.pod,
        container=args.container,
        follow=args.follow,
        previous=args.previous,
        since=args.since,
        tail=args.tail,
    )
