"""Clocks, percentiles, polling waits and subprocess runs used by every scenario."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def now() -> float:
    return time.perf_counter()


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def summary(values: Sequence[float], scale: float = 1.0) -> dict[str, float]:
    return {
        "n": len(values),
        "min": round(min(values) * scale, 4),
        "p50": round(percentile(values, 50) * scale, 4),
        "p95": round(percentile(values, 95) * scale, 4),
        "max": round(max(values) * scale, 4),
    }


def wait_until(predicate: Callable[[], T], timeout: float, what: str, step: float = 0.02) -> T:
    deadline = now() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if now() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    ok: Sequence[int] = (0,),
    stdin: str | None = None,
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run ``argv`` (a list, never a shell); return (seconds, result); raise on a bad exit code."""
    start = now()
    result = subprocess.run(
        list(argv),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    elapsed = now() - start
    if result.returncode not in ok:
        raise RuntimeError(
            f"{' '.join(argv[:4])} ... exited {result.returncode}: {result.stderr.strip()[-2000:]}"
        )
    return elapsed, result


def log(message: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)
