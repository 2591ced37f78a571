"""Bad input that needs no cluster: the pure checks behind ``tests/cluster/test_bad_input.py``.

The cluster tests show each message on an app of a running engine; these pin the
pieces (validation, duplicate detection, size limit, message scrubbing) directly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import make_repo
from helpers import application, dump_all

from gitops_tui.engine.app.application import Application, InvalidApplication
from gitops_tui.engine.app.loading import load_application_files
from gitops_tui.engine.app.parse import parse_application
from gitops_tui.engine.diff.compare import _without_values
from gitops_tui.engine.manifest_yaml import (
    MAX_NESTING_DEPTH,
    ManifestFileError,
    load_manifest_documents,
)
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.source.render import defaulted_key, find_duplicates
from gitops_tui.engine.source.repo import RepoCache
from gitops_tui.engine.source.sources import (
    MAX_OBJECT_BYTES,
    ManifestCache,
    SourceError,
    generate,
    resolve_revisions,
    without_credentials,
)


def cm(name: str, namespace: str = "", **data: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {"k": "v"}}


def app_doc(**spec: Any) -> dict[str, Any]:
    doc = application("web", "file:///repo", "app", "prod")
    doc["spec"].update(spec)
    return doc


# --------------------------------------------------------------------------- ignoreDifferences


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"kind": "ConfigMap", "jqPathExpressions": [".data["]},
            "spec.ignoreDifferences[0]: invalid jq path expression '.data['",
        ),
        (
            {"kind": "ConfigMap", "jsonPointers": ["data"]},
            "spec.ignoreDifferences[0]: invalid JSON pointer 'data' in ignoreDifferences",
        ),
        (
            {"kind": "ConfigMap", "jsonPointers": [""]},
            "spec.ignoreDifferences[0]: JSON pointer '' names the whole object; name a field",
        ),
    ],
)
def test_ignore_differences_that_would_be_dropped_are_invalid(
    rule: dict[str, Any], message: str
) -> None:
    result = parse_application(app_doc(ignoreDifferences=[rule]), "test")
    assert isinstance(result, InvalidApplication)
    assert any(m.startswith(message) for m in result.messages), result.messages


def test_valid_ignore_differences_stay_valid_and_type_errors_are_reported_once() -> None:
    good = {
        "group": "apps",
        "kind": "Deployment",
        "jsonPointers": ["/spec/replicas"],
        "jqPathExpressions": ['.spec.template.spec.containers[] | select(.name == "x")'],
    }
    assert isinstance(parse_application(app_doc(ignoreDifferences=[good]), "t"), Application)
    result = parse_application(
        app_doc(ignoreDifferences=[{"kind": "ConfigMap", "jsonPointers": "/data"}]), "t"
    )
    assert isinstance(result, InvalidApplication)
    assert result.messages == (
        "spec.ignoreDifferences[0].jsonPointers: must be a string list, got string",
    )


# --------------------------------------------------------------------------- Application files


def test_named_file_without_an_application_is_reported(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    comments = tmp_path / "comments.yaml"
    comments.write_text("# nothing here\n---\n")
    other = tmp_path / "deploy.yaml"
    other.write_text(dump_all([cm("x")]))
    results = load_application_files([empty, comments, other])
    assert [(type(r).__name__, r.name) for r in results] == [
        ("InvalidApplication", "empty"),
        ("InvalidApplication", "comments"),
        ("InvalidApplication", "deploy"),
    ]
    assert results[0].messages == (  # type: ignore[union-attr]
        f"{empty}: is empty (expected documents with apiVersion argoproj.io/v1alpha1, "
        "kind Application)",
    )
    assert results[2].messages == (  # type: ignore[union-attr]
        f"{other}: holds no Argo CD Application (expected documents with apiVersion "
        "argoproj.io/v1alpha1, kind Application)",
    )


def test_in_a_directory_files_without_applications_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "deploy.yaml").write_text(dump_all([cm("x")]))
    (tmp_path / "app.yaml").write_text(yaml.safe_dump(app_doc()))
    assert [r.name for r in load_application_files([tmp_path])] == ["web"]


# --------------------------------------------------------------------------- duplicates


def test_duplicates_count_an_object_with_and_without_the_destination_namespace() -> None:
    manifests = [cm("a"), cm("a", "prod"), cm("b", "other"), cm("b")]
    assert find_duplicates(manifests) == []  # keys as written differ
    assert find_duplicates(manifests, "prod") == [ResourceKey("", "ConfigMap", "prod", "a")]
    assert defaulted_key(cm("b"), "prod") == ResourceKey("", "ConfigMap", "prod", "b")
    assert defaulted_key(cm("b", "other"), "prod").namespace == "other"


def _generate(tmp_path: Path, files: dict[str, str]) -> Any:
    repo = make_repo(tmp_path / "repo", files)
    doc = application("web", f"file://{repo.working_tree_dir}", "app", "prod")
    app = parse_application(doc, "test")
    assert isinstance(app, Application)
    repos = RepoCache(tmp_path / "cache")
    revisions = resolve_revisions(app, repos, refresh=True)
    return generate(app, repos, ManifestCache(), revisions=revisions)


def test_generate_keeps_the_last_of_a_duplicate_and_names_it(tmp_path: Path) -> None:
    generated = _generate(
        tmp_path, {"app/a.yaml": dump_all([cm("a", k="first"), cm("a", "prod", k="last")])}
    )
    assert generated.duplicates == ("ConfigMap prod/a",)
    assert [m["data"] for m in generated.manifests] == [{"k": "last"}]


def test_an_object_too_big_for_the_api_server_is_refused_by_name(tmp_path: Path) -> None:
    big = cm("big", blob="x" * (MAX_OBJECT_BYTES + 1))
    with pytest.raises(SourceError) as error:
        _generate(tmp_path, {"app/a.yaml": dump_all([cm("small"), big])})
    assert error.value.kind == "render"
    assert str(error.value) == (
        "ConfigMap prod/big: object is 3.0 MiB as JSON, more than the 3 MiB the Kubernetes "
        "API server accepts in one request"
    )


def test_an_object_just_under_the_limit_is_fine(tmp_path: Path) -> None:
    generated = _generate(tmp_path, {"app/a.yaml": dump_all([cm("big", blob="x" * 3_000_000)])})
    assert [m["metadata"]["name"] for m in generated.manifests] == ["big"]


# --------------------------------------------------------------------------- scrubbing messages


@pytest.mark.parametrize(
    ("message", "url", "expected"),
    [
        (
            "unable to look up user:s3cr3t@127.0.0.1:9 (port 9418)",
            "git://user:s3cr3t@127.0.0.1:9/r",
            "unable to look up ***@127.0.0.1:9 (port 9418)",
        ),
        ("echo s3cr/t and s3cr%2Ft", "https://u:s3cr%2Ft@h/x", "echo *** and ***"),
        ("token ghtoken123 leaked", "https://ghtoken123@h/x", "token *** leaked"),
        ("git fetch failed: ssh://git@h/x", "ssh://git@h/x", "git fetch failed: ssh://git@h/x"),
        ("nothing to hide", "https://h/x", "nothing to hide"),
        ("said ab/cd@h and ab/cd", "https://u:ab/cd@h/x", "said ***@h and ***"),
    ],
)
def test_credentials_of_the_repo_url_are_scrubbed(message: str, url: str, expected: str) -> None:
    assert without_credentials(message, url) == expected


def test_server_messages_lose_the_values_they_echo() -> None:
    secret = ResourceKey("", "Secret", "ns", "s")
    echoed = (
        "failed to create typed patch object (ns/s; /v1, Kind=Secret): .stringData.n: "
        "expected string, got &value.valueUnstructured{Value:31415926535}"
    )
    assert "31415926535" not in _without_values(echoed, secret)
    assert _without_values(echoed, secret).endswith("got a value of the wrong type")
    invalid = 'Secret "s" is invalid: data[k]: Invalid value: "hunter2": bad'
    assert (
        _without_values(invalid, secret)
        == 'Secret "s" is invalid: data[k]: Invalid value: "***": bad'
    )
    config = ResourceKey("", "ConfigMap", "ns", "c")
    assert _without_values('Invalid value: "Bad_Name"', config) == 'Invalid value: "Bad_Name"'
    assert _without_values("see https://u:pw@h/x", config) == "see https://***@h/x"


# --------------------------------------------------------------------------- nesting depth


def _nested_json(levels: int) -> str:
    deep = "1"
    for _ in range(levels):
        deep = '{"a":' + deep + "}"
    return (
        json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "deep"}})[:-1]
        + f',"data":{{"k":"v"}},"extra":{deep}}}'
    )


def test_deeply_nested_json_is_refused_by_file_and_other_apps_render(tmp_path: Path) -> None:
    """Issue 11 item 15: 900 levels gave a RecursionError without a file name."""
    repo = make_repo(
        tmp_path / "repo",
        {"deep/app.json": _nested_json(900), "fine/cm.yaml": dump_all([cm("fine")])},
    )
    repos = RepoCache(tmp_path / "cache")
    results: dict[str, Any] = {}
    for name in ("deep", "fine"):
        doc = application(name, f"file://{repo.working_tree_dir}", name, "prod")
        app = parse_application(doc, "test")
        assert isinstance(app, Application)
        revisions = resolve_revisions(app, repos, refresh=True)
        try:
            results[name] = generate(app, repos, ManifestCache(), revisions=revisions)
        except SourceError as exc:
            results[name] = exc
    assert isinstance(results["deep"], SourceError)
    assert str(results["deep"]) == "deep/app.json: nested more than 100 levels deep (refused)"
    assert [m["metadata"]["name"] for m in results["fine"].manifests] == ["fine"]


@pytest.mark.parametrize(
    "text",
    [
        "[" * 900 + "]" * 900,
        "a: " + "{b: " * 900 + "1" + "}" * 900,
        # aliases nest an anchored 60-level value inside another 60 levels
        "x: &deep " + "[" * 60 + "]" * 60 + "\ny: " + "[" * 60 + "*deep" + "]" * 60,
    ],
    ids=["flow-lists", "flow-mappings", "through-an-alias"],
)
def test_deeply_nested_yaml_is_refused_with_the_file_name(text: str) -> None:
    with pytest.raises(ManifestFileError, match=r"^f\.yaml: nested more than 100 levels deep"):
        load_manifest_documents(text, "f.yaml")


def test_nesting_up_to_the_limit_is_read() -> None:
    text = "[" * MAX_NESTING_DEPTH + "]" * MAX_NESTING_DEPTH
    assert load_manifest_documents(text, "f.yaml")
    assert load_manifest_documents(text, "f.json", as_json=True)
