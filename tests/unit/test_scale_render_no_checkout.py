"""A render whose manifests are all cached checks out no tree (scaling, round 4).

Real repositories, real git, a real RepoCache whose ``checkout`` calls are counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitrepo import commit, make_repo
from helpers import application, cm, dump_all

from gitops_tui.engine.app.application import Application
from gitops_tui.engine.app.parse import parse_application
from gitops_tui.engine.source.repo import RepoCache
from gitops_tui.engine.source.sources import ManifestCache, generate, resolve_revisions


class CountingRepos(RepoCache):
    """Counts trees handed out: whole commits and single app paths (one per call)."""

    checkouts = 0
    _in_path = False

    def checkout(self, repo_url: str, sha: str) -> Path:
        if not self._in_path:
            self.checkouts += 1
        return super().checkout(repo_url, sha)

    def checkout_path(self, repo_url: str, sha: str, path: str) -> Path:
        self.checkouts += 1
        self._in_path = True  # its fallback to checkout() is the same hand-out
        try:
            return super().checkout_path(repo_url, sha, path)
        finally:
            self._in_path = False


def test_cached_renders_touch_no_tree_and_a_changed_path_renders_again(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "src",
        {"apps/a/cm.yaml": dump_all([cm("a")]), "apps/b/cm.yaml": dump_all([cm("b")])},
    )
    url = f"file://{repo.working_tree_dir}"
    repos = CountingRepos(tmp_path / "cache", fetch_timeout=30)
    cache = ManifestCache()
    apps = {}
    for name in ("a", "b"):
        app = parse_application(application(name, url, f"apps/{name}", "prod"), "test")
        assert isinstance(app, Application)
        apps[name] = app

    def render(name: str) -> Any:
        revisions = resolve_revisions(apps[name], repos, refresh=False)
        return generate(apps[name], repos, cache, revisions=revisions)

    repos.resolve(url, "HEAD", refresh=True)
    first = {name: render(name) for name in apps}
    assert repos.checkouts == 2  # each app rendered once
    for _ in range(5):  # five refreshes of both apps, nothing changed
        again = {name: render(name) for name in apps}
        assert {n: g.manifests for n, g in again.items()} == {
            n: g.manifests for n, g in first.items()
        }
        assert all(g.cached for g in again.values())
    assert repos.checkouts == 2
    commit(repo, {"apps/b/cm.yaml": dump_all([cm("b", "2")])}, "change b")
    repos.resolve(url, "HEAD", refresh=True)
    assert render("a").cached  # its tree id is the same: cached, no checkout
    changed = render("b")
    assert not changed.cached and changed.manifests[0]["data"] == {"v": "2"}
    assert repos.checkouts == 3


class _Resolved:
    namespaced = True


class _Discovery:
    def resolve(self, group: str, kind: str) -> _Resolved:
        return _Resolved()


class _Conn:
    discovery = _Discovery()


def test_rendered_manifests_are_shared_with_the_cache_and_never_changed(tmp_path: Path) -> None:
    import copy

    from gitops_tui.engine.diff.compare import prepare_desired

    child = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "child"},
        "spec": {"destination": {"namespace": "x"}},
    }
    repo = make_repo(tmp_path / "src", {"apps/a/all.yaml": dump_all([cm("a"), child])})
    url = f"file://{repo.working_tree_dir}"
    repos = RepoCache(tmp_path / "cache", fetch_timeout=30)
    cache = ManifestCache()
    app = parse_application(application("a", url, "apps/a", "prod"), "test")
    assert isinstance(app, Application)
    revisions = resolve_revisions(app, repos, refresh=True)
    first = generate(app, repos, cache, revisions=revisions)
    second = generate(app, repos, cache, revisions=revisions)
    assert second.cached
    by_kind = {o["kind"]: (o, p) for o, p in zip(first.manifests, second.manifests, strict=True)}
    plain, plain_again = by_kind["ConfigMap"]
    assert plain is plain_again  # one copy for the cache and every render of it
    doc, doc_again = by_kind["Application"]
    assert doc is not doc_again and doc == doc_again  # Argo CD documents are copied
    before = copy.deepcopy(second.manifests)
    desired, _ = prepare_desired(
        second.manifests,
        _Conn(),  # type: ignore[arg-type]
        app="a",
        namespace="prod",
        tracking="annotation",
    )
    assert desired[0]["metadata"]["namespace"] == "prod"  # prepared: a changed copy
    assert second.manifests == before  # the shared manifests are untouched
    assert generate(app, repos, cache, revisions=revisions).manifests == before


def test_prepare_desired_copies_each_object_once(monkeypatch: Any) -> None:
    import copy

    from gitops_tui.engine.cache.tracking import with_tracking
    from gitops_tui.engine.diff.compare import prepare_desired

    objs = [cm(f"c{i}") for i in range(5)]
    expected = [
        with_tracking(
            {**o, "metadata": {**o["metadata"], "namespace": "prod"}}, "a", "annotation", "prod"
        )
        for o in objs
    ]
    original = copy.deepcopy(objs)
    real = copy.deepcopy
    top_level = 0

    def counting(obj: Any, memo: Any = None, _nil: Any = ()) -> Any:
        nonlocal top_level
        if memo is None:
            top_level += 1
        return real(obj, memo) if memo is not None else real(obj)

    monkeypatch.setattr(copy, "deepcopy", counting)
    desired, unknown = prepare_desired(
        objs,
        _Conn(),  # type: ignore[arg-type]
        app="a",
        namespace="prod",
        tracking="annotation",
    )
    monkeypatch.setattr(copy, "deepcopy", real)
    assert top_level == len(objs)  # one copy per object (was two: prepare, then tracking)
    assert desired == expected and unknown == []
    assert objs == original
