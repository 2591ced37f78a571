"""Ages for humans: ``42s``, ``5m``, ``3h``, ``2d``, ``1y`` (LAST SYNC in the list).

The console's clock is ``GitOpsApp.clock`` (``time.time``; tests pin it), so the
same snapshot renders the same text in a test and ages move on in real use (the
list re-renders them on a timer)."""

from __future__ import annotations

import time

AGE_REFRESH_SECONDS = 15.0
"""How often the list renders its ages again."""


def now() -> float:
    """The console's default clock (tests/ui/conftest.py pins it)."""
    return time.time()


_UNITS = ((365 * 86400, "y"), (86400, "d"), (3600, "h"), (60, "m"))


def age_text(seconds: float) -> str:
    """The largest whole unit of ``seconds`` (clock skew: never negative)."""
    seconds = max(int(seconds), 0)
    for size, unit in _UNITS:
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
