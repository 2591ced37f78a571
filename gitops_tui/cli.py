"""Entry point: the TUI (no subcommand, or ``ui``) and the headless subcommands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gitops_tui import __version__
from gitops_tui.sandbox import cli as sandbox_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gitops-tui",
        description="A keyboard-driven terminal console for GitOps on Kubernetes (Argo CD Applications).",
    )
    parser.add_argument("--version", action="version", version=f"gitops-tui {__version__}")
    sub = parser.add_subparsers(dest="command")
    sandbox_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "sandbox":
        return sandbox_cli.run(args)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
