"""``--apps`` files are re-read while the console runs: on change (watched) and on hard refresh.

A real engine on real files and a real file watcher; no cluster is needed to see
which apps the engine knows and what their specs say (the kubeconfig is empty).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from gitops_tui.engine.controller.engine import Engine, EngineOptions


def app_doc(name: str, path: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {"repoURL": "file:///nonexistent/repo", "path": path},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "x"},
        },
    }


def write(apps: Path, name: str, path: str) -> None:
    (apps / f"{name}.yaml").write_text(yaml.safe_dump(app_doc(name, path)))


@contextmanager
def engine_on(tmp_path: Path, apps: Path, *, watch: bool) -> Iterator[Engine]:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    engine = Engine(
        EngineOptions(
            app_paths=(apps,),
            kubeconfig=kubeconfig,
            repo_cache_dir=tmp_path / "cache",
            history_path=tmp_path / "history.sqlite3",
            automation=False,
            watch_local_repos=False,
            watch=watch,
        )
    ).start()
    try:
        yield engine
    finally:
        engine.close()


def wait_for(predicate: Any, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def paths(engine: Engine) -> dict[str, str]:
    return {a.name: a.path for a in engine.snapshot().apps}


def test_edited_added_and_removed_app_files_are_picked_up_while_running(tmp_path: Path) -> None:
    apps = tmp_path / "apps"
    apps.mkdir()
    write(apps, "web", "v1")
    with engine_on(tmp_path, apps, watch=True) as engine:
        wait_for(lambda: paths(engine) == {"web": "v1"}, "the app loaded")
        assert engine.app_files_watched.wait(15), "the --apps watch did not start"
        write(apps, "web", "v2")
        wait_for(lambda: paths(engine) == {"web": "v2"}, "the edit picked up")
        write(apps, "api", "a")
        wait_for(lambda: paths(engine) == {"web": "v2", "api": "a"}, "the new app")
        (apps / "web.yaml").unlink()
        wait_for(lambda: paths(engine) == {"api": "a"}, "the removed app gone")
        # an editor's save: write a temporary file, rename it over the original
        tmp = apps / ".api.yaml.swp"
        tmp.write_text(yaml.safe_dump(app_doc("api", "b")))
        tmp.replace(apps / "api.yaml")
        wait_for(lambda: paths(engine) == {"api": "b"}, "the renamed-over file picked up")


def test_hard_refresh_rereads_the_app_files(tmp_path: Path) -> None:
    apps = tmp_path / "apps"
    apps.mkdir()
    write(apps, "web", "v1")
    with engine_on(tmp_path, apps, watch=False) as engine:  # no watcher: only refresh reads
        wait_for(lambda: paths(engine) == {"web": "v1"}, "the app loaded")
        write(apps, "web", "v2")
        engine.refresh("web")
        engine.refresh(hard=True)
        wait_for(lambda: paths(engine) == {"web": "v2"}, "hard refresh re-read the file")


def test_an_app_added_while_running_has_its_local_repository_watched(tmp_path: Path) -> None:
    from gitrepo import commit, make_repo

    repo = make_repo(
        tmp_path / "repo",
        {"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"},
    )
    apps = tmp_path / "apps"
    apps.mkdir()
    write(apps, "web", "v1")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    engine = Engine(
        EngineOptions(
            app_paths=(apps,),
            kubeconfig=kubeconfig,
            repo_cache_dir=tmp_path / "cache",
            history_path=tmp_path / "history.sqlite3",
            automation=False,
        )
    ).start()
    try:
        assert engine.app_files_watched.wait(15)
        doc = app_doc("late", "app")
        doc["spec"]["source"]["repoURL"] = f"file://{repo.working_tree_dir}"
        (apps / "late.yaml").write_text(yaml.safe_dump(doc))
        first = repo.head.commit.hexsha

        def revision() -> str:
            found = engine.snapshot().by_name.get("late")
            return found.revision if found else ""

        wait_for(lambda: revision() == first, "the new app rendered")
        assert engine.local_repos_watched.wait(15), "the new app's repository is not watched"
        # a commit to the new app's local repository re-renders it with no refresh
        second = commit(
            repo, {"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c2\n"}, "v2"
        )
        wait_for(lambda: revision() == second, "the new app's repository watched")
    finally:
        engine.close()
