"""Property (issue 11): hostile Application strings never become tool options or outside paths.

Hostile strings go into every string field of an Application that rendering uses;
the Application is validated as usual, and a valid one's sources are turned into
the Helm and Kustomize command lines by the same pure functions the renderer uses
(no tool runs). The command line is then read the way the tools' flag parser
(spf13/pflag) and Helm's value parsers read it: no element that came from the
Application may be taken as an option, and every file the tools are given must
lie inside the checkout, symlinks resolved.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from gitops_tui.engine.app.application import Application, DirectoryOptions, Source
from gitops_tui.engine.app.parse import parse_application
from gitops_tui.engine.source.helm import helm_template_arguments
from gitops_tui.engine.source.kustomize import kustomize_build_arguments, prepare_build
from gitops_tui.engine.source.render import (
    RenderError,
    RenderPolicy,
    render_directory,
    resolve_inside,
)

ATTACKS = [
    "--post-renderer=./pr.sh",
    "--post-renderer",
    "./pr.sh",
    "-f",
    "-",
    "--",
    "--set",
    "--values=/etc/passwd",
    "-f/etc/passwd",
    "values.yaml",
    "sub/values.yaml",
    "v,/etc/passwd",
    "link-out/values.yaml",
    "../../../../etc/passwd",
    "../outside",
    "/etc/passwd",
    "/values.yaml",
    "$ref/../..",
    "$values/../../x",
    "file:///etc",
    "https://evil.example.com/x",
    "a,b",
    "a=b,c=/etc/passwd",
    'x"y',
    "x\ny",
    "\x00",
    "{a,b}",
    "base",
    "../base",
    "components/debug",
    "../../elsewhere/x",
    "*",
    "[",
    "{",
    "web",
    "nginx:1.0",
    "x=--post-renderer=./pr.sh",
]

HOSTILE = st.one_of(
    st.sampled_from(ATTACKS),
    st.text(max_size=30),
    st.lists(st.sampled_from(ATTACKS), min_size=2, max_size=3).map("".join),
    st.builds(lambda a, b: f"{a}/{b}", st.sampled_from(ATTACKS), st.sampled_from(ATTACKS)),
)
HOSTILE_LIST = st.lists(HOSTILE, max_size=3)

BOOLEAN_FLAGS = {"--include-crds", "--skip-crds", "--skip-tests", "--skip-schema-validation"}
VALUE_FLAGS = {
    "--namespace",
    "--kube-version",
    "--values",
    "--set",
    "--set-string",
    "--set-file",
    "--api-versions",
}
CSV_FLAGS = {"--values", "--api-versions"}  # pflag StringSlice: CSV-split into several values
DNS_1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


@pytest.fixture(scope="module")
def checkout() -> Iterator[Path]:
    """A checkout with charts, kustomizations, and traps (a symlink out, a comma dir)."""
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "outside").mkdir()
        (base / "outside" / "values.yaml").write_text("stolen: true\n")
        root = base / "repo"
        files = {
            "chart/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
            "chart/values.yaml": "a: 1\n",
            "chart/sub/values.yaml": "b: 2\n",
            "chart/v,/etc/passwd": "c: 3\n",
            "chart/pr.sh": "#!/bin/sh\ncat\n",
            "values.yaml": "d: 4\n",
            "app/kustomization.yaml": "resources: [cm.yaml, ../base]\n",
            "app/cm.yaml": json.dumps(
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web"}}
            ),
            "base/kustomization.yaml": "resources: []\n",
            "components/debug/kustomization.yaml": (
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
            ),
        }
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
        (root / "chart" / "link-out").symlink_to(base / "outside")
        yield root.resolve()


def application_doc(path: str, section: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web"},
        "spec": {
            "project": "default",
            "source": {"repoURL": "https://example.com/r.git", "path": path, section: fields},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "prod"},
        },
    }


def valid_source(doc: dict[str, Any]) -> Source | None:
    app = parse_application(doc, "property")
    return app.source if isinstance(app, Application) else None


def csv_values(text: str) -> list[str]:
    """How pflag's StringSlice reads one ``--flag=text``: CSV fields."""
    return next(csv.reader([text])) if text else [""]


def set_file_paths(text: str) -> list[str]:
    """The files Helm's ``--set-file a=x,b=y`` reads (strvals: ``\\`` escapes, ``,`` splits)."""
    pairs, current, escaped = [], "", False
    for char in text:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            pairs.append(current)
            current = ""
        else:
            current += char
    pairs.append(current)
    return [pair.partition("=")[2] for pair in pairs]


def assert_inside(path: str, root: Path, allowed: set[str]) -> None:
    if path in allowed:
        return
    assert Path(path).is_absolute(), path
    assert Path(path).resolve().is_relative_to(root), path


def assert_helm_command_line_is_safe(
    args: list[str], root: Path, app_dir: Path, allowed: set[str]
) -> None:
    assert args[0] == "template"
    end = args.index("--")
    options, positional = args[1:end], args[end + 1 :]
    assert len(positional) == 2
    release, chart = positional
    assert DNS_1123.match(release) and len(release) <= 53, release
    assert chart == str(app_dir)
    for element in options:
        if element in BOOLEAN_FLAGS:
            continue
        flag, equals, value = element.partition("=")
        assert equals and flag in VALUE_FLAGS, element  # an Application string never names a flag
        if flag in CSV_FLAGS:
            fields = csv_values(value)
            assert len(fields) == 1, element  # one value stays one value
            if flag == "--values":
                assert_inside(fields[0], root, allowed)
        if flag == "--set-file":
            for path in set_file_paths(value):
                assert_inside(path, root, allowed)


