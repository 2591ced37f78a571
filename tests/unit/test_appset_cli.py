"""``gitops-tui appset list|preview``: a matrix of 60 Git directories x 2 kubeconfig contexts
(120 apps) from a real repository, the preview exact against existing app files, text and
JSON, exit codes, and terminal safety of strings from files and repositories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import git
import pytest
import yaml
from appset_helpers import app_template, appset_doc
from gitrepo import make_repo

from gitops_tui import cli

CONTEXTS = {"staging": "https://10.0.0.1:6443", "production": "https://10.0.0.2:6443"}
DIRS = [f"app-{i:02d}" for i in range(60)]


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITOPS_TUI_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GITOPS_TUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("KUBECONFIG", raising=False)


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": f"c-{n}", "cluster": {"server": s}} for n, s in CONTEXTS.items()],
        "contexts": [{"name": n, "context": {"cluster": f"c-{n}", "user": "u"}} for n in CONTEXTS],
        "users": [{"name": "u", "user": {"token": "not-a-secret"}}],
        "current-context": "staging",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture
def repo(tmp_path: Path) -> git.Repo:
    files = {f"apps/{d}/cm.yaml": "kind: ConfigMap\n" for d in DIRS}
    files["apps/experimental/cm.yaml"] = "kind: ConfigMap\n"
    return make_repo(tmp_path / "repo", files)


def matrix_set(repo: git.Repo, tmp_path: Path, **spec: Any) -> Path:
    doc = appset_doc(
        [
            {
                "matrix": {
                    "generators": [
                        {
                            "git": {
                                "repoURL": repo.working_tree_dir,
                                "revision": "main",
                                "directories": [
                                    {"path": "apps/*"},
                                    {"path": "apps/experimental", "exclude": True},
                                ],
                            }
                        },
                        {"clusters": {}},
                    ]
                }
            }
        ],
        {
            "metadata": {"name": "{{path.basename}}-{{name}}"},
            "spec": {
                "project": "default",
                "source": {
                    "repoURL": repo.working_tree_dir,
                    "path": "{{path}}",
                    "targetRevision": "main",
                },
                "destination": {"name": "{{name}}", "namespace": "{{path.basename}}"},
            },
        },
        name="fleet",
        **spec,
    )
    path = tmp_path / "sets" / "fleet.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(doc))
    return path


def owned(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` as Argo CD's controller wrote it: owned by the set, with the resources finalizer."""
    doc["metadata"]["finalizers"] = ["resources-finalizer.argocd.argoproj.io"]
    doc["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "ApplicationSet",
            "name": "fleet",
            "uid": "1",
        }
    ]
    return doc


def generated_app(
    repo: git.Repo, directory: str, context: str, path: str | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": f"{directory}-{context}", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {
                "repoURL": repo.working_tree_dir,
                "path": path or f"apps/{directory}",
                "targetRevision": "main",
            },
            "destination": {"name": context, "namespace": directory},
        },
    }


