"""Profiles: an all-thread sampler feeding pyinstrument, and the profiled CLI child."""

from __future__ import annotations

import contextlib
import re
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from benchmarks.timing import now

_IDLE_LEAVES = (
    ("threading.py", "wait"),
    ("threading.py", "_wait_for_tstate_lock"),
    ("threading.py", "join"),
    ("queue.py", "get"),
    ("selectors.py", "select"),
    ("concurrent/futures/thread.py", "_worker"),
    ("watchfiles/main.py", "watch"),
    ("asyncio/base_events.py", "_run_once"),
)


_ROOT_FRAME = "[all threads]\x00<process>\x000"


def _frame_id(frame: FrameType) -> str:
    code = frame.f_code
    name = getattr(code, "co_qualname", code.co_name)
    return f"{name}\x00{code.co_filename}\x00{code.co_firstlineno}\x01l{frame.f_lineno}"


def _thread_group(name: str) -> str:
    if name.startswith("watch-"):
        return "watch"
    return re.sub(r"[_-]?\d+$", "", name) or name


class ThreadSampler:
    """Samples the Python stacks of every thread; the result is a pyinstrument ``Session``.

    Samples whose innermost frame is a known wait (a pool worker waiting for
    work, a condition wait, a selector) are counted as idle and left out, so
    the wall-clock profile shows where threads work or wait on the network;
    ``[self]`` there can still be a wait inside C (``time.sleep``, a lock, a
    child process). A second, on-CPU profile keeps only the samples of threads
    the kernel shows running or runnable (``/proc/self/task/<tid>/stat`` state R).
    """

    def __init__(self, interval: float = 0.002, *, skip_threads: Sequence[int] = ()) -> None:
        self.interval = interval
        self.skip = set(skip_threads)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with getattr(self, "_lock", contextlib.nullcontext()):
            self.records: list[tuple[list[str], float]] = []
            self.cpu_records: list[tuple[list[str], float]] = []
            self.idle_samples = 0
            self.started_wall = time.time()
            self.started = now()
            self.started_cpu = time.process_time()
            self.max_dt = 0.0

    def start(self) -> ThreadSampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        me = threading.get_ident()
        last = now()
        while not self._stop.wait(self.interval):
            t = now()
            delta, last = t - last, t
            threads = {th.ident: th for th in threading.enumerate()}
            frames = sys._current_frames()
            with self._lock:
                self.max_dt = max(self.max_dt, delta)
                for tid, frame in frames.items():
                    if tid == me or tid in self.skip:
                        continue
                    leaf = frame.f_code
                    if any(
                        leaf.co_filename.endswith(suffix) and leaf.co_name == fn
                        for suffix, fn in _IDLE_LEAVES
                    ):
                        self.idle_samples += 1
                        continue
                    stack: list[str] = []
                    f: FrameType | None = frame
                    while f is not None:
                        stack.append(_frame_id(f))
                        f = f.f_back
                    thread = threads.get(tid)
                    group = _thread_group(thread.name if thread is not None else str(tid))
                    if group == "watch" and leaf.co_name in ("readinto", "recv_into", "read"):
                        self.idle_samples += 1
                        continue
                    stack.append(f"[thread {group}]\x00<threads>\x000")
                    stack.append(_ROOT_FRAME)
                    stack.reverse()
                    self.records.append((stack, delta))
                    if thread is not None and _running(thread.native_id):
                        self.cpu_records.append((stack, delta))

    def stop(self) -> tuple[Any, Any]:
        """(wall-clock session, on-CPU session)."""
        self._stop.set()
        self._thread.join(timeout=5)
        with self._lock:
            return (
                self._session(self.records, "all threads, idle waits left out"),
                self._session(self.cpu_records, "all threads, running or runnable only"),
            )

    def _session(self, records: list[tuple[list[str], float]], what: str) -> Any:
        from pyinstrument.session import Session

        return Session(
            frame_records=list(records),
            start_time=self.started_wall,
            duration=now() - self.started,
            min_interval=self.interval,
            max_interval=max(self.max_dt, self.interval),
            sample_count=len(records),
            start_call_stack=[_ROOT_FRAME],
            target_description=f"gitops-tui bench ({what})",
            cpu_time=time.process_time() - self.started_cpu,
            sys_path=list(sys.path),
            sys_prefixes=[sys.prefix, sys.base_prefix, sys.exec_prefix],
        )


def _running(native_id: int | None) -> bool:
    if native_id is None:
        return False
    try:
        stat = Path(f"/proc/self/task/{native_id}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] == "R"


def write_sampled(sampler: ThreadSampler, base: Path) -> Path:
    """The wall-clock profile at ``base``.html/.txt, the on-CPU one at ``base``-cpu.html/.txt."""
    wall, cpu = sampler.stop()
    html, _ = write_profile(wall, base)
    write_profile(cpu, base.with_name(base.name + "-cpu"))
    return html


def write_profile(session: Any, base: Path) -> tuple[Path, Path]:
    """``base``.html and ``base``.txt; returns both paths."""
    from pyinstrument.renderers import ConsoleRenderer, HTMLRenderer

    base.parent.mkdir(parents=True, exist_ok=True)
    html = base.with_suffix(".html")
    text = base.with_suffix(".txt")
    html.write_text(HTMLRenderer().render(session))
    text.write_text(ConsoleRenderer(unicode=True, color=False, show_all=True).render(session))
    return html, text


def profile_cli_child(out: str, argv: list[str]) -> int:
    """``--profile-cli OUT -- ARGS``: ``gitops-tui ARGS`` in this process, every thread sampled.

    SIGUSR1 restarts the sampling (scenario 8 sends it once the console has settled).
    """
    from gitops_tui import cli

    sampler = ThreadSampler(interval=0.005).start()
    signal.signal(signal.SIGUSR1, lambda *_: sampler.reset())
    try:
        return cli.main(argv)
    finally:
        write_sampled(sampler, Path(out))
