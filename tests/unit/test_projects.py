"""AppProject restrictions: repos, destinations, kinds (pure)."""

from __future__ import annotations

from gitops_tui.engine.app.application import Application, Destination, Source
from gitops_tui.engine.app.projects import app_violations, kind_permitted, project_from_object


def project(**spec):  # type: ignore[no-untyped-def]
    return project_from_object(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AppProject",
            "metadata": {"name": "team"},
            "spec": spec,
        }
    )


def app(
    repo: str = "https://git.example/team/apps.git",
    server: str = "https://kubernetes.default.svc",
    name: str = "",
    namespace: str = "team-a",
    proj: str = "team",
) -> Application:
    return Application(
        name="x",
        namespace="argocd",
        project=proj,
        sources=(Source(repo_url=repo, path="p"),),
        destination=Destination(server=server if not name else "", name=name, namespace=namespace),
    )


def test_source_repos_are_globs() -> None:
    p = project(
        sourceRepos=["https://git.example/team/*"], destinations=[{"server": "*", "namespace": "*"}]
    )
    assert app_violations(app(), p) == []
    problems = app_violations(app(repo="https://git.example/other/x.git"), p)
    assert len(problems) == 1 and "not permitted in project 'team'" in problems[0]


def test_destinations_by_server_name_and_namespace() -> None:
    p = project(
        sourceRepos=["*"],
        destinations=[
            {"server": "https://kubernetes.default.svc", "namespace": "team-*"},
            {"name": "prod", "namespace": "payments"},
        ],
    )
    assert app_violations(app(), p) == []
    assert app_violations(app(name="prod", namespace="payments"), p) == []
    assert "not a permitted destination" in app_violations(app(namespace="kube-system"), p)[0]
    assert (
        "not a permitted destination" in app_violations(app(name="prod", namespace="team-a"), p)[0]
    )


def test_missing_project_and_default_project() -> None:
    assert app_violations(app(proj="default"), None) == []
    assert "does not exist" in app_violations(app(proj="ghost"), None)[0]


def test_kind_rules() -> None:
    p = project(
        sourceRepos=["*"],
        clusterResourceWhitelist=[{"group": "", "kind": "Namespace"}],
        namespaceResourceBlacklist=[{"group": "", "kind": "ResourceQuota"}],
    )
    assert kind_permitted(p, "", "Namespace", namespaced=False)
    assert not kind_permitted(p, "rbac.authorization.k8s.io", "ClusterRole", namespaced=False)
    assert not kind_permitted(p, "", "ResourceQuota", namespaced=True)
    assert kind_permitted(p, "apps", "Deployment", namespaced=True)
    only = project(sourceRepos=["*"], namespaceResourceWhitelist=[{"group": "apps", "kind": "*"}])
    assert kind_permitted(only, "apps", "StatefulSet", namespaced=True)
    assert not kind_permitted(only, "", "ConfigMap", namespaced=True)
    assert kind_permitted(None, "", "Anything", namespaced=False)
