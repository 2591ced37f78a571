"""Scenario 8: the real console idle on a pty: API requests, CPU, terminal bytes."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.context import Bench
from benchmarks.terminal import PtyProcess
from benchmarks.timing import log, now

NEAR_ZERO_BYTES_PER_MIN = 1024.0


class AuditTail:
    """New entries of the API server's audit log (JSON lines), parsed incrementally."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0
        self._partial = b""

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            data = fh.read()
        self.offset += len(data)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()
        out = []
        for line in lines:
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out


def ours(entry: dict[str, Any]) -> bool:
    return str(entry.get("userAgent", "")).startswith("gitops-tui/")


def non_watch_requests(entries: list[dict[str, Any]], since_wall: float) -> list[dict[str, Any]]:
    """Our requests other than watches received after ``since_wall``, one per audit id."""
    seen: dict[str, dict[str, Any]] = {}
    for e in entries:
        if not ours(e) or e.get("verb") == "watch":
            continue
        received = dt.datetime.fromisoformat(str(e.get("requestReceivedTimestamp"))).timestamp()
        if received >= since_wall:
            seen[str(e.get("auditID"))] = e
    return list(seen.values())


def scenario_8(b: Bench) -> None:
    b.ensure_synced()
    b.close_engine()
    fleet = b.fleet()
    env = b.child_env()
    cli_args = ["--apps", str(fleet.apps_file), "--kubeconfig", str(b.kubeconfig)]
    profiling = 8 in b.args.profile
    argv = (
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--profile-cli",
            str(b.profile_base(8)),
            "--",
            *cli_args,
        ]
        if profiling
        else [*b.gitops_argv(), *cli_args]
    )
    audit = AuditTail(b.sandbox.audit_log)
    t_start = time.time()
    tui = PtyProcess(argv, env)
    try:
        # settle: the console compares every app (dry runs); wait until our requests stop
        last_request = time.time()
        seen_any = False
        deadline = now() + b.compare_timeout() + 300
        while True:
            time.sleep(1.0)
            if tui.proc.poll() is not None:
                raise RuntimeError(f"the console exited early ({tui.proc.returncode})")
            recent = non_watch_requests(audit.read(), t_start)
            if recent:
                seen_any = True
                last_request = time.time()
            if seen_any and time.time() - last_request > 15 and now() - tui.last_output > 2:
                break
            if now() > deadline:
                raise TimeoutError("the console did not settle")
        settle_s = time.time() - t_start
        log(f"console settled after {settle_s:.0f} s; idle window of {b.sizes.idle_seconds:g} s")
        if profiling:
            os.kill(tui.proc.pid, signal.SIGUSR1)
        window_start = time.time()
        bytes0 = tui.written()
        own0, children0 = tui.cpu_ticks()
        time.sleep(b.sizes.idle_seconds)
        elapsed = time.time() - window_start
        own1, children1 = tui.cpu_ticks()
        written = tui.written() - bytes0
        entries = audit.read()
        requests = non_watch_requests(entries, window_start)
        watches = [e for e in entries if ours(e) and e.get("verb") == "watch"]
    finally:
        rc = tui.stop()
    if profiling:
        b.profiles["8"] = str(b.profile_base(8).with_suffix(".html"))
    minutes = elapsed / 60.0
    ticks = os.sysconf("SC_CLK_TCK")
    cpu_pct = 100.0 * (own1 - own0) / ticks / elapsed
    child_pct = 100.0 * (children1 - children0) / ticks / elapsed
    by_kind = Counter(f"{e.get('verb')} {e.get('requestURI', '').split('?')[0]}" for e in requests)
    common = {"settle_s": round(settle_s, 1), "idle_s": round(elapsed, 1), "exit_code": rc}
    b.record(
        8,
        f"idle: API requests/min beyond open watches ({len(fleet.names)} apps)",
        len(requests) / minutes,
        "req/min",
        "<=",
        0,
        target="0",
        detail={
            **common,
            "requests": len(requests),
            "by_request": dict(by_kind.most_common(10)),
            "watch_audit_entries": len(watches),
        },
        note="audit log entries with userAgent gitops-tui/*, verb other than watch",
    )
    b.record(
        8,
        "idle: CPU of the console process (engine inside)",
        cpu_pct,
        "% core",
        "<",
        2,
        detail={**common, "children_cpu_pct": round(child_pct, 3)},
        note="utime+stime from /proc/<pid>/stat over the window",
    )
    b.record(
        8,
        "idle: bytes written to the terminal",
        written / minutes,
        "B/min",
        "<",
        NEAR_ZERO_BYTES_PER_MIN,
        target=f"near 0 (< {NEAR_ZERO_BYTES_PER_MIN:g} B/min)",
        detail={**common, "bytes": written, "bytes_before_window": bytes0},
        note="the real gitops-tui console on a 200x50 pty; every byte drained and counted",
    )
