"""Lua health customizations: the runtime's sandbox and limits, the three sources, precedence."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.engine.health.customizations import (
    EMPTY,
    Customizations,
    installed,
    layered,
    load_directories,
    parse_keys,
)
from gitops_tui.engine.health.dispatch import resource_health
from gitops_tui.engine.health.lua_runtime import LuaLimits, LuaScriptError, health_from_script
from gitops_tui.engine.model import HealthStatus

H = HealthStatus

# An Argo CD-style script: a Widget is Healthy when status.ready, else Progressing.
WIDGET_LUA = """
local hs = {}
if obj.status ~= nil and obj.status.ready == true then
  hs.status = "Healthy"
  hs.message = "widget " .. obj.metadata.name .. " is ready"
  return hs
end
hs.status = "Progressing"
hs.message = "Waiting for widget"
return hs
"""


def widget(
    ready: bool | None = None, api: str = "example.com/v1", kind: str = "Widget"
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": "w1", "namespace": "d"},
    }
    if ready is not None:
        obj["status"] = {"ready": ready}
    return obj


def run(script: str, obj: dict[str, Any] | None = None, **kw: Any) -> tuple[HealthStatus, str]:
    return health_from_script(script, obj if obj is not None else widget(True), **kw)


# -- the runtime -----------------------------------------------------------------------------


def test_script_reads_obj_and_returns_health() -> None:
    assert run(WIDGET_LUA) == (H.HEALTHY, "widget w1 is ready")
    assert run(WIDGET_LUA, widget(False)) == (H.PROGRESSING, "Waiting for widget")


def test_lua_51_semantics() -> None:
    status, message = run(
        'return {status="Healthy", message=_VERSION .. " " .. tostring(unpack ~= nil)}'
    )
    assert (status, message) == (H.HEALTHY, "Lua 5.1 true")


def test_arrays_are_one_based_tables_and_numbers_compare() -> None:
    obj = widget(True)
    obj["status"]["conditions"] = [{"type": "A", "n": 1}, {"type": "B", "n": 2}]
    script = """
    local total = 0
    for i, c in ipairs(obj.status.conditions) do total = total + c.n end
    return {status = "Healthy", message = obj.status.conditions[2].type .. total}
    """
    assert run(script, obj) == (H.HEALTHY, "B3")


def test_default_libraries_are_argo_cds_base_table_and_safe_os() -> None:
    script = """
    local names = {}
    for _, n in ipairs({"table", "os", "string", "math", "io", "debug", "coroutine",
                        "dofile", "loadfile", "load", "getfenv", "setfenv", "collectgarbage"}) do
      if _G[n] ~= nil then table.insert(names, n) end
    end
    local os2 = require("os")
    table.insert(names, tostring(os2.execute) .. "/" .. type(os.time()) .. "/" .. type(os.date("!%Y")))
    return {status = "Healthy", message = table.concat(names, ",")}
    """
    assert run(script) == (H.HEALTHY, "table,os,nil/number/string")


def test_use_open_libs_adds_string_math_coroutine_only() -> None:
    script = """
    local names = {}
    for _, n in ipairs({"string", "math", "coroutine", "io", "debug", "package"}) do
      if _G[n] ~= nil then table.insert(names, n) end
    end
    return {status = "Healthy", message = table.concat(names, ",") .. string.upper("!")}
    """
    assert run(script, use_open_libs=True) == (H.HEALTHY, "string,math,coroutine!")
    with pytest.raises(LuaScriptError, match="string"):
        run(script)


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ('os.execute("touch /tmp/gitops-tui-lua-pwned")', "execute"),
        ('local f = io.open("/etc/passwd")', "io"),
        ('local m = require("io")', "may require only"),
        ('require("./evil")', "may require only"),
        ('dofile("/etc/passwd")', "dofile"),
        ("getfenv(0).io.open('/etc/passwd')", "getfenv"),
        (
            'local f = loadstring("return io.open") return {status = "Healthy", message = f()("/etc/passwd")}',
            "io",
        ),
        ("loadstring(string.dump(print))", "string"),
    ],
)
def test_hostile_scripts_reach_nothing(script: str, words: str) -> None:
    with pytest.raises(LuaScriptError, match=words):
        run(script)
    assert not Path("/tmp/gitops-tui-lua-pwned").exists()


def test_binary_chunks_are_refused() -> None:
    script = 'local f, err = loadstring("\\27Lua") return {status = "Healthy", message = err}'
    assert run(script) == (H.HEALTHY, "binary chunks are not allowed")


@pytest.mark.parametrize(
    "script",
    [
        "while true do end",
        "while true do pcall(function() while true do end end) end",
        "local co = coroutine.create(function() while true do end end) while true do coroutine.resume(co) end",
        "local f = coroutine.wrap(function() while true do end end) f()",
        "local function f() return f() end return f()",
    ],
    ids=["loop", "pcall-swallow", "coroutine", "wrap", "tail-call"],
)
def test_endless_loops_stop_at_the_instruction_budget(script: str) -> None:
    start = time.monotonic()
    with pytest.raises(LuaScriptError, match="more than 2000000 Lua instructions"):
        run(script, use_open_libs=True, limits=LuaLimits(instructions=2_000_000, seconds=30))
    assert time.monotonic() - start < 10


def test_wall_clock_deadline() -> None:
    with pytest.raises(LuaScriptError, match=r"longer than 0.2 s"):
        run("while true do end", limits=LuaLimits(instructions=10**12, seconds=0.2))


@pytest.mark.parametrize(
    "script",
    [
        'return string.rep("x", 2^30)',
        "local t = {} local i = 1 while true do t[i] = {i, i, i} i = i + 1 end",
    ],
)
def test_huge_allocations_hit_the_memory_ceiling(script: str) -> None:
    limits = LuaLimits(memory_bytes=16 * 2**20, seconds=30, instructions=10**10)
    with pytest.raises(LuaScriptError, match="memory"):
        run(script, use_open_libs=True, limits=limits)


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("local x = 1", "expect table output from Lua script, not nil"),
        ('return "Healthy"', "not string"),
        ('return {status = "Healthy", message = 3}', "message is not a string"),
        ("return {", "near '<eof>'"),
        ('error("boom")', "boom"),
        ("return obj.spec.missing.deeper", "attempt to index"),
    ],
)
def test_script_errors_and_wrong_shapes(script: str, words: str) -> None:
    with pytest.raises(LuaScriptError, match=words):
        run(script)


def test_invalid_status_word_is_unknown_like_argo_cd() -> None:
    assert run('return {status = "Fine"}') == (H.UNKNOWN, "Lua returned an invalid health status")


# -- the three sources ----------------------------------------------------------------------


def test_argocd_cm_key_with_group_and_kind() -> None:
    found = parse_keys({"resource.customizations.health.example.com_Widget": WIDGET_LUA}, "cm")
    override = found.health_for("example.com", "Widget")
    assert (
        override is not None
        and override.origin == "cm: resource.customizations.health.example.com_Widget"
    )
    assert not override.use_open_libs


def test_core_kind_key_and_use_open_libs() -> None:
    found = parse_keys(
        {
            "resource.customizations.health.ConfigMap": "return {}",
            "resource.customizations.useOpenLibs.ConfigMap": "true",
        },
        "cm",
    )
    override = found.health_for("", "ConfigMap")
    assert override is not None and override.use_open_libs


def test_wildcard_keys_match_like_argo_cd() -> None:
    found = parse_keys({"resource.customizations.health.*.crossplane.io_*": WIDGET_LUA}, "cm")
    assert found.health_for("ec2.aws.crossplane.io", "VPC") is not None
    assert found.health_for("example.com", "Widget") is None


def test_block_form() -> None:
    block = """
