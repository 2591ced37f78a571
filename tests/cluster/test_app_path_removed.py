"""A commit removes an app's path (then every file of the repository), against the sandbox.

Argo CD: the app gets a ComparisonError ``<path>: app path does not exist`` and its
automation does nothing (no prune, whatever ``prune`` says); the other apps of the
repository carry on; a later commit bringing the path back clears the error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import git
import pytest
from gitrepo import commit, make_repo
from helpers import application, dump_all, kubectl, running_engine, wait_for

from gitops_tui.engine.api import EngineError, SyncRequest
from gitops_tui.engine.controller.engine import AUTOMATION_PERIOD_S, Engine
from gitops_tui.engine.model import ConditionType, SyncStatus
from gitops_tui.engine.snapshot import OperationPhase
from gitops_tui.engine.source.repo_subtrees import subtree_key

pytestmark = pytest.mark.cluster


def cm(name: str, value: str = "v") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"k": value},
    }


def live_value(kubeconfig: Path, namespace: str, name: str) -> str | None:
    done = kubectl(kubeconfig, "-n", namespace, "get", "cm", name, "-o", "json", check=False)
    return json.loads(done.stdout)["data"]["k"] if done.returncode == 0 else None


def conditions(engine: Engine, app: str) -> dict[str, str]:
    return {c.type: c.message for c in engine.snapshot().by_name[app].conditions}


def missing(engine: Engine, app: str, path: str, sha: str) -> bool:
    message = conditions(engine, app).get(ConditionType.COMPARISON_ERROR, "")
    return message == f"{path}: app path does not exist at revision {sha[:12]}"


def test_removed_app_path_is_a_clear_error_prunes_nothing_and_clears_when_back(
    sandbox, namespace, tmp_path
) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {f"{p}/cm.yaml": dump_all([cm(f"{p}-1")]) for p in ("a", "b", "c")},
    )
    first = repo.head.commit.hexsha
    url = f"file://{repo.working_tree_dir}"
    auto = {"prune": True, "allowEmpty": False}
    a, b, pinned = f"{namespace}-a", f"{namespace}-b", f"{namespace}-c"
    apps = [
        application(a, url, "a", namespace, automated=auto),
        application(b, url, "b", namespace, automated=auto),
        application(pinned, url, "c", namespace, automated=auto, revision=first),
    ]
    kc = sandbox.kubeconfig
    with running_engine(kc, tmp_path, apps, automation=True) as engine:
        for name in ("a-1", "b-1", "c-1"):
            wait_for(lambda n=name: live_value(kc, namespace, n), timeout=60, what=f"{name}")
        syncs_of_a = len(engine.history(a))

        # 1. a/ is removed, b/ changes: a says so, b carries on
        gone = commit(repo, {"b/cm.yaml": dump_all([cm("b-1", "v2")])}, "rm a", delete=["a"])
        wait_for(lambda: missing(engine, a, "a", gone), timeout=60, what="a's missing path")
        wait_for(lambda: live_value(kc, namespace, "b-1") == "v2", timeout=60, what="b synced")
        assert engine.snapshot().by_name[a].sync == SyncStatus.UNKNOWN
        assert ConditionType.REPO_ERROR not in conditions(engine, a)

        # 2. every file removed: no RepoError ("end of file header"), the same clear error
        empty = commit(repo, {}, "rm everything", delete=["b", "c"])
        wait_for(lambda: missing(engine, a, "a", empty), timeout=60, what="a at the empty commit")
        wait_for(lambda: missing(engine, b, "b", empty), timeout=60, what="b at the empty commit")
        for name in (a, b, pinned):
            assert ConditionType.REPO_ERROR not in conditions(engine, name), conditions(
                engine, name
            )
        # the app pinned to the first commit carries on
        assert not conditions(engine, pinned)
        assert engine.snapshot().by_name[pinned].sync == SyncStatus.SYNCED

        # automation re-decides every app a few times: nothing is pruned, nothing synced
        assert engine.automation.wait_passes(3, timeout=3 * AUTOMATION_PERIOD_S + 30)
        assert [live_value(kc, namespace, n) for n in ("a-1", "b-1", "c-1")] == ["v", "v2", "v"]
        assert len(engine.history(a)) == syncs_of_a

        # 3. a/ comes back: the error clears, a syncs the new content
        back = commit(repo, {"a/cm.yaml": dump_all([cm("a-1", "back")])}, "a is back")
        wait_for(lambda: live_value(kc, namespace, "a-1") == "back", timeout=60, what="a synced")
        wait_for(
            lambda: (
                not conditions(engine, a) and engine.snapshot().by_name[a].sync == SyncStatus.SYNCED
            ),
            timeout=60,
            what="a's error cleared",
        )
        wait_for(lambda: missing(engine, b, "b", back), timeout=60, what="b still missing")
        assert live_value(kc, namespace, "b-1") == "v2"


def test_a_failed_checkout_refuses_a_manual_sync(sandbox, namespace, tmp_path) -> None:
    """A checkout that fails (here: a file stands where the commit's tree, and where the
    app path's own tree, go in the cache) leaves no manifests: a sync must be refused,
    not run with nothing desired."""
    repo = make_repo(tmp_path / "repo", {"a/cm.yaml": dump_all([cm("a-1"), cm("a-2")])})
    url = f"file://{repo.working_tree_dir}"
    kc = sandbox.kubeconfig
    with running_engine(kc, tmp_path, [application(namespace, url, "a", namespace)]) as engine:
        op = engine.sync(SyncRequest(app=namespace))
        final = engine.wait_for_operation(namespace, op, timeout=60)
        assert final is not None and final.phase == OperationPhase.SUCCEEDED, final
        [mirror] = (tmp_path / "repo-cache").glob("*/mirror.git")
        trees = mirror.parent / "trees"  # whole commits
        subtrees = mirror.parent / "subtrees"  # single paths (a plain directory)
        head = repo.head.commit.hexsha
        # the next commit is made in a clone, so that the file standing where its tree
        # goes is in place before the engine can see it
        clone = git.Repo.clone_from(str(repo.working_tree_dir), tmp_path / "clone")
        with clone.config_writer() as cfg:
            cfg.set_value("user", "name", "Test Author")
            cfg.set_value("user", "email", "author@example.com")
        nxt = commit(clone, {"a/cm.yaml": dump_all([cm("a-1")])}, "drop a-2")
        for parent in (trees, subtrees):
            parent.mkdir(exist_ok=True)
        (trees / nxt).write_text("in the way\n")
        (subtrees / subtree_key("a", clone.commit(nxt).tree["a"].hexsha)).write_text("in the way\n")
        repo.git.fetch(str(tmp_path / "clone"), "main")
        repo.git.merge("--ff-only", "--quiet", "FETCH_HEAD")
        assert repo.head.commit.hexsha == nxt
        message = wait_for(
            lambda: conditions(engine, namespace).get(ConditionType.REPO_ERROR),
            timeout=60,
            what="the checkout failure",
        )
        assert "could not extract" in message and nxt[:12] in message, message
        with pytest.raises(EngineError, match="cannot sync"):
            engine.sync(SyncRequest(app=namespace, prune=True))
        assert live_value(kc, namespace, "a-2") == "v"
        assert [e.operation.revision for e in engine.history(namespace)] == [head]
