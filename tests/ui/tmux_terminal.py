"""A real terminal for tests: tmux runs one command; type keys (in bursts too), read the screen.

``tmux send-keys -l TEXT`` writes TEXT to the pane in one write, so the program reads
several keys at once, as it does over SSH. ``tmux`` must be installed (``make test``
installs it): no silent skip.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

UI_TESTS = Path(__file__).resolve().parent


def tmux_available() -> None:
    """No silent skip: `make test` installs tmux (scripts/ensure-test-deps.sh)."""
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: run `make test` (it installs tmux) or install tmux")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


class Terminal:
    """A tmux session running one command: type keys, read the screen."""

    def __init__(
        self, command: list[str], env: dict[str, str], size: tuple[int, int] = (120, 32)
    ) -> None:
        self.name = f"gitops-e2e-{uuid.uuid4().hex[:8]}"
        self.socket = self.name  # a tmux server of its own: options set here stay here
        exports = " ".join(f"{k}={_quote(v)}" for k, v in env.items())
        # the size is the pane's: COLUMNS/LINES inherited from the test runner would override it
        shell_line = (
            f"env -u COLUMNS -u LINES {exports} {' '.join(_quote(c) for c in command)}; sleep 0.2"
        )
        subprocess.run(
            [
                "tmux",
                "-L",
                self.socket,
                "new-session",
                "-d",
                "-s",
                self.name,
                "-x",
                str(size[0]),
                "-y",
                str(size[1]),
                shell_line,
            ],
            check=True,
            timeout=10,
        )

    @property
    def tmux(self) -> list[str]:
        return ["tmux", "-L", self.socket]

    def run(self, *args: str) -> str:
        """A tmux command on this terminal's server; its output."""
        out = subprocess.run(
            [*self.tmux, *args], capture_output=True, text=True, timeout=10, check=True
        )
        return out.stdout

    def screen(self) -> str:
        out = subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", self.name],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return out.stdout

    def keys(self, *keys: str) -> None:
        """tmux key names (``Escape``, ``Enter``, ``a``), one write each."""
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, *keys], check=True, timeout=10)

    def burst(self, text: str) -> None:
        """``text`` literally, in ONE write to the terminal (as keys arrive over SSH)."""
        subprocess.run(
            [*self.tmux, "send-keys", "-t", self.name, "-l", text], check=True, timeout=10
        )

    def wait_until(self, check: object, what: str, timeout: float = 30.0) -> str:
        """Poll the screen until ``check(screen)`` holds; the screen then."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):  # type: ignore[operator]
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{what}: not on screen after {timeout} s:\n{self.screen()}")

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        return self.wait_until(lambda screen: text in screen, repr(text), timeout)

    def wait_gone(self, text: str, timeout: float = 30.0) -> None:
        self.wait_until(lambda screen: text not in screen, f"{text!r} gone", timeout)

    def pid(self) -> int:
        """The pane's process (the shell running the command)."""
        out = subprocess.run(
            [*self.tmux, "display-message", "-p", "-t", self.name, "#{pane_pid}"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return int(out.stdout.strip())

    def alive(self) -> bool:
        return (
            subprocess.run(
                [*self.tmux, "has-session", "-t", self.name],
                capture_output=True,
                timeout=10,
                check=False,
            ).returncode
            == 0
        )

    def wait_exit(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        return not self.alive()

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, timeout=10, check=False)


def fake_console(size: tuple[int, int] = (80, 24), *args: str) -> Terminal:
    """The console over the FakeEngine (tests/ui/run_fake_console.py) in a tmux pane."""
    tmux_available()
    env = {"TERM": "xterm-256color", "GITOPS_TUI_ASCII": "0", "LANG": "C.UTF-8"}
    command = [sys.executable, str(UI_TESTS / "run_fake_console.py"), *args]
    return Terminal(command, env, size)