def main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_matrix_git_directories_x_two_clusters_lists_120_apps(
    repo: git.Repo, tmp_path: Path, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    appset = matrix_set(repo, tmp_path)
    code, out, err = main(
        capsys, "appset", "list", str(appset), "--kubeconfig", str(kubeconfig), "-o", "json"
    )
    assert (code, err) == (0, "")
    (entry,) = json.loads(out)
    assert entry["name"] == "fleet" and entry["ok"] and entry["conditions"] == []
    apps = entry["applications"]
    # git directories first, then clusters in kubeconfig context order (sorted)
    assert [a["name"] for a in apps] == [
        f"{d}-{c}" for d in DIRS for c in ("production", "staging")
    ]
    assert apps[1] == {
        "name": "app-00-staging",
        "namespace": "argocd",
        "project": "default",
        "parent": {"kind": "ApplicationSet", "name": "fleet"},
        "destination": {"server": "", "name": "staging", "namespace": "app-00"},
        "sources": [
            {
                "repoURL": repo.working_tree_dir,
                "path": "apps/app-00",
                "targetRevision": "main",
                "chart": "",
            }
        ],
    }
    code, text, _ = main(capsys, "appset", "list", str(appset), "--kubeconfig", str(kubeconfig))
    assert code == 0
    lines = text.splitlines()
    assert lines[0] == f"ApplicationSet fleet ({appset}, sync): 120 application(s)"
    assert lines[1].split() == ["NAME", "PROJECT", "DESTINATION", "REPO", "PATH", "REVISION"]
    assert lines[2].split() == [
        "app-00-production",
        "default",
        "production/app-00",
        str(repo.working_tree_dir),
        "apps/app-00",
        "main",
    ]
    assert len(lines) == 2 + 120


def test_preview_is_exact_against_existing_apps(
    repo: git.Repo, tmp_path: Path, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    appset = matrix_set(repo, tmp_path)
    apps_dir = tmp_path / "existing"
    apps_dir.mkdir()
    docs = [
        owned(generated_app(repo, "app-00", "staging")),  # unchanged
        owned(generated_app(repo, "app-01", "staging", path="apps/renamed")),  # updated
        owned(generated_app(repo, "app-99", "staging")),  # no longer generated: deleted
        generated_app(repo, "handmade", "staging"),  # not the set's: left alone
    ]
    (apps_dir / "apps.yaml").write_text(yaml.safe_dump_all(docs))
    argv = [
        "appset",
        "preview",
        str(appset),
        "--apps",
        str(apps_dir),
        "--kubeconfig",
        str(kubeconfig),
    ]
    code, out, err = main(capsys, *argv, "-o", "json")
    assert (code, err) == (0, "")
    (entry,) = json.loads(out)
    expected_creates = sorted(
        f"{d}-{c}"
        for d in DIRS
        for c in CONTEXTS
        if f"{d}-{c}" not in ("app-00-staging", "app-01-staging")
    )
    assert [c["name"] for c in entry["create"]] == expected_creates
    assert len(expected_creates) == 118
    assert entry["update"] == [
        {
            "name": "app-01-staging",
            "allowed": True,
            "reason": "",
            "fields": ["spec.source.path"],
            "adopt": False,
        }
    ]
    assert entry["delete"] == [
        {"name": "app-99-staging", "allowed": True, "reason": "", "cascade": True}
    ]
    assert entry["unchanged"] == ["app-00-staging"]
    assert entry["conflicts"] == []
    assert entry["policy"] == "sync" and entry["ok"]

    code, text, _ = main(capsys, *argv, "--exit-code")
    assert code == 1  # changes to apply
    lines = text.splitlines()
    assert (
        lines[0]
        == f"ApplicationSet fleet ({appset}, sync): 118 to create, 1 to update, 1 to delete, 1 unchanged"
    )
    assert lines[1] == f"  + {expected_creates[0]}"
    assert lines[-2] == "  ~ app-01-staging  spec.source.path"
    assert lines[-1] == "  - app-99-staging  its resources are deleted too"


def test_preview_under_create_only_skips_updates_and_deletes(
    repo: git.Repo, tmp_path: Path, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    appset = matrix_set(repo, tmp_path, syncPolicy={"applicationsSync": "create-only"})
    apps_dir = tmp_path / "existing"
    apps_dir.mkdir()
    docs = [
        owned(generated_app(repo, "app-01", "staging", path="apps/renamed")),
        owned(generated_app(repo, "app-99", "staging")),
    ]
    (apps_dir / "apps.yaml").write_text(yaml.safe_dump_all(docs))
    code, text, _ = main(
        capsys,
        "appset",
        "preview",
        str(appset),
        "--apps",
        str(apps_dir),
        "--kubeconfig",
        str(kubeconfig),
    )
    assert code == 0
    lines = text.splitlines()
    assert lines[-2] == (
        "  ~ app-01-staging  spec.source.path; SKIPPED (applicationsSync create-only: updates are skipped)"
    )
    assert lines[-1] == (
        "  - app-99-staging  its resources are deleted too; SKIPPED (applicationsSync create-only: deletions are skipped)"
    )


def test_a_broken_set_exits_1_and_others_still_print(
    tmp_path: Path, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sets = tmp_path / "sets"
    sets.mkdir()
    good = appset_doc([{"list": {"elements": [{"name": "a"}]}}], name="good")
    bad = appset_doc([{"pullRequest": {"github": {"owner": "o", "repo": "r"}}}], name="bad")
    (sets / "all.yaml").write_text(yaml.safe_dump_all([bad, good]))
    (sets / "notes.yaml").write_text("kind: ConfigMap\n")  # other documents are ignored
    code, out, _ = main(capsys, "appset", "list", str(sets), "--kubeconfig", str(kubeconfig))
    assert code == 1
    assert out.splitlines()[:2] == [
        f"ApplicationSet bad ({sets / 'all.yaml'}, sync): nothing generated",
        "  ErrorOccurred: spec.generators[0].pullRequest: the pull request generator is not supported "
        "by gitops-tui (it needs an external service); nothing is generated from this ApplicationSet",
    ]
    assert f"ApplicationSet good ({sets / 'all.yaml'}, sync): 1 application(s)" in out


def test_errors_exit_2(
    tmp_path: Path, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = main(capsys, "appset", "list", str(tmp_path / "nope.yaml"))
    assert code == 2 and err == f"error: {tmp_path / 'nope.yaml'}: no such file or directory\n"
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = main(capsys, "appset", "preview", str(empty))
    assert code == 2 and err.startswith("error: no ApplicationSet found in")
    code, _, err = main(capsys, "appset", "list", str(empty), "--from-cluster")
    assert code == 2 and err.startswith("error: no ApplicationSet found in")
    path = tmp_path / "set.yaml"
    path.write_text(yaml.safe_dump(appset_doc([{"clusters": {}}])))
    code, _, err = main(
        capsys,
        "appset",
        "list",
        str(path),
        "--kubeconfig",
        str(kubeconfig),
        "--cluster-label",
        "nowhere=a=b",
    )
    assert code == 2 and "no kubeconfig context 'nowhere'" in err


def test_cluster_labels_select_contexts(
    tmp_path: Path, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = appset_doc(
        [{"clusters": {"selector": {"matchLabels": {"tier": "prod"}}}}],
        app_template(name="gb-{{name}}", server="{{server}}"),
    )
    path = tmp_path / "set.yaml"
    path.write_text(yaml.safe_dump(doc))
    argv = ["appset", "list", str(path), "--kubeconfig", str(kubeconfig), "-o", "json"]
    code, out, _ = main(capsys, *argv, "--cluster-label", "production=tier=prod")
    assert code == 0
    apps = json.loads(out)[0]["applications"]
    assert [(a["name"], a["destination"]["server"]) for a in apps] == [
        ("gb-production", CONTEXTS["production"])
    ]


def test_strings_from_files_are_made_safe_for_the_terminal(
    tmp_path: Path, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = "x\x1b]0;owned\x07\x9b2J\u202e"
    doc = appset_doc([{"list": {"elements": [{"name": evil}]}}])
    path = tmp_path / "set.yaml"
    path.write_text(yaml.safe_dump(doc))
    for output in ("text", "json"):
        code, out, err = main(
            capsys, "appset", "list", str(path), "--kubeconfig", str(kubeconfig), "-o", output
        )
        assert code == 1
        for raw in ("\x1b", "\x07", "\x9b", "\u202e"):
            assert raw not in out + err
    code, out, _ = main(capsys, "appset", "list", str(path), "--kubeconfig", str(kubeconfig))
    assert "x\\x1b]0;owned\\x07\\x9b2J\\u202e" in out