HELM_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "releaseName": HOSTILE,
        "namespace": HOSTILE,
        "kubeVersion": HOSTILE,
        "valueFiles": HOSTILE_LIST,
        "values": HOSTILE,
        "ignoreMissingValueFiles": st.booleans(),
        "apiVersions": HOSTILE_LIST,
        "parameters": st.lists(
            st.fixed_dictionaries(
                {"name": HOSTILE, "value": HOSTILE}, optional={"forceString": st.booleans()}
            ),
            max_size=2,
        ),
        "fileParameters": st.lists(
            st.fixed_dictionaries({"name": HOSTILE, "path": HOSTILE}), max_size=2
        ),
    },
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(helm=HELM_FIELDS, path=st.one_of(st.just("chart"), HOSTILE), namespace=HOSTILE)
@example(helm={"releaseName": "--post-renderer=./pr.sh"}, path="chart", namespace="x")
@example(helm={"valueFiles": ["v,/etc/passwd"]}, path="chart", namespace="x")
@example(helm={"valueFiles": ["link-out/values.yaml"]}, path="chart", namespace="x")
@example(helm={"apiVersions": ["a,--post-renderer"]}, path="chart", namespace="x")
@example(
    helm={"fileParameters": [{"name": "a=/etc/passwd,b", "path": "values.yaml"}]},
    path="chart",
    namespace="x",
)
@example(
    helm={"fileParameters": [{"name": "a", "path": "v,/etc/passwd"}]}, path="chart", namespace="x"
)
@example(helm={}, path="chart", namespace="--post-renderer=./pr.sh")
def test_helm_command_line_from_hostile_fields(
    checkout: Path, helm: dict[str, Any], path: str, namespace: str
) -> None:
    source = valid_source(application_doc(path, "helm", helm))
    if source is None:
        event("refused by validation")
        return  # nothing renders
    inline = checkout.parent / "inline-values.yaml"
    try:
        app_dir = resolve_inside(checkout, source.path or ".", what="path")
        args = helm_template_arguments(
            source,
            app_dir,
            checkout,
            app_name="web",
            namespace=namespace,
            ref_roots={},
            values_file=inline,
        )
    except RenderError:
        event("refused by the argv builder")
        return  # before any tool runs
    event("command line built")
    assert_helm_command_line_is_safe(args, checkout, app_dir, {str(inline)})


KUSTOMIZE_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "namePrefix": HOSTILE,
        "nameSuffix": HOSTILE,
        "namespace": HOSTILE,
        "images": HOSTILE_LIST,
        "commonLabels": st.dictionaries(HOSTILE, HOSTILE, max_size=2),
        "commonAnnotations": st.dictionaries(HOSTILE, HOSTILE, max_size=2),
        "components": HOSTILE_LIST,
        "ignoreMissingComponents": st.booleans(),
    },
)


def local_entries(kustomization: dict[str, Any]) -> list[str]:
    entries = [*(kustomization.get("resources") or []), *(kustomization.get("components") or [])]
    return [entry for entry in entries if isinstance(entry, str) and "://" not in entry]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kustomize=KUSTOMIZE_FIELDS, path=st.one_of(st.just("app"), HOSTILE))
@example(kustomize={"components": ["../../../../etc/passwd"]}, path="app")
@example(kustomize={"components": ["../../../../etc"], "ignoreMissingComponents": True}, path="app")
@example(kustomize={"components": ["file:///etc"]}, path="app")
def test_kustomize_command_line_and_paths_from_hostile_fields(
    checkout: Path, kustomize: dict[str, Any], path: str
) -> None:
    source = valid_source(application_doc(path, "kustomize", kustomize))
    if source is None:
        event("refused by validation")
        return
    with tempfile.TemporaryDirectory() as scratch:
        try:
            app_dir = resolve_inside(checkout, source.path or ".", what="path")
            if not (app_dir / "kustomization.yaml").is_file():
                return  # not a kustomization: nothing to build
            build_root, build_dir = prepare_build(
                source, app_dir, checkout, Path(scratch), RenderPolicy(remote_bases=False)
            )
        except RenderError:
            event("refused before building")
            return
        event("build prepared")
        assert kustomize_build_arguments(build_dir) == ["build", "--", str(build_dir)]
        assert build_dir.is_absolute() and build_dir.resolve().is_relative_to(build_root)
        # read the (possibly edited) kustomization independently of the checker
        kustomization = yaml.safe_load((build_dir / "kustomization.yaml").read_text()) or {}
        for entry in local_entries(kustomization):
            assert not Path(entry).is_absolute(), entry
            assert (build_dir / entry).resolve().is_relative_to(build_root.resolve()), entry
        assert not [e for e in kustomization.get("components") or [] if "://" in str(e)]


@settings(max_examples=150, deadline=None)
@given(include=HOSTILE, exclude=HOSTILE, recurse=st.booleans())
def test_directory_globs_from_hostile_fields_read_only_the_app_directory(
    checkout: Path, include: str, exclude: str, recurse: bool
) -> None:
    options = DirectoryOptions(recurse=recurse, include=include, exclude=exclude)
    try:
        manifests = render_directory(checkout / "app", checkout, options)
    except RenderError:
        return
    assert [m["metadata"]["name"] for m in manifests] in ([], ["web"])
