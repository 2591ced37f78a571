"""Resource actions (issue 14 item 5): discovery.lua / action.lua in the Lua sandbox, built-ins."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_tui.engine.health.actions import (
    RESTARTED_AT,
    ActionError,
    ImpactedResource,
    discover,
    merge_patch,
    run,
    script_view,
)
from gitops_tui.engine.health.customizations import (
    EMPTY,
    Customizations,
    layered,
    load_directories,
    parse_keys,
)
from gitops_tui.engine.health.lua_runtime import LuaLimits, LuaScriptError

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "7"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]},
        },
    },
}
WIDGET: dict[str, Any] = {
    "apiVersion": "example.com/v1",
    "kind": "Widget",
    "metadata": {"name": "w", "namespace": "shop"},
    "spec": {"paused": False, "selector": {}, "ports": []},
}

# Argo CD's style: discovery lists by name, action returns the modified obj
WIDGET_ACTIONS = """
discovery.lua: |
  actions = {}
  actions["pause"] = {["disabled"] = obj.spec.paused}
  actions["resume"] = {["disabled"] = not obj.spec.paused, ["displayName"] = "Resume it"}
  return actions
definitions:
- name: pause
  action.lua: |
    obj.spec.paused = true
    return obj
- name: resume
  action.lua: |
    obj.spec.paused = false
    return obj
"""


def cm_actions(pattern_key: str, value: str, origin: str = "argocd-cm") -> Customizations:
    found = parse_keys({f"resource.customizations.actions.{pattern_key}": value}, origin)
    assert not found.problems
    return found


def test_builtin_restart_for_workloads() -> None:
    for kind in ("Deployment", "StatefulSet", "DaemonSet"):
        obj = {**DEPLOYMENT, "kind": kind}
        assert [a.name for a in discover(obj, EMPTY)] == ["restart"]
        [op] = run(obj, "restart", EMPTY)
        assert op.operation == "patch"
        patch = merge_patch(obj, op.resource)
        stamp = patch["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT]
        assert stamp.endswith("Z") and "T" in stamp
        assert list(patch) == ["spec"] and list(patch["spec"]) == ["template"]
    assert obj["spec"]["template"]["metadata"] == {"labels": {"app": "web"}}  # not mutated
    assert discover({**DEPLOYMENT, "kind": "ReplicaSet"}, EMPTY) == []
    assert discover({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}, EMPTY) == []


def test_lua_discovery_and_action_from_argocd_cm() -> None:
    custom = cm_actions("example.com_Widget", WIDGET_ACTIONS)
    found = {a.name: a for a in discover(WIDGET, custom)}
    assert set(found) == {"pause", "resume"}
    assert not found["pause"].disabled and found["resume"].disabled
    assert found["resume"].display_name == "Resume it"
    assert "argocd-cm" in found["pause"].origin
    [op] = run(WIDGET, "pause", custom)
    assert merge_patch(WIDGET, op.resource) == {"spec": {"paused": True}}
    # Lua cannot tell {} from []: the untouched empty mapping and list keep their type
    assert op.resource["spec"]["selector"] == {} and op.resource["spec"]["ports"] == []
    with pytest.raises(ActionError, match="disabled by its discovery script"):
        run(WIDGET, "resume", custom)
    with pytest.raises(ActionError, match="not offered"):
        run(WIDGET, "delete-everything", custom)


def test_operations_list_form_and_bad_operations() -> None:
    script = """
discovery.lua: |
  return {["spawn"] = {}}
definitions:
- name: spawn
  action.lua: |
    local job = {apiVersion = "v1", kind = "ConfigMap",
                 metadata = {name = obj.metadata.name .. "-copy"}, data = {from = "action"}}
    obj.spec.paused = true
    return {{operation = "create", resource = job}, {operation = "patch", resource = obj}}
- name: nuke
  action.lua: |
    return {{operation = "delete", resource = obj}}
