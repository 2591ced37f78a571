"""Issue 11: a repository or an Application never runs code or reads outside the checkout.

Each test runs the real helm / kustomize (or ``kubectl kustomize``) on a repository
built for the attack, and checks the attack's effect never happens.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest
from gitrepo import make_repo
from helpers import application

from gitops_tui.engine.app.application import Application, InvalidApplication, Source
from gitops_tui.engine.app.parse import parse_application
from gitops_tui.engine.source import kustomize as kustomize_module
from gitops_tui.engine.source.helm import helm_template_arguments
from gitops_tui.engine.source.kustomize_refs import check_kustomization_tree, remote_repository
from gitops_tui.engine.source.render import RenderError, RenderPolicy, render_source
from gitops_tui.engine.source.repo import RepoCache
from gitops_tui.engine.source.sources import ManifestCache, SourceError, generate, resolve_revisions
from gitops_tui.engine.source.tools import find_tool

needs_kustomize = pytest.mark.skipif(
    find_tool("kustomize") is None and find_tool("kubectl") is None,
    reason="neither kustomize nor kubectl (with built-in kustomize) is installed",
)
needs_helm = pytest.mark.skipif(find_tool("helm") is None, reason="helm is not installed")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


def cm(name: str, **data: str) -> str:
    return json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}
    )


def names(manifests: list[dict[str, Any]]) -> list[str]:
    return sorted(m["metadata"]["name"] for m in manifests)


def render(root: Path, path: str, **kwargs: Any) -> list[dict[str, Any]]:
    policy = kwargs.pop("policy", RenderPolicy())
    source = Source(repo_url="r", path=path, **kwargs)
    return render_source(source, root, app_name="web", namespace="dest", policy=policy)


# --------------------------------------------------------------------------- item 1: helm argv

POST_RENDERER = "#!/bin/sh\ntouch {marker}\ncat\n"


def evil_chart(root: Path, marker: Path) -> Path:
    write(root / "chart" / "Chart.yaml", "apiVersion: v2\nname: demo\nversion: 0.1.0\n")
    write(
        root / "chart" / "templates" / "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}'}\n",
    )
    script = write(root / "chart" / "pr.sh", POST_RENDERER.format(marker=marker))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return root


def test_a_release_name_that_is_a_flag_makes_the_application_invalid() -> None:
    doc = application("web", "https://example.com/r.git", "chart", "prod")
    doc["spec"]["source"]["helm"] = {"releaseName": "--post-renderer=./pr.sh"}
    app = parse_application(doc, "test")
    assert isinstance(app, InvalidApplication)
    assert app.messages == (
        "spec.source.helm.releaseName: '--post-renderer=./pr.sh' is not a valid Helm release "
        "name (lowercase letters, digits, '-' and '.', starting and ending with a letter or "
        "digit, at most 53)",
    )


def test_helm_arguments_keep_the_release_and_chart_after_double_dash(tmp_path: Path) -> None:
    (tmp_path / "chart").mkdir()
    source = Source(repo_url="r", path="chart", helm={"releaseName": "shop"})
    args = helm_template_arguments(
        source, tmp_path / "chart", tmp_path, app_name="web", namespace="--post-renderer=x"
    )
    assert args[-3:] == ["--", "shop", str(tmp_path / "chart")]
    assert "--namespace=--post-renderer=x" in args
    with pytest.raises(RenderError, match="not a valid Helm release name"):
        helm_template_arguments(
            Source(repo_url="r", path="chart", helm={"releaseName": "--post-renderer=./pr.sh"}),
            tmp_path / "chart",
            tmp_path,
            app_name="web",
            namespace="dest",
        )


@needs_helm
@pytest.mark.parametrize(
    "helm",
    [
        {"releaseName": "--post-renderer=./pr.sh"},
        {"releaseName": "--post-renderer=pr.sh"},
        {"namespace": "--post-renderer=./pr.sh"},
        {"kubeVersion": "--post-renderer=./pr.sh"},
        {"apiVersions": ["--post-renderer=./pr.sh"]},
        {"valueFiles": ["--post-renderer=./pr.sh"], "ignoreMissingValueFiles": True},
        {"parameters": [{"name": "--post-renderer", "value": "./pr.sh"}]},
        {"parameters": [{"name": "x", "value": "1 --post-renderer=./pr.sh"}]},
    ],
    ids=lambda helm: next(iter(helm)),
)
def test_no_helm_field_runs_a_committed_post_renderer(tmp_path: Path, helm: dict[str, Any]) -> None:
    """Issue 11 item 1: ``releaseName: --post-renderer=./pr.sh`` ran the chart's script."""
    marker = tmp_path / "marker"
    root = evil_chart(tmp_path / "repo", marker)
    with contextlib.suppress(RenderError):  # refused or failed: either way, nothing ran
        render(root, "chart", helm=helm)
    assert not marker.exists()


