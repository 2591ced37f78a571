"""A one-shot command (list/diff/sync) imports no UI, no sandbox and no DeepDiff at start.

Each costs start-up time of every cold ``gitops-tui diff``; they load when used
(the console, ``gitops-tui sandbox``, the first changed-paths summary).
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "textual",
    "deepdiff",
    "kubernetes",
    "gitops_tui.ui",
    "gitops_tui.sandbox.controlplane",
)


def test_the_one_shot_path_imports_none_of_the_heavy_modules() -> None:
    code = (
        "import sys\n"
        "import gitops_tui.cli, gitops_tui.headless\n"
        "from gitops_tui.engine.controller.engine import Engine\n"
        "from gitops_tui.cli import build_parser\n"
        "build_parser().parse_args(['diff', 'app'])\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout
