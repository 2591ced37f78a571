"""Run the console over the FakeEngine in a real terminal (for the tmux tests).

``python tests/ui/run_fake_console.py [--read-only]``: the sample fleet, no cluster.
The tmux tests in test_ui_terminal.py start it in a tmux pane and type into it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_engine import FakeEngine

from gitops_tui.ui.app import GitOpsApp


def main(argv: list[str]) -> int:
    engine = FakeEngine(read_only="--read-only" in argv)
    GitOpsApp(engine).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
