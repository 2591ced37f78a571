"""``resource.exclusions`` / ``resource.inclusions``: Argo CD's matching semantics
(``util/settings/resources_filter.go``), their parsing, and what they keep away from the
desired state and from prunes."""

from __future__ import annotations

import pytest
from kubeops_fake import FakeKube
from test_sync_machine import obj, plan_of, result, run

from gitops_tui.engine.health.customizations import installed, parse_keys
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.resource_filter import (
    IN_CLUSTER_URL,
    ResourceFilter,
    active,
    glob_match,
    split_excluded,
)
from gitops_tui.engine.snapshot import OperationPhase, ResultCode
from gitops_tui.engine.sync import work as sync_work

A = "https://a.example.com:6443"
B = "https://b.example.com:6443"


Filters = list[dict[str, list[str]]]


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync_work, "POLL_SECONDS", 0.01)


def rf(exclusions: Filters | None = None, inclusions: Filters | None = None) -> ResourceFilter:
    return ResourceFilter.of(exclusions or [], inclusions or [])


def test_nothing_configured_allows_everything_but_the_core_exclusions() -> None:
    f = rf()
    assert not f.is_excluded("", "ConfigMap", [A])
    assert not f.is_excluded("apps", "Deployment", [A])
    # Argo CD's coreExcludedResources, whatever the settings
    assert f.is_excluded("", "Event", [A])
    assert f.is_excluded("events.k8s.io", "Event", [A])
    assert f.is_excluded("metrics.k8s.io", "PodMetrics", [A])
    assert f.is_excluded("coordination.k8s.io", "Lease", [A])


def test_core_exclusions_hold_even_against_an_inclusion() -> None:
    f = rf(inclusions=[{"apiGroups": ["*"], "kinds": ["*"]}])
    assert f.is_excluded("", "Event", [A])
    assert not f.is_excluded("", "ConfigMap", [A])


def test_each_list_of_an_entry_must_match_and_an_empty_list_matches_anything() -> None:
    f = rf([{"apiGroups": ["*.example.com"], "kinds": ["Widget"], "clusters": [A]}])
    assert f.is_excluded("w.example.com", "Widget", [A])
    assert not f.is_excluded("w.example.com", "Gadget", [A])  # kind differs
    assert not f.is_excluded("example.org", "Widget", [A])  # group differs
    assert not f.is_excluded("w.example.com", "Widget", [B])  # cluster differs
    everywhere = rf([{"kinds": ["Secret"]}])
    assert everywhere.is_excluded("", "Secret", [B])
    assert everywhere.is_excluded("other.io", "Secret", [B])


def test_kinds_are_exact_names_or_star_not_globs() -> None:
    f = rf([{"apiGroups": [""], "kinds": ["Config*"]}])
    assert not f.is_excluded("", "ConfigMap", [A])
    assert rf([{"apiGroups": [""], "kinds": ["*"]}]).is_excluded("", "ConfigMap", [A])


def test_group_and_cluster_globs_like_argo_cds() -> None:
    assert glob_match("*", "")  # the core group
    assert glob_match("*.k8s.io", "networking.k8s.io")
    assert glob_match("{apps,batch}", "batch")
    assert not glob_match("{apps,batch}", "policy")
    assert glob_match("https://*.example.com:6443", A)  # '*' crosses dots and slashes
    assert glob_match("app?", "apps")
    assert glob_match("[ab]pps", "apps")
    assert not glob_match("[!a]pps", "apps")
    assert not glob_match("{unclosed", "{unclosed")  # an invalid glob matches nothing


def test_an_inclusion_narrows_its_clusters_to_what_it_names() -> None:
    f = rf(inclusions=[{"apiGroups": ["", "apps"], "kinds": ["*"], "clusters": [A]}])
    assert not f.is_excluded("apps", "Deployment", [A])
    assert f.is_excluded("batch", "Job", [A])  # not included on A
    assert not f.is_excluded("batch", "Job", [B])  # no inclusion names B


def test_an_exclusion_wins_over_an_inclusion() -> None:
    f = rf(
        exclusions=[{"apiGroups": [""], "kinds": ["Secret"]}],
        inclusions=[{"apiGroups": [""], "kinds": ["*"]}],
    )
    assert f.is_excluded("", "Secret", [A])
    assert not f.is_excluded("", "ConfigMap", [A])


def test_the_default_contexts_cluster_answers_to_the_in_cluster_url() -> None:
    f = rf([{"kinds": ["ConfigMap"], "clusters": [IN_CLUSTER_URL]}])
    assert f.is_excluded("", "ConfigMap", [A, IN_CLUSTER_URL])
    assert not f.is_excluded("", "ConfigMap", [A])


def test_parsed_from_argocd_cm_keys_and_installed_with_the_customizations() -> None:
    parsed = parse_keys(
        {
            "resource.exclusions": "- apiGroups: ['']\n  kinds: [ConfigMap]\n",
            "resource.inclusions": "- apiGroups: ['*']\n  kinds: ['*']\n  clusters: ['*']\n",
        },
        "argocd-cm argocd/argocd-cm",
    )
    assert parsed.problems == ()
    with installed(parsed):
        assert active().is_excluded("", "ConfigMap", [A])
        assert not active().is_excluded("", "Secret", [A])
    assert not active().is_excluded("", "ConfigMap", [A])  # uninstalled again


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("- apiGroups: ['{a,b']\n", "'{a,b' is not a valid glob"),
        ("- apiGroup: ['']\n", "unknown field 'apiGroup'"),
        ("- kinds: ConfigMap\n", "kinds: must be a list of strings"),
        ("kinds: [ConfigMap]\n", "must be a list of {apiGroups, kinds, clusters}"),
    ],
)
def test_bad_filters_are_reported_with_their_key(value: str, problem: str) -> None:
    parsed = parse_keys({"resource.exclusions": value}, "config.yaml")
    assert parsed.exclusions is None
    assert len(parsed.problems) == 1
    assert parsed.problems[0].startswith("config.yaml: resource.exclusions")
    assert problem in parsed.problems[0]


def test_desired_objects_of_excluded_kinds_are_dropped_with_argo_cds_warning() -> None:
    f = rf([{"apiGroups": [""], "kinds": ["ConfigMap"]}])
    kept, messages = split_excluded(
        [obj("ConfigMap", "settings"), obj("Service", "web")],
        lambda group, kind: f.is_excluded(group, kind, [A]),
    )
    assert [ResourceKey.of(o).name for o in kept] == ["web"]
    assert messages == ["Resource /ConfigMap settings is excluded in the settings"]


def test_a_prune_never_deletes_an_object_of_an_excluded_kind() -> None:
    """The last line of defence: even handed to the sync as a prune, it is not deleted."""
    fake = FakeKube()
    fake.excluded_kinds.add(("", "ConfigMap"))
    stray = fake.add(obj("ConfigMap", "stray"))
    gone = fake.add(obj("Secret", "gone"))
    state = run(fake, plan_of([obj("Secret", "web")], prune=[stray, gone]))
    assert state.phase is OperationPhase.SUCCEEDED, state.message
    assert [w.key.name for w in fake.real_writes("delete")] == ["gone"]
    assert result(state, "stray").status is ResultCode.PRUNE_SKIPPED
    assert "excluded" in result(state, "stray").message
    assert ResourceKey.of(stray) in fake.objects
