"""The ``appset`` command line (its own module: building the parser of every command
must not load the ApplicationSet engine that ``appset_cli`` runs)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

COMMON = Callable[[argparse.ArgumentParser], None]


def add_parser(sub: Any, common: COMMON) -> None:
    """The ``appset`` command and its ``list`` / ``preview`` subcommands."""
    appset = sub.add_parser("appset", help="ApplicationSets: generated apps and a preview")
    actions = appset.add_subparsers(dest="appset_command", required=True)
    for name, text in (
        ("list", "the Applications each ApplicationSet generates now"),
        ("preview", "what applying each ApplicationSet would create, update and delete"),
        ("apply", "with --from-cluster: write the set and its Applications (server-side apply)"),
    ):
        parser = actions.add_parser(name, help=text)
        common(parser)
        if name == "apply":
            parser.add_argument("appset_name", metavar="NAME")
        parser.add_argument("paths", nargs="+", type=Path, metavar="FILE_OR_DIR")
        parser.add_argument("--output", "-o", choices=("text", "json"), default="text")
        parser.add_argument(
            "--cluster-label",
            action="append",
            default=[],
            metavar="CONTEXT=KEY=VALUE",
            help="a label of a kubeconfig context for the clusters generator (repeatable)",
        )
        if name == "preview":
            parser.add_argument(
                "--exit-code", action="store_true", help="exit 1 when there are changes to apply"
            )