# --------------------------------------------------------------------------- item 2: symlinks


@needs_kustomize
def test_a_symlink_elsewhere_in_the_checkout_pointing_outside_is_refused(tmp_path: Path) -> None:
    """Issue 11 item 2: only the app's own directory was checked for escaping symlinks."""
    outside = tmp_path / "outside"
    write(outside / "kustomization.yaml", "resources: [secret.yaml]\n")
    write(outside / "secret.yaml", cm("stolen", key="outside-the-repo"))
    root = tmp_path / "repo"
    write(root / "app" / "kustomization.yaml", "resources: [../shared/link]\n")
    (root / "shared").mkdir()
    (root / "shared" / "link").symlink_to(outside)
    with pytest.raises(
        RenderError,
        match=r"resources: '../shared/link' reaches a symlink that points outside the "
        r"repository \(shared/link\)",
    ):
        render(root, "app")


@needs_kustomize
def test_a_base_outside_the_checkout_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "outside" / "kustomization.yaml", "resources: [cm.yaml]\n")
    write(tmp_path / "outside" / "cm.yaml", cm("stolen"))
    root = tmp_path / "repo"
    write(root / "app" / "kustomization.yaml", "resources: [../../outside]\n")
    with pytest.raises(
        RenderError,
        match=r"app/kustomization.yaml: resources: '../../outside' leaves the repository",
    ):
        render(root, "app")
    # a nested base reaching out is found too
    write(root / "app" / "kustomization.yaml", "resources: [../base]\n")
    write(root / "base" / "kustomization.yaml", "components: [../../outside]\n")
    with pytest.raises(RenderError, match=r"base/kustomization.yaml: components: '../../outside'"):
        render(root, "app")


# --------------------------------------------------------------------------- item 3: remote bases


@needs_kustomize
def test_a_file_url_remote_base_is_refused(tmp_path: Path) -> None:
    """Issue 11 item 3: ``file:///any/local/repo`` rendered another local repository."""
    other = make_repo(
        tmp_path / "other",
        {"kustomization.yaml": "resources: [cm.yaml]\n", "cm.yaml": cm("from-other-repo")},
    )
    root = tmp_path / "repo"
    write(root / "app" / "kustomization.yaml", f"resources: ['file://{other.working_tree_dir}']\n")
    with pytest.raises(RenderError, match=r"refers to a local repository \(file://\)"):
        render(root, "app")


