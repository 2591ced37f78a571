"""Issue 15 defect 9: the demo prints commands that work as printed (``make demo`` runs
``.venv/bin/gitops-tui``, not on PATH)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_tui.demo import program


def test_a_program_not_on_path_is_printed_by_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = tmp_path / "my venv" / "bin"
    venv.mkdir(parents=True)
    script = venv / "gitops-tui"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "elsewhere"))
    monkeypatch.chdir(tmp_path)
    assert program("my venv/bin/gitops-tui") == f"'{script}'"
    monkeypatch.setenv("PATH", str(venv))
    assert program(str(script)) == "gitops-tui"
