"""The goTemplate subset: Go's printing, fields, index, pipelines, if/else, Sprig functions,
missingkey, and clear errors for what it does not implement."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gitops_tui.engine.app.applicationset.gofuncs import (
    FUNCTIONS,
    TemplateError,
    go_float,
    sanitize_name,
)
from gitops_tui.engine.app.applicationset.gotemplate import Options, parse_options, render

DEFAULT = Options()
STRICT = Options(missing_key_error=True)


def run(text: str, data: Any = None, options: Options = DEFAULT) -> str:
    return render(text, data if data is not None else {}, options)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ .name }}", "guestbook"),
        ("{{.path.basename}}-{{.path.segments}}", "apps-[cluster apps]"),
        ("{{ index .path.segments 1 }}", "apps"),
        ('{{ index .labels "env" }}', "prod"),
        ("{{ .name | upper }}", "GUESTBOOK"),
        ('{{ .name | replace "book" "room" | upper }}', "GUESTROOM"),
        ("{{ upper (lower .mixed) }}", "MIXED"),
        ('{{ default "none" .missing }}', "none"),
        ('{{ .missing | default "none" }}', "none"),
        ('{{ default "none" .name }}', "guestbook"),
        ("{{ trunc 5 .name }}", "guest"),
        ("{{ trunc -4 .name }}", "book"),
        ('{{ normalize "My_App.V2" }}', "my-app.v2"),
        ("{{ toJson .labels }}", '{"env":"prod","team":"a&b"}'.replace("&", "\\u0026")),
        ("{{ .n }} {{ .f }} {{ .big }}", "3 2.5 1e+06"),
        ("{{ .flag }}", "true"),
        ("{{ .list }}", "[a 1]"),
        ("{{ .labels }}", "map[env:prod team:a&b]"),
        ("{{ .missing }}", "<no value>"),
        ("{{ .nothing }}", "<no value>"),
        ('{{ if eq .name "guestbook" }}yes{{ else }}no{{ end }}', "yes"),
        ('{{ if eq .name "x" }}x{{ else if .flag }}flag{{ else }}no{{ end }}', "flag"),
        ("{{ if .missing }}a{{ end }}b", "b"),
        ("{{ if and .flag .name }}both{{ end }}", "both"),
        ("{{ if or .missing .name }}{{ .name }}{{ end }}", "guestbook"),
        ("{{ if not .flag }}a{{ else }}b{{ end }}", "b"),
        ("a  {{- .name -}}  b", "aguestbookb"),
        ("{{/* a comment */}}x", "x"),
        ('{{ printf "%s-%d" .name 3 }}', "guestbook-3"),
        ("{{ len .list }}", "2"),
        ("{{ .name | quote }}", '"guestbook"'),
        ('{{ hasPrefix "guest" .name }}', "true"),
        ('{{ ternary "a" "b" .flag }}', "a"),
        ('{{ join "," (list "a" "b") }}', "a,b"),
        ('{{ get .labels "env" }}', "prod"),
        ("{{ toYaml .labels }}", "env: prod\nteam: a&b"),
        ("no template here {x}", "no template here {x}"),
        ("{{ $.name }}", "guestbook"),
        ("{{ (index .objs 0).name }}", "first"),
    ],
)
def test_renders_like_go(text: str, expected: str) -> None:
    data = {
        "name": "guestbook",
        "mixed": "MiXeD",
        "path": {"basename": "apps", "segments": ["cluster", "apps"]},
        "labels": {"env": "prod", "team": "a&b"},
        "n": 3.0,
        "f": 2.5,
        "big": 1e6,
        "flag": True,
        "list": ["a", 1.0],
        "nothing": None,
        "objs": [{"name": "first"}],
    }
    assert run(text, data) == expected


def test_missingkey_error_names_the_key() -> None:
    with pytest.raises(TemplateError, match=r'map has no entry for key "cluster" \(at \.cluster\)'):
        run("{{ .cluster }}", {"name": "x"}, STRICT)
    # present keys and default still work under missingkey=error
    assert run("{{ .name }}", {"name": "x"}, STRICT) == "x"


def test_field_of_a_string_and_of_nil_are_errors() -> None:
    with pytest.raises(TemplateError, match="can't evaluate field b in type string"):
        run("{{ .a.b }}", {"a": "text"})
    with pytest.raises(TemplateError, match="nil pointer evaluating"):
        run("{{ .a.b.c }}", {})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{{ template "x" }}', r"\{\{template\}\} is not supported"),
        ('{{ define "x" }}a{{ end }}', r"\{\{define\}\} is not supported"),
        ("{{ $x }}", 'undefined variable "\\$x"'),
        ("{{ if .a }}{{ $x := 1 }}{{ end }}{{ $x }}", 'undefined variable "\\$x"'),
        ("{{ $x = 1 }}", 'undefined variable "\\$x"'),
        ("{{ break }}", r"\{\{break\}\} outside \{\{range\}\}"),
        ("{{ range .a }}x{{ end }}", "range can't iterate over x"),
        ("{{ range .l }}{{ else if .a }}{{ end }}", "unsupported"),
        ('{{ env "HOME" }}', 'function "env" not defined'),
        ("{{ .a ", "unclosed action"),
        ("{{ if .a }}x", r"unclosed \{\{if\}\}"),
        ("{{ end }}", r"\{\{end\}\} without \{\{if\}\}"),
        ("{{ .a .b }}", "can't give argument to non-function"),
        ("{{ index .l 5 }}", "index out of range: 5"),
        ("{{ lower .n }}", "expected string"),
        ('{{ fail "stop here" }}', "stop here"),
        ('{{ required "need x" .missing }}', "need x"),
        ('{{ eq .n "3" }}', "incompatible types for comparison"),
    ],
)
def test_unsupported_and_wrong_templates_are_clear_errors(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        run(text, {"a": "x", "l": [1], "n": 3.0})


def test_output_repeat_and_work_are_bounded() -> None:
    with pytest.raises(TemplateError, match="longer than"):
        run('{{ repeat 100000000 "ab" }}')
    with pytest.raises(TemplateError, match="output larger than"):
        run(
            "{{ range .l }}{{ range $.l }}{{ $.s }}{{ end }}{{ end }}",
            {"l": list(range(100)), "s": "x" * 200},
        )
    with pytest.raises(TemplateError, match="more than 1000000 steps"):
        run("{{ range .l }}{{ range $.l }}{{ end }}{{ end }}", {"l": list(range(2000))})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ range .files }}[{{ . }}]{{ end }}", "[a.yaml][b.yaml]"),
        ("{{ range $f := .files }}{{ $f }};{{ end }}", "a.yaml;b.yaml;"),
        ("{{ range $i, $f := .files }}{{ $i }}={{ $f }} {{ end }}", "0=a.yaml 1=b.yaml "),
        ("{{ range $k, $v := .labels }}{{ $k }}:{{ $v }},{{ end }}", "a:1,b:2,"),
        ("{{ range .none }}x{{ else }}empty{{ end }}", "empty"),
        ("{{ range .missing }}x{{ end }}ok", "ok"),
        ('{{ range .files }}{{ if eq . "b.yaml" }}{{ break }}{{ end }}{{ . }}{{ end }}', "a.yaml"),
        (
            '{{ range .files }}{{ if eq . "a.yaml" }}{{ continue }}{{ end }}{{ . }}{{ end }}',
            "b.yaml",
        ),
        ("{{ range .objs }}{{ .name }}@{{ $.cluster }} {{ end }}", "x@c1 y@c1 "),
        ("{{ with .cluster }}in {{ . }}{{ end }}", "in c1"),
        ("{{ with .missing }}x{{ else }}none{{ end }}", "none"),
        ("{{ with .missing }}x{{ else with .cluster }}{{ . }}{{ end }}", "c1"),
        ("{{ $n := .cluster | upper }}{{ $n }}-{{ $n | lower }}", "C1-c1"),
        ("{{ $n := 1 }}{{ if true }}{{ $n = 2 }}{{ end }}{{ $n }}", "2"),
        ("{{ range .objs }}{{ $o := . }}{{ $o.name }}{{ end }}", "xy"),
        ("{{ range 3 }}{{ . }}{{ end }}", "012"),
    ],
)
def test_range_with_and_variables(text: str, expected: str) -> None:
    data = {
        "files": ["a.yaml", "b.yaml"],
        "labels": {"b": "2", "a": "1"},
        "none": [],
        "objs": [{"name": "x"}, {"name": "y"}],
        "cluster": "c1",
    }
    assert run(text, data) == expected


def test_go_options() -> None:
    assert parse_options(["missingkey=error"]).missing_key_error
    assert not parse_options(["missingkey=default"]).missing_key_error
    assert not parse_options([]).missing_key_error
    with pytest.raises(TemplateError, match="unsupported option 'delims=<<'"):
        parse_options(["delims=<<"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.0, "0"), (1.0, "1"), (123456.0, "123456"), (1e6, "1e+06"), (1234567.0, "1.234567e+06"),
     (0.0001, "0.0001"), (0.00001, "1e-05"), (-2.5, "-2.5"), (1e21, "1e+21")],
)  # fmt: skip
def test_floats_print_as_go_prints_them(value: float, expected: str) -> None:
    assert go_float(value) == expected


def test_sanitize_name_matches_argo_cd() -> None:
    assert sanitize_name("Feature/ABC_123.") == "feature-abc-123"
    assert sanitize_name("--a--") == "a"
    assert len(sanitize_name("a" * 300)) == 253


_WORDS = [
    "{{", "}}", "{{-", "-}}", " ", ".", ".a", ".l", ".m", ".nil", "$", "$x", "$i", ":=", "=", ",",
    "(", ")", "|", '"s"', '"%d %s %q"', "`r`", "1", "-3", "2.5", "true", "nil", "if", "else",
    "end", "range", "with", "break", "continue", "template", "/*", "*/", "\n", "and", "or",
    *sorted(FUNCTIONS),
]  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(_WORDS), max_size=12))
@example(["{{", "printf", "}}"])  # found by this property: a missing argument was a TypeError
@example(["{{", "trunc", '"s"', '"s"', "}}"])
def test_any_template_text_fails_only_with_a_template_error(parts: list[str]) -> None:
    data = {"a": "str", "l": [1.0, "x", None, {"k": "v"}], "m": {"k": [1.0]}, "nil": None}
    for text in ("".join(parts), "{{ " + " ".join(parts) + " }}"):
        for options in (DEFAULT, STRICT):
            with contextlib.suppress(TemplateError):
                assert isinstance(render(text, data, options), str)


def test_a_wrong_argument_count_names_the_function() -> None:
    with pytest.raises(TemplateError, match="wrong number of args for printf: got 0"):
        run("{{ printf }}")
    with pytest.raises(TemplateError, match="wrong number of args for upper: got 2"):
        run('{{ upper "a" "b" }}')
