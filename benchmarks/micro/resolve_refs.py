"""Micro-benchmark of RepoCache.resolve (issue 16): git processes and time per lookup.

    nice -n 19 .venv/bin/python -m benchmarks.micro.resolve_refs

A file:// repository with 1,000 app directories, 100 branches, 100 tags (half annotated)."""

from __future__ import annotations

import collections
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from gitops_tui.engine.source.repo import RepoCache
from gitops_tui.engine.source.repo_git import GitRunner


class Counting(GitRunner):
    def __init__(self, inner: GitRunner) -> None:
        super().__init__(inner.root, local_timeout=inner.local_timeout)
        self.counts: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()

    def run(self, args, *, env, timeout):  # type: ignore[no-untyped-def]
        with self.lock:
            self.counts[args[0]] += 1
        return super().run(args, env=env, timeout=timeout)


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=120)


def make(root: Path) -> Path:
    src = root / "src"
    for i in range(1000):
        d = src / "apps" / f"app-{i:04d}"
        d.mkdir(parents=True)
        (d / "cm.yaml").write_text(f"kind: ConfigMap\nmetadata:\n  name: app-{i}\n")
    git(src, "init", "-q", "-b", "main")
    git(src, "add", "-A")
    git(src, "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-qm", "init")
    for i in range(100):
        git(src, "branch", f"br-{i}")
        if i % 2:
            git(src, "-c", "user.name=b", "-c", "user.email=b@x", "tag", "-a", "-m", "t", f"v{i}")
        else:
            git(src, "tag", f"v{i}")
    return src


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = make(Path(tmp))
        url = f"file://{src}"
        names = [f"br-{i}" for i in range(100)] + [f"v{i}" for i in range(100)]

        cache = RepoCache(Path(tmp) / "cache1")
        runner = Counting(cache._git)
        cache._git = runner
        cache.resolve(url, "HEAD", refresh=True)
        runner.counts.clear()
        t = time.perf_counter()
        for _ in range(5):  # 5 fetch generations, 1,000 apps resolving HEAD in each
            cache.resolve(url, "HEAD", refresh=True)
            for _ in range(1000):
                cache.resolve(url, "HEAD", refresh=False)
        a = time.perf_counter() - t
        print(f"A serial HEAD: 5 x (1 fetch + 1000 resolve) {a:.3f} s  git {dict(runner.counts)}")

        runner.counts.clear()
        t = time.perf_counter()
        for _ in range(5):
            cache.resolve(url, "HEAD", refresh=True)
            for name in names:
                cache.resolve(url, name, refresh=False)
        b = time.perf_counter() - t
        print(
            f"B names: 5 x (1 fetch + 200 branch/tag resolves) {b:.3f} s  git {dict(runner.counts)}"
        )

        cache = RepoCache(Path(tmp) / "cache2")
        runner = Counting(cache._git)
        cache._git = runner
        cache.resolve(url, "HEAD", refresh=True)
        runner.counts.clear()

        def worker(n: int) -> None:
            for _ in range(n):
                cache.resolve(url, "HEAD", refresh=True)

        t = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(50,)) for _ in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        c = time.perf_counter() - t
        print(f"C 8 threads x 50 resolve(refresh=True): {c:.3f} s  git {dict(runner.counts)}")

        if "since" not in RepoCache.resolve.__code__.co_varnames:
            return
        runner.counts.clear()
        asked = time.monotonic()  # 400 apps asked to refresh at once (engine start, refresh all)

        def worker_since(n: int) -> None:
            for _ in range(n):
                cache.resolve(url, "HEAD", refresh=True, since=asked)

        t = time.perf_counter()
        threads = [threading.Thread(target=worker_since, args=(50,)) for _ in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        d = time.perf_counter() - t
        print(f"D same, asked at once (since=): {d:.3f} s  git {dict(runner.counts)}")


if __name__ == "__main__":
    main()
