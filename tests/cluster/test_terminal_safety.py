"""Terminal safety of the real CLI over a real Git repository and the real sandbox cluster.

The repository carries escape sequences where an attacker with commit access
would put them: a manifest file whose *name* holds an OSC 0 title sequence (its
content does not parse, so the name shows in the app's condition), a Helm
chart whose ``fail`` message holds raw ESC bytes, a ConfigMap whose name (from a
YAML ``\\e`` escape) the API server refuses, data values with C0, C1 and bidi
characters and a commit message with escapes (not shown by any command today). Every
text output of ``list``, ``diff``, ``plan``, ``sync`` and ``history``, stdout
and stderr, must hold no control character but newline and show the escaped
form (``\\x1b]0;pwned``) where the data is shown.
"""

from __future__ import annotations

import json
import subprocess
import unicodedata
from pathlib import Path

import pytest
import yaml
from gitrepo import make_repo
from helpers import application, kubectl, run_cli

from gitops_tui.sandbox.toolchain import require_tool

pytestmark = pytest.mark.cluster

REPO_ROOT = Path(__file__).resolve().parents[2]
TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
SHOWN = "\\x1b]0;pwned"


def unsafe(text: str) -> list[str]:
    return sorted(
        {
            f"U+{ord(c):04X}"
            for c in text
            if c != "\n" and unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")
        }
    )


def cli(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # bytes that are not UTF-8 would be output too: keep them to be checked
    return run_cli(args, tmp_path, timeout=240, encoding="utf-8", errors="surrogateescape")


def test_cli_text_output_of_hostile_repository_is_terminal_safe(  # type: ignore[no-untyped-def]
    sandbox, namespace, tmp_path
) -> None:
    require_tool("helm")
    good = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "greeting", "namespace": namespace},
        "data": {"msg": f"hi {TITLE}{CLEAR} \x85next \u202eevil"},
    }
    bad_name = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"x{TITLE}", "namespace": namespace},
        "data": {"a": "1"},
    }
    repo = make_repo(
        tmp_path / "repo",
        {
            f"files/cm{TITLE}{CLEAR}.yaml": "apiVersion: v1\nkind: [unclosed\n",
            "chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
            "chart/templates/cm.yaml": f'{{{{ fail "boom {TITLE}{CLEAR} \x9b6n" }}}}\n',
            # yaml.safe_dump writes the control characters as \e, \a escapes
            "good/cm.yaml": yaml.safe_dump(good, allow_unicode=True),
            "badname/cm.yaml": yaml.safe_dump(bad_name, allow_unicode=True),
        },
        message=f"innocent {TITLE}{CLEAR}\n\nbody \x9b6n",
    )
    url = f"file://{repo.working_tree_dir}"
    apps = [
        application("files", url, "files", namespace),
        application("chart", url, "chart", namespace),
        application("good", url, "good", namespace),
        application("badname", url, "badname", namespace),
    ]
    app_file = tmp_path / "apps.yaml"
    app_file.write_text(yaml.safe_dump_all(apps))
    # the live ConfigMap drifts, so ``diff good`` shows the hostile value on both sides
    live = {**good, "data": {"msg": f"live {TITLE} \x85 \u202e"}}
    kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=json.dumps(live))
    common = ["--apps", str(app_file), "--kubeconfig", str(sandbox.kubeconfig)]

    outputs: dict[str, subprocess.CompletedProcess[str]] = {}
    for name, args in (
        ("list", ["list", *common]),
        ("diff good", ["diff", *common, "good"]),
        ("diff files", ["diff", *common, "files"]),
        ("diff chart", ["diff", *common, "chart"]),
        ("diff badname", ["diff", *common, "badname"]),
        ("plan", ["plan", *common, "good", "files", "chart", "badname"]),
        ("sync badname", ["sync", *common, "badname", "--timeout", "120"]),
        ("history badname", ["history", *common, "badname"]),
        ("sync chart", ["sync", *common, "chart", "--timeout", "60"]),
    ):
        outputs[name] = cli(args, tmp_path)
    for name, result in outputs.items():
        for stream in (result.stdout, result.stderr):
            assert unsafe(stream) == [], f"{name}: {stream!r}"
            assert "\x1b" not in stream and "\x9b" not in stream, name

    listed = outputs["list"]
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert set(rows) == {"files", "chart", "good", "badname"}, listed.stdout
    assert f"files/cm{SHOWN}" in rows["files"], rows["files"]  # the file name
    assert f"boom {SHOWN}" in rows["chart"], rows["chart"]  # Helm's fail message
    # diff of the drifted ConfigMap: the values are YAML-quoted (YAML's own escapes)
    diff = outputs["diff good"]
    assert diff.returncode == 0, diff.stderr
    assert '+  msg: "hi \\e]0;pwned' in diff.stdout, diff.stdout
    # a name the API server refuses: in the diff header or the comparison error, escaped
    badname = outputs["diff badname"]
    assert "x\\x1b]0;pwned" in badname.stdout + badname.stderr, (badname.stdout, badname.stderr)
    assert f"boom {SHOWN}" in outputs["diff chart"].stderr
    assert f"cm{SHOWN}" in outputs["diff files"].stderr
    assert f"boom {SHOWN}" in outputs["plan"].stdout
    # the API server refuses the name; the failure names it, escaped
    synced = outputs["sync badname"]
    assert synced.returncode != 0
    assert "x\\x1b]0;pwned" in synced.stdout + synced.stderr, (synced.stdout, synced.stderr)
    assert outputs["sync chart"].returncode == 2
    assert f"boom {SHOWN}" in outputs["sync chart"].stderr
