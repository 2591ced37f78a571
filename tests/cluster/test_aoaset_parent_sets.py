"""ApplicationSets rendered by an App of Apps parent: registered when the parent is synced
(as its child Applications are), generated like the sets of files, with the same bounds
(real engine, real Git repository, real control plane)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from gitrepo import commit, make_repo
from helpers import application, dump_all, running_engine, wait_for

from gitops_tui.engine.api import SyncRequest
from gitops_tui.engine.model import SyncStatus
from gitops_tui.engine.snapshot import OperationPhase
from gitops_tui.headless import cmd_list

pytestmark = pytest.mark.cluster


def cm(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


def list_set(name: str, url: str, namespace: str, elements: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "generators": [{"list": {"elements": elements}}],
            "template": {
                "metadata": {"name": f"{name}-{{{{env}}}}"},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": url, "targetRevision": "HEAD", "path": "{{path}}"},
                    "destination": {
                        "server": "https://kubernetes.default.svc",
                        "namespace": namespace,
                    },
                },
            },
        },
    }


def escaping_set(name: str, url: str, namespace: str) -> dict[str, Any]:
    doc = list_set(name, url, namespace, [])
    doc["spec"]["generators"] = [
        {"git": {"repoURL": url, "revision": "HEAD", "directories": [{"path": "../*"}]}}
    ]
    doc["spec"]["template"]["metadata"]["name"] = f"{name}-{{{{path.basename}}}}"
    return doc


def sync(engine, name: str, *, prune: bool = False) -> None:  # type: ignore[no-untyped-def]
    op = engine.sync(SyncRequest(app=name, prune=prune))
    final = engine.wait_for_operation(name, op, timeout=60)
    assert final is not None and final.phase == OperationPhase.SUCCEEDED, final


def generated(engine, appset: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {
        a.name
        for a in engine.snapshot().apps
        if a.parent == appset and a.parent_kind == "ApplicationSet"
    }


def sets_of(engine) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    engine.publisher.build_fleet()
    return {s.name: s for s in engine.snapshot().appsets}


def test_a_parent_renders_a_list_set_registered_on_sync_and_removed_with_prune(
    sandbox, namespace, tmp_path
) -> None:
    repo = make_repo(tmp_path / "repo", {"a/cm.yaml": dump_all([cm("a-cm")])})
    url = f"file://{repo.working_tree_dir}"
    the_set = f"{namespace}-set"
    elements = [{"env": env, "path": "a"} for env in ("dev", "stage", "prod")]
    commit(
        repo,
        {"parent/set.yaml": dump_all([list_set(the_set, url, namespace, elements)])},
        "the parent renders one ApplicationSet",
    )
    parent = application(namespace, url, "parent", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [parent]) as engine:
        # as for child Applications: nothing is registered before the parent is synced
        assert sets_of(engine) == {}
        sync(engine, namespace)
        apps = {f"{the_set}-{env}" for env in ("dev", "stage", "prod")}
        wait_for(lambda: generated(engine, the_set) == apps, what="the set's 3 apps")
        assert sets_of(engine)[the_set].parent == namespace
        assert sets_of(engine)[the_set].origin == f"app:{namespace}"
        assert engine.wait_until_compared(timeout=60)
        sync(engine, f"{the_set}-dev")
        wait_for(
            lambda: engine.snapshot().by_name[f"{the_set}-dev"].sync == SyncStatus.SYNCED,
            what="a generated app Synced",
        )

        out = io.StringIO()
        assert cmd_list(engine, output="json", out=out) == 0
        listed = {a["name"]: a for a in json.loads(out.getvalue())}
        for name in apps:
            assert listed[name]["parentRef"] == {
                "kind": "ApplicationSet",
                "name": the_set,
                "parentRef": {"kind": "Application", "name": namespace},
            }

        # an element dropped in Git: applied on the parent's next sync, per the set's policy
        # (the default, sync, deletes)
        commit(
            repo,
            {"parent/set.yaml": dump_all([list_set(the_set, url, namespace, elements[:2])])},
            "drop prod",
        )
        engine.refresh(namespace)
        wait_for(
            lambda: engine.snapshot().by_name[namespace].revision == repo.head.commit.hexsha,
            what="the parent at the new commit",
        )
        sync(engine, namespace)
        wait_for(
            lambda: generated(engine, the_set) == apps - {f"{the_set}-prod"},
            what="prod removed",
        )

        # the set gone from Git: without prune it stays (as a child app does), with prune
        # it goes, and its apps with it
        commit(
            repo, {"parent/cm.yaml": dump_all([cm("p-cm")])}, "no set", delete=["parent/set.yaml"]
        )
        engine.refresh(namespace)
        wait_for(
            lambda: engine.snapshot().by_name[namespace].revision == repo.head.commit.hexsha,
            what="the parent at the commit without the set",
        )
        sync(engine, namespace)
        assert the_set in sets_of(engine)
        assert generated(engine, the_set) == apps - {f"{the_set}-prod"}
        sync(engine, namespace, prune=True)
        wait_for(lambda: the_set not in sets_of(engine), what="the set removed")
        assert not any(a.name.startswith(f"{the_set}-") for a in engine.snapshot().apps)


def test_hostile_sets_in_a_parent_get_a_condition_and_generate_nothing(
    sandbox, namespace, tmp_path
) -> None:
    repo = make_repo(tmp_path / "repo", {"a/cm.yaml": dump_all([cm("a-cm")])})
    url = f"file://{repo.working_tree_dir}"
    good, huge, escaping = f"{namespace}-good", f"{namespace}-huge", f"{namespace}-esc"
    many = [{"env": f"e{i}", "path": "a"} for i in range(10_001)]
    commit(
        repo,
        {
            "parent/sets.yaml": dump_all(
                [
                    list_set(good, url, namespace, [{"env": "one", "path": "a"}]),
                    list_set(huge, url, namespace, many),
                    escaping_set(escaping, url, namespace),
                ]
            )
        },
        "one good set, two hostile ones",
    )
    parent = application(namespace, url, "parent", namespace)
    other = application(f"{namespace}-other", url, "a", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [parent, other]) as engine:
        sync(engine, namespace)
        wait_for(lambda: generated(engine, good) == {f"{good}-one"}, what="the good set's app")
        wait_for(lambda: {huge, escaping} <= set(sets_of(engine)), what="the hostile sets")
        sets = sets_of(engine)
        assert generated(engine, huge) == set() and generated(engine, escaping) == set()
        for name, words in ((huge, "10000"), (escaping, "../*")):
            [condition] = sets[name].conditions
            assert condition.type == "ErrorOccurred", condition
            assert words in condition.message.replace(",", ""), condition.message
            assert sets[name].parent == namespace
        assert sets[good].conditions == ()
        # the other apps carry on
        sync(engine, f"{namespace}-other")
        wait_for(
            lambda: engine.snapshot().by_name[f"{namespace}-other"].sync == SyncStatus.SYNCED,
            what="the other app Synced",
        )


def test_a_restart_restores_the_sets_of_the_parents_last_sync(sandbox, namespace, tmp_path) -> None:
    repo = make_repo(tmp_path / "repo", {"a/cm.yaml": dump_all([cm("a-cm")])})
    url = f"file://{repo.working_tree_dir}"
    the_set = f"{namespace}-set"
    commit(
        repo,
        {
            "parent/set.yaml": dump_all(
                [list_set(the_set, url, namespace, [{"env": "x", "path": "a"}])]
            )
        },
        "the parent renders one ApplicationSet",
    )
    parent = application(namespace, url, "parent", namespace)
    with running_engine(sandbox.kubeconfig, tmp_path, [parent]) as engine:
        sync(engine, namespace)
        wait_for(lambda: generated(engine, the_set) == {f"{the_set}-x"}, what="the set's app")
    # as child Applications are: the last successful sync of the parent counts at start-up
    with running_engine(sandbox.kubeconfig, tmp_path, [parent]) as engine:
        wait_for(lambda: generated(engine, the_set) == {f"{the_set}-x"}, what="the set restored")
        assert sets_of(engine)[the_set].parent == namespace
