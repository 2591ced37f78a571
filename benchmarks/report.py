"""Figures of a run, the machine and source measured, the report file and table."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.timing import run

if TYPE_CHECKING:
    from benchmarks.context import Bench

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Figure:
    scenario: int | str  # 1-8, or a named scenario ("argocd", "appset", "scaling")
    name: str
    value: float | None
    unit: str
    target: str
    met: bool | None
    reproduce: str
    detail: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def shown(self) -> str:
        if self.value is None:
            return "n/a"
        if self.unit in ("s",) and self.value < 10:
            return f"{self.value:.3f} s"
        if self.unit == "ms":
            return f"{self.value:.1f} ms"
        if self.unit == "x":
            return f"{self.value:.2f}x"
        return f"{self.value:,.1f} {self.unit}".rstrip()


def check(value: float | None, op: str, limit: float) -> bool | None:
    if value is None:
        return None
    return {"<": value < limit, "<=": value <= limit, ">=": value >= limit}[op]


def scenario_order(scenario: int | str) -> tuple[int, str]:
    """Sort key: numbered scenarios first, then the named ones."""
    return (scenario, "") if isinstance(scenario, int) else (1000, scenario)


def machine() -> dict[str, Any]:
    mem_kib = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def source_state() -> dict[str, Any]:
    """The commit measured, and which files differed from it (read-only git commands)."""
    try:
        _, head = run(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], timeout=10)
        _, status = run(["git", "-C", str(REPO_ROOT), "status", "--porcelain"], timeout=10)
    except (OSError, RuntimeError, subprocess.TimeoutExpired):
        return {}
    changed = [
        line[3:] for line in status.stdout.splitlines() if line[3:].startswith("gitops_tui/")
    ]
    return {"commit": head.stdout.strip(), "uncommitted": changed}


def report_path(b: Bench) -> Path:
    if b.args.out:
        return Path(b.args.out)
    base = b.out_dir / f"report-{b.stamp}.json"
    candidate, k = base, 2
    while candidate.exists():
        candidate = base.with_name(f"report-{b.stamp}-{k}.json")
        k += 1
    return candidate


def print_table(figures: list[Figure]) -> None:
    rows = [("#", "figure", "value", "target", "met?", "reproduce")]
    for f in figures:
        verdict = {True: "yes", False: "NO", None: "-"}[f.met]
        rows.append((str(f.scenario), f.name, f.shown(), f.target, verdict, f.reproduce))
    widths = [min(max(len(r[i]) for r in rows), 70) for i in range(len(rows[0]))]
    for j, row in enumerate(rows):
        print("  ".join(cell[: widths[i]].ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if j == 0:
            print("  ".join("-" * w for w in widths))
