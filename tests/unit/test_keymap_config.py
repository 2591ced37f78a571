"""``keymap:`` in config.yaml: binding ids mapped to keys, validated (errors name the id).

That a remap takes effect in the console is ``tests/ui/test_ui_keymap.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_tui.config import CONFIG_FILE, ConfigError, Settings, load_settings
from gitops_tui.keymap import BINDING_IDS, key_name_problem


def load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / CONFIG_FILE
    path.write_text(text)
    return load_settings(path)


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    return str(info.value)


def test_keymap_is_read(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        "keymap:\n  list.sync: ctrl+s\n  app-view.diff: 'd, ctrl+d'\n  app.help: '?'\n"
        "  list.filter:\n",
    )
    assert dict(settings.keymap) == {
        "list.sync": "ctrl+s",
        "app-view.diff": "d,ctrl+d",
        "app.help": "?",
    }


def test_no_keymap_is_empty(tmp_path: Path) -> None:
    assert load(tmp_path, "readOnly: true\n").keymap == ()


def test_unknown_binding_id_is_named_with_a_suggestion(tmp_path: Path) -> None:
    message = error_of(tmp_path, "keymap:\n  list.synk: ctrl+s\n")
    assert f"{tmp_path / CONFIG_FILE}: keymap.list.synk: unknown binding id" in message
    assert "did you mean list.sync?" in message


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ("ctrl+bogus", "'ctrl+bogus' is not a key name"),
        ("hyperctrl+s", "unknown modifier 'hyperctrl'"),
        ("ctrl+", "no key after the modifiers"),
        ("'s,,d'", "an empty key"),
        ("3", "must be a key or comma-separated keys"),
        ("[s, d]", "must be a key or comma-separated keys"),
    ],
)
def test_bad_keys_are_a_config_error_naming_the_id(
    tmp_path: Path, keys: str, expected: str
) -> None:
    message = error_of(tmp_path, f"keymap:\n  app-view.sync: {keys}\n")
    assert message.startswith(f"{tmp_path / CONFIG_FILE}: keymap.app-view.sync: ")
    assert expected in message


def test_keymap_must_be_a_mapping(tmp_path: Path) -> None:
    assert "keymap: must map binding ids to keys" in error_of(tmp_path, "keymap: [list.sync]\n")


@pytest.mark.parametrize(
    "key",
    [
        "s",
        "S",
        "?",
        "ctrl+s",
        "f5",
        "enter",
        "escape",
        "question_mark",
        "slash",
        "minus",
        "space",
        "ctrl+shift+up",
        "pageup",
        "colon",
    ],
)
def test_textual_key_names_are_accepted(key: str) -> None:
    assert key_name_problem(key) is None


def test_the_ids_are_namespaced() -> None:
    assert all("." in binding_id for binding_id in BINDING_IDS)
    assert {"list.sync", "app-view.diff", "app.quit"} <= set(BINDING_IDS)


def test_every_id_is_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "keymap.md").read_text()
    assert [i for i in BINDING_IDS if f"| `{i}` |" not in doc] == []