example.com/Widget:
  health.lua: |
    return {status = "Degraded", message = string.lower("BLOCK")}
  health.lua.useOpenLibs: true
  ignoreDifferences: |
    jsonPointers:
    - /spec/replicas
  knownTypeFields:
  - field: spec.template
    type: core/v1/PodTemplateSpec
"""
    found = parse_keys({"resource.customizations": block}, "cm")
    assert found.problems == ()
    with installed(found):
        result = resource_health(widget(True))
    assert result is not None and (result.status, result.message) == (H.DEGRADED, "block")
    assert found.ignore_differences["example.com/Widget"].value["jsonPointers"] == (
        "/spec/replicas",
    )
    assert found.known_type_fields["example.com/Widget"].value == (
        ("spec.template", "core/v1/PodTemplateSpec"),
    )


def test_other_keys_parsed_and_bad_ones_reported() -> None:
    found = parse_keys(
        {
            "resource.customizations.ignoreDifferences.all": "managedFieldsManagers:\n- kube-controller-manager\n",
            "resource.customizations.ignoreDifferences.apps_Deployment": "jsonPointers: /not-a-list",
            "resource.exclusions": "- apiGroups: [cilium.io]\n  kinds: [CiliumIdentity]\n  clusters: ['*']\n",
            "resource.customizations.health.example.com_Widget": 42,
            "url": "https://argocd.example.com",
        },
        "argocd-cm argocd/argocd-cm",
    )
    assert found.ignore_differences["*"].value["managedFieldsManagers"] == (
        "kube-controller-manager",
    )
    assert found.exclusions is not None and found.exclusions.value[0]["kinds"] == (
        "CiliumIdentity",
    )
    assert len(found.problems) == 2
    assert any("apps_Deployment" in p and "list of strings" in p for p in found.problems)
    assert any("example.com_Widget" in p and "must be a string" in p for p in found.problems)


def test_directory_layout_with_core_group_and_wildcards(tmp_path: Path) -> None:
    (tmp_path / "example.com" / "Widget").mkdir(parents=True)
    (tmp_path / "example.com" / "Widget" / "health.lua").write_text(WIDGET_LUA)
    (tmp_path / "_.crossplane.io" / "_").mkdir(parents=True)
    (tmp_path / "_.crossplane.io" / "_" / "health.lua").write_text('return {status = "Suspended"}')
    (tmp_path / "ConfigMap").mkdir()
    (tmp_path / "ConfigMap" / "health.lua").write_text(
        'return {status = "Healthy", message = string.upper("cm")}'
    )
    found = load_directories([tmp_path])
    assert found.problems == ()
    with installed(found):
        w = resource_health(widget(True))
        xp = resource_health(widget(api="s3.aws.crossplane.io/v1", kind="Bucket"))
        cm = resource_health({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    assert w is not None and w.status is H.HEALTHY and str(tmp_path) in w.rule
    assert xp is not None and xp.status is H.SUSPENDED
    assert cm is not None and (cm.status, cm.message) == (
        H.HEALTHY,
        "CM",
    )  # directory scripts: open libs


def test_missing_directory_is_a_problem(tmp_path: Path) -> None:
    assert "not a directory" in load_directories([tmp_path / "nope"]).problems[0]


def test_later_source_wins_and_origin_is_reported(tmp_path: Path) -> None:
    cm = parse_keys(
        {"resource.customizations.health.example.com_Widget": 'return {status = "Degraded"}'}, "cm"
    )
    config = parse_keys(
        {"resource.customizations.health.example.com_Widget": 'return {status = "Suspended"}'},
        "config",
    )
    merged = layered([cm, config])
    override = merged.health_for("example.com", "Widget")
    assert override is not None and override.origin.startswith("config")
    assert merged.report() == [
        "health example.com/Widget: config: resource.customizations.health.example.com_Widget"
    ]
    assert cm.fingerprint != merged.fingerprint


# -- in resource_health ----------------------------------------------------------------------


def test_lua_overrides_the_built_in_rule() -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {"paused": True},
    }
    assert resource_health(deployment) is not None
    override = parse_keys(
        {
            "resource.customizations.health.apps_Deployment": 'return {status = "Healthy", message = "lua"}'
        },
        "cm",
    )
    with installed(override):
        result = resource_health(deployment)
    assert result is not None and (result.status, result.message) == (H.HEALTHY, "lua")
    assert result.rule.startswith("Lua (cm")


def test_failing_script_makes_only_that_resource_unknown() -> None:
    custom = parse_keys(
        {"resource.customizations.health.example.com_Widget": "while true do end"}, "cm"
    )
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "status": {"phase": "Succeeded"},
    }
    with installed(custom):
        bad = resource_health(widget(True))
        good = resource_health(pod)
    # Either limit may trip first: the instruction budget, or on a loaded machine the
    # wall-clock limit; both are the containment under test.
    assert bad is not None and bad.status is H.UNKNOWN
    assert "Lua instructions" in bad.message or "s (endless loop?)" in bad.message
    assert good is not None and good.status is H.HEALTHY


def test_ignore_healthcheck_and_deletion_still_come_first() -> None:
    custom = parse_keys(
        {"resource.customizations.health.example.com_Widget": 'return {status = "Degraded"}'}, "cm"
    )
    obj = widget(True)
    obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    with installed(custom):
        result = resource_health(obj)
        obj["metadata"] = {
            "name": "w",
            "annotations": {"argocd.argoproj.io/ignore-healthcheck": "true"},
        }
        ignored = resource_health(obj)
    assert result is not None and result.status is H.PROGRESSING
    assert ignored is None


def test_installed_restores_the_previous_rules() -> None:
    with installed(
        parse_keys({"resource.customizations.health.example.com_Widget": WIDGET_LUA}, "cm")
    ):
        assert resource_health(widget(True)) is not None
    assert resource_health(widget(True)) is None
    assert Customizations() == EMPTY


# -- ignoreDifferences from customizations -----------------------------------------------------


def test_system_ignore_rules_from_all_and_per_kind() -> None:
    from gitops_tui.engine.health.customizations import system_ignore_rules
    from gitops_tui.engine.model import ResourceKey

    found = parse_keys(
        {
            "resource.customizations.ignoreDifferences.all": "managedFieldsManagers: [kube-controller-manager]",
            "resource.customizations.ignoreDifferences.apps_Deployment": "jsonPointers: [/spec/replicas]",
            "resource.customizations.ignoreDifferences.ConfigMap": "jqPathExpressions: ['.data.mode']",
        },
        "cm",
    )
    rules = {(r.group, r.kind): r for r in system_ignore_rules(found)}
    assert rules[("*", "*")].managed_fields_managers == ("kube-controller-manager",)
    assert rules[("apps", "Deployment")].json_pointers == ("/spec/replicas",)
    assert rules[("", "ConfigMap")].matches(ResourceKey("", "ConfigMap", "ns", "c"))
    assert not rules[("", "ConfigMap")].matches(ResourceKey("example.com", "ConfigMap", "ns", "c"))


def test_bad_ignore_pointer_is_reported_with_its_key() -> None:
    found = parse_keys(
        {"resource.customizations.ignoreDifferences.ConfigMap": "jsonPointers: [no-slash]"}, "cm"
    )
    assert found.ignore_differences == {}
    assert len(found.problems) == 1 and "ignoreDifferences.ConfigMap" in found.problems[0]


def test_secret_values_never_reach_a_script() -> None:
    # an argocd-cm script (cluster content, not trusted) trying to show a Secret's value
    leak = """
    local parts = {}
    for k, v in pairs(obj.data or {}) do table.insert(parts, k .. "=" .. v) end
    for k, v in pairs(obj.stringData or {}) do table.insert(parts, k .. "=" .. v) end
    local ann = obj.metadata.annotations or {}
    table.insert(parts, tostring(ann["kubectl.kubernetes.io/last-applied-configuration"]))
    return {status = "Healthy", message = table.concat(parts, ",")}
    """
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"password":"aHVudGVyMg=="}}'
            },
        },
        "data": {"password": "aHVudGVyMg=="},
        "stringData": {"token": "hunter2"},
    }
    with installed(parse_keys({"resource.customizations.health.Secret": leak}, "cm")):
        result = resource_health(secret)
    assert result is not None and result.status is H.HEALTHY
    assert "aHVudGVyMg" not in result.message and "hunter2" not in result.message
    assert result.message == "password=++++++++,token=++++++++,nil"
    assert secret["data"] == {"password": "aHVudGVyMg=="}  # the object itself is untouched


def test_objects_too_deep_or_with_huge_numbers_are_handled() -> None:
    deep: dict[str, Any] = {}
    cur = deep
    for _ in range(150):
        cur["a"] = {}
        cur = cur["a"]
    with pytest.raises(LuaScriptError, match="nested more than 100 levels"):
        run('return {status = "Healthy"}', {"x": deep})
    big = run('return {status = "Healthy", message = tostring(obj.n > 1e20)}', {"n": 2**70})
    assert big == (H.HEALTHY, "true")
