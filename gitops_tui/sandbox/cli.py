"""``gitops-tui sandbox up|status|down|tools``: the local control plane from the command line."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from gitops_tui.engine.errors import GitOpsError
from gitops_tui.engine.source.tools import find_tool
from gitops_tui.paths import state_dir


def default_dir() -> Path:
    return state_dir() / "sandbox"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "sandbox", help="a local Kubernetes control plane (etcd, apiserver, kwok)"
    )
    actions = parser.add_subparsers(dest="sandbox_cmd", required=True)
    for name, text in (
        ("up", "start the sandbox (or report the running one) and print its KUBECONFIG"),
        ("status", "show the sandbox's components"),
        ("down", "stop every component of the sandbox"),
    ):
        cmd = actions.add_parser(name, help=text)
        cmd.add_argument(
            "--dir", type=Path, default=None, help=f"sandbox directory (default {default_dir()})"
        )
        if name == "up":
            cmd.add_argument(
                "--nodes", type=int, default=1, help="simulated kwok nodes (default 1)"
            )
            cmd.add_argument(
                "--no-build", action="store_true", help="fail instead of building missing tools"
            )
    tools = actions.add_parser(
        "tools", help="list the tools; --build compiles missing ones from Go modules"
    )
    tools.add_argument("--build", action="store_true")


def run(args: argparse.Namespace) -> int:
    # imported here: every other command builds this parser, and needs none of it
    from gitops_tui.sandbox.controlplane import Sandbox
    from gitops_tui.sandbox.toolchain import ALL_TOOLS, SANDBOX_TOOLS, ensure_tools

    directory = args.dir if getattr(args, "dir", None) else default_dir()
    sandbox = Sandbox(directory)
    try:
        if args.sandbox_cmd == "tools":
            if args.build:
                ensure_tools(ALL_TOOLS)
            for name in ALL_TOOLS:
                path = find_tool(name)
                print(
                    f"{name:<24} {path if path else 'MISSING (gitops-tui sandbox tools --build)'}"
                )
            return 0
        if args.sandbox_cmd == "up":
            existing = sandbox.status()
            if existing is not None and existing.running:
                print(f"already running:\n{existing.describe()}")
                return 0
            if not args.no_build:
                ensure_tools(SANDBOX_TOOLS)
            started = time.monotonic()
            status = sandbox.up(nodes=args.nodes)
            print(f"started in {time.monotonic() - started:.1f} s (logs: {sandbox.logs_dir})")
            print(status.describe())
            return 0
        if args.sandbox_cmd == "status":
            current = sandbox.status()
            if current is None:
                print(f"no sandbox in {sandbox.directory}")
                return 1
            print(current.describe())
            return 0 if current.running and current.ready else 1
        stopped = sandbox.down()
        print(
            f"stopped: {', '.join(stopped)}"
            if stopped
            else f"no running sandbox in {sandbox.directory}"
        )
        return 0
    except GitOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
