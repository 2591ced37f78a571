"""Rendering without external tools: directory apps, path safety, pure helpers."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.engine.app.application import DirectoryOptions, Source
from gitops_tui.engine.manifest_yaml import MAX_MANIFEST_BYTES
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.source import rendertools
from gitops_tui.engine.source.helm import escape_set_value, helm_template_arguments
from gitops_tui.engine.source.kustomize import (
    apply_kustomize_options,
    merge_images,
    parse_image_override,
    split_image_name,
)
from gitops_tui.engine.source.render import (
    RenderError,
    detect_tool,
    find_duplicates,
    glob_regex,
    render_source,
)


def cm(name: str, namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def write_docs(path: Path, *docs: Any) -> Path:
    return write(path, "\n---\n".join(json.dumps(doc) for doc in docs))


def names(manifests: list[dict[str, Any]]) -> list[str]:
    return [m["metadata"]["name"] for m in manifests]


def render_dir(root: Path, path: str = "app", **directory: Any) -> list[dict[str, Any]]:
    source = Source(
        repo_url="r", path=path, directory=DirectoryOptions(**directory) if directory else None
    )
    return render_source(source, root, app_name="demo", namespace="ns")


# --------------------------------------------------------------------------- directory mode


def test_directory_reads_yaml_yml_json_and_skips_other_files(tmp_path: Path) -> None:
    app = tmp_path / "app"
    write_docs(app / "a.yaml", cm("a1"), None, cm("a2"))
    write(app / "b.yml", "---\n" + json.dumps(cm("b")) + "\n---\n")
    write(app / "c.json", json.dumps(cm("c")))
    write(app / "README.md", "apiVersion: v1\nkind: ConfigMap\n")
    write(app / "script.sh", "echo hi")
    write_docs(app / "sub" / "nested.yaml", cm("nested"))
    assert names(render_dir(tmp_path)) == ["a1", "a2", "b", "c"]


def test_recurse_reads_subdirectories_in_path_order(tmp_path: Path) -> None:
    app = tmp_path / "app"
    write_docs(app / "b.yaml", cm("b"))
    write_docs(app / "a" / "z.yaml", cm("a-z"))
    write_docs(app / "a" / "deeper" / "x.yaml", cm("a-deeper-x"))
    write_docs(app / "c" / "y.yaml", cm("c-y"))
    assert names(render_dir(tmp_path, recurse=True)) == ["a-deeper-x", "a-z", "b", "c-y"]


def test_include_with_brace_alternatives(tmp_path: Path) -> None:
    app = tmp_path / "app"
    for name in ("deploy", "service", "ingress"):
        write_docs(app / f"{name}.yaml", cm(name))
    result = render_dir(tmp_path, include="{deploy,service}.yaml")
    assert names(result) == ["deploy", "service"]


def test_exclude_wins_over_include_and_matches_relative_paths(tmp_path: Path) -> None:
    app = tmp_path / "app"
    write_docs(app / "base" / "one.yaml", cm("one"))
    write_docs(app / "base" / "two.yaml", cm("two"))
    write_docs(app / "dev" / "three.yaml", cm("three"))
    write_docs(app / "top.yaml", cm("top"))
    result = render_dir(
        tmp_path, recurse=True, include="{base,dev}/*.yaml", exclude="{dev/*,*/two.yaml}"
    )
    assert names(result) == ["one"]


def test_list_kind_is_flattened(tmp_path: Path) -> None:
    write_docs(
        tmp_path / "app" / "list.yaml",
        {"apiVersion": "v1", "kind": "List", "items": [cm("x"), cm("y")]},
        cm("z"),
    )
    assert names(render_dir(tmp_path)) == ["x", "y", "z"]


def test_non_mapping_document_names_file_and_index(tmp_path: Path) -> None:
    write(tmp_path / "app" / "bad.yaml", json.dumps(cm("ok")) + "\n---\n- just\n- a list\n")
    with pytest.raises(RenderError, match=r"app/bad.yaml: document 2 is a list, not a mapping"):
        render_dir(tmp_path)


def test_list_items_must_be_mappings(tmp_path: Path) -> None:
    write_docs(
        tmp_path / "app" / "l.yaml", {"apiVersion": "v1", "kind": "List", "items": [cm("a"), 3]}
    )
    with pytest.raises(RenderError, match="document 1 item 2 is a int, not a mapping"):
        render_dir(tmp_path)


@pytest.mark.parametrize(
    ("obj", "missing"),
    [
        ({"kind": "ConfigMap", "metadata": {"name": "a"}}, "apiVersion"),
        ({"apiVersion": "v1", "metadata": {"name": "a"}}, "kind"),
        ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}, "metadata.name"),
        ({"apiVersion": "v1", "kind": "ConfigMap"}, "metadata.name"),
    ],
)
def test_incomplete_objects_are_errors(tmp_path: Path, obj: dict[str, Any], missing: str) -> None:
    write_docs(tmp_path / "app" / "x.yaml", obj)
    with pytest.raises(RenderError, match=f"app/x.yaml: document 1 is missing {missing}$"):
        render_dir(tmp_path)


def test_generate_name_is_enough(tmp_path: Path) -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"generateName": "migrate-"}}
    write_docs(tmp_path / "app" / "job.yaml", job)
    assert render_dir(tmp_path) == [job]


def test_unrelated_yaml_is_skipped_but_broken_manifests_are_not(tmp_path: Path) -> None:
    write(tmp_path / "app" / "values.yaml", "replicas: 3\nimage: {tag: latest}\n")
    write(tmp_path / "app" / "notes.yaml", "{{ not yaml at all\n")
    write_docs(tmp_path / "app" / "cm.yaml", cm("real"))
    assert names(render_dir(tmp_path)) == ["real"]
    write(tmp_path / "app" / "broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n")
    with pytest.raises(RenderError, match=r"app/broken.yaml: line \d+, column \d+"):
        render_dir(tmp_path)


def test_binary_file_is_a_clear_error(tmp_path: Path) -> None:
    write(tmp_path / "app" / "good.yaml", json.dumps(cm("good")))
    (tmp_path / "app" / "image.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(RenderError, match=r"app/image.yaml: binary content"):
        render_dir(tmp_path)


def test_non_utf8_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "latin1.yaml").write_bytes(b"apiVersion: v1\nkind: ConfigMap\n# caf\xe9\n")
    with pytest.raises(RenderError, match=r"app/latin1.yaml: not valid UTF-8"):
        render_dir(tmp_path)


def test_oversize_file_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "app" / "big.yaml"
    big.parent.mkdir()
    with big.open("w") as handle:
        handle.write("# " + "x" * (MAX_MANIFEST_BYTES) + "\n")
    with pytest.raises(RenderError, match=r"app/big.yaml: manifest larger than 16 MiB"):
        render_dir(tmp_path)


def test_alias_bomb_in_manifest_is_refused(tmp_path: Path) -> None:
    lines = [
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\na: &a ["l","l","l","l","l","l","l","l","l"]'
    ]
    lines += [
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]"
        for i in range(8)
    ]
    write(tmp_path / "app" / "bomb.yaml", "\n".join(lines) + "\n")
    with pytest.raises(RenderError, match="alias bomb"):
        render_dir(tmp_path)


def test_jsonnet_files_are_refused_not_ignored(tmp_path: Path) -> None:
    write(tmp_path / "app" / "main.jsonnet", "{}")
    with pytest.raises(RenderError, match="jsonnet is not supported"):
        render_dir(tmp_path)
    assert render_dir(tmp_path, exclude="*.jsonnet") == []


def test_fifo_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    os.mkfifo(tmp_path / "app" / "pipe.yaml")
    with pytest.raises(RenderError, match="not a regular file"):
        render_dir(tmp_path)


# --------------------------------------------------------------------------- path safety


def test_path_with_dotdot_escaping_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write_docs(tmp_path / "outside" / "secret.yaml", cm("secret"))
    root.mkdir()
    with pytest.raises(RenderError, match="path leaves the repository"):
        render_dir(root, path="../outside")


def test_dotdot_that_stays_inside_is_fine(tmp_path: Path) -> None:
    write_docs(tmp_path / "b" / "x.yaml", cm("x"))
    (tmp_path / "a").mkdir()
    assert names(render_dir(tmp_path, path="a/../b")) == ["x"]


def test_absolute_path_is_refused(tmp_path: Path) -> None:
    write_docs(tmp_path / "app" / "x.yaml", cm("x"))
    with pytest.raises(RenderError, match="must be relative to the repository, not absolute"):
        render_dir(tmp_path, path=str(tmp_path / "app"))


def test_symlinked_app_dir_outside_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    write_docs(tmp_path / "outside" / "x.yaml", cm("x"))
    (root / "app").symlink_to(tmp_path / "outside")
    with pytest.raises(RenderError, match="path leaves the repository"):
        render_dir(root)


def test_symlinked_file_outside_root_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write_docs(tmp_path / "outside.yaml", cm("stolen"))
    write_docs(root / "app" / "ok.yaml", cm("ok"))
    (root / "app" / "link.yaml").symlink_to(tmp_path / "outside.yaml")
    with pytest.raises(RenderError, match=r"app/link.yaml: symlink points outside the repository"):
        render_dir(root)


def test_symlinked_file_inside_root_is_read(tmp_path: Path) -> None:
    write_docs(tmp_path / "shared" / "common.yaml", cm("common"))
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "common.yaml").symlink_to(tmp_path / "shared" / "common.yaml")
    assert names(render_dir(tmp_path)) == ["common"]


def test_missing_app_path(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="does not exist"):
        render_dir(tmp_path, path="nowhere")


# --------------------------------------------------------------------------- globs


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*.yaml", "a.yaml", True),
        ("*.yaml", "dir/a.yaml", True),  # gobwas/glob without separators: * crosses '/'
        ("*.yaml", "a.yml", False),
        ("?.yaml", "ab.yaml", False),
        ("{a,b}.yaml", "b.yaml", True),
        ("{a,b}.yaml", "c.yaml", False),
        ("{dev/{x,y},prod}/*", "dev/y/f.yaml", True),
        ("[!a]*.yaml", "a.yaml", False),
        ("[a-c]*.yaml", "b.yaml", True),
        ("\\*.yaml", "*.yaml", True),
        ("\\*.yaml", "a.yaml", False),
        ("a.yaml", "a.yaml.bak", False),
        ("a+b.yaml", "a+b.yaml", True),
    ],
)
def test_glob_semantics(pattern: str, path: str, matches: bool) -> None:
    assert bool(glob_regex(pattern).fullmatch(path)) is matches


@pytest.mark.parametrize("pattern", ["{a,b", "[abc", "[]"])
def test_invalid_glob_is_an_error(pattern: str) -> None:
    with pytest.raises(RenderError, match="invalid include glob"):
        glob_regex(pattern, what="include")


# --------------------------------------------------------------------------- tool detection


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["Chart.yaml"], "helm"),
        (["kustomization.yaml"], "kustomize"),
        (["kustomization.yml"], "kustomize"),
        (["Kustomization"], "kustomize"),
        (["Chart.yaml", "kustomization.yaml"], "kustomize"),
        (["deploy.yaml"], "directory"),
        (["MyChart.yaml"], "directory"),
    ],
)
def test_detect_tool_from_files(tmp_path: Path, files: list[str], expected: str) -> None:
    for name in files:
        write(tmp_path / name, "{}")
    assert detect_tool(tmp_path) == expected


def test_explicit_source_section_wins(tmp_path: Path) -> None:
    write(tmp_path / "Chart.yaml", "{}")
    assert (
        detect_tool(tmp_path, Source(repo_url="r", path=".", directory=DirectoryOptions()))
        == "directory"
    )
    assert detect_tool(tmp_path, Source(repo_url="r", path=".", kustomize={})) == "kustomize"
    assert detect_tool(tmp_path, Source(repo_url="r", path=".")) == "helm"
    plain = tmp_path / "plain"
    plain.mkdir()
    assert detect_tool(plain, Source(repo_url="r", path="plain", helm={})) == "helm"


# --------------------------------------------------------------------------- duplicates


def test_find_duplicates() -> None:
    manifests = [
        cm("a", "ns"),
        cm("b", "ns"),
        cm("a", "other"),
        cm("a", "ns"),
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "b", "namespace": "ns"},
        },
        cm("a", "ns"),
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"generateName": "j-"}},
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"generateName": "j-"}},
    ]
    assert find_duplicates(manifests) == [ResourceKey("", "ConfigMap", "ns", "a")]
    assert find_duplicates([cm("a"), cm("b")]) == []


# --------------------------------------------------------------------------- helm arguments


def chart(root: Path, path: str = "chart") -> Path:
    write(root / path / "Chart.yaml", "apiVersion: v2\nname: demo\nversion: 0.1.0\n")
    write(root / path / "values.yaml", "replicas: 1\n")
    return (root / path).resolve()


def helm_args(root: Path, helm: dict[str, Any], **kwargs: Any) -> list[str]:
    app_dir = chart(root)
    source = Source(repo_url="r", path="chart", helm=helm)
    kwargs.setdefault("app_name", "demo")
    kwargs.setdefault("namespace", "dest")
    return helm_template_arguments(source, app_dir, root.resolve(), **kwargs)


def test_helm_defaults_release_to_app_name_and_includes_crds(tmp_path: Path) -> None:
    args = helm_args(tmp_path, {})
    assert args == [
        "template",
        "--namespace=dest",
        "--include-crds",
        "--",
        "demo",
        str((tmp_path / "chart").resolve()),
    ]


def test_helm_options_become_flags_in_argo_order(tmp_path: Path) -> None:
    write(tmp_path / "chart" / "values-prod.yaml", "a: 1\n")
    write(tmp_path / "env" / "shared.yaml", "b: 2\n")
    inline = tmp_path / "inline.yaml"
    args = helm_args(
        tmp_path,
        {
            "releaseName": "web",
            "namespace": "override",
            "valueFiles": ["values-prod.yaml", "../env/shared.yaml", "/env/shared.yaml"],
            "parameters": [
                {"name": "image.tag", "value": "1.2"},
                {"name": "list", "value": "{a,b}"},
                {"name": "csv", "value": "a,b", "forceString": True},
            ],
            "skipCrds": True,
            "skipTests": True,
        },
        values_file=inline,
    )
    shared = str((tmp_path / "env" / "shared.yaml").resolve())
    assert args == [
        "template",
        "--namespace=override",
        f"--values={(tmp_path / 'chart' / 'values-prod.yaml').resolve()}",
        f"--values={shared}",
        f"--values={shared}",
        f"--values={inline}",
        "--set=image.tag=1.2",
        "--set=list={a,b}",
        "--set-string=csv=a\\,b",
        "--skip-crds",
        "--skip-tests",
        "--",
        "web",
        str((tmp_path / "chart").resolve()),
    ]


def test_missing_value_file_is_an_error_unless_ignored(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="helm: missing.yaml: value file not found"):
        helm_args(tmp_path, {"valueFiles": ["missing.yaml"]})
    args = helm_args(tmp_path, {"valueFiles": ["missing.yaml"], "ignoreMissingValueFiles": True})
    assert "--values" not in args


@pytest.mark.parametrize("value_file", ["../../etc/passwd", "../../../outside.yaml"])
def test_value_file_escaping_the_repo_is_refused(tmp_path: Path, value_file: str) -> None:
    root = tmp_path / "repo"
    write(tmp_path / "outside.yaml", "a: 1\n")
    with pytest.raises(RenderError, match="helm value file leaves the repository"):
        helm_args(root, {"valueFiles": [value_file], "ignoreMissingValueFiles": True})


def test_value_file_symlink_out_of_repo_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(tmp_path / "outside.yaml", "a: 1\n")
    chart(root)
    (root / "chart" / "evil.yaml").symlink_to(tmp_path / "outside.yaml")
    with pytest.raises(RenderError, match="leaves the repository"):
        helm_args(root, {"valueFiles": ["evil.yaml"]})


def test_ref_value_files_resolve_in_the_referenced_checkout(tmp_path: Path) -> None:
    root = tmp_path / "charts"
    config = tmp_path / "config"
    write(config / "env" / "prod.yaml", "replicas: 5\n")
    args = helm_args(root, {"valueFiles": ["$values/env/prod.yaml"]}, ref_roots={"values": config})
    assert f"--values={(config / 'env' / 'prod.yaml').resolve()}" in args
    with pytest.raises(RenderError, match="leaves the repository"):
        helm_args(
            root,
            {"valueFiles": ["$values/../charts/chart/values.yaml"]},
            ref_roots={"values": config},
        )
    with pytest.raises(RenderError, match="no source with ref 'other'"):
        helm_args(root, {"valueFiles": ["$other/prod.yaml"]}, ref_roots={"values": config})


def test_remote_value_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="remote value files are not supported"):
        helm_args(tmp_path, {"valueFiles": ["https://example.com/values.yaml"]})


def test_escape_set_value() -> None:
    assert escape_set_value("a,b") == "a\\,b"
    assert escape_set_value("a\\,b") == "a\\,b"
    assert escape_set_value("{a,b}") == "{a,b}"
    assert escape_set_value("plain") == "plain"


# --------------------------------------------------------------------------- kustomize edits


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("nginx", ("nginx", "", "")),
        ("nginx:1.25", ("nginx", "1.25", "")),
        ("registry:5000/app:1.0", ("registry:5000/app", "1.0", "")),
        ("registry:5000/app", ("registry:5000/app", "", "")),
        ("app@sha256:abc", ("app", "", "sha256:abc")),
        ("reg/app:1.0@sha256:abc", ("reg/app", "1.0", "sha256:abc")),
    ],
)
def test_split_image_name(image: str, expected: tuple[str, str, str]) -> None:
    assert split_image_name(image) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nginx:1.25", {"name": "nginx", "newTag": "1.25"}),
        ("nginx=reg/nginx:2", {"name": "nginx", "newName": "reg/nginx", "newTag": "2"}),
        ("nginx=reg/nginx", {"name": "nginx", "newName": "reg/nginx"}),
        ("alpine@sha256:ff", {"name": "alpine", "digest": "sha256:ff"}),
    ],
)
def test_parse_image_override(text: str, expected: dict[str, str]) -> None:
    assert parse_image_override(text) == expected


def test_image_without_tag_or_new_name_is_invalid() -> None:
    with pytest.raises(RenderError, match="invalid image 'nginx'"):
        parse_image_override("nginx")


def test_merge_images_replaces_by_name_keeps_star_and_sorts() -> None:
    existing = [{"name": "web", "newName": "reg/web", "newTag": "1"}, {"name": "db", "newTag": "9"}]
    merged = merge_images(existing, ["web=*:2", "cache:7"])
    assert merged == [
        {"name": "cache", "newTag": "7"},
        {"name": "db", "newTag": "9"},
        {"name": "web", "newName": "reg/web", "newTag": "2"},
    ]


def test_apply_kustomize_options(tmp_path: Path) -> None:
    (tmp_path / "components" / "tls").mkdir(parents=True)
    kustomization = {
        "resources": ["deploy.yaml"],
        "replicas": [{"name": "web", "count": 1}, {"name": "db", "count": 1}],
        "commonLabels": {"app": "web"},
        "patches": [{"path": "p.yaml"}],
    }
    result = apply_kustomize_options(
        kustomization,
        {
            "namePrefix": "prod-",
            "nameSuffix": "-v2",
            "namespace": "prod",
            "replicas": [{"name": "web", "count": "3"}, {"name": "worker", "count": 2}],
            "commonLabels": {"team": "a"},
            "commonAnnotations": {"owner": "me"},
            "patches": [{"target": {"kind": "Deployment"}, "patch": "[]"}],
            "components": ["components/tls", "components/missing"],
            "ignoreMissingComponents": True,
        },
        tmp_path,
    )
    assert result == {
        "resources": ["deploy.yaml"],
        "replicas": [
            {"name": "web", "count": 3},
            {"name": "db", "count": 1},
            {"name": "worker", "count": 2},
        ],
        "commonLabels": {"app": "web", "team": "a"},
        "patches": [{"path": "p.yaml"}, {"target": {"kind": "Deployment"}, "patch": "[]"}],
        "namePrefix": "prod-",
        "nameSuffix": "-v2",
        "namespace": "prod",
        "commonAnnotations": {"owner": "me"},
        "components": ["components/tls"],
    }
    assert kustomization["replicas"] == [{"name": "web", "count": 1}, {"name": "db", "count": 1}]


def test_existing_label_needs_force(tmp_path: Path) -> None:
    base = {"commonLabels": {"team": "a"}}
    with pytest.raises(RenderError, match="label 'team' already in kustomization file"):
        apply_kustomize_options(base, {"commonLabels": {"team": "b"}}, tmp_path)
    forced = apply_kustomize_options(
        base, {"commonLabels": {"team": "b"}, "forceCommonLabels": True}, tmp_path
    )
    assert forced["commonLabels"] == {"team": "b"}


def test_label_without_selector_uses_labels_list(tmp_path: Path) -> None:
    result = apply_kustomize_options(
        {}, {"commonLabels": {"team": "a"}, "labelWithoutSelector": True}, tmp_path
    )
    assert result == {"labels": [{"pairs": {"team": "a"}, "includeSelectors": False}]}


def test_missing_component_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="component 'nope' not found"):
        apply_kustomize_options({}, {"components": ["nope"]}, tmp_path)


# --------------------------------------------------------------------------- subprocess handling


def fake_tool(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "bin" / "kustomize"
    write(script, f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def kustomize_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write(root / "app" / "kustomization.yaml", "resources: []\n")
    return root


def test_tool_failure_carries_trimmed_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = fake_tool(tmp_path, 'echo "  Error: accumulating resources  " >&2\nexit 3')
    monkeypatch.setattr(
        rendertools, "find_tool", lambda name: script if name == "kustomize" else None
    )
    with pytest.raises(RenderError) as caught:
        render_source(
            Source(repo_url="r", path="app"), kustomize_repo(tmp_path), app_name="a", namespace="n"
        )
    assert str(caught.value) == "kustomize: app: exit status 3: Error: accumulating resources"
    assert caught.value.stderr == "Error: accumulating resources"


def test_tool_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = fake_tool(tmp_path, "exec sleep 30")
    monkeypatch.setattr(
        rendertools, "find_tool", lambda name: script if name == "kustomize" else None
    )
    with pytest.raises(RenderError, match="kustomize: app: timed out after 0.5 s"):
        render_source(
            Source(repo_url="r", path="app"),
            kustomize_repo(tmp_path),
            app_name="a",
            namespace="n",
            timeout=0.5,
        )


def test_tool_output_is_validated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = fake_tool(tmp_path, "printf 'apiVersion: v1\\nkind: ConfigMap\\n'")
    monkeypatch.setattr(
        rendertools, "find_tool", lambda name: script if name == "kustomize" else None
    )
    with pytest.raises(
        RenderError, match="kustomize output for app: document 1 is missing metadata.name"
    ):
        render_source(
            Source(repo_url="r", path="app"), kustomize_repo(tmp_path), app_name="a", namespace="n"
        )


def test_missing_tools_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rendertools, "find_tool", lambda name: None)
    with pytest.raises(RenderError, match="neither kustomize nor kubectl found"):
        render_source(
            Source(repo_url="r", path="app"), kustomize_repo(tmp_path), app_name="a", namespace="n"
        )
    chart(tmp_path / "h")
    with pytest.raises(RenderError, match="helm: chart: helm not found"):
        render_source(
            Source(repo_url="r", path="chart"), tmp_path / "h", app_name="a", namespace="n"
        )


def test_chart_symlink_out_of_repo_is_refused_before_running_helm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rendertools, "find_tool", lambda name: Path("/bin/false"))
    root = tmp_path / "repo"
    chart(root)
    write(tmp_path / "secret.txt", "s3cret")
    (root / "chart" / "files").mkdir()
    (root / "chart" / "files" / "leak.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(RenderError, match="chart/files/leak.txt: symlink points outside"):
        render_source(Source(repo_url="r", path="chart"), root, app_name="a", namespace="n")


def test_a_directory_gone_mid_render_fails_the_render(tmp_path: Path) -> None:
    """``os.walk`` skips what it cannot list: a checkout pruned while it was read would
    render (and cache) part of the app. The listing error fails the render instead."""
    from gitops_tui.engine.source.render import RenderError, _directory_files

    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "a.yaml").write_text("kind: ConfigMap\n")
    assert [p.name for p in _directory_files(tmp_path / "app", recurse=True)] == ["a.yaml"]
    with pytest.raises(RenderError, match="cannot list the directory"):
        _directory_files(tmp_path / "gone", recurse=True)
