"""Draw the scaling report: ``python -m benchmarks.plot REPORT.json OUT.svg|OUT.png``.

Two panels over the fleet size (log scale): time per app (scenario 1 cold start and
warm re-compare, scenario 6 first sync) and engine memory per app. A flat line is
linear cost; a rising one, a super-linear step. Matplotlib (the dev extra), SVG.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

TIME_SERIES = (
    ("cold_ms_per_app", "scenario 1: cold start"),
    ("warm_ms_per_app", "scenario 1: warm re-compare"),
    ("first_sync_ms_per_app", "scenario 6: first sync"),
)
MEMORY_SERIES = (
    ("cold_kib_per_app", "scenario 1: cold start (+ what 6 left in the process)"),
    ("first_sync_kib_per_app", "scenario 6: first sync"),
)


def plot_scaling(report: Mapping[str, Any], out: Path, title: str | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # text as text (small, diffable), stable ids: the same data draws the same file
    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["svg.hashsalt"] = "gitops-tui-bench"

    points: Sequence[Mapping[str, Any]] = sorted(
        report.get("scaling") or [], key=lambda p: p["apps"]
    )
    if not points:
        raise ValueError("the report has no scaling points")
    apps = [p["apps"] for p in points]
    load = report.get("load_average") or {}
    heading = title or (
        f"gitops-tui engine cost per app, {report.get('date', '')[:16]}"
        f" (load average {', '.join(f'{x:.1f}' for x in (load.get('start') or [])[:1])}"
        " at start; 2 shared cores)"
    )
    fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, label in TIME_SERIES:
        ax_time.plot(apps, [p["per_app"][key] for p in points], marker="o", label=label)
    for key, label in MEMORY_SERIES:
        ax_mem.plot(apps, [p["per_app"][key] for p in points], marker="o", label=label)
    for ax, ylabel in ((ax_time, "ms per app"), (ax_mem, "KiB of peak RSS per app")):
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(apps)
        ax.set_xticklabels([f"{a:,}" for a in apps])
        ax.set_xlabel("apps (x 10 objects)")
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    ax_time.set_title("time per app", fontsize=10)
    ax_mem.set_title("engine memory per app (peak RSS above the process's own)", fontsize=10)
    fig.suptitle(heading, fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fmt = out.suffix.lstrip(".") or "svg"
    if fmt == "svg":
        fig.savefig(out, format=fmt, metadata={"Date": None})
    else:  # PNG for viewers that draw SVG text badly (the README shows this one)
        fig.savefig(out, format=fmt, dpi=110)
    plt.close(fig)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (2, 3):
        print("usage: python -m benchmarks.plot REPORT.json OUT.svg [TITLE]", file=sys.stderr)
        return 2
    report = json.loads(Path(args[0]).read_text())
    plot_scaling(report, Path(args[1]), args[2] if len(args) == 3 else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
