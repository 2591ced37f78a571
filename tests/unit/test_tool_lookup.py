"""The engine finds tools (engine/source/tools.py); the sandbox builds them where it looks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitops_tui.engine.source import tools
from gitops_tui.sandbox import toolchain


def test_the_engine_looks_where_the_sandbox_builds() -> None:
    built = {binary: comp for comp in toolchain.components() for binary in comp.binaries}
    assert set(built) == set(tools.PINNED)
    for binary, comp in built.items():
        assert tools.pinned_path(binary) == toolchain.built_path(binary)
        assert tools.pinned_path(binary) == tools.tools_dir() / comp.key / binary
    assert tools.pinned_path("no-such-tool") is None


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_find_tool_order_assets_then_complete_build_then_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITOPS_TUI_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("KUBEBUILDER_ASSETS", raising=False)
    on_path = _executable(tmp_path / "bin" / "helm")
    monkeypatch.setenv("PATH", f"{on_path.parent}{os.pathsep}/usr/bin{os.pathsep}/bin")
    assert tools.find_tool("helm") == on_path

    pinned = tools.pinned_path("helm")
    assert pinned is not None
    _executable(pinned)
    assert tools.find_tool("helm") == on_path  # a build without its marker is unfinished
    (pinned.parent / tools.COMPLETE_MARKER).write_text("done\n")
    assert tools.find_tool("helm") == pinned

    assets = _executable(tmp_path / "assets" / "helm")
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(assets.parent))
    assert tools.find_tool("helm") == assets

    assert tools.find_tool("no-such-tool-anywhere") is None