@needs_kustomize
def test_git_itself_refuses_local_transports_for_kustomize(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: with the static check gone, git still refuses ``file://``."""
    other = make_repo(
        tmp_path / "other",
        {"kustomization.yaml": "resources: [cm.yaml]\n", "cm.yaml": cm("from-other-repo")},
    )
    root = tmp_path / "repo"
    write(root / "app" / "kustomization.yaml", f"resources: ['file://{other.working_tree_dir}']\n")
    monkeypatch.setattr(kustomize_module, "check_kustomization_tree", lambda *a, **k: [])
    with pytest.raises(RenderError) as caught:
        render(root, "app")
    assert "transport 'file' not allowed" in caught.value.stderr


@pytest.mark.parametrize(
    ("entry", "repository"),
    [
        ("https://github.com/org/repo//base?ref=v1", "https://github.com/org/repo"),
        ("github.com/org/repo/base?ref=v1", "https://github.com/org/repo"),
        ("git@github.com:org/repo.git/base", "git@github.com:org/repo.git"),
        ("ssh://git@example.com/org/repo.git//x", "ssh://git@example.com/org/repo.git"),
        ("git::https://example.com/org/repo.git//x", "https://example.com/org/repo.git"),
    ],
)
def test_remote_repository_of_a_remote_base(entry: str, repository: str) -> None:
    assert remote_repository(entry) == repository


def kustomization_with(root: Path, entry: str) -> Path:
    write(root / "app" / "kustomization.yaml", json.dumps({"resources": [entry]}))
    return root / "app"


@pytest.mark.parametrize(
    ("entry", "policy", "message"),
    [
        (
            "https://github.com/other/repo//base?ref=v1",
            RenderPolicy(source_repos=("https://github.com/mine/*",)),
            "repository 'https://github.com/other/repo' is not permitted by the app's project",
        ),
        (
            "https://github.com/mine/repo//base?ref=v1",
            RenderPolicy(remote_bases=False),
            "refused (kustomizeRemoteBases is false in the config file)",
        ),
        ("http://example.com/org/repo//x", RenderPolicy(), "only https and ssh are allowed"),
        ("git::ext::sh -c touch% /tmp/x", RenderPolicy(), "only https and ssh are allowed"),
        ("https://github.com/o/r//x?ref=--upload-pack=touch", RenderPolicy(), "invalid ref"),
        ("ssh://-oProxyCommand=touch/x", RenderPolicy(), "is not a valid URL"),
        ("file:///srv/git/other", RenderPolicy(), "refers to a local repository"),
    ],
)
def test_remote_bases_are_refused_unless_https_ssh_allowed_and_permitted(
    tmp_path: Path, entry: str, policy: RenderPolicy, message: str
) -> None:
    app_dir = kustomization_with(tmp_path, entry)
    with pytest.raises(RenderError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_kustomization_tree(app_dir, tmp_path, policy)


def test_a_remote_base_the_project_permits_passes_the_check(tmp_path: Path) -> None:
    app_dir = kustomization_with(tmp_path, "https://github.com/mine/repo//base?ref=v1")
    policy = RenderPolicy(source_repos=("https://github.com/mine/*",))
    assert check_kustomization_tree(app_dir, tmp_path, policy) == [app_dir / "kustomization.yaml"]


@needs_kustomize
def test_generate_applies_the_policy_and_keys_the_cache_by_it(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {"app/kustomization.yaml": "resources: ['https://github.com/other/repo//base']\n"},
    )
    app = parse_application(
        application("web", f"file://{repo.working_tree_dir}", "app", "prod"), "t"
    )
    assert isinstance(app, Application)
    repos = RepoCache(tmp_path / "cache")
    revisions = resolve_revisions(app, repos, refresh=True)
    policy = RenderPolicy(source_repos=("https://github.com/mine/*",))
    with pytest.raises(SourceError, match="is not permitted by the app's project"):
        generate(app, repos, ManifestCache(), revisions=revisions, policy=policy)
    with pytest.raises(SourceError, match="kustomizeRemoteBases is false"):
        generate(
            app,
            repos,
            ManifestCache(),
            revisions=revisions,
            policy=RenderPolicy(remote_bases=False),
        )


# --------------------------------------------------------------------------- item 4: components


@needs_kustomize
def test_a_component_outside_the_repository_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11 item 4: ``components: [../../../../elsewhere/x]`` was rendered.

    The options are applied in a scratch copy (``<tmp>/gitops-tui-kustomize-*/repo``),
    so the escape is relative to it: with the scratch space in ``tmp_path/scratch``
    four levels up from the app reach ``tmp_path``.
    """
    (tmp_path / "scratch").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "scratch"))
    write(
        tmp_path / "elsewhere" / "x" / "kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        "commonAnnotations: {stolen: 'yes'}\n",
    )
    root = tmp_path / "repo"
    write(root / "app" / "kustomization.yaml", "resources: [cm.yaml]\n")
    write(root / "app" / "cm.yaml", cm("web"))
    escape = "../../../../elsewhere/x"
    with pytest.raises(RenderError, match=f"kustomize: {escape}: component leaves the repository"):
        render(root, "app", kustomize={"components": [escape]})
    with pytest.raises(RenderError, match="component must be relative to the repository"):
        render(root, "app", kustomize={"components": [str(tmp_path / "elsewhere" / "x")]})
    # ignoreMissingComponents does not turn an escape into "missing"
    with pytest.raises(RenderError, match="component leaves the repository"):
        render(root, "app", kustomize={"components": [escape], "ignoreMissingComponents": True})
    # nor can a component the repository's own kustomization lists reach out
    write(root / "app" / "kustomization.yaml", f"resources: [cm.yaml]\ncomponents: ['{escape}']\n")
    with pytest.raises(RenderError, match=f"components: '{escape}' leaves the repository"):
        render(root, "app", kustomize={"namePrefix": "p-"})


# --------------------------------------------------------------------------- item 5: helm deps

DEP_TEMPLATE = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}-common'}\n"


def chart_with_dependency(root: Path, repository: str) -> Path:
    write(root / "libs" / "common" / "Chart.yaml", "apiVersion: v2\nname: common\nversion: 0.1.0\n")
    write(root / "libs" / "common" / "templates" / "cm.yaml", DEP_TEMPLATE)
    write(
        root / "app" / "Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n"
        f"- name: common\n  version: 0.1.0\n  repository: '{repository}'\n",
    )
    write(
        root / "app" / "templates" / "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}-app'}\n",
    )
    return root


@needs_helm
def test_local_chart_dependencies_are_built_without_touching_the_checkout(tmp_path: Path) -> None:
    """Issue 11 item 5: a file:// dependency needed a manual ``helm dependency build``."""
    root = chart_with_dependency(tmp_path / "repo", "file://../libs/common")
    before = snapshot(root)
    assert names(render(root, "app")) == ["web-app", "web-common"]
    assert snapshot(root) == before


@needs_helm
def test_a_chart_dependency_outside_the_repository_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "outside" / "Chart.yaml", "apiVersion: v2\nname: common\nversion: 0.1.0\n")
    root = chart_with_dependency(tmp_path / "repo", "file://../../outside")
    with pytest.raises(
        RenderError,
        match=r"chart dependency 'common' \(file://../../outside\) leaves the repository",
    ):
        render(root, "app")


@needs_helm
def test_a_remote_chart_dependency_needs_the_config_switch(tmp_path: Path) -> None:
    root = chart_with_dependency(tmp_path / "repo", "https://charts.example.com/stable")
    with pytest.raises(RenderError) as caught:
        render(root, "app")
    assert str(caught.value) == (
        "helm: app: chart dependency 'common' from https://charts.example.com/stable is not "
        "vendored under charts/ and fetching from chart repositories is off (set "
        "helmChartRepositories: true in the config file, or commit the chart under charts/)"
    )


def test_a_vendored_dependency_needs_no_build(tmp_path: Path) -> None:
    from gitops_tui.engine.source.helm import missing_dependencies

    root = chart_with_dependency(tmp_path / "repo", "https://charts.example.com/stable")
    write(
        root / "app" / "charts" / "common" / "Chart.yaml",
        "apiVersion: v2\nname: common\nversion: 0.1.0\n",
    )
    assert missing_dependencies(root / "app", root) == []
    assert not (root / "app" / "Chart.lock").exists()


@needs_helm
def test_a_chart_repository_dependency_is_fetched_when_the_config_allows_it(
    tmp_path: Path,
) -> None:
    """With ``helmChartRepositories: true``, ``helm dependency build`` fetches from a real
    (local HTTP) chart repository, into a scratch copy only."""
    import subprocess
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    helm = str(find_tool("helm"))
    served = tmp_path / "served"
    source = chart_with_dependency(tmp_path / "src", "file://unused") / "libs" / "common"
    env = {
        **os.environ,
        "HELM_CONFIG_HOME": str(tmp_path / "h"),
        "HELM_CACHE_HOME": str(tmp_path / "h"),
    }
    subprocess.run(
        [helm, "package", str(source), "-d", str(served)], check=True, env=env, capture_output=True
    )
    handler = partial(SimpleHTTPRequestHandler, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    subprocess.run(
        [helm, "repo", "index", str(served), "--url", url], check=True, env=env, capture_output=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        root = chart_with_dependency(tmp_path / "repo", url)
        before = snapshot(root)
        with pytest.raises(RenderError, match="fetching from chart repositories is off"):
            render(root, "app")
        allowed = RenderPolicy(remote_chart_repositories=True)
        assert names(render(root, "app", policy=allowed)) == ["web-app", "web-common"]
        assert snapshot(root) == before
    finally:
        server.shutdown()
        server.server_close()


def test_a_link_out_behind_a_symlinked_directory_of_the_chart_is_refused(tmp_path: Path) -> None:
    """A chart's ``charts/common`` linking to ``libs/common`` (inside) is followed."""
    write(tmp_path / "secret.txt", "s3cret")
    root = chart_with_dependency(tmp_path / "repo", "file://../libs/common")
    (root / "libs" / "common" / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (root / "app" / "charts").mkdir()
    (root / "app" / "charts" / "common").symlink_to(root / "libs" / "common")
    with pytest.raises(RenderError, match="libs/common/leak.txt: symlink points outside"):
        render(root, "app")
    # and a local dependency's chart is checked the same way when it is to be built
    (root / "app" / "charts" / "common").unlink()
    with pytest.raises(RenderError, match="libs/common/leak.txt: symlink points outside"):
        render(root, "app")


@needs_kustomize
def test_the_engine_renders_with_the_projects_source_repos_and_the_config_switch(
    tmp_path: Path,
) -> None:
    """The engine hands each app's AppProject ``sourceRepos`` to the render policy."""
    from gitops_tui.engine.app.projects import project_from_object
    from gitops_tui.engine.controller.engine import Engine, EngineOptions

    repo = make_repo(
        tmp_path / "repo",
        {"app/kustomization.yaml": "resources: ['https://github.com/other/repo//base']\n"},
    )
    doc = application("web", f"file://{repo.working_tree_dir}", "app", "prod")
    doc["spec"]["project"] = "team"
    app = parse_application(doc, "t")
    assert isinstance(app, Application)
    project = project_from_object(
        {"metadata": {"name": "team"}, "spec": {"sourceRepos": ["https://github.com/mine/*"]}}
    )
    for policy, message in (
        (RenderPolicy(), "repository 'https://github.com/other/repo' is not permitted"),
        (RenderPolicy(remote_bases=False), "kustomizeRemoteBases is false"),
    ):
        engine = Engine(
            EngineOptions(
                repo_cache_dir=tmp_path / "cache",
                history_path=tmp_path / "history.sqlite3",
                render_policy=policy,
            ),
            apps=[app],
        )
        try:
            engine.table.projects, engine.table.projects_known = {"team": project}, True
            revisions = resolve_revisions(app, engine.repos, refresh=True)
            with pytest.raises(SourceError, match=message):
                engine.reconciler.generate(app, revisions)
        finally:
            engine.close()
