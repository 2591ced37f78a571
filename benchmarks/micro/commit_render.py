"""Micro-benchmark: a commit changing one app's file, to that app's manifests rendered.

A file:// repository of ``--apps`` plain-directory apps x ``--files`` small
ConfigMap files. Renders every app once at the first commit (the cold start,
timed), then for each of ``--commits`` commits changes one file of one app and
times ``resolve_revisions(refresh=True)`` + ``generate`` of that app (the same
code path as the engine: RepoCache, ManifestCache, generate). Prints the times
and what the cache directory holds.

    nice -n 19 python -m benchmarks.micro.commit_render --apps 1000 --files 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from gitops_tui.engine.app.application import Application
from gitops_tui.engine.app.parse import parse_application
from gitops_tui.engine.source.repo import RepoCache
from gitops_tui.engine.source.sources import ManifestCache, generate, resolve_revisions

_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), *args], check=True, env=_ENV, capture_output=True, timeout=120
    )


def _cm(app: int, index: int, value: str) -> str:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a{app}-cm{index}\n"
        f'data:\n  v: "{value}"\n'
    )


def _app(url: str, index: int) -> Application:
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": f"a{index}", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {"repoURL": url, "path": f"apps/a{index}", "targetRevision": "HEAD"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "bench"},
        },
    }
    app = parse_application(doc, "bench")
    assert isinstance(app, Application)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--commits", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="commit-render-") as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        _git(repo, "init", "-q", "-b", "main")
        for a in range(args.apps):
            folder = repo / "apps" / f"a{a}"
            folder.mkdir(parents=True)
            for f in range(args.files):
                (folder / f"cm{f}.yaml").write_text(_cm(a, f, "0"))
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "init")
        url = f"file://{repo}"
        apps = [_app(url, a) for a in range(args.apps)]
        repos = RepoCache(Path(tmp) / "cache")
        cache = ManifestCache(limit=args.apps * 4)
        start = time.perf_counter()
        for app in apps:
            generate(app, repos, cache, revisions=resolve_revisions(app, repos, refresh=False))
        cold = time.perf_counter() - start
        print(f"cold start: {args.apps} apps rendered in {cold:.2f} s")
        times: list[float] = []
        for n in range(args.commits):
            target = (n * 37) % args.apps
            (repo / "apps" / f"a{target}" / "cm0.yaml").write_text(_cm(target, 0, str(n + 1)))
            _git(repo, "commit", "-q", "-am", f"change a{target}")
            start = time.perf_counter()
            app = apps[target]
            out = generate(app, repos, cache, revisions=resolve_revisions(app, repos, refresh=True))
            elapsed = time.perf_counter() - start
            value = next(m for m in out.manifests if m["metadata"]["name"] == f"a{target}-cm0")
            assert value["data"]["v"] == str(n + 1), value
            times.append(elapsed)
            print(f"commit {n + 1}: a{target} rendered {elapsed * 1000:.0f} ms after the commit")
        if times:
            print(
                f"commit -> rendered: median {statistics.median(times) * 1000:.0f} ms, "
                f"max {max(times) * 1000:.0f} ms over {len(times)} commits"
            )
        for kind in ("trees", "subtrees"):
            found = sorted((Path(tmp) / "cache").glob(f"*/{kind}/*"))
            print(f"cache {kind}/: {len(found)} entries")


if __name__ == "__main__":
    main()
