"""``gitops-tui health FILE...``: rules from the three sources, output, exit codes; config keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops_tui.cli import main
from gitops_tui.config import ConfigError, load_settings

CERT = """\
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: web-tls, namespace: prod}
status:
  conditions:
  - {type: Ready, status: "False", reason: Failed, message: "issuer not found"}
"""
WIDGET = """\
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1}
status: {ready: true}
"""
WIDGET_LUA = 'if obj.status.ready then return {status = "Healthy", message = "ready"} end\nreturn {status = "Progressing"}\n'


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "objs.yaml").write_text(
        CERT + "---\n" + WIDGET + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
    )
    (tmp_path / "empty.yaml").write_text("")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["health", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_built_in_rules_and_kinds_without_rule(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, str(files / "objs.yaml"), "--config", str(files / "none.yaml"))
    assert code == 0
    assert "Certificate prod/web-tls: Degraded (issuer not found)  [built-in]" in out
    assert "Widget w1: -  [no health check" in out


def test_directory_script_named_as_its_rule(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = files / "checks" / "example.com" / "Widget" / "health.lua"
    script.parent.mkdir(parents=True)
    script.write_text(WIDGET_LUA)
    code, out, _ = run(
        capsys,
        str(files / "objs.yaml"),
        "--health-checks",
        str(files / "checks"),
        "-o",
        "json",
        "--config",
        str(files / "none.yaml"),
    )
    assert code == 0
    rows = {r["kind"]: r for r in json.loads(out)["resources"]}
    assert rows["Widget"]["status"] == "Healthy" and str(script) in rows["Widget"]["rule"]
    assert rows["ConfigMap"]["status"] is None


def test_argocd_cm_file_then_config_file_wins(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (files / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: argocd-cm}\ndata:\n"
        "  resource.customizations.health.cert-manager.io_Certificate: |\n"
        '    return {status = "Suspended", message = "from cm"}\n'
        "  resource.customizations.health.example.com_Widget: |\n"
        '    return {status = "Degraded", message = "from cm"}\n'
    )
    (files / "config.yaml").write_text(
        "resource.customizations.health.example.com_Widget: |\n"
        '  return {status = "Healthy", message = "from config"}\n'
    )
    code, out, _ = run(
        capsys,
        str(files / "objs.yaml"),
        "--argocd-cm",
        str(files / "cm.yaml"),
        "--config",
        str(files / "config.yaml"),
        "-o",
        "json",
    )
    assert code == 0
    rows = {r["kind"]: r for r in json.loads(out)["resources"]}
    assert (rows["Certificate"]["status"], rows["Certificate"]["message"]) == (
        "Suspended",
        "from cm",
    )
    assert (rows["Widget"]["status"], rows["Widget"]["message"]) == ("Healthy", "from config")
    assert "config.yaml" in rows["Widget"]["rule"]


def test_failing_script_exits_2_and_says_why(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (files / "config.yaml").write_text(
        "resource.customizations.health.example.com_Widget: 'while true do end'\n"
    )
    code, out, err = run(capsys, str(files / "objs.yaml"), "--config", str(files / "config.yaml"))
    assert code == 2
    assert "Widget w1: Unknown" in out
    assert "Lua instructions" in err or "longer than" in err


@pytest.mark.parametrize(
    ("content", "words"),
    [("kind: [unclosed", "objs.yaml"), ("- just\n- a list\n", "not a Kubernetes object")],
)
def test_bad_files_exit_2(
    files: Path, capsys: pytest.CaptureFixture[str], content: str, words: str
) -> None:
    (files / "objs.yaml").write_text(content)
    code, _, err = run(capsys, str(files / "objs.yaml"), "--config", str(files / "none.yaml"))
    assert code == 2 and words in err


def test_missing_file_and_directory_exit_2(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(files / "nope.yaml"), "--config", str(files / "none.yaml"))
    assert code == 2 and "nope.yaml" in err
    code, _, err = run(
        capsys,
        str(files / "objs.yaml"),
        "--health-checks",
        str(files / "nodir"),
        "--config",
        str(files / "none.yaml"),
    )
    assert code == 2 and "not a directory" in err


def test_names_from_files_are_made_printable(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (files / "objs.yaml").write_text(
        'apiVersion: v1\nkind: Pod\nmetadata: {name: "evil\\e[2J"}\nstatus: {phase: Running}\n'
    )
    code, out, _ = run(capsys, str(files / "objs.yaml"), "--config", str(files / "none.yaml"))
    assert code == 0 and "\x1b" not in out


# -- the config file's keys -------------------------------------------------------------------


def test_config_accepts_argocd_cm_keys_and_health_dirs(tmp_path: Path) -> None:
    (tmp_path / "checks").mkdir()
    config = tmp_path / "config.yaml"
    config.write_text(
        "argocdNamespace: gitops\nargocdConfigMap: false\nhealthChecks: [checks]\n"
        "resource.customizations.health.example.com_Widget: 'return {status = \"Healthy\"}'\n"
        "resource.customizations.ignoreDifferences.all:\n  jsonPointers: [/status]\n"
    )
    settings = load_settings(config)
    assert settings.argocd_namespace == "gitops" and settings.argocd_config_map is False
    assert settings.health_checks == (tmp_path / "checks",)
    assert settings.customizations.health_for("example.com", "Widget") is not None
    assert settings.customizations.ignore_differences["*"].value["jsonPointers"] == ("/status",)


def test_config_reports_bad_customizations_with_the_file(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "resource.customizations.health.example.com_Widget: 3\nresource.customization: x\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    text = str(caught.value)
    assert "example.com_Widget: a Lua script must be a string" in text
    assert "resource.customization: unknown key" in text


def test_list_rules_names_each_origin(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = files / "checks" / "example.com" / "Widget" / "health.lua"
    script.parent.mkdir(parents=True)
    script.write_text(WIDGET_LUA)
    (files / "config.yaml").write_text(
        "resource.customizations.health.cert-manager.io_Certificate: 'return {}'\n"
        "resource.customizations.ignoreDifferences.all: 'jsonPointers: [/status]'\n"
    )
    code, out, _ = run(
        capsys,
        "--list-rules",
        "--health-checks",
        str(files / "checks"),
        "--config",
        str(files / "config.yaml"),
    )
    assert code == 0
    assert (
        f"health cert-manager.io/Certificate: {files / 'config.yaml'}: resource.customizations.health.cert-manager.io_Certificate"
        in out
    )
    assert f"health example.com/Widget: {script}" in out
    assert "ignoreDifferences *: " in out


def test_inferred_health_is_shown_and_marked(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (files / "objs.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, generation: 1}\n"
        "status: {observedGeneration: 1, conditions: [{type: Stalled, status: 'True', message: stuck}]}\n"
    )
    code, out, _ = run(capsys, str(files / "objs.yaml"), "--config", str(files / "none.yaml"))
    assert code == 0 and "Widget w: Degraded (inferred: stuck)  [inferred]" in out


def test_inferred_health_config_key_reaches_the_engine_options(tmp_path: Path) -> None:
    from gitops_tui.health_cli import health_rule_options

    (tmp_path / "config.yaml").write_text("inferredHealth: true\n")
    options = health_rule_options(load_settings(tmp_path / "config.yaml"))
    assert options["customizations"].inferred_in_app_health is True
