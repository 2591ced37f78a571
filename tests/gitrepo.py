"""Real Git repositories for tests: build commits, branches and tags, serve them.

Everything runs the real ``git`` binary; nothing is mocked. A repository made by
:func:`make_repo` has its own identity and signing settings, so the tests do
not depend on the machine's global git configuration.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import git

from gitops_tui.engine.source.repo_git import GitRunner


@dataclass(frozen=True)
class Symlink:
    """A file value that makes :func:`commit` create a symbolic link to ``target``."""

    target: str


FileContent = str | bytes | Symlink


def _write(root: Path, files: Mapping[str, FileContent]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.exists():
            path.unlink()
        if isinstance(content, Symlink):
            path.symlink_to(content.target)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def make_repo(
    path: Path,
    files: Mapping[str, FileContent] | None = None,
    message: str = "initial commit",
    *,
    branch: str = "main",
    bare: bool = False,
) -> git.Repo:
    """A new repository at ``path`` on ``branch`` with one commit of ``files``.

    ``files`` maps relative paths to text, bytes or :class:`Symlink`. With no
    files the repository is left without commits. ``bare=True`` gives a bare
    repository (no commit; push into it or use it as a remote).
    """
    path.mkdir(parents=True, exist_ok=True)
    repo = git.Repo.init(path, bare=bare, initial_branch=branch)
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "Test Author")
        cfg.set_value("user", "email", "author@example.com")
        cfg.set_value("commit", "gpgsign", "false")
        cfg.set_value("tag", "gpgsign", "false")
        cfg.set_value("core", "autocrlf", "false")
    if files and not bare:
        commit(repo, files, message)
    return repo


def commit(
    repo: git.Repo,
    files: Mapping[str, FileContent] | None = None,
    message: str = "change",
    delete: Iterable[str] = (),
) -> str:
    """Write ``files``, remove ``delete``, commit everything; returns the new SHA."""
    root = Path(repo.working_tree_dir or "")
    _write(root, files or {})
    for rel in delete:
        repo.git.rm("-r", "--quiet", "--", rel)
    repo.git.add("--all")
    repo.git.commit("--quiet", "--allow-empty", "-m", message)
    return repo.head.commit.hexsha


def tag(repo: git.Repo, name: str, annotated: bool = False, ref: str = "HEAD") -> str:
    """Tag ``ref``; returns the commit SHA the tag names (peeled)."""
    if annotated:
        repo.git.tag("-a", name, "-m", f"release {name}", ref)
    else:
        repo.git.tag(name, ref)
    return str(repo.git.rev_parse(f"{name}^{{commit}}"))


def branch(repo: git.Repo, name: str, ref: str = "HEAD") -> None:
    """Create (or move) branch ``name`` to ``ref`` without switching to it."""
    repo.git.branch("--force", name, ref)


def switch(repo: git.Repo, name: str, create: bool = False) -> None:
    """Check out branch ``name`` in the work tree."""
    if create:
        repo.git.switch("--quiet", "-c", name)
    else:
        repo.git.switch("--quiet", name)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0, *, open_: bool = True) -> None:
    """Wait until 127.0.0.1:``port`` accepts connections (or refuses them)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                is_open = True
        except OSError:
            is_open = False
        if is_open == open_:
            return
        if time.monotonic() > deadline:
            state = "open" if open_ else "closed"
            raise TimeoutError(f"port {port} not {state} after {timeout} s")
        time.sleep(0.05)


class GitDaemon:
    """``git daemon`` serving every repository under ``base_path`` on 127.0.0.1.

    Use as a context manager. :meth:`stop` and :meth:`start` again keep the same
    port, so URLs handed out stay valid (``--reuseaddr``).
    """

    def __init__(self, base_path: Path, port: int | None = None) -> None:
        self.base_path = Path(base_path).resolve()
        self.port = port or free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    def url_for(self, repo_dir: Path) -> str:
        rel = Path(repo_dir).resolve().relative_to(self.base_path)
        return f"git://127.0.0.1:{self.port}/{rel.as_posix()}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> GitDaemon:
        if self.running:
            return self
        self._proc = subprocess.Popen(
            [
                "git",
                "daemon",
                "--export-all",
                f"--base-path={self.base_path}",
                "--reuseaddr",
                "--listen=127.0.0.1",
                f"--port={self.port}",
                str(self.base_path),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() ends the children too
        )
        try:
            wait_for_port(self.port)
        except TimeoutError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        else:
            # The daemon is gone; its per-connection children may not be.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        wait_for_port(self.port, open_=False)

    def __enter__(self) -> GitDaemon:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class CommandCounter(GitRunner):
    """A real GitRunner that counts its commands by git subcommand."""

    def __init__(self, inner: GitRunner) -> None:
        super().__init__(inner.root, local_timeout=inner.local_timeout)
        self.counts: collections.Counter[str] = collections.Counter()
        self._count_lock = threading.Lock()

    def run(
        self, args: Sequence[str], *, env: Mapping[str, str], timeout: float
    ) -> tuple[int, str, str, bool]:
        with self._count_lock:
            self.counts[args[0]] += 1
        return super().run(args, env=env, timeout=timeout)
