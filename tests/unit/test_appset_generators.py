"""Generators without Git: list, clusters, matrix, merge, selector; both template styles,
templatePatch, validation of the ApplicationSet, and the bounds (each a condition, nothing
generated, other sets unaffected)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from appset_helpers import CLUSTERS, app_template, appset_doc, names, only_condition, run
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gitops_tui.engine.app.applicationset import (
    Inputs,
    InvalidApplicationSet,
    generate_all,
    load_applicationset_files,
    parse_applicationset,
    plan,
)


def elements(*names_: str, **extra: str) -> dict[str, Any]:
    return {"list": {"elements": [{"name": n, **extra} for n in names_]}}


# --------------------------------------------------------------------------- list


def test_list_fasttemplate_renders_every_string() -> None:
    doc = appset_doc(
        [
            {
                "list": {
                    "elements": [
                        {"name": "a", "url": "https://a"},
                        {"name": "b", "url": "https://b"},
                    ]
                }
            }
        ],
        app_template(server="{{url}}", path="apps/{{ name }}", labels={"app": "{{name}}"}),
    )
    generated = run(doc)
    assert names(generated) == ["a", "b"]
    a = generated.applications[0]
    assert a.destination.server == "https://a"
    assert a.source.path == "apps/a"
    assert a.namespace == "argocd"  # the ApplicationSet's namespace
    assert a.raw["metadata"]["labels"] == {"app": "a"}


def test_fasttemplate_leaves_unknown_tags_and_templates_map_keys() -> None:
    doc = appset_doc(
        [elements("a")],
        app_template(annotations={"team/{{name}}": "{{ unknown }}"}),
    )
    app = run(doc).applications[0]
    assert app.raw["metadata"]["annotations"] == {"team/a": "{{ unknown }}"}


def test_list_values_flatten_and_non_strings_need_gotemplate() -> None:
    doc = appset_doc(
        [{"list": {"elements": [{"name": "a", "values": {"ns": "team-a"}}]}}],
        app_template(namespace="{{values.ns}}"),
    )
    assert run(doc).applications[0].destination.namespace == "team-a"
    bad = appset_doc([{"list": {"elements": [{"name": "a", "replicas": 3}]}}])
    assert "elements[0].replicas: must be a string without goTemplate" in only_condition(run(bad))


def test_list_gotemplate_keeps_nested_values_and_elements_yaml() -> None:
    doc = appset_doc(
        [
            {
                "list": {
                    "elements": [{"app": {"name": "a", "replicas": 3}}],
                    "elementsYaml": "- app: {name: b, replicas: 1000000}\n",
                }
            }
        ],
        app_template(name="{{ .app.name }}", path="apps/{{ .app.name }}/{{ .app.replicas }}"),
        goTemplate=True,
    )
    generated = run(doc)
    assert names(generated) == ["a", "b"]
    # numbers are Go float64 after Argo CD's JSON round trip
    assert [a.source.path for a in generated.applications] == ["apps/a/3", "apps/b/1e+06"]


# --------------------------------------------------------------------------- clusters


def test_clusters_from_plain_inputs_with_a_label_selector() -> None:
    doc = appset_doc(
        [{"clusters": {"selector": {"matchLabels": {"env": "prod"}}}}],
        app_template(name="gb-{{name}}", server="{{server}}", path="{{metadata.labels.env}}"),
    )
    generated = run(doc, Inputs(clusters=CLUSTERS))
    assert names(generated) == ["gb-production"]
    assert generated.applications[0].destination.server == "https://2.4.6.8"
    assert generated.applications[0].source.path == "prod"


def test_clusters_match_expressions_and_values_gotemplate() -> None:
    doc = appset_doc(
        [
            {
                "clusters": {
                    "selector": {
                        "matchExpressions": [
                            {"key": "env", "operator": "In", "values": ["staging", "prod"]}
                        ]
                    },
                    "values": {"ns": "gb-{{ .name }}"},
                }
            }
        ],
        app_template(
            name="{{ .nameNormalized }}",
            namespace="{{ .values.ns }}",
            path='{{ index .metadata.labels "argocd.argoproj.io/secret-type" }}',
        ),
        goTemplate=True,
    )
    generated = run(doc, Inputs(clusters=CLUSTERS))
    assert names(generated) == ["staging", "production"]
    assert [a.destination.namespace for a in generated.applications] == [
        "gb-staging",
        "gb-production",
    ]
    assert generated.applications[0].source.path == "cluster"


def test_clusters_without_selector_take_every_context() -> None:
    assert names(run(appset_doc([{"clusters": {}}]), Inputs(clusters=CLUSTERS))) == [
        "staging",
        "production",
    ]


def test_bad_selector_operator_is_a_condition() -> None:
    doc = appset_doc(
        [{"clusters": {"selector": {"matchExpressions": [{"key": "env", "operator": "Like"}]}}}]
    )
    assert "operator: 'Like' is not one of" in only_condition(run(doc, Inputs(clusters=CLUSTERS)))


# --------------------------------------------------------------------------- matrix


def test_matrix_of_clusters_and_list() -> None:
    doc = appset_doc(
        [
            {
                "matrix": {
                    "generators": [
                        {"clusters": {}},
                        {"list": {"elements": [{"app": "web"}, {"app": "api"}]}},
                    ]
                }
            }
        ],
        app_template(name="{{app}}-{{name}}", server="{{server}}"),
    )
    generated = run(doc, Inputs(clusters=CLUSTERS))
    assert names(generated) == ["web-staging", "api-staging", "web-production", "api-production"]
    assert generated.applications[3].destination.server == "https://2.4.6.8"
    # a name that does not vary across clusters collides: a condition, nothing generated
    doc["spec"]["template"]["metadata"]["name"] = "{{app}}"
    assert "duplicate generated Application names: api, web" in only_condition(
        run(doc, Inputs(clusters=CLUSTERS))
    )


def test_matrix_second_child_uses_the_first_childs_parameters() -> None:
    doc = appset_doc(
        [
            {
                "matrix": {
                    "generators": [
                        {"clusters": {}},
                        {"list": {"elements": [{"app": "web-{{metadata.labels.env}}"}]}},
                    ]
                }
            }
        ],
        app_template(name="{{app}}"),
    )
    assert names(run(doc, Inputs(clusters=CLUSTERS))) == ["web-staging", "web-prod"]


def test_matrix_conflicting_keys_fasttemplate_is_an_error_gotemplate_first_wins() -> None:
    gens = [{"matrix": {"generators": [elements("a"), elements("b")]}}]
    assert "found duplicate key name with different value, a: a, b: b" in only_condition(
        run(appset_doc(gens))
    )
    go = appset_doc(gens, app_template(name="{{ .name }}", path="p"), goTemplate=True)
    assert names(run(go)) == ["a"]


def test_matrix_needs_exactly_two_children_and_one_level_of_nesting() -> None:
    three = appset_doc([{"matrix": {"generators": [elements("a"), elements("b"), elements("c")]}}])
    assert "a matrix combines exactly two generators" in only_condition(run(three))
    nested = {"matrix": {"generators": [elements("a"), {"list": {"elements": [{"x": "1"}]}}]}}
    one_level = appset_doc(
        [{"matrix": {"generators": [nested, {"list": {"elements": [{"y": "2"}]}}]}}],
        app_template(name="{{name}}-{{x}}-{{y}}"),
    )
    assert names(run(one_level)) == ["a-1-2"]
    two_levels = appset_doc(
        [
            {
                "matrix": {
                    "generators": [
                        {"matrix": {"generators": [nested, elements("z")]}},
                        elements("q"),
                    ]
                }
            }
        ]
    )
    assert "Argo CD allows one level of matrix/merge nesting" in only_condition(run(two_levels))


# --------------------------------------------------------------------------- merge


def test_merge_overrides_matching_sets_and_keeps_base_order() -> None:
    doc = appset_doc(
        [
            {
                "merge": {
                    "mergeKeys": ["server"],
                    "generators": [
                        {"clusters": {"values": {"kafka": "true", "redis": "false"}}},
                        {
                            "clusters": {
                                "selector": {"matchLabels": {"env": "staging"}},
                                "values": {"kafka": "false"},
                            }
                        },
                        {
                            "list": {
                                "elements": [{"server": "https://2.4.6.8", "values.redis": "true"}]
                            }
                        },
                        {
                            "list": {
                                "elements": [{"server": "https://9.9.9.9", "values.redis": "x"}]
                            }
                        },
                    ],
                }
            }
        ],
        app_template(name="{{name}}", path="kafka-{{values.kafka}}/redis-{{values.redis}}"),
    )
    generated = run(doc, Inputs(clusters=CLUSTERS))
    assert names(generated) == ["staging", "production"]
    assert [a.source.path for a in generated.applications] == [
        "kafka-false/redis-false",
        "kafka-true/redis-true",
    ]


def test_merge_gotemplate_deep_merges_and_needs_unique_override_keys() -> None:
    base = {
        "list": {
            "elements": [
                {"name": "a", "cfg": {"x": "1", "y": "1"}},
                {"name": "b", "cfg": {"x": "1"}},
            ]
        }
    }
    extra = {"list": {"elements": [{"name": "a", "cfg": {"y": "2"}}]}}
    doc = appset_doc(
        [{"merge": {"mergeKeys": ["name"], "generators": [base, extra]}}],
        app_template(name="{{ .name }}", path="{{ .cfg.x }}{{ .cfg.y }}"),
        goTemplate=True,
    )
    generated = run(doc)
    assert [a.source.path for a in generated.applications] == ["12", "1<no value>"]
    dup = {"list": {"elements": [{"name": "a"}, {"name": "a"}]}}
    doc["spec"]["generators"][0]["merge"]["generators"][1] = dup
    assert "not unique by the merge keys" in only_condition(run(doc))
    doc["spec"]["generators"][0]["merge"]["mergeKeys"] = []
    assert "needs at least one merge key" in only_condition(run(doc))


# --------------------------------------------------------------------------- selector


def test_selector_post_filters_flattened_parameters() -> None:
    doc = appset_doc(
        [
            {
                "list": {
                    "elements": [
                        {"name": "a", "env": "prod"},
                        {"name": "b", "env": "dev"},
                        {"name": "c"},
                    ]
                },
                "selector": {
                    "matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]
                },
            }
        ]
    )
    assert names(run(doc)) == ["a", "c"]
    go = appset_doc(
        [
            {
                "list": {
                    "elements": [
                        {"name": "a", "meta": {"env": "prod"}},
                        {"name": "b", "meta": {"env": "dev"}},
                    ]
                },
                "selector": {"matchLabels": {"meta.env": "prod"}},
            }
        ],
        app_template(name="{{ .name }}", path="p"),
        goTemplate=True,
    )
    assert names(run(go)) == ["a"]


# --------------------------------------------------------------------------- templates


def test_generator_template_overrides_the_spec_template() -> None:
    own = {"metadata": {"name": "own-{{name}}"}, "spec": {"destination": {"namespace": "own"}}}
    doc = appset_doc([{"list": {"elements": [{"name": "a"}], "template": own}}, elements("b")])
    generated = run(doc)
    assert names(generated) == ["own-a", "b"]
    assert generated.applications[0].destination.namespace == "own"
    assert generated.applications[0].destination.server == "https://kubernetes.default.svc"


def test_template_patch_merges_rendered_yaml() -> None:
    # the example of Argo CD's templatePatch documentation, with range and if
    patch = """
