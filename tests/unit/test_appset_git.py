"""The git generator over real local Git repositories read through the engine's RepoCache:
directories (exclude, path parameters), files (flattened keys, lists, goTemplate),
revisions, and the trust rules (patterns and symlinks escaping the checkout)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import git
import pytest
from appset_helpers import CLUSTERS, app_template, appset_doc, names, only_condition, run
from gitrepo import Symlink, branch, commit, make_repo

from gitops_tui.appset_cli import repo_checkout
from gitops_tui.engine.app.applicationset import Inputs, generate_all, parse_applicationset


@pytest.fixture
def repo(tmp_path: Path) -> git.Repo:
    files: dict[str, Any] = {
        "apps/guestbook/deploy.yaml": "kind: ConfigMap\n",
        "apps/Web_Frontend/deploy.yaml": "kind: ConfigMap\n",
        "apps/legacy/deploy.yaml": "kind: ConfigMap\n",
        "apps/guestbook/nested/x.yaml": "kind: ConfigMap\n",
        "apps/.hidden/x.yaml": "kind: ConfigMap\n",
        "clusters/staging/config.json": json.dumps(
            {"cluster": {"name": "staging", "address": "https://1.2.3.4"}, "replicas": 2}
        ),
        "clusters/prod/config.json": json.dumps(
            {"cluster": {"name": "prod", "address": "https://2.4.6.8"}, "replicas": 1000000}
        ),
        "clusters/many/list.yaml": "- {cluster: {name: m1}}\n- {cluster: {name: m2}}\n",
        "clusters/empty/config.json": "",
    }
    return make_repo(tmp_path / "repo", files)


@pytest.fixture
def inputs(tmp_path: Path) -> Inputs:
    return Inputs(clusters=CLUSTERS, checkout=repo_checkout(tmp_path / "cache"))


def git_dirs(repo: git.Repo, *items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "git": {
            "repoURL": repo.working_tree_dir,
            "revision": "HEAD",
            "directories": list(items),
            **extra,
        }
    }


def git_files(repo: git.Repo, *patterns: str, **extra: Any) -> dict[str, Any]:
    return {
        "git": {
            "repoURL": repo.working_tree_dir,
            "files": [{"path": p} for p in patterns],
            **extra,
        }
    }


def test_directories_with_exclude_and_path_parameters(repo: git.Repo, inputs: Inputs) -> None:
    doc = appset_doc(
        [git_dirs(repo, {"path": "apps/*"}, {"path": "apps/legacy", "exclude": True})],
        app_template(
            name="{{path.basenameNormalized}}",
            path="{{path}}",
            namespace="{{path[0]}}-{{path.basename}}",
        ),
    )
    generated = run(doc, inputs)
    # "*" stays within one segment (no apps/guestbook/nested); hidden directories skipped
    assert names(generated) == ["web-frontend", "guestbook"]
    first = generated.applications[0]
    assert first.source.path == "apps/Web_Frontend"
    assert first.destination.namespace == "apps-Web_Frontend"


def test_exclude_wins_whatever_the_order(repo: git.Repo, inputs: Inputs) -> None:
    doc = appset_doc(
        [git_dirs(repo, {"path": "apps/legacy", "exclude": True}, {"path": "apps/*"})],
        app_template(name="{{path.basenameNormalized}}"),
    )
    assert "legacy" not in names(run(doc, inputs))


def test_directories_gotemplate_segments_and_commit_sha(repo: git.Repo, inputs: Inputs) -> None:
    sha = repo.head.commit.hexsha
    doc = appset_doc(
        [git_dirs(repo, {"path": "apps/guestbook"}, {"path": "apps/*/nested"})],
        app_template(
            name="{{ .path.basenameNormalized }}-{{ len .path.segments }}",
            path="{{ .path.path }}",
            namespace="{{ index .path.segments 1 }}",
        ),
        goTemplate=True,
    )
    doc["spec"]["template"]["spec"]["source"]["targetRevision"] = "{{ .commitSHA }}"
    generated = run(doc, inputs)
    assert names(generated) == ["guestbook-2", "nested-3"]
    assert {a.source.target_revision for a in generated.applications} == {sha}
    assert generated.applications[1].destination.namespace == "guestbook"


def test_path_param_prefix(repo: git.Repo, inputs: Inputs) -> None:
    doc = appset_doc(
        [git_dirs(repo, {"path": "apps/guestbook"}, pathParamPrefix="src")],
        app_template(name="{{src.path.basename}}", path="{{src.path}}"),
    )
    assert names(run(doc, inputs)) == ["guestbook"]


def test_files_flattened_keys_and_file_path_parameters(repo: git.Repo, inputs: Inputs) -> None:
    doc = appset_doc(
        [git_files(repo, "clusters/*/config.json")],
        app_template(
            name="{{cluster.name}}-{{path.basename}}",
            server="{{cluster.address}}",
            path="{{path}}/{{path.filename}}/{{replicas}}",
        ),
    )
    generated = run(doc, inputs)
    # sorted by file path; the empty file yields no parameter set, as Argo CD
    assert names(generated) == ["prod-prod", "staging-staging"]
    prod = generated.applications[0]
    assert prod.destination.server == "https://2.4.6.8"
    assert prod.source.path == "clusters/prod/config.json/1e+06"


def test_files_greedy_glob_lists_and_gotemplate(repo: git.Repo, inputs: Inputs) -> None:
    doc = appset_doc(
        [git_files(repo, "clusters/**.yaml")],
        app_template(name="{{ .cluster.name }}", path="{{ .path.path }}"),
        goTemplate=True,
    )
    generated = run(doc, inputs)
    assert names(generated) == ["m1", "m2"]
    # Argo CD's default git file globbing: "*" crosses "/"
    greedy = appset_doc([git_files(repo, "clusters/*.json")], app_template(name="{{cluster.name}}"))
    assert names(run(greedy, inputs)) == ["prod", "staging"]


def test_a_file_that_is_not_a_mapping_is_a_condition(tmp_path: Path, inputs: Inputs) -> None:
    bad = make_repo(tmp_path / "bad", {"c/config.yaml": "just a string\n"})
    doc = appset_doc([git_files(bad, "c/*.yaml")])
    assert "unable to process file 'c/config.yaml'" in only_condition(run(doc, inputs))


def test_revision_branch_and_unknown_revision(repo: git.Repo, inputs: Inputs) -> None:
    branch(repo, "release")
    commit(repo, {"apps/newapp/x.yaml": "a: 1\n"}, "new app on main")
    gen = git_dirs(repo, {"path": "apps/*"})
    gen["git"]["revision"] = "release"
    doc = appset_doc([gen], app_template(name="{{path.basenameNormalized}}"))
    assert "newapp" not in names(run(doc, inputs))
    gen["git"]["revision"] = "main"
    assert "newapp" in names(run(doc, inputs))
    gen["git"]["revision"] = "no-such-branch"
    message = only_condition(run(doc, inputs))
    assert message.startswith("spec.generators[0].git: revision not found: no-such-branch")


@pytest.mark.parametrize("pattern", ["../outside/*", "/etc/*", "apps/../../x"])
def test_a_pattern_escaping_the_repository_is_a_condition(
    repo: git.Repo, inputs: Inputs, pattern: str
) -> None:
    for gen in (git_dirs(repo, {"path": pattern}), git_files(repo, pattern)):
        message = only_condition(run(appset_doc([gen]), inputs))
        assert f"path {pattern!r} escapes the repository" in message


def test_a_symlink_out_of_the_checkout_is_a_condition_other_sets_unaffected(
    tmp_path: Path, inputs: Inputs
) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"name": "leaked"}))
    evil = make_repo(
        tmp_path / "evil",
        {"c/a/config.json": json.dumps({"name": "fine"}), "c/b/config.json": Symlink(str(secret))},
    )
    bad = parse_applicationset(
        appset_doc([git_files(evil, "c/*/config.json")], name="bad"), "bad.yaml"
    )
    good = parse_applicationset(
        appset_doc([{"list": {"elements": [{"name": "ok"}]}}], name="good"), "good.yaml"
    )
    first, second = generate_all([bad, good], inputs)
    assert first.applications == ()
    assert first.conditions[0].message == (
        "spec.generators[0].git: git file 'c/b/config.json' resolves outside the repository"
    )
    assert "leaked" not in repr(first)
    assert [a.name for a in second.applications] == ["ok"]


def test_a_symlinked_directory_is_not_a_directory(tmp_path: Path, inputs: Inputs) -> None:
    outside = tmp_path / "outside"
    (outside / "x").mkdir(parents=True)
    linked = make_repo(
        tmp_path / "linked", {"apps/real/x.yaml": "a: 1\n", "apps/link": Symlink(str(outside))}
    )
    doc = appset_doc([git_dirs(linked, {"path": "apps/*"})], app_template(name="{{path.basename}}"))
    assert names(run(doc, inputs)) == ["real"]


def test_git_without_repository_access_is_a_condition(repo: git.Repo) -> None:
    doc = appset_doc([git_dirs(repo, {"path": "apps/*"})])
    assert "no Git access in this mode" in only_condition(run(doc, Inputs()))


def test_directories_come_in_the_repo_servers_walk_order(tmp_path: Path, inputs: Inputs) -> None:
    tree = make_repo(
        tmp_path / "order",
        {"apps/a/x/f.yaml": "a: 1\n", "apps/a-b/f.yaml": "a: 1\n", "apps/a/f.yaml": "a: 1\n"},
    )
    doc = appset_doc(
        [git_dirs(tree, {"path": "apps/*"}, {"path": "apps/*/*"})],
        app_template(name="{{path.basename}}"),
    )
    # depth first with names sorted, as filepath.Walk: a, a/x, then a-b ("-" sorts before "/")
    assert names(run(doc, inputs)) == ["a", "x", "a-b"]