"""
    custom = cm_actions("example.com_Widget", script.replace('"spawn"] = {}', '"spawn"] = {}'))
    ops = run(WIDGET, "spawn", custom)
    assert [o.operation for o in ops] == ["create", "patch"]
    assert ops[0].resource["metadata"]["name"] == "w-copy"
    bad = cm_actions(
        "example.com_Widget", script.replace('return {["spawn"] = {}}', 'return {["nuke"] = {}}')
    )
    with pytest.raises(ActionError, match="unsupported operation 'delete'"):
        run(WIDGET, "nuke", bad)


def test_custom_block_hides_builtins_unless_merged() -> None:
    only_custom = cm_actions(
        "apps_Deployment",
        "discovery.lua: |\n  return {scale = {}}\ndefinitions:\n- name: scale\n"
        "  action.lua: |\n    obj.spec.replicas = 0\n    return obj\n",
    )
    assert [a.name for a in discover(DEPLOYMENT, only_custom)] == ["scale"]
    merged = cm_actions(
        "apps_Deployment",
        "mergeBuiltinActions: true\ndiscovery.lua: |\n  return {scale = {}}\n"
        "definitions:\n- name: scale\n  action.lua: |\n    obj.spec.replicas = 0\n"
        "    return obj\n",
    )
    assert [a.name for a in discover(DEPLOYMENT, merged)] == ["restart", "scale"]
    [op] = run(DEPLOYMENT, "scale", merged)
    assert merge_patch(DEPLOYMENT, op.resource) == {"spec": {"replicas": 0}}


def test_later_source_wins_and_block_form_and_directory_origin() -> None:
    block = parse_keys(
        {
            "resource.customizations": yaml.safe_dump(
                {"example.com/Widget": {"actions": "discovery.lua: return {old = {}}"}}
            )
        },
        "argocd-cm",
    )
    assert [a.name for a in discover(WIDGET, block)] == ["old"]
    config = cm_actions("example.com_Widget", "discovery.lua: return {new = {}}", "config.yaml")
    assert [a.name for a in discover(WIDGET, layered([block, config]))] == ["new"]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("while true do end", "endless loop"),
        ('os.execute("touch /tmp/pwned-by-action")', "os.execute|attempt to call"),
        ('io.open("/etc/passwd")', "io"),
        ('require("io")', "may require only"),
        ("local t = {} for i = 1, 1e9 do t[i] = i end", "memory|endless loop|longer than"),
        ('return "not a table"', "modified object or a list"),
        ("return {}", "modified object or a list"),
    ],
)
def test_hostile_and_wrong_action_scripts_are_contained(
    script: str, expected: str, tmp_path: Path
) -> None:
    value = {
        "discovery.lua": "return {go = {}}",
        "definitions": [{"name": "go", "action.lua": script}],
    }
    custom = cm_actions("example.com_Widget", yaml.safe_dump(value))
    before = copy.deepcopy(WIDGET)
    with pytest.raises(LuaScriptError, match=expected):
        run(WIDGET, "go", custom, limits=LuaLimits(seconds=1.0, instructions=5_000_000))
    assert before == WIDGET
    assert not Path("/tmp/pwned-by-action").exists()


@pytest.mark.parametrize(
    "discovery",
    ["while true do end", 'return "restart"', "return {[1] = 'a'}", 'error("boom")'],
)
def test_bad_discovery_scripts_raise_a_clear_error(discovery: str) -> None:
    custom = cm_actions("example.com_Widget", yaml.safe_dump({"discovery.lua": discovery}))
    with pytest.raises(LuaScriptError):
        discover(WIDGET, custom, limits=LuaLimits(seconds=1.0, instructions=5_000_000))


def test_malformed_actions_value_names_its_origin() -> None:
    custom = cm_actions("example.com_Widget", "definitions: 3")
    with pytest.raises(ActionError, match="argocd-cm: resource.customizations.actions"):
        discover(WIDGET, custom)


def test_secret_values_never_reach_an_action_script_nor_are_written_back() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "shop"},
        "data": {"password": "c2VjcmV0"},
    }
    leak = "error(obj.data.password)"
    custom = cm_actions(
        "Secret",
        yaml.safe_dump(
            {
                "discovery.lua": "return {leak = {}, label = {}}",
                "definitions": [
                    {"name": "leak", "action.lua": leak},
                    {
                        "name": "label",
                        "action.lua": "obj.metadata.labels = {seen = 'yes'}\nreturn obj",
                    },
                ],
            }
        ),
    )
    view = script_view(secret)
    with pytest.raises(LuaScriptError) as error:
        run(view, "leak", custom)
    assert "c2VjcmV0" not in str(error.value)
    [op] = run(view, "label", custom)
    assert merge_patch(view, op.resource) == {"metadata": {"labels": {"seen": "yes"}}}


def test_merge_patch() -> None:
    assert merge_patch({"a": 1, "b": {"c": 1, "d": 2}}, {"a": 1, "b": {"c": 2}}) == {
        "b": {"c": 2, "d": None}
    }
    assert merge_patch({"l": [1, 2]}, {"l": [1]}) == {"l": [1]}
    assert merge_patch({"a": 1}, {"a": 1}) == {}
    assert isinstance(ImpactedResource("patch", {}), ImpactedResource)


def test_actions_from_a_directory_in_argo_cds_layout(tmp_path: Path) -> None:
    base = tmp_path / "checks" / "example.com" / "Widget" / "actions"
    (base / "pause").mkdir(parents=True)
    (base / "discovery.lua").write_text("return {pause = {}}")
    (base / "pause" / "action.lua").write_text("obj.spec.paused = true\nreturn obj\n")
    core = tmp_path / "checks" / "ConfigMap" / "actions"
    core.mkdir(parents=True)
    (core / "discovery.lua").write_text("return {}")
    found = load_directories([tmp_path / "checks"])
    assert not found.problems
    assert set(found.actions) == {"example.com/Widget", "ConfigMap"}
    assert [a.name for a in discover(WIDGET, found)] == ["pause"]
    [op] = run(WIDGET, "pause", found)
    assert merge_patch(WIDGET, op.resource) == {"spec": {"paused": True}}
    assert str(base) in found.actions["example.com/Widget"].origin
