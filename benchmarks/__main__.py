"""CLI of the benchmarks: ``python -m benchmarks`` (``make bench``)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.context import Bench
from benchmarks.profiling import ThreadSampler, profile_cli_child, write_sampled
from benchmarks.report import (
    REPO_ROOT,
    Figure,
    machine,
    print_table,
    report_path,
    scenario_order,
    source_state,
)
from benchmarks.scenarios.appset import scenario_appset
from benchmarks.scenarios.argocd import scenario_argocd
from benchmarks.scenarios.argocd_tui import argocd_tui_child, scenario_argocd_tui
from benchmarks.scenarios.cli import scenario_4, scenario_5
from benchmarks.scenarios.fleet import scenario_1, scenario_2, scenario_3, scenario_6
from benchmarks.scenarios.idle import scenario_8
from benchmarks.scenarios.tui import scenario_7, tui_child
from benchmarks.timing import log

Scenario = int | str
SCENARIOS: tuple[Scenario, ...] = (1, 2, 3, 4, 5, 6, 7, 8, "argocd", "argocd-tui", "appset")
# "argocd" first: it syncs its own copies of the fleet and deletes them before 6 syncs the
# fleet; 6 is the setup of 1/2/3/8; 8 needs no engine of ours
RUN_ORDER: tuple[Scenario, ...] = ("argocd", "argocd-tui", "appset", 6, 1, 2, 3, 8, 4, 5, 7)


SCENARIO_FUNCS: dict[Scenario, Callable[[Bench], None]] = {
    1: scenario_1,
    2: scenario_2,
    3: scenario_3,
    4: scenario_4,
    5: scenario_5,
    6: scenario_6,
    7: scenario_7,
    8: scenario_8,
    "argocd": scenario_argocd,
    "argocd-tui": scenario_argocd_tui,
    "appset": scenario_appset,
}
NEEDS_SANDBOX: set[Scenario] = {1, 2, 3, 4, 5, 6, 8, "argocd", "argocd-tui", "appset"}


def parse_scenarios(text: str) -> list[Scenario]:
    """``1,2,argocd`` -> [1, 2, "argocd"] (numbers as int, names as given)."""
    out: list[Scenario] = []
    for part in text.split(","):
        part = part.strip()
        if part:
            out.append(int(part) if part.isdigit() else part)
    return out


def run_scenario(b: Bench, n: Scenario) -> None:
    log(f"--- scenario {n}")
    in_process = n in (1, 2, 3, 6) and n in b.args.profile
    sampler = ThreadSampler(skip_threads=[threading.get_ident()]).start() if in_process else None
    b.sampler = sampler
    first = len(b.figures)
    try:
        SCENARIO_FUNCS[n](b)
        if sampler is not None:
            for fig in b.figures[first:]:
                fig.note = (fig.note + "; " if fig.note else "") + "measured under the profiler"
    except Exception as exc:
        log(f"scenario {n} failed: {type(exc).__name__}: {exc}")
        b.notes.append(f"scenario {n} failed: {type(exc).__name__}: {exc}")
        b.figures.append(
            Figure(
                n,
                "failed",
                None,
                "",
                "",
                False,
                b.reproduce(n),
                note=f"{type(exc).__name__}: {exc}",
            )
        )
    finally:
        if sampler is not None:
            html = write_sampled(sampler, b.profile_base(int(n)))
            b.profiles[str(n)] = str(html)
            log(f"profile of scenario {n}: {html}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(map(str, SCENARIOS)),
        help="e.g. 1,2,7 or argocd,argocd-tui,appset",
    )
    parser.add_argument(
        "--scaling",
        default=None,
        metavar="N,N,N",
        help="scenarios 1 and 6 at each fleet size (e.g. 100,1000,5000), each in a fresh "
        "process and sandbox; per-app time and memory, largest / second largest",
    )
    parser.add_argument(
        "--argocd-poll",
        type=float,
        default=None,
        metavar="S",
        help="scenario argocd: Argo CD's polling period (timeout.reconciliation: controller "
        "resync and repo-server revision cache, no jitter); default Argo CD's own "
        "(120 s + up to 60 s, 3 min cache); --quick: 30",
    )
    parser.add_argument(
        "--argocd-processors",
        default=None,
        metavar="S,O",
        help="scenario argocd: the controller's status and operation processors (default "
        "Argo CD's 20,10; its docs suggest 50,25 for 1,000 apps)",
    )
    parser.add_argument(
        "--apps", type=int, default=None, help="fleet size N (default 1000; --quick 100)"
    )
    parser.add_argument("--quick", action="store_true", help="100 apps, fewer runs, 60 s idle")
    parser.add_argument("--keep", action="store_true", help="keep the sandbox and work dir")
    parser.add_argument(
        "--out", default=None, help="report path (default bench-results/report-<date>.json)"
    )
    parser.add_argument(
        "--idle-seconds", type=float, default=None, help="scenario 8 window (default 300)"
    )
    parser.add_argument("--runs", type=int, default=None, help="runs for scenarios 2 and 3")
    parser.add_argument(
        "--replicas", type=int, default=1, help="replicas per Deployment (default 1)"
    )
    parser.add_argument(
        "--base-src",
        default=None,
        metavar="DIR",
        help="scenarios 4 and 5: also run the gitops-tui of this source tree (e.g. "
        "`git archive <commit> gitops_tui | tar -x -C DIR`) with the same interpreter, "
        "interleaved with this one and kubectl, and report its times beside them",
    )
    parser.add_argument(
        "--profile",
        default="",
        metavar="N[,N]",
        help="write a pyinstrument profile of scenario N (HTML and text) next to the report",
    )
    # internal: child processes
    parser.add_argument("--tui-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--presses", type=int, default=200, help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--key-budget", type=float, default=120.0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--churn",
        type=float,
        default=1.0,
        help="scenario 7: %% of the apps changed per publication (default 1)",
    )
    parser.add_argument("--profile-cli", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--tui-argocd-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--tui-kubeconfig", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--tui-namespace", default=None, help=argparse.SUPPRESS)
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # child processes run ``python -m benchmarks`` too, whatever their working directory
    inherited = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), inherited) if p)
    if args.profile_cli:
        rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
        return profile_cli_child(args.profile_cli, rest)
    if args.tui_child is not None:
        return tui_child(
            args.tui_child, args.presses, args.key_budget, args.churn, args.profile_out
        )
    if args.tui_argocd_child is not None:
        return argocd_tui_child(
            args.tui_argocd_child,
            args.presses,
            args.key_budget,
            str(args.tui_kubeconfig),
            str(args.tui_namespace),
            args.profile_out,
        )
    if args.argocd_poll is None and args.quick:
        args.argocd_poll = 30.0
    if args.scaling:
        from benchmarks.scaling import run_scaling

        return run_scaling(args)
    wanted = set(parse_scenarios(args.scenarios))
    unknown = wanted - set(SCENARIOS)
    if unknown:
        print(f"error: unknown scenarios {sorted(map(str, unknown))}", file=sys.stderr)
        return 2
    args.profile = {int(x) for x in str(args.profile).split(",") if x.strip()}
    wanted |= args.profile
    order = [n for n in RUN_ORDER if n in wanted]
    work = Path(tempfile.mkdtemp(prefix="gitops-tui-bench-"))
    b = Bench(args, work)
    started = dt.datetime.now().astimezone()
    load_start = os.getloadavg()
    source = source_state()  # at the start: other people may commit while this runs
    log(f"work dir {work}; scenarios {order}; {b.sizes}")
    try:
        if NEEDS_SANDBOX & set(order):
            b.start_sandbox()
        for n in order:
            run_scenario(b, n)
    except KeyboardInterrupt:
        b.notes.append("interrupted")
        log("interrupted")
    finally:
        b.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    path = write_report(b, started, source, load_start)
    print()
    print_table(b.figures)
    print(f"\nreport: {path}")
    return 0 if all(f.met is not False for f in b.figures) else 1


def write_report(
    b: Bench,
    started: dt.datetime,
    source: dict[str, Any],
    load_start: tuple[float, float, float],
    extra: dict[str, Any] | None = None,
) -> Path:
    """The JSON report of the run (``bench-results/report-<date>.json`` unless ``--out``)."""
    b.figures.sort(key=lambda f: scenario_order(f.scenario))
    report = {
        "date": started.isoformat(timespec="seconds"),
        "duration_s": round((dt.datetime.now().astimezone() - started).total_seconds(), 1),
        "machine": machine(),
        "load_average": {"start": list(load_start), "end": list(os.getloadavg())},
        "source": source,
        "options": {
            k: (sorted(v) if isinstance(v, set) else v)
            for k, v in vars(b.args).items()
            if k
            in (
                "scenarios",
                "apps",
                "quick",
                "idle_seconds",
                "runs",
                "replicas",
                "churn",
                "profile",
                "scaling",
                "argocd_poll",
            )
        },
        "sizes": asdict(b.sizes),
        "figures": [asdict(f) for f in b.figures],
        "profiles": b.profiles,
        "notes": b.notes
        + [
            "the machine is shared (other engineers' tests run on the same 2 cores): figures are noisy"
        ],
    } | (extra or {})
    path = report_path(b)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


if __name__ == "__main__":
    sys.exit(main())
