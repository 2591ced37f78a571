"""Running git for the repository cache: no shell, no prompts, a timeout, no URL in argv.

git runs without a shell, with a timeout, in a new session (no controlling
terminal), with prompts disabled (``GIT_TERMINAL_PROMPT=0``, empty
``GIT_ASKPASS``, ssh askpass off): it fails instead of asking. Hooks are
off (``core.hooksPath=/dev/null``). The repository URL reaches git through
``GIT_CONFIG_*`` environment entries (``remote.source.url``), never through
argv or a config file, so a password or token in it shows up in no process
list, log line or file on disk.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from gitops_tui.engine.source.repo_errors import RepoError, RepoErrorKind, summarise_stderr
from gitops_tui.engine.source.repo_url import RepoSource

GIT_REMOTE = "source"
"""The name of the (environment-configured) remote every fetch reads from."""


class GitRunner:
    """Runs ``git`` in ``root`` (the cache directory) with the cache's safety settings."""

    def __init__(self, root: Path, *, local_timeout: float) -> None:
        self.root = root
        self.local_timeout = local_timeout
        """The timeout of commands that need no network (read the mirror, extract)."""

    def env(self, source: RepoSource | None, git_dir: Path | None) -> dict[str, str]:
        """Environment entries for git: no prompts; ``git_dir``; the URL of ``source``."""
        env = {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "",
            "SSH_ASKPASS": "",
            "SSH_ASKPASS_REQUIRE": "never",
            "GCM_INTERACTIVE": "never",
        }
        if git_dir is not None:
            env["GIT_DIR"] = str(git_dir)
            env["GIT_OBJECT_DIRECTORY"] = str(git_dir / "objects")
        if source is not None:
            # The URL goes in as configuration from the environment: not in argv
            # (process lists, GitPython's debug log), not in the mirror's config.
            count = 0
            with contextlib.suppress(ValueError):
                count = max(0, int(os.environ.get("GIT_CONFIG_COUNT", "0")))
            env[f"GIT_CONFIG_KEY_{count}"] = f"remote.{GIT_REMOTE}.url"
            env[f"GIT_CONFIG_VALUE_{count}"] = source.git_url
            env["GIT_CONFIG_COUNT"] = str(count + 1)
        return env

    def run(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        timeout: float,
    ) -> tuple[int, str, str, bool]:
        """Run ``git args``; returns (status, stdout, stderr, timed_out)."""
        self.root.mkdir(parents=True, exist_ok=True)
        command = ["git", "-c", "core.hooksPath=/dev/null", "-c", "log.showSignature=false", *args]
        started = time.monotonic()
        # git's messages in English (errors are matched), as GitPython ran it before
        full_env = {**os.environ, "LANGUAGE": "C", "LC_ALL": "C", **env}
        try:
            proc = subprocess.Popen(  # argv built here, no shell
                command,
                cwd=self.root,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise RepoError(
                "git is not installed (no `git` on PATH)", RepoErrorKind.FAILED
            ) from None
        try:
            out, err_bytes = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # git and the helpers it started
            out, err_bytes = proc.communicate()
            err = f"Timeout: the command {' '.join(args[:2])} did not complete in {timeout:g} s"
            return -9, out.decode("utf-8", "surrogateescape"), err, True
        stdout = out.decode("utf-8", "surrogateescape")
        err = err_bytes.decode("utf-8", "replace").removesuffix("\n")
        status = proc.returncode
        elapsed = time.monotonic() - started
        timed_out = status != 0 and elapsed >= timeout * 0.95
        return status, stdout, err, timed_out

    def run_local(self, git_dir: Path, args: Sequence[str]) -> tuple[int, str, str, bool]:
        """:meth:`run` in the repository ``git_dir``, no URL, the local timeout."""
        return self.run(args, env=self.env(None, git_dir), timeout=self.local_timeout)

    def output(self, git_dir: Path, shown: str, args: Sequence[str], *, what: str) -> str:
        """The stdout of a local command that must succeed; ``what`` names it in errors."""
        status, out, err, timed_out = self.run_local(git_dir, args)
        if timed_out:
            raise RepoError(
                f"timed out after {self.local_timeout:g} s {what} in {shown}",
                RepoErrorKind.TIMEOUT,
            )
        if status != 0:
            raise RepoError(
                f"git failed {what} in {shown}: {summarise_stderr(err)}",
                RepoErrorKind.FAILED,
            )
        return out
