"""``python -m benchmarks --scaling 100,1000,5000``: how cost grows with the fleet (issue 16, item 10).

For each size a child ``python -m benchmarks --scenarios 6,1 --apps N`` runs in a fresh
process with a fresh sandbox (so one size's objects and memory do not weigh on the
next); its report gives scenario 6 (first sync), scenario 1 (cold start, warm
re-compare) and the engine's peak RSS above the process's RSS before its first engine.
Per app: time / N and memory / N; the ratio largest size / second largest (target
<= 1.3x: no super-linear step). The report holds the points; ``benchmarks.plot``
draws them (an SVG beside the report).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.context import Bench
from benchmarks.figures import ScalePoint, scaling_specs
from benchmarks.report import print_table, source_state
from benchmarks.timing import log

CHILD_TIMEOUT_S = 6 * 3600.0


def _figure(report: dict[str, Any], scenario: int, prefix: str) -> dict[str, Any]:
    for fig in report.get("figures") or []:
        if fig.get("scenario") == scenario and str(fig.get("name", "")).startswith(prefix):
            return dict(fig)
    raise ValueError(f"the report has no figure {prefix!r} of scenario {scenario}")


def point_from_report(report: dict[str, Any]) -> ScalePoint:
    """The scaling point of one child's report (scenarios 6 and 1 with their usage)."""
    apps = int((report.get("sizes") or {}).get("apps") or 0)
    sync = _figure(report, 6, "first sync")
    cold = _figure(report, 1, "cold start")
    warm = _figure(report, 1, "warm full re-compare")
    sync_usage = _figure(report, 6, "engine peak RSS")["detail"]
    s1_usage = _figure(report, 1, "engine peak RSS")["detail"]
    cold_usage = s1_usage.get("cold_start_only") or s1_usage
    if sync["value"] is None or cold["value"] is None or warm["value"] is None:
        raise ValueError(f"a scenario failed at {apps} apps")
    return ScalePoint(
        apps=apps,
        cold_s=float(cold["value"]),
        warm_s=float(warm["value"]),
        first_sync_s=float(sync["value"]),
        cold_rss_mib=float(cold_usage["above_baseline_mib"]),
        first_sync_rss_mib=float(sync_usage["above_baseline_mib"]),
        cold_cpu_s=float(cold_usage["cpu_s"]),
        first_sync_cpu_s=float(sync_usage["cpu_s"]),
    )


def run_scaling(args: argparse.Namespace) -> int:
    from benchmarks.__main__ import write_report

    sizes = sorted({int(x) for x in str(args.scaling).split(",") if x.strip()})
    if len(sizes) < 2:
        print("error: --scaling needs at least two sizes, e.g. 100,1000,5000", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="gitops-tui-scaling-"))
    b = Bench(args, work)
    started = dt.datetime.now().astimezone()
    load_start = os.getloadavg()
    source = source_state()
    points: list[ScalePoint] = []
    loads: dict[str, list[float]] = {}
    for n in sizes:
        out = work / f"scale-{n}.json"
        argv = [
            sys.executable, "-m", "benchmarks", "--scenarios", "6,1", "--apps", str(n),
            "--replicas", str(args.replicas), "--out", str(out),
        ]  # fmt: skip
        if args.quick:
            argv.append("--quick")
        log(f"scaling: {n} apps ({' '.join(argv[1:])})")
        subprocess.run(argv, timeout=CHILD_TIMEOUT_S, check=False)
        try:
            report = json.loads(out.read_text())
            points.append(point_from_report(report))
            loads[str(n)] = list((report.get("load_average") or {}).get("end") or [])
        except (OSError, ValueError, KeyError) as exc:
            b.notes.append(f"scaling: {n} apps: no usable report ({exc})")
            log(f"scaling: {n} apps: no usable report ({exc})")
    for spec in scaling_specs(points, base=sizes[-2], top=sizes[-1]):
        b.record_spec("scaling", spec)
    path = write_report(
        b,
        started,
        source,
        load_start,
        extra={
            "scaling": [asdict(p) | {"per_app": p.per_app()} for p in points],
            "scaling_load_average_end": loads,
        },
    )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)  # the children's reports are in this one
    svg = path.with_suffix(".svg")
    try:
        from benchmarks.plot import plot_scaling

        report = json.loads(path.read_text())
        plot_scaling(report, svg)
        png = plot_scaling(report, path.with_suffix(".png"))
        log(f"scaling plot: {svg} and {png}")
    except ImportError as exc:
        log(f"scaling plot not drawn ({exc}): pip install -e '.[dev]' brings matplotlib")
    print()
    print_table(b.figures)
    print(f"\nreport: {path}")
    return 0 if all(f.met is not False for f in b.figures) else 1