spec:
  source:
    helm:
      valueFiles:
      {{- range $valueFile := .valueFiles }}
        - {{ $valueFile }}
      {{- end }}
{{- if .autoSync }}
  syncPolicy:
    automated:
      prune: {{ .prune }}
{{- end }}
metadata:
  labels: {patched: "{{ .name }}"}
"""
    doc = appset_doc(
        [
            {
                "list": {
                    "elements": [
                        {
                            "name": "a",
                            "autoSync": True,
                            "prune": True,
                            "valueFiles": ["v1.yaml", "v2.yaml"],
                        },
                        {"name": "b", "autoSync": False, "valueFiles": []},
                    ]
                }
            }
        ],
        app_template(name="{{ .name }}", path="p"),
        goTemplate=True,
        templatePatch=patch,
    )
    generated = run(doc)
    a, b = generated.applications
    assert a.sync_policy.automated and a.sync_policy.prune
    assert a.source.helm == {"valueFiles": ["v1.yaml", "v2.yaml"]}
    assert not b.sync_policy.automated
    assert a.raw["metadata"]["labels"] == {"patched": "a"}
    assert a.source.path == "p"
    doc["spec"]["templatePatch"] = "spec: [unclosed"
    assert "templatePatch: the rendered patch is not valid YAML" in only_condition(run(doc))
    doc["spec"]["templatePatch"] = '{{ template "x" }}'
    assert "{{template}} is not supported" in only_condition(run(doc))


def test_missingkey_error_is_a_condition_and_default_prints_no_value() -> None:
    doc = appset_doc(
        [elements("a")],
        app_template(name="{{ .name }}", path="{{ .nope }}"),
        goTemplate=True,
        goTemplateOptions=["missingkey=error"],
    )
    assert 'map has no entry for key "nope"' in only_condition(run(doc))
    del doc["spec"]["goTemplateOptions"]
    assert run(doc).applications[0].source.path == "<no value>"


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("scmProvider", "the SCM provider generator"),
        ("pullRequest", "the pull request generator"),
        ("plugin", "the plugin generator"),
        ("clusterDecisionResource", "the cluster decision resource generator"),
    ],
)
def test_unsupported_generators_are_a_clear_condition(kind: str, label: str) -> None:
    doc = appset_doc([elements("a"), {kind: {}}])
    message = only_condition(run(doc))
    assert message.startswith(f"spec.generators[1].{kind}: {label} is not supported by gitops-tui")


def test_unsupported_generator_nested_in_a_matrix() -> None:
    doc = appset_doc([{"matrix": {"generators": [elements("a"), {"pullRequest": {}}]}}])
    assert "spec.generators[0].matrix.generators[1].pullRequest: the pull request generator" in (
        only_condition(run(doc))
    )


def test_a_generator_over_the_limit_generates_nothing() -> None:
    big = appset_doc([{"list": {"elements": [{"name": f"a{i}"} for i in range(10_001)]}}])
    message = only_condition(run(big))
    assert "yields 10001 parameter sets, more than the limit of 10000" in message


def test_a_matrix_over_the_limit_stops_before_building_everything() -> None:
    many = [{"x": str(i)} for i in range(200)]
    doc = appset_doc(
        [
            {
                "matrix": {
                    "generators": [
                        {"list": {"elements": many}},
                        {"list": {"elements": [{"y": str(i)} for i in range(60)]}},
                    ]
                }
            }
        ],
        app_template(name="a-{{x}}-{{y}}"),
    )
    assert "more than the limit of 10000" in only_condition(run(doc))
    assert len(run(doc, Inputs(max_generated=20_000)).applications) == 12_000


def test_template_rendering_an_invalid_application_is_a_condition() -> None:
    doc = appset_doc([elements("good", "Bad_Name")])
    message = only_condition(run(doc))
    assert (
        "the template renders 1 invalid Application(s): Bad_Name (from spec.generators[0])"
        in message
    )
    assert "metadata.name" in message


def test_one_bad_set_leaves_the_others_untouched() -> None:
    good = parse_applicationset(appset_doc([elements("a")], name="good"), "good.yaml")
    bad = parse_applicationset(appset_doc([elements("a", "a")], name="bad"), "bad.yaml")
    results = generate_all([bad, good], Inputs())
    assert (
        not results[0].ok
        and "duplicate generated Application names: a" in results[0].conditions[0].message
    )
    assert results[1].ok and [a.name for a in results[1].applications] == ["a"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"generators": []}, "spec.generators: required"),
        ({"template": "x"}, "spec.template: required"),
        ({"goTemplate": "yes"}, "spec.goTemplate: must be a boolean"),
        ({"goTemplateOptions": ["missingkey=maybe"]}, "unsupported option 'missingkey=maybe'"),
        ({"syncPolicy": {"applicationsSync": "always"}}, "'always' is not one of create-only"),
        ({"templatePatch": {"a": 1}}, "spec.templatePatch: must be a string"),
        ({"ignoreApplicationDifferences": [{"jsonPointers": ["spec"]}]}, "must start with '/'"),
        ({"bogus": 1}, "spec.bogus: unknown field"),
    ],
)
def test_invalid_applicationsets_name_the_field(change: dict[str, Any], message: str) -> None:
    doc = appset_doc([elements("a")])
    doc["spec"].update(change)
    result = parse_applicationset(doc, "set.yaml")
    assert isinstance(result, InvalidApplicationSet)
    assert any(message in c.message for c in result.conditions), result.conditions
    assert message in only_condition(run(doc)) or len(run(doc).conditions) >= 1


def test_an_entry_with_two_generators_is_a_condition() -> None:
    doc = appset_doc([{"list": {"elements": []}, "clusters": {}}])
    assert "must hold exactly one generator (found: clusters, list)" in only_condition(run(doc))


def test_nested_selectors_need_apply_nested_selectors() -> None:
    inner = {
        "matrix": {
            "generators": [
                {
                    "list": {"elements": [{"name": "a"}, {"name": "b"}]},
                    "selector": {"matchLabels": {"name": "a"}},
                },
                {"list": {"elements": [{"x": "1"}]}},
            ]
        }
    }
    doc = appset_doc(
        [{"matrix": {"generators": [inner, {"list": {"elements": [{"y": "2"}]}}]}}],
        app_template(name="{{name}}-{{x}}{{y}}"),
    )
    # as Argo CD: selectors two levels down are dropped unless spec.applyNestedSelectors
    assert names(run(doc)) == ["a-12", "b-12"]
    doc["spec"]["applyNestedSelectors"] = True
    assert names(run(doc)) == ["a-12"]


def test_loading_files_duplicates_lists_and_files_without_sets(tmp_path: Path) -> None:
    sets = tmp_path / "sets"
    sets.mkdir()
    one = appset_doc([elements("a")], name="one")
    (sets / "a.yaml").write_text(yaml.safe_dump_all([one, {"kind": "ConfigMap"}]))
    (sets / "b.yaml").write_text(yaml.safe_dump({"kind": "List", "items": [one]}))
    (sets / "broken.yaml").write_text("{not yaml: [")  # does not mention ApplicationSet: skipped
    loaded = load_applicationset_files([sets])
    assert [(s.name, type(s).__name__) for s in loaded] == [
        ("one", "ApplicationSet"),
        ("one", "InvalidApplicationSet"),
    ]
    assert isinstance(loaded[1], InvalidApplicationSet)
    assert "duplicate ApplicationSet name, first defined in" in loaded[1].conditions[0].message
    (named,) = load_applicationset_files([sets / "broken.yaml"])
    assert isinstance(named, InvalidApplicationSet) and named.name == "broken"
    plain = tmp_path / "plain.yaml"
    plain.write_text("kind: ConfigMap\n")
    (empty,) = load_applicationset_files([plain])
    assert isinstance(empty, InvalidApplicationSet)
    assert "holds no ApplicationSet" in empty.conditions[0].message


_VALUE = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 3),
        st.floats(),
        st.sampled_from(["a", "B_1", "", "{{ .x }}"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["name", "x", "values", "y"]), inner, max_size=3),
    ),
    max_leaves=8,
)
_LIST = st.builds(
    lambda e: {"list": {"elements": e}},
    st.lists(
        st.dictionaries(st.sampled_from(["name", "x", "values", "y"]), _VALUE, max_size=4),
        max_size=4,
    ),
)
_TERMINAL = st.one_of(_LIST, st.just({"clusters": {"values": {"x": "{{name}}"}}}))
_GENERATOR = st.one_of(
    _TERMINAL,
    st.builds(lambda a, b: {"matrix": {"generators": [a, b]}}, _TERMINAL, _TERMINAL),
    st.builds(
        lambda a, b, k: {"merge": {"mergeKeys": k, "generators": [a, b]}},
        _TERMINAL,
        _TERMINAL,
        st.lists(st.sampled_from(["name", "x"]), max_size=2),
    ),
)
_TEXT = st.sampled_from(
    ["{{name}}", "{{ .name }}", "{{ .x | toJson }}", "{{ index .y 0 }}", "{{ range .y }}{{ . }}{{ end }}",
     "{{values.x}}", "a-{{x}}", "{{ .name | normalize }}", "{{ printf }}", "{{ trunc .x .y }}"]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_GENERATOR, min_size=1, max_size=2), _TEXT, _TEXT, st.booleans())
@example([{"list": {"elements": [{"name": "a"}]}}], "{{ .name }}", "{{ index .y 0 }}", True)
@example([{"list": {"elements": [{"name": "a"}]}}], "{{ .name }}", "{{ printf }}", True)
def test_generation_yields_apps_or_one_condition_never_an_exception(
    generators: list[dict[str, Any]], name: str, path: str, go: bool
) -> None:
    doc = appset_doc(generators, app_template(name=name, path=path, namespace=path), goTemplate=go)
    generated = run(doc, Inputs(clusters=CLUSTERS))
    assert generated.ok or (generated.applications == () and len(generated.conditions) == 1)
    plan(generated, [a.raw for a in generated.applications[:1]])


def test_gotemplate_matrix_and_merge_treat_empty_values_as_mergo_does() -> None:
    first = {"list": {"elements": [{"name": "a", "tags": [], "n": 0, "s": ""}]}}
    second = {"list": {"elements": [{"tags": ["t"], "n": 2, "s": "x"}]}}
    doc = appset_doc(
        [{"matrix": {"generators": [first, second]}}],
        app_template(name="{{ .name }}", path="{{ .tags }}-{{ .n }}-{{ .s }}"),
        goTemplate=True,
    )
    # the first generator wins, except where its value is empty (mergo)
    assert run(doc).applications[0].source.path == "[t]-2-x"
    base = {"list": {"elements": [{"name": "a", "tags": ["t"], "s": "x"}]}}
    empty_override = {"list": {"elements": [{"name": "a", "tags": [], "s": ""}]}}
    doc = appset_doc(
        [{"merge": {"mergeKeys": ["name"], "generators": [base, empty_override]}}],
        app_template(name="{{ .name }}", path="{{ .tags }}-{{ .s }}"),
        goTemplate=True,
    )
    # an empty override value does not erase the base value
    assert run(doc).applications[0].source.path == "[t]-x"
