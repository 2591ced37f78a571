"""``appset apply`` without a cluster: what it refuses and why; the CLI's Git reads are fresh."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from gitrepo import commit, make_repo

from gitops_tui import appset_cli
from gitops_tui.appset_apply import LOCAL_MODE
from gitops_tui.cli import build_parser

SET = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "ApplicationSet",
    "metadata": {"name": "fleet", "namespace": "argocd"},
    "spec": {
        "generators": [{"list": {"elements": [{"n": "a"}]}}],
        "template": {
            "metadata": {"name": "{{n}}"},
            "spec": {
                "project": "default",
                "source": {"repoURL": "file:///nowhere", "path": "{{n}}"},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "x"},
            },
        },
    },
}


def run(tmp_path: Path, *args: str) -> tuple[int, str]:
    config = tmp_path / "config.yaml"
    config.write_text("{}\n")
    parsed = build_parser().parse_args(["appset", "apply", *args, "--config", str(config)])
    out = io.StringIO()
    return appset_cli.run(parsed, out=out), out.getvalue()


def test_apply_in_local_mode_says_what_apply_means(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_file = tmp_path / "set.yaml"
    set_file.write_text(yaml.safe_dump(SET))
    code, out = run(tmp_path, "fleet", str(set_file))
    assert (code, out) == (2, "")
    assert capsys.readouterr().err == f"error: {LOCAL_MODE}\n"
    assert "needs --from-cluster" in LOCAL_MODE and "appset preview" in LOCAL_MODE


def test_apply_of_an_unknown_set_names_the_sets_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_file = tmp_path / "set.yaml"
    set_file.write_text(yaml.safe_dump(SET))
    code, _ = run(tmp_path, "nope", str(set_file), "--from-cluster", "argocd")
    assert code == 2
    assert "no ApplicationSet named 'nope' in the files given (found: fleet)" in (
        capsys.readouterr().err
    )


def test_the_cli_reads_a_commit_made_after_an_earlier_run(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"apps/a/x.yaml": "{}\n"})
    url = f"file://{repo.working_tree_dir}"
    first = appset_cli.repo_checkout(tmp_path / "cache")
    sha1, _ = first(url, "HEAD")
    sha2 = commit(repo, {"apps/b/x.yaml": "{}\n"}, "add b")
    second = appset_cli.repo_checkout(tmp_path / "cache")  # a later command, same cache
    sha, tree = second(url, "HEAD")
    assert sha == sha2 != sha1 and (tree / "apps" / "b").is_dir()
