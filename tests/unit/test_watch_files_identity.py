"""The file watch of the kubeconfig (and ``--apps`` files): the file's directory without
recursion, a change being a change of what the path names.

``~/.kube`` holds kubectl's HTTP and discovery cache, written on every kubectl call; the
benchmark's kubeconfig sits beside etcd's data. A recursive watch examined every one of
those events (14 CPU-s in a 1,000-app first sync).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gitops_tui.engine.controller import appfiles


@contextmanager
def watching(paths: list[Path]) -> Iterator[list[float]]:
    calls: list[float] = []
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=appfiles.watch_files,
        args=(paths, lambda: calls.append(time.monotonic()), stop, ready),
        daemon=True,
    )
    thread.start()
    assert ready.wait(15), "the watch did not start"
    try:
        yield calls
    finally:
        stop.set()
        thread.join(10)


def eventually(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_writes_beside_the_file_are_not_examined_and_an_edit_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.write_text("a: 1\n")
    cache = tmp_path / "cache" / "http"
    cache.mkdir(parents=True)
    examined: list[str] = []
    real = appfiles.concerns

    def counting(changed: str, paths: object) -> bool:
        examined.append(changed)
        return real(changed, paths)  # type: ignore[arg-type]

    monkeypatch.setattr(appfiles, "concerns", counting)
    with watching([config]) as calls:
        for i in range(50):  # kubectl's cache at work
            (cache / f"entry-{i}").write_text("x" * i)
        time.sleep(0.6)  # three wake-ups of the watch
        assert calls == [] and examined == []
        config.write_text("a: 2\n")
        assert eventually(lambda: len(calls) == 1), "the edit was not seen"
        new = tmp_path / "config.new"
        new.write_text("a: 3, renamed over it\n")
        new.replace(config)  # an editor's save
        assert eventually(lambda: len(calls) == 2), "the rename over the file was not seen"


def test_a_swapped_symlink_is_a_change(tmp_path: Path) -> None:
    """Kubernetes mounts files as ``config -> ..data/config``, ``..data`` swapped to a new
    directory on update: the path's target changes, no event names ``config``."""
    first, second = tmp_path / "..2026_a", tmp_path / "..2026_b"
    first.mkdir()
    second.mkdir()
    (first / "config").write_text("a: 1\n")
    (second / "config").write_text("a: 1\n")  # the same bytes: only the target differs
    os.symlink(first.name, tmp_path / "..data")
    os.symlink("..data/config", tmp_path / "config")
    with watching([tmp_path / "config"]) as calls:
        time.sleep(0.3)
        assert calls == []
        os.symlink(second.name, tmp_path / "..data_tmp")
        os.replace(tmp_path / "..data_tmp", tmp_path / "..data")
        assert eventually(lambda: len(calls) == 1), "the swapped target was not seen"


def test_a_directory_among_the_paths_is_still_watched_recursively(tmp_path: Path) -> None:
    apps = tmp_path / "apps"
    (apps / "team").mkdir(parents=True)
    with watching([apps]) as calls:
        (apps / "team" / "web.yaml").write_text("kind: Application\n")
        assert eventually(lambda: len(calls) >= 1), "a file in a subdirectory was not seen"
