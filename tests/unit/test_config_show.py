"""``gitops-tui config show``: every customization of every source with its origin, later
sources overriding earlier ones; outside values made printable; exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from gitops_tui.cli import main

HOSTILE = "\x1b]52;c;ZXZpbA==\x07\u202e"


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    (tmp_path / "config.yaml").write_text(
        yaml.safe_dump(
            {
                "resource.customizations.health.ConfigMap": 'return {status = "Healthy"}\n',
                "resource.exclusions": "- apiGroups: ['*.example.com']\n  kinds: ['*']\n",
                "resource.customizations.knownTypeFields.argoproj.io_Rollout": (
                    "- field: spec.template.spec\n  type: core/v1/PodSpec\n"
                ),
            }
        )
    )
    checks = tmp_path / "checks" / "ConfigMap"
    checks.mkdir(parents=True)
    (checks / "health.lua").write_text('return {status = "Progressing"}\n')
    (tmp_path / "argocd-cm.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "argocd-cm"},
                "data": {
                    "resource.customizations.health.ConfigMap": f"-- {HOSTILE}\nreturn {{}}\n",
                    f"resource.customizations.health.example.com_W{HOSTILE}": "return {}\n",
                    "resource.customizations.ignoreDifferences.all": "jsonPointers: [/spec/replicas]\n",
                    "resource.exclusions": "- kinds: [Secret]\n",
                    "resource.inclusions": "- apiGroups: ['*']\n  clusters: ['https://prod.*']\n",
                },
            }
        )
    )
    return tmp_path


def show(capsys: pytest.CaptureFixture[str], tmp: Path, *args: str) -> tuple[int, str, str]:
    code = main(
        [
            "config",
            "show",
            "--config",
            str(tmp / "config.yaml"),
            "--argocd-cm",
            str(tmp / "argocd-cm.yaml"),
            "--health-checks",
            str(tmp / "checks"),
            *args,
        ]
    )
    out, err = capsys.readouterr()
    return code, out, err


def test_text_names_every_origin_and_what_overrides_what(
    capsys: pytest.CaptureFixture[str], sources: Path
) -> None:
    code, out, err = show(capsys, sources)
    assert code == 0, err
    lines = out.splitlines()
    script = str(sources / "checks" / "ConfigMap" / "health.lua")
    cm_origin = f"argocd-cm file {sources / 'argocd-cm.yaml'}"
    config = str(sources / "config.yaml")
    assert (
        f"health ConfigMap: Lua, 2 lines  [{cm_origin}: resource.customizations.health.ConfigMap]"
        f" (overridden by {script})"
    ) in lines
    assert (
        f"health ConfigMap: Lua, 1 lines  [{config}: resource.customizations.health.ConfigMap]"
        f" (overridden by {script})"
    ) in lines
    assert f"health ConfigMap: Lua, 1 lines, open libraries  [{script}] (in force)" in lines
    assert any(
        line.startswith("ignoreDifferences *: jsonPointers: /spec/replicas") for line in lines
    )
    assert any(
        line.startswith("knownTypeFields argoproj.io/Rollout: spec.template.spec=core/v1/PodSpec")
        and line.endswith("(in force)")
        for line in lines
    )
    assert (
        f"exclusions *: kinds='Secret'  [{cm_origin}: resource.exclusions]"
        f" (overridden by {config}: resource.exclusions)"
    ) in lines
    assert any(
        line.startswith("inclusions *: apiGroups='*' clusters='https://prod.*'") for line in lines
    )
    assert any("Argo CD's core exclusions (always in force)" in line for line in lines)
    # a key of outside origin is shown, made printable
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert any(line.startswith("health example.com/W") for line in lines)


def test_json_holds_values_with_every_outside_character_escaped(
    capsys: pytest.CaptureFixture[str], sources: Path
) -> None:
    code, out, _err = show(capsys, sources, "-o", "json")
    assert code == 0
    assert out.isascii()
    payload = json.loads(out)
    assert payload["sources"] == ["argocd-cm", "config", "healthChecks"]
    assert payload["problems"] == []
    rows = payload["customizations"]
    health = [r for r in rows if r["category"] == "health" and r["target"] == "ConfigMap"]
    assert [r["source"] for r in health] == ["argocd-cm", "config", "healthChecks"]
    assert [r["inForce"] for r in health] == [False, False, True]
    assert health[0]["overriddenBy"] == str(sources / "checks" / "ConfigMap" / "health.lua")
    assert HOSTILE in health[0]["value"]["script"]  # exact, once decoded
    exclusions = [r for r in rows if r["category"] == "exclusions"]
    assert [(r["source"], r["inForce"]) for r in exclusions] == [
        ("argocd-cm", False),
        ("config", True),
        ("built-in", True),
    ]
    assert exclusions[1]["value"] == [{"apiGroups": ["*.example.com"], "kinds": ["*"]}]


def test_an_invalid_customization_exits_2_naming_source_and_key(
    capsys: pytest.CaptureFixture[str], sources: Path
) -> None:
    doc = yaml.safe_load((sources / "argocd-cm.yaml").read_text())
    doc["data"]["resource.exclusions"] = "- apiGroups: ['{broken']\n"
    (sources / "argocd-cm.yaml").write_text(yaml.safe_dump(doc))
    code, out, err = show(capsys, sources)
    assert code == 2
    assert "resource.exclusions[0].apiGroups: '{broken' is not a valid glob" in err
    assert "health ConfigMap" in out  # the rest is still shown


def test_an_unreadable_argocd_cm_file_exits_2(
    capsys: pytest.CaptureFixture[str], sources: Path
) -> None:
    (sources / "argocd-cm.yaml").unlink()
    code, _out, err = show(capsys, sources)
    assert code == 2 and "argocd-cm.yaml" in err
