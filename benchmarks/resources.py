"""CPU seconds and peak RSS of processes, read from ``/proc`` (Linux).

CPU: ``utime + stime + cutime + cstime`` of ``/proc/<pid>/stat`` (children the
process waited for are included, e.g. git and kubectl subprocesses). Peak RSS:
``VmHWM`` of ``/proc/<pid>/status``; for the benchmark process itself the high-water
mark is reset first (``5`` written to ``/proc/self/clear_refs``) so the peak is the
measured interval's, not an earlier scenario's.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
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


# A child's ``ru_maxrss`` starts at the RSS of the process that forked it (Linux keeps the
# high-water mark across exec), so the benchmark (100+ MiB) does not fork the measured
# command itself: this small launcher does, and reports the child's rusage on stderr.
_LAUNCHER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
sys.stderr.write("\\n" + MARK + json.dumps(
    {"maxrss_kib": ru.ru_maxrss, "cpu_s": ru.ru_utime + ru.ru_stime}) + "\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""
RUSAGE_MARK = "BENCH-RUSAGE "


def run_measured(
    argv: list[str], *, env: dict[str, str] | None, timeout: float, cwd: Path | None = None
) -> tuple[int, str, str, Usage]:
    """Run ``argv``; (exit code, stdout, stderr, its CPU seconds and peak RSS).

    Through a small launcher process (see ``_LAUNCHER``): the peak RSS is the command's
    own (above a floor of the launcher's, about 10 MiB), not the benchmark's.
    """
    import sys

    launcher = [sys.executable, "-c", f"MARK = {RUSAGE_MARK!r}\n" + _LAUNCHER, *argv]
    proc = subprocess.Popen(
        launcher,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
        stdout, stderr = proc.communicate(timeout=30)
    usage = Usage(cpu_s=0.0, peak_rss_mib=0.0, start_rss_mib=0.0, peak_reset=False)
    kept: list[str] = []
    for line in stderr.splitlines():
        if line.startswith(RUSAGE_MARK):
            data = json.loads(line[len(RUSAGE_MARK) :])
            usage = Usage(
                cpu_s=float(data["cpu_s"]),
                peak_rss_mib=float(data["maxrss_kib"]) / 1024.0,  # KiB on Linux
                start_rss_mib=0.0,
                peak_reset=False,
            )
        else:
            kept.append(line)
    return proc.returncode, stdout, "\n".join(kept), usage
