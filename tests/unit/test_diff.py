"""The pure diff pipeline: stripping, normalisation, ignoreDifferences, rendering."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from gitops_tui.engine.app.ignore_rules import IgnoreRule
from gitops_tui.engine.diff.ignore import apply_ignore_rules, owned_field_paths
from gitops_tui.engine.diff.normalize import normalize, strip_server_fields
from gitops_tui.engine.diff.resource_diff import (
    ResourceDiff,
    app_diff_text,
    diff_resource,
    side_by_side,
)
from gitops_tui.engine.model import ResourceKey

DEPLOY_KEY = ResourceKey("apps", "Deployment", "default", "web")


def deployment(
    replicas: int = 2, image: str = "nginx:1.25", sidecar: str = "envoy:1"
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "annotations": {"argocd.argoproj.io/tracking-id": "demo:apps/Deployment:default/web"},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "app", "image": image},
                        {"name": "sidecar", "image": sidecar},
                    ]
                },
            },
        },
    }


def with_server_fields(obj: dict[str, Any]) -> dict[str, Any]:
    live = copy.deepcopy(obj)
    meta = live["metadata"]
    meta.update(
        uid="0b7e0f6c-0000-4000-8000-000000000001",
        resourceVersion="12345",
        generation=4,
        creationTimestamp="2024-05-01T10:00:00Z",
        selfLink="/apis/apps/v1/namespaces/default/deployments/web",
        managedFields=[{"manager": "gitops-tui", "operation": "Apply", "fieldsV1": {}}],
    )
    meta["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = (
        '{"kind":"Deployment"}'
    )
    live["status"] = {"replicas": 2, "readyReplicas": 2, "observedGeneration": 4}
    return live


# ---------------------------------------------------------------- strip


def test_strip_removes_every_server_owned_field() -> None:
    stripped = strip_server_fields(with_server_fields(deployment()))
    assert "status" not in stripped
    for field in (
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "selfLink",
        "managedFields",
    ):
        assert field not in stripped["metadata"]
    assert (
        "kubectl.kubernetes.io/last-applied-configuration"
        not in stripped["metadata"]["annotations"]
    )
    assert stripped == deployment()


def test_strip_keeps_the_tracking_annotation_like_argo_cd() -> None:
    stripped = strip_server_fields(with_server_fields(deployment()))
    assert stripped["metadata"]["annotations"] == {
        "argocd.argoproj.io/tracking-id": "demo:apps/Deployment:default/web"
    }


def test_strip_drops_maps_left_empty_and_does_not_touch_its_input() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "cfg",
            "labels": {},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
        },
    }
    original = copy.deepcopy(obj)
    stripped = strip_server_fields(obj)
    assert stripped["metadata"] == {"name": "cfg"}
    assert obj == original


def test_server_fields_alone_do_not_make_a_resource_out_of_sync() -> None:
    result = diff_resource(DEPLOY_KEY, deployment(), with_server_fields(deployment()))
    assert not result.modified
    assert result.unified == ""
    assert result.changed_paths == ()


# ---------------------------------------------------------------- normalise


def test_normalize_turns_integral_floats_into_ints_as_go_json_does() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "X",
        "spec": {"a": 1.0, "b": 1.5, "c": [2.0, True], "d": False},
    }
    spec = normalize(obj)["spec"]
    assert spec == {"a": 1, "b": 1.5, "c": [2, True], "d": False}
    assert type(spec["a"]) is int
    assert type(spec["c"][0]) is int
    assert spec["c"][1] is True


def test_normalize_makes_keys_strings() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "data": {True: "yes", 2: "two", 1.0e1: "ten", None: "nil"},
    }
    assert normalize(obj)["data"] == {"true": "yes", "2": "two", "10": "ten", "null": "nil"}


def test_int_and_float_replicas_compare_equal() -> None:
    desired = deployment()
    desired["spec"]["replicas"] = 2.0
    assert not diff_resource(DEPLOY_KEY, desired, deployment()).modified


def test_bool_and_int_are_still_different() -> None:
    desired = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "x": True}
    live = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "x": 1}
    assert diff_resource(ResourceKey("", "ConfigMap", "", "c"), desired, live).modified


def secret(**fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "default"},
        **fields,
    }


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_normalize_folds_secret_string_data_into_base64_data() -> None:
    normalized = normalize(secret(data={"a": b64("x")}, stringData={"b": "hello", "a": "wins"}))
    assert "stringData" not in normalized
    assert normalized["data"] == {"a": b64("wins"), "b": b64("hello")}


def test_string_data_and_equal_data_compare_equal() -> None:
    key = ResourceKey("", "Secret", "default", "db")
    assert not diff_resource(
        key, secret(stringData={"pw": "s3cret"}), secret(data={"pw": b64("s3cret")})
    ).modified
    assert diff_resource(
        key, secret(stringData={"pw": "other"}), secret(data={"pw": b64("s3cret")})
    ).modified


def test_string_data_is_left_alone_outside_core_secrets() -> None:
    obj = {"apiVersion": "example.com/v1", "kind": "Secret", "stringData": {"a": "b"}}
    assert normalize(obj) == obj


def test_empty_role_rules_equal_absent_rules() -> None:
    key = ResourceKey("rbac.authorization.k8s.io", "ClusterRole", "", "r")
    base = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "r"},
    }
    assert not diff_resource(key, {**base, "rules": []}, {**base, "rules": None}).modified
    assert not diff_resource(key, {**base, "rules": []}, base).modified
    assert "rules" not in normalize({**base, "rules": []})
    assert normalize({**base, "rules": [{"verbs": ["get"]}]})["rules"] == [{"verbs": ["get"]}]


# ---------------------------------------------------------------- ignore rules


def test_json_pointer_rule_hides_exactly_the_named_field() -> None:
    rule = IgnoreRule.from_spec(
        {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}
    )
    only_replicas = diff_resource(
        DEPLOY_KEY, deployment(replicas=3), deployment(replicas=5), rules=[rule]
    )
    assert not only_replicas.modified
    assert "replicas" not in only_replicas.desired_yaml

    also_image = diff_resource(
        DEPLOY_KEY, deployment(replicas=3, image="nginx:2"), deployment(replicas=5), rules=[rule]
    )
    assert also_image.modified
    assert also_image.changed_paths == ("spec.template.spec.containers[0].image",)


def test_missing_pointer_path_is_not_an_error() -> None:
    rule = IgnoreRule(
        group="apps", kind="Deployment", json_pointers=("/spec/nothing/here", "/spec/replicas/0")
    )
    assert apply_ignore_rules(deployment(), DEPLOY_KEY, [rule], None) == deployment()


def test_pointer_with_escaped_slash_and_list_index() -> None:
    obj = deployment()
    obj["metadata"]["annotations"]["example.com/owner"] = "team"
    rule = IgnoreRule(
        group="apps",
        kind="Deployment",
        json_pointers=(
            "/metadata/annotations/example.com~1owner",
            "/spec/template/spec/containers/1/image",
        ),
    )
    result = apply_ignore_rules(obj, DEPLOY_KEY, [rule], None)
    assert result["metadata"]["annotations"] == {
        "argocd.argoproj.io/tracking-id": "demo:apps/Deployment:default/web"
    }
    assert result["spec"]["template"]["spec"]["containers"] == [
        {"name": "app", "image": "nginx:1.25"},
        {"name": "sidecar"},
    ]


def test_removal_prunes_maps_it_leaves_empty() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "annotations": {"a": "1"}},
    }
    rule = IgnoreRule(group="", kind="ConfigMap", json_pointers=("/metadata/annotations/a",))
    assert apply_ignore_rules(obj, ResourceKey("", "ConfigMap", "", "c"), [rule], None)[
        "metadata"
    ] == {"name": "c"}


def test_apply_ignore_rules_does_not_mutate_its_input() -> None:
    obj = deployment()
    rule = IgnoreRule(group="apps", kind="Deployment", json_pointers=("/spec/replicas",))
    apply_ignore_rules(obj, DEPLOY_KEY, [rule], None)
    assert obj == deployment()


SIDECAR_IMAGE_JQ = '.spec.template.spec.containers[] | select(.name == "sidecar") | .image'


def test_jq_rule_hides_the_selected_container_image_only() -> None:
    rule = IgnoreRule.from_spec(
        {"group": "apps", "kind": "Deployment", "jqPathExpressions": [SIDECAR_IMAGE_JQ]}
    )
    sidecar_only = diff_resource(
        DEPLOY_KEY, deployment(sidecar="envoy:2"), deployment(sidecar="envoy:1"), rules=[rule]
    )
    assert not sidecar_only.modified
    app_image = diff_resource(DEPLOY_KEY, deployment(image="nginx:2"), deployment(), rules=[rule])
    assert app_image.modified
    assert app_image.changed_paths == ("spec.template.spec.containers[0].image",)
    assert "envoy" not in app_image.desired_yaml
    assert "nginx:2" in app_image.desired_yaml


def test_jq_rule_that_cannot_run_on_an_object_is_skipped() -> None:
    rule = IgnoreRule(group="*", kind="*", jq_path_expressions=(".spec.initContainers[].image",))
    assert apply_ignore_rules(deployment(), DEPLOY_KEY, [rule], None) == deployment()


def kubectl_scaled_live(replicas: int) -> dict[str, Any]:
    live = with_server_fields(deployment(replicas=replicas))
    live["metadata"]["managedFields"] = [
        {
            "manager": "gitops-tui",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "time": "2024-05-01T10:00:00Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:spec": {
                    "f:replicas": {},
                    "f:template": {
                        "f:spec": {
                            "f:containers": {
                                'k:{"name":"app"}': {".": {}, "f:image": {}, "f:name": {}}
                            }
                        }
                    },
                }
            },
        },
        {
            "manager": "kubectl",
            "operation": "Update",
            "apiVersion": "apps/v1",
            "time": "2024-05-02T08:30:00Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:replicas": {}}},
            "subresource": "scale",
        },
    ]
    return live


def test_managed_fields_manager_rule_hides_fields_kubectl_scale_owns() -> None:
    rule = IgnoreRule.from_spec(
        {"group": "apps", "kind": "Deployment", "managedFieldsManagers": ["kubectl"]}
    )
    scaled = diff_resource(DEPLOY_KEY, deployment(replicas=2), kubectl_scaled_live(5), rules=[rule])
    assert not scaled.modified

    with_image = diff_resource(
        DEPLOY_KEY, deployment(replicas=2, image="nginx:2"), kubectl_scaled_live(5), rules=[rule]
    )
    assert with_image.modified
    assert with_image.changed_paths == ("spec.template.spec.containers[0].image",)


def test_managed_fields_rule_for_another_manager_hides_nothing() -> None:
    rule = IgnoreRule(group="apps", kind="Deployment", managed_fields_managers=("helm",))
    result = diff_resource(DEPLOY_KEY, deployment(replicas=2), kubectl_scaled_live(5), rules=[rule])
    assert result.modified
    assert result.changed_paths == ("spec.replicas",)


def test_managed_fields_list_keys_select_the_owned_item() -> None:
    live = deployment(sidecar="envoy:9")
    live["metadata"]["managedFields"] = [
        {
            "manager": "istio-injector",
            "operation": "Update",
            "fieldsV1": {
                "f:metadata": {"f:finalizers": {'v:"example.com/keep"': {}}},
                "f:spec": {
                    "f:template": {
                        "f:spec": {
                            "f:containers": {'k:{"name":"sidecar"}': {".": {}, "f:image": {}}}
                        }
                    }
                },
            },
        }
    ]
    live["metadata"]["finalizers"] = ["example.com/other", "example.com/keep"]
    rule = IgnoreRule(group="apps", kind="Deployment", managed_fields_managers=("istio-injector",))
    result = apply_ignore_rules(strip_server_fields(live), DEPLOY_KEY, [rule], live)
    assert result["metadata"]["finalizers"] == ["example.com/other"]
    assert result["spec"]["template"]["spec"]["containers"] == [
        {"name": "app", "image": "nginx:1.25"},
        {"name": "sidecar"},
    ]


def test_owned_field_paths_lists_leaves_and_self_only_nodes() -> None:
    fields = {
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        "f:spec": {"f:ports": {'k:{"port":80,"protocol":"TCP"}': {".": {}}}},
    }
    assert sorted(owned_field_paths(fields)) == [
        ("f:metadata", "f:labels", "f:app"),
        ("f:spec", "f:ports", 'k:{"port":80,"protocol":"TCP"}'),
    ]


@pytest.mark.parametrize(
    ("group", "kind", "key", "expected"),
    [
        ("apps", "*", DEPLOY_KEY, True),
        ("*", "Deploy*", DEPLOY_KEY, True),
        ("app?", "Deployment", DEPLOY_KEY, True),
        ("", "Deployment", DEPLOY_KEY, False),
        ("", "*", ResourceKey("", "Service", "default", "web"), True),
        ("apps", "StatefulSet", DEPLOY_KEY, False),
        (
            "*.k8s.io",
            "*Role",
            ResourceKey("rbac.authorization.k8s.io", "ClusterRole", "", "r"),
            True,
        ),
        (
            "*.k8s.io",
            "*Role",
            ResourceKey("rbac.authorization.k8s.io", "RoleBinding", "ns", "r"),
            False,
        ),
    ],
)
def test_group_and_kind_are_globs(group: str, kind: str, key: ResourceKey, expected: bool) -> None:
    assert IgnoreRule(group=group, kind=kind).matches(key) is expected


def test_name_and_namespace_must_match_exactly_when_given() -> None:
    rule = IgnoreRule(group="apps", kind="Deployment", name="web", namespace="default")
    assert rule.matches(DEPLOY_KEY)
    assert not rule.matches(ResourceKey("apps", "Deployment", "default", "web2"))
    assert not rule.matches(ResourceKey("apps", "Deployment", "prod", "web"))
    assert not IgnoreRule(group="apps", kind="Deployment", name="we*").matches(DEPLOY_KEY)


def test_rule_for_another_kind_changes_nothing() -> None:
    rule = IgnoreRule(group="apps", kind="StatefulSet", json_pointers=("/spec/replicas",))
    assert diff_resource(
        DEPLOY_KEY, deployment(replicas=3), deployment(replicas=5), rules=[rule]
    ).modified


def test_from_spec_reads_every_field() -> None:
    rule = IgnoreRule.from_spec(
        {
            "group": "apps",
            "kind": "Deployment",
            "name": "web",
            "namespace": "default",
            "jsonPointers": ["/spec/replicas"],
            "jqPathExpressions": [SIDECAR_IMAGE_JQ],
            "managedFieldsManagers": ["kube-controller-manager"],
        }
    )
    assert rule == IgnoreRule(
        group="apps",
        kind="Deployment",
        name="web",
        namespace="default",
        json_pointers=("/spec/replicas",),
        jq_path_expressions=(SIDECAR_IMAGE_JQ,),
        managed_fields_managers=("kube-controller-manager",),
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "Deployment", "jsonPointers": ["spec/replicas"]}, "spec/replicas"),
        ({"kind": "Deployment", "jsonPointers": [""]}, "whole object"),
        (
            {"kind": "Deployment", "jqPathExpressions": [".spec.containers[ | .image"]},
            "jq path expression",
        ),
        ({"kind": "Deployment", "jsonPointers": "/spec/replicas"}, "list of strings"),
        ({"group": "apps", "jsonPointers": ["/spec/replicas"]}, "kind"),
        ({"kind": 3}, "kind"),
    ],
)
def test_from_spec_rejects_malformed_items(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        IgnoreRule.from_spec(spec)


# ---------------------------------------------------------------- rendering


def test_yaml_puts_api_version_kind_metadata_first_then_sorted_keys() -> None:
    obj = {
        "spec": {"z": 1, "a": 2},
        "data": {"k": "v"},
        "metadata": {"name": "c"},
        "kind": "X",
        "apiVersion": "v1",
    }
    text = diff_resource(ResourceKey("", "X", "", "c"), obj, None).desired_yaml
    top = [line.split(":")[0] for line in text.splitlines() if not line.startswith(" ")]
    assert top == ["apiVersion", "kind", "metadata", "data", "spec"]
    assert text.index("  a: 2") < text.index("  z: 1")


def test_unified_diff_has_live_and_desired_labels_and_context() -> None:
    result = diff_resource(DEPLOY_KEY, deployment(replicas=3), deployment(replicas=5))
    lines = result.unified.splitlines()
    assert lines[0] == "--- live/Deployment/default/web"
    assert lines[1] == "+++ desired/Deployment/default/web"
    assert "-  replicas: 5" in lines
    assert "+  replicas: 3" in lines
    context_lines = [line for line in lines[3:] if line.startswith(" ")]
    assert len(context_lines) == 6


def test_context_zero_and_full_file() -> None:
    no_context = diff_resource(
        DEPLOY_KEY, deployment(replicas=3), deployment(replicas=5), context=0
    )
    assert [line for line in no_context.unified.splitlines()[3:] if line.startswith(" ")] == []
    full = diff_resource(DEPLOY_KEY, deployment(replicas=3), deployment(replicas=5), context=-1)
    body = full.unified.splitlines()[3:]
    assert len(body) == len(full.live_yaml.splitlines()) + 1
    with pytest.raises(ValueError):
        diff_resource(DEPLOY_KEY, deployment(), deployment(), context=-2)


def test_missing_live_is_a_create_with_only_plus_lines() -> None:
    result = diff_resource(DEPLOY_KEY, deployment(), None)
    assert result.modified and result.is_create and not result.is_prune
    assert result.live_yaml == ""
    body = result.unified.splitlines()[3:]
    assert body and all(line.startswith("+") for line in body)


def test_missing_desired_is_a_prune_with_only_minus_lines() -> None:
    result = diff_resource(DEPLOY_KEY, None, with_server_fields(deployment()))
    assert result.modified and result.is_prune and not result.is_create
    assert result.desired_yaml == ""
    body = result.unified.splitlines()[3:]
    assert body and all(line.startswith("-") for line in body)
    assert "resourceVersion" not in result.live_yaml


def test_cluster_scoped_labels_have_no_namespace_part() -> None:
    key = ResourceKey("", "Namespace", "", "team-a")
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}
    assert diff_resource(key, ns, None).unified.splitlines()[1] == "+++ desired/Namespace/team-a"


def test_changed_paths_are_short_and_human() -> None:
    desired = deployment(replicas=3, image="nginx:2")
    desired["metadata"]["labels"] = {"app.kubernetes.io/name": "web"}
    result = diff_resource(DEPLOY_KEY, desired, deployment())
    assert result.changed_paths == (
        "metadata.labels",
        "spec.replicas",
        "spec.template.spec.containers[0].image",
    )
    live = copy.deepcopy(desired)
    live["metadata"]["labels"]["app.kubernetes.io/name"] = "old"
    assert diff_resource(DEPLOY_KEY, desired, live).changed_paths == (
        'metadata.labels["app.kubernetes.io/name"]',
    )


def configmap(**data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data}


CM_KEY = ResourceKey("", "ConfigMap", "", "c")


def test_side_by_side_pairs_replaced_lines() -> None:
    result = diff_resource(CM_KEY, configmap(a="1", b="20", d="4"), configmap(a="1", b="2", c="3"))
    assert side_by_side(result, width=80)[4:] == [
        ("data:", "data:", "equal"),
        ("  a: '1'", "  a: '1'", "equal"),
        ("  b: '2'", "  b: '20'", "replace"),
        ("  c: '3'", "  d: '4'", "replace"),
    ]


def test_side_by_side_marks_inserted_and_deleted_lines() -> None:
    inserted = diff_resource(CM_KEY, configmap(a="1", b="2", c="3"), configmap(a="1", c="3"))
    assert ("", "  b: '2'", "insert") in side_by_side(inserted, 80)
    deleted = diff_resource(CM_KEY, configmap(a="1", c="3"), configmap(a="1", b="2", c="3"))
    rows = side_by_side(deleted, 80)
    assert ("  b: '2'", "", "delete") in rows
    assert [left for left, _, _ in rows if left] == deleted.live_yaml.splitlines()
    assert [right for _, right, _ in rows if right] == deleted.desired_yaml.splitlines()


def test_side_by_side_insert_and_delete_only() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    key = ResourceKey("", "ConfigMap", "", "c")
    assert {tag for _, _, tag in side_by_side(diff_resource(key, obj, None), 80)} == {"insert"}
    assert {tag for _, _, tag in side_by_side(diff_resource(key, None, obj), 80)} == {"delete"}


def test_side_by_side_wraps_long_lines_without_losing_text() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"k": "x" * 50},
    }
    result = diff_resource(ResourceKey("", "ConfigMap", "", "c"), obj, obj)
    rows = side_by_side(result, width=10)
    assert all(len(left) <= 10 and len(right) <= 10 for left, right, _ in rows)
    assert "".join(left for left, _, _ in rows) == result.live_yaml.replace("\n", "")
    with pytest.raises(ValueError):
        side_by_side(result, 0)


def test_app_diff_text_lists_modified_resources_in_key_order() -> None:
    svc_key = ResourceKey("", "Service", "default", "web")
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
    }
    diffs = [
        diff_resource(DEPLOY_KEY, deployment(replicas=3), deployment()),
        diff_resource(svc_key, svc, None),
        diff_resource(
            ResourceKey("", "ConfigMap", "default", "same"),
            *([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "same"}}] * 2),
        ),
    ]
    text = app_diff_text(diffs)
    assert text.index("===== /Service default/web ======") < text.index(
        "===== apps/Deployment default/web ======"
    )
    assert "same" not in text
    assert "+  replicas: 3" in text
    assert app_diff_text([]) == ""


def test_resource_diff_is_immutable() -> None:
    result = diff_resource(DEPLOY_KEY, deployment(), deployment())
    assert isinstance(result, ResourceDiff)
    with pytest.raises(AttributeError):
        result.modified = True  # type: ignore[misc]
