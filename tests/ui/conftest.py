"""UI tests: run ``async def`` tests on a fresh event loop each (no plugin needed)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator

import pytest
from fake_engine import FakeEngine


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    function = pyfuncitem.obj
    if not inspect.iscoroutinefunction(function):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(function(**{name: pyfuncitem.funcargs[name] for name in names}))
    return True


@pytest.fixture(autouse=True)
def unicode_glyphs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests assert on the Unicode glyphs whatever the runner's locale (ASCII is tested explicitly)."""
    monkeypatch.setenv("GITOPS_TUI_ASCII", "0")


@pytest.fixture
def engine() -> Iterator[FakeEngine]:
    fake = FakeEngine()
    yield fake
    if fake.gate is not None:
        fake.gate.set()  # release any call a test left blocked
