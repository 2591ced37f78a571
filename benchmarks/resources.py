"""CPU seconds and peak RSS of processes, read from ``/proc`` (Linux).

CPU: ``utime + stime + cutime + cstime`` of ``/proc/<pid>/stat`` (children the
process waited for are included, e.g. git and kubectl subprocesses). Peak RSS:
``VmHWM`` of ``/proc/<pid>/status``; for the benchmark process itself the high-water
mark is reset first (``5`` written to ``/proc/self/clear_refs``) so the peak is the
measured interval's, not an earlier scenario's.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
MIB = 1024.0 * 1024.0


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU seconds of ``pid`` and of its waited-for children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # after the command name: state is field 0, utime 11, stime 12, cutime 13, cstime 14
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS


def status_kib(field_name: str, pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def reset_peak_rss(pid: int | str = "self") -> bool:
    """Reset ``VmHWM`` to the current RSS; False where the kernel refuses."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass
class Usage:
    """What one process used over an interval."""

    cpu_s: float
    peak_rss_mib: float
    start_rss_mib: float
    peak_reset: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "cpu_s": round(self.cpu_s, 2),
            "peak_rss_mib": round(self.peak_rss_mib, 1),
            "start_rss_mib": round(self.start_rss_mib, 1),
            "peak_reset": self.peak_reset,
        }


class SelfMeter:
    """CPU and peak RSS of this process (the engine runs in it) over an interval."""

    def __init__(self) -> None:
        self.peak_reset = reset_peak_rss()
        self.start_rss_mib = status_kib("VmRSS") / 1024.0
        self.cpu0 = cpu_seconds()

    def stop(self) -> Usage:
        return Usage(
            cpu_s=cpu_seconds() - self.cpu0,
            peak_rss_mib=status_kib("VmHWM") / 1024.0,
            start_rss_mib=self.start_rss_mib,
            peak_reset=self.peak_reset,
        )


def process_usage(pid: int) -> Usage:
    """CPU since ``pid`` started and its peak RSS (a process the benchmark started)."""
    return Usage(
        cpu_s=cpu_seconds(pid),
        peak_rss_mib=status_kib("VmHWM", pid) / 1024.0,
        start_rss_mib=0.0,
        peak_reset=False,
    )


def run_measured(
    argv: list[str], *, env: dict[str, str] | None, timeout: float, cwd: Path | None = None
) -> tuple[int, str, str, Usage]:
    """Run ``argv``; (exit code, stdout, stderr, its CPU and peak RSS from ``wait4``)."""
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-child-{os.getpid()}-{id(argv)}"
    with (
        open(f"{out_path}.out", "w+b") as out,
        open(f"{out_path}.err", "w+b") as err,
    ):
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=err)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, rusage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    for suffix in (".out", ".err"):
        with contextlib.suppress(OSError):
            Path(f"{out_path}{suffix}").unlink()
    usage = Usage(
        cpu_s=rusage.ru_utime + rusage.ru_stime,
        peak_rss_mib=rusage.ru_maxrss / 1024.0,  # KiB on Linux
        start_rss_mib=0.0,
        peak_reset=False,
    )
    return proc.returncode, stdout, stderr, usage
