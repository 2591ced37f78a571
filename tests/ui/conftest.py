"""UI test fixtures (``async def`` tests run through the hook in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_engine import T0, FakeEngine

from gitops_tui.ui import ages


@pytest.fixture(autouse=True)
def unicode_glyphs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests assert on the Unicode glyphs whatever the runner's locale (ASCII is tested explicitly)."""
    monkeypatch.setenv("GITOPS_TUI_ASCII", "0")


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ages (LAST SYNC) are measured from one hour after the sample fleet's T0: the
    same text in every run and every year (snapshots included)."""
    monkeypatch.setattr(ages, "now", lambda: T0 + 3600)


@pytest.fixture
def engine() -> Iterator[FakeEngine]:
    fake = FakeEngine()
    yield fake
    if fake.gate is not None:
        fake.gate.set()  # release any call a test left blocked


@pytest.fixture(autouse=True)
def private_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The console's error log (and any state) goes to the test's own directory."""
    state = tmp_path / "state"
    monkeypatch.setenv("GITOPS_TUI_STATE", str(state))
    return state
