"""ApplicationSets in the engine: ``--apps`` sets generate apps of the engine, per policy.

A real engine on real files and real Git repositories; the kubeconfig's contexts
point at nothing (no cluster is needed to see which apps the engine knows, who
their parent is and what their specs say). Cluster behaviour: tests/cluster/test_appsets.py.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import commit, make_repo

from gitops_tui.engine.controller.engine import Engine, EngineOptions
from gitops_tui.headless import cmd_list

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"

KUBECONFIG = """apiVersion: v1
kind: Config
current-context: east
clusters:
- name: east
  cluster: {server: "https://127.0.0.1:9"}
- name: west
  cluster: {server: "https://127.0.0.2:9"}
users:
- name: u
  user: {token: t}
contexts:
- name: east
  context: {cluster: east, user: u}
- name: west
  context: {cluster: west, user: u}
"""


def appset(
    name: str,
    generators: list[dict[str, Any]],
    *,
    policy: str | None = None,
    app_name: str = "{{path.basename}}",
    revision: str = "HEAD",
    repo: str = "",
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "generators": generators,
        "template": {
            "metadata": {"name": app_name},
            "spec": {
                "project": "default",
                "source": {"repoURL": repo, "targetRevision": revision, "path": "{{path}}"},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "ns"},
            },
        },
    }
    if policy:
        spec["syncPolicy"] = {"applicationsSync": policy}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": spec,
    }


def git_dirs(url: str, pattern: str = "apps/*") -> dict[str, Any]:
    return {"git": {"repoURL": url, "revision": "HEAD", "directories": [{"path": pattern}]}}


def write(path: Path, *docs: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump_all(list(docs)))


@contextmanager
def engine_on(tmp_path: Path, *paths: Path, **options: Any) -> Iterator[Engine]:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    engine = Engine(
        EngineOptions(
            app_paths=paths,
            kubeconfig=kubeconfig,
            repo_cache_dir=tmp_path / "cache",
            history_path=tmp_path / "history.sqlite3",
            automation=False,
            watch_local_repos=False,
            watch=options.pop("watch", False),
            **options,
        )
    ).start()
    try:
        yield engine
    finally:
        engine.close()


def wait_for(predicate: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def children(engine: Engine, appset_name: str) -> set[str]:
    return {
        a.name
        for a in engine.snapshot().apps
        if a.parent == appset_name and a.parent_kind == "ApplicationSet"
    }


def the_set(engine: Engine, name: str) -> Any:
    [found] = [s for s in engine.snapshot().appsets if s.name == name]
    return found


def refreshed(engine: Engine) -> None:
    """A fleet refresh, and its generation run finished."""
    runs = engine.application_sets.runs
    engine.refresh()
    wait_for(lambda: engine.application_sets.runs > runs, "the ApplicationSets generated again")
    engine.publisher.build_fleet()  # a snapshot built after the run (none older than it)


@pytest.fixture()
def repo(tmp_path: Path) -> Any:
    return make_repo(tmp_path / "repo", {"apps/a/cm.yaml": CM, "apps/b/cm.yaml": CM})


def test_a_set_file_generates_apps_whose_parent_is_the_set(tmp_path: Path, repo: Any) -> None:
    url = f"file://{repo.working_tree_dir}"
    set_file = tmp_path / "set.yaml"  # named explicitly, holding only an ApplicationSet
    write(set_file, appset("fleet", [git_dirs(url)], repo=url))
    plain = tmp_path / "plain.yaml"
    plain_app = appset("x", [])  # reuse the template's shape for a plain Application
    write(
        plain,
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "plain", "namespace": "argocd"},
            "spec": plain_app["spec"]["template"]["spec"]
            | {"source": {"repoURL": url, "path": "apps/a"}},
        },
    )
    with engine_on(tmp_path, set_file, plain) as engine:
        snap = engine.snapshot()
        assert set(snap.by_name) == {"a", "b", "plain"}  # no "holds no Application" error app
        assert children(engine, "fleet") == {"a", "b"}
        assert snap.by_name["a"].path == "apps/a" and snap.by_name["plain"].parent is None
        fleet = the_set(engine, "fleet")
        assert (fleet.applications, fleet.conditions, fleet.policy) == (("a", "b"), (), "sync")
        out = io.StringIO()
        engine.wait_until_compared(timeout=30)
        cmd_list(engine, output="json", out=out)
        listed = {a["name"]: a for a in json.loads(out.getvalue())}
        assert listed["a"]["parentRef"] == {
            "kind": "ApplicationSet",
            "name": "fleet",
            "parentRef": None,
        }
        assert listed["a"]["parent"] == "fleet" and listed["plain"]["parentRef"] is None


@pytest.mark.parametrize(
    ("policy", "kept"),
    [("sync", False), ("create-only", True), ("create-update", True), ("create-delete", False)],
)
def test_generator_output_change_adds_and_removes_apps_per_policy(
    tmp_path: Path, repo: Any, policy: str, kept: bool
) -> None:
    url = f"file://{repo.working_tree_dir}"
    set_file = tmp_path / "set.yaml"
    write(set_file, appset("fleet", [git_dirs(url)], policy=policy, repo=url))
    with engine_on(tmp_path, set_file) as engine:
        assert children(engine, "fleet") == {"a", "b"}
        commit(repo, {"apps/c/cm.yaml": CM}, "add c", delete=["apps/b"])
        refreshed(engine)
        assert children(engine, "fleet") == ({"a", "b", "c"} if kept else {"a", "c"})
        fleet = the_set(engine, "fleet")
        assert fleet.conditions == ()
        if kept:
            assert fleet.skipped == (
                f"app 'b' kept (no longer generated): applicationsSync {policy}: "
                "deletions are skipped",
            )
        else:
            assert fleet.skipped == () and "b" not in engine.snapshot().by_name


@pytest.mark.parametrize(("policy", "updated"), [("sync", True), ("create-only", False)])
def test_a_template_change_updates_apps_only_when_the_policy_allows(
    tmp_path: Path, repo: Any, policy: str, updated: bool
) -> None:
    url = f"file://{repo.working_tree_dir}"
    set_file = tmp_path / "set.yaml"
    write(set_file, appset("fleet", [git_dirs(url)], policy=policy, repo=url))
    with engine_on(tmp_path, set_file, watch=True) as engine:
        assert engine.app_files_watched.wait(15)
        assert engine.snapshot().by_name["a"].target_revision == "HEAD"
        edited = tmp_path / ".set.yaml.tmp"  # saved as editors do: written, renamed over
        write(edited, appset("fleet", [git_dirs(url)], policy=policy, repo=url, revision="main"))
        edited.replace(set_file)
        if updated:
            wait_for(lambda: engine.snapshot().by_name["a"].target_revision == "main", "the update")
        else:
            wait_for(lambda: the_set(engine, "fleet").skipped, "the update skipped")
            assert engine.snapshot().by_name["a"].target_revision == "HEAD"
        if not updated:
            assert "app 'a' not updated" in the_set(engine, "fleet").skipped[0]


def test_a_broken_set_generates_nothing_keeps_its_apps_and_others_go_on(
    tmp_path: Path, repo: Any
) -> None:
    url = f"file://{repo.working_tree_dir}"
    sets = tmp_path / "sets"
    sets.mkdir()
    write(
        sets / "good.yaml",
        appset("good", [git_dirs(url)], repo=url, app_name="good-{{path.basename}}"),
    )
    write(
        sets / "bad.yaml",
        appset("bad", [git_dirs(url)], repo=url, app_name="bad-{{path.basename}}"),
    )
    write(
        sets / "escape.yaml",
        appset("escape", [git_dirs(url, "../outside/*")], repo=url, app_name="e-{{path.basename}}"),
    )
    with engine_on(tmp_path, sets) as engine:
        assert children(engine, "bad") == {"bad-a", "bad-b"}
        assert children(engine, "escape") == set()
        [condition] = the_set(engine, "escape").conditions
        assert condition.type == "ErrorOccurred" and "../outside/*" in condition.message
        # the bad set now renders one name for every directory, and Git gains a directory
        write(sets / "bad.yaml", appset("bad", [git_dirs(url)], repo=url, app_name="bad-same"))
        commit(repo, {"apps/c/cm.yaml": CM}, "add c")
        refreshed(engine)
        [condition] = the_set(engine, "bad").conditions
        assert "duplicate generated Application names: bad-same" in condition.message
        assert children(engine, "bad") == {"bad-a", "bad-b"}  # nothing generated, nothing removed
        assert children(engine, "good") == {"good-a", "good-b", "good-c"}
        # the set file removed: its apps go with it (Kubernetes garbage collection)
        (sets / "bad.yaml").unlink()
        refreshed(engine)
        assert not any(s.name == "bad" for s in engine.snapshot().appsets)
        assert not any(a.startswith("bad-") for a in engine.snapshot().by_name)


def test_an_app_defined_elsewhere_is_left_alone_and_named_on_the_set(
    tmp_path: Path, repo: Any
) -> None:
    url = f"file://{repo.working_tree_dir}"
    apps = tmp_path / "apps"
    apps.mkdir()
    write(apps / "set.yaml", appset("fleet", [git_dirs(url)], repo=url))
    template = appset("x", [])["spec"]["template"]["spec"]
    write(
        apps / "a.yaml",
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "a", "namespace": "argocd"},
            "spec": template | {"source": {"repoURL": url, "path": "apps/b"}},
        },
    )
    with engine_on(tmp_path, apps) as engine:
        snap = engine.snapshot().by_name
        assert snap["a"].parent is None and snap["a"].path == "apps/b"  # the file's app
        assert children(engine, "fleet") == {"b"}
        [condition] = the_set(engine, "fleet").conditions
        assert "Application 'a' is already defined by" in condition.message
        assert "a.yaml" in condition.message


def test_the_clusters_generator_sees_the_kubeconfig_contexts(tmp_path: Path) -> None:
    doc = appset("per-cluster", [{"clusters": {}}], app_name="app-{{name}}")
    doc["spec"]["template"]["spec"]["source"] = {"repoURL": "file:///nowhere", "path": "x"}
    doc["spec"]["template"]["spec"]["destination"] = {"server": "{{server}}", "namespace": "n"}
    set_file = tmp_path / "set.yaml"
    write(set_file, doc)
    with engine_on(tmp_path, set_file) as engine:
        snap = engine.snapshot().by_name
        assert children(engine, "per-cluster") == {"app-east", "app-west"}
        assert snap["app-west"].destination.server == "https://127.0.0.2:9"


def test_a_new_directory_is_noticed_by_the_poll(tmp_path: Path, repo: Any) -> None:
    url = f"file://{repo.working_tree_dir}"
    set_file = tmp_path / "set.yaml"
    write(set_file, appset("fleet", [git_dirs(url)], repo=url))
    with engine_on(tmp_path, set_file, watch=True, repo_poll_interval_s=0.3) as engine:
        assert children(engine, "fleet") == {"a", "b"}
        commit(repo, {"apps/c/cm.yaml": CM}, "add c")
        wait_for(lambda: children(engine, "fleet") == {"a", "b", "c"}, "the poll found c")


def test_a_set_file_that_cannot_be_read_keeps_the_set_and_its_apps(
    tmp_path: Path, repo: Any
) -> None:
    url = f"file://{repo.working_tree_dir}"
    sets = tmp_path / "sets"
    sets.mkdir()
    write(sets / "one.yaml", appset("fleet", [git_dirs(url)], repo=url))
    with engine_on(tmp_path, sets) as engine:
        assert children(engine, "fleet") == {"a", "b"}
        (sets / "one.yaml").write_text("kind: ApplicationSet\nspec: [unclosed\n")  # a typo
        refreshed(engine)
        assert children(engine, "fleet") == {"a", "b"}  # kept, as the cluster keeps the old set
        [kept] = the_set(engine, "fleet").conditions
        assert "one.yaml cannot be read now" in kept.message
        [broken] = the_set(engine, "one").conditions  # the file itself, named after it
        assert "one.yaml" in broken.message
        write(sets / "one.yaml", appset("fleet", [git_dirs(url, "apps/a")], repo=url))
        refreshed(engine)
        assert children(engine, "fleet") == {"a"}
        assert not any(s.name == "one" for s in engine.snapshot().appsets)
