"""Per-resource Argo CD annotations."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_tui.engine.annotations import (
    KNOWN_APP_SYNC_OPTIONS,
    compare_options,
    csv_values,
    hook_delete_policies,
    hook_phases,
    is_hook,
    is_skipped,
    parse_sync_option_list,
    sync_options,
    sync_wave,
    unknown_hook_types,
    unknown_sync_options,
)


def obj(annotations: dict[str, Any] | None = None, kind: str = "ConfigMap") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "cfg", "namespace": "default"}
    if annotations is not None:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": kind, "metadata": meta}


def test_csv_values_trims_drops_empty_and_dedupes() -> None:
    assert csv_values(" a, b ,,a, c ") == ["a", "b", "c"]


# -- sync wave ---------------------------------------------------------------------------


def test_sync_wave_defaults_to_zero() -> None:
    assert sync_wave(obj()) == 0
    assert sync_wave({"kind": "ConfigMap"}) == 0


@pytest.mark.parametrize("text,wave", [("5", 5), ("-3", -3), (" 2 ", 2), ("+4", 4)])
def test_sync_wave_reads_argo_annotation(text: str, wave: int) -> None:
    assert sync_wave(obj({"argocd.argoproj.io/sync-wave": text})) == wave


def test_sync_wave_falls_back_to_helm_hook_weight() -> None:
    assert sync_wave(obj({"helm.sh/hook-weight": "-7"})) == -7


def test_argo_sync_wave_wins_over_helm_weight() -> None:
    annotations = {"argocd.argoproj.io/sync-wave": "1", "helm.sh/hook-weight": "9"}
    assert sync_wave(obj(annotations)) == 1


@pytest.mark.parametrize("text", ["one", "1.5", "", "1_000", "0x10"])
def test_bad_sync_wave_raises_naming_object_and_value(text: str) -> None:
    with pytest.raises(ValueError) as info:
        sync_wave(obj({"argocd.argoproj.io/sync-wave": text}))
    message = str(info.value)
    assert "ConfigMap default/cfg" in message
    assert repr(text) in message
    assert "argocd.argoproj.io/sync-wave" in message


def test_bad_helm_weight_raises() -> None:
    with pytest.raises(ValueError, match="helm.sh/hook-weight"):
        sync_wave(obj({"helm.sh/hook-weight": "heavy"}))


# -- hooks -------------------------------------------------------------------------------


def test_no_hook_annotation_is_not_a_hook() -> None:
    assert hook_phases(obj()) == frozenset()
    assert not is_hook(obj())
    assert not is_skipped(obj())


def test_argo_hook_csv() -> None:
    o = obj({"argocd.argoproj.io/hook": "PreSync, PostSync"})
    assert hook_phases(o) == {"PreSync", "PostSync"}
    assert is_hook(o)


def test_unknown_argo_hook_values_are_ignored_and_reported() -> None:
    o = obj({"argocd.argoproj.io/hook": "PreSync,Presync"})
    assert hook_phases(o) == {"PreSync"}
    assert unknown_hook_types(o) == ["Presync"]


def test_skip_alone_is_skipped_not_a_hook() -> None:
    o = obj({"argocd.argoproj.io/hook": "Skip"})
    assert hook_phases(o) == {"Skip"}
    assert is_skipped(o)
    assert not is_hook(o)


def test_skip_with_another_type_is_a_hook() -> None:
    o = obj({"argocd.argoproj.io/hook": "Skip,PreSync"})
    assert not is_skipped(o)
    assert is_hook(o)


@pytest.mark.parametrize(
    "helm,phases",
    [
        ("pre-install", {"PreSync"}),
        ("pre-upgrade", {"PreSync"}),
        ("post-install", {"PostSync"}),
        ("post-upgrade", {"PostSync"}),
        ("pre-install,post-upgrade", {"PreSync", "PostSync"}),
        ("test", set()),
    ],
)
def test_helm_hooks_are_mapped(helm: str, phases: set[str]) -> None:
    o = obj({"helm.sh/hook": helm})
    assert hook_phases(o) == phases
    assert is_hook(o)


def test_helm_crd_install_is_not_a_hook() -> None:
    o = obj({"helm.sh/hook": "crd-install"}, kind="CustomResourceDefinition")
    assert not is_hook(o)
    assert hook_phases(o) == frozenset()


def test_argo_hook_wins_over_helm_hook() -> None:
    o = obj({"argocd.argoproj.io/hook": "Sync", "helm.sh/hook": "pre-install"})
    assert hook_phases(o) == {"Sync"}


def test_argo_hook_with_no_known_type_falls_back_to_helm() -> None:
    o = obj({"argocd.argoproj.io/hook": "Bogus", "helm.sh/hook": "post-install"})
    assert hook_phases(o) == {"PostSync"}


# -- delete policies ---------------------------------------------------------------------


def test_delete_policy_defaults_to_before_hook_creation() -> None:
    assert hook_delete_policies(obj()) == {"BeforeHookCreation"}


def test_delete_policy_csv() -> None:
    o = obj({"argocd.argoproj.io/hook-delete-policy": "HookSucceeded, HookFailed"})
    assert hook_delete_policies(o) == {"HookSucceeded", "HookFailed"}


def test_helm_delete_policies_are_mapped_and_combined() -> None:
    o = obj(
        {
            "argocd.argoproj.io/hook-delete-policy": "HookFailed",
            "helm.sh/hook-delete-policy": "hook-succeeded,before-hook-creation",
        }
    )
    assert hook_delete_policies(o) == {"HookFailed", "HookSucceeded", "BeforeHookCreation"}


def test_unknown_delete_policy_gives_default() -> None:
    o = obj({"argocd.argoproj.io/hook-delete-policy": "Whenever"})
    assert hook_delete_policies(o) == {"BeforeHookCreation"}


# -- sync and compare options ------------------------------------------------------------


def test_sync_options_parse_csv_whitespace_tolerant() -> None:
    o = obj(
        {"argocd.argoproj.io/sync-options": " Prune=false , Validate = false,ServerSideApply=true"}
    )
    assert sync_options(o) == {"Prune": "false", "Validate": "false", "ServerSideApply": "true"}


def test_sync_options_absent_is_empty() -> None:
    assert sync_options(obj()) == {}


def test_parse_sync_option_list_last_wins_and_bare_items() -> None:
    opts = parse_sync_option_list(
        ["CreateNamespace=true", " PruneLast = true", "Flag", "CreateNamespace=false"]
    )
    assert opts == {"CreateNamespace": "false", "PruneLast": "true", "Flag": ""}


def test_parse_sync_option_list_keeps_value_with_equals() -> None:
    assert parse_sync_option_list(["A=b=c"]) == {"A": "b=c"}


def test_unknown_sync_options() -> None:
    opts = parse_sync_option_list(
        ["CreateNamespace=true", "CreateNamespaces=true", "prunelast=true"]
    )
    assert unknown_sync_options(opts) == ["CreateNamespaces", "prunelast"]


def test_known_sync_options_cover_the_documented_ones() -> None:
    documented = {
        "CreateNamespace",
        "PruneLast",
        "ServerSideApply",
        "ApplyOutOfSyncOnly",
        "Validate",
        "PrunePropagationPolicy",
        "Replace",
        "Force",
        "RespectIgnoreDifferences",
        "FailOnSharedResource",
        "SkipDryRunOnMissingResource",
        "Prune",
        "Delete",
    }
    assert documented <= KNOWN_APP_SYNC_OPTIONS
    assert unknown_sync_options({name: "true" for name in documented}) == []


def test_compare_options() -> None:
    o = obj({"argocd.argoproj.io/compare-options": "IgnoreExtraneous, ServerSideDiff=true"})
    assert compare_options(o) == {"IgnoreExtraneous", "ServerSideDiff=true"}
    assert compare_options(obj()) == frozenset()
