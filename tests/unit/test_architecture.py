"""The engine stays headless: importing it must never pull in textual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gitops_tui

PACKAGE = Path(gitops_tui.__file__).parent


def test_engine_modules_import_without_textual() -> None:
    modules = sorted(
        f"gitops_tui.{sub}.{path.stem}"
        for sub in ("engine", "sandbox")
        for path in (PACKAGE / sub).glob("*.py")
        if path.stem != "__init__"
    )
    assert len(modules) >= 5
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'gitops_tui.ui')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "", f"engine imported: {out.stdout}"


def test_no_shell_subprocesses_in_the_package() -> None:
    offenders = [
        f"{path}:{n}"
        for path in PACKAGE.rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if "shell=True" in line.replace(" ", "") or "os.system(" in line
    ]
    assert offenders == []
