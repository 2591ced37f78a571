"""When the console shows the next fleet snapshot: keys first, then the newest snapshot.

Under churn (1 % of 2,000 apps every 100 ms) every snapshot shown is work on the UI's
one event loop. The newest snapshot waits (older ones are dropped) until all of:

* ``RENDER_INTERVAL_S`` since the last one was shown (at most 2 a second: under churn the list is
  at most half a second behind, and an SSH link carries half the bytes);
* twice the last one's cost (a slow machine shows fewer, never falls further behind);
* ``KEY_FIRST_S`` since the last key, so the key's own frame goes out first.
"""

from __future__ import annotations

import time

RENDER_INTERVAL_S = 0.5
KEY_FIRST_S = 0.1


class RenderPacer:
    """The clock of ``GitOpsApp``'s snapshot rendering (see the module docstring)."""

    def __init__(self) -> None:
        self.rendered_at = 0.0
        self.cost = 0.0
        self.key_at = -KEY_FIRST_S

    def key_pressed(self) -> None:
        self.key_at = time.monotonic()

    def wait(self) -> float:
        """Seconds until the next snapshot may be shown (<= 0: now)."""
        gap = max(RENDER_INTERVAL_S, 2 * self.cost)
        return max(self.rendered_at + gap, self.key_at + KEY_FIRST_S) - time.monotonic()

    def rendered(self, started: float) -> None:
        """One snapshot was shown, from ``started`` (``time.monotonic()``) to now."""
        self.rendered_at = time.monotonic()
        self.cost = self.rendered_at - started
