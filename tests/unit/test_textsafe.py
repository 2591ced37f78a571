"""The one sanitizer for strings of outside origin (``gitops_tui.engine.textsafe.printable``)."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitops_tui.engine.textsafe import _UNSAFE, printable

REPLACED = ("Cc", "Cf", "Cs", "Zl", "Zp")


def test_every_control_format_and_separator_code_point_is_replaced() -> None:
    """The hand-written class covers the categories for every code point of this Python's
    Unicode, and only adds code points it does not assign yet (newer Unicode's format chars)."""
    missing, extra = [], []
    for code in range(0x110000):
        char = chr(code)
        category = unicodedata.category(char)
        matched = _UNSAFE.match(char) is not None
        if category in REPLACED and not matched:
            missing.append(f"U+{code:04X} {category}")
        elif matched and category not in REPLACED and category != "Cn":
            extra.append(f"U+{code:04X} {category}")
    assert missing == []
    assert extra == []


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("web\x1b]0;pwned\x07", "web\\x1b]0;pwned\\x07"),
        ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),
        ("a\x9b31mb", "a\\x9b31mb"),
        ("evil\u202etxt.yaml", "evil\\u202etxt.yaml"),
        ("line\rover", "line\\rover"),
        ("two\nlines", "two\\nlines"),
        ("tab\there", "tab\\there"),
        ("del\x7f bs\x08 nul\x00", "del\\x7f bs\\x08 nul\\x00"),
        ("bad byte \udc9b", "bad byte \\udc9b"),
        ("zero\u200bwidth \u2028sep", "zero\\u200bwidth \\u2028sep"),
        ("tag \U000e0041", "tag \\U000e0041"),
        ("plain [bold red]x[/] é ✓ 日本", "plain [bold red]x[/] é ✓ 日本"),
    ],
)
def test_one_line_text_shows_escapes(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_multiline_keeps_newlines_and_expands_tabs() -> None:
    text = "a:\tb\n+ c\x1b[2J\r\n- \x9bd"
    assert printable(text, multiline=True) == "a:      b\n+ c\\x1b[2J\\r\n- \\x9bd"


def test_clean_text_is_returned_as_is() -> None:
    text = "guestbook-ui ✓ Synced"
    assert printable(text) is text
    assert printable(text, multiline=True) is text


@given(st.text(), st.booleans())
def test_output_holds_no_unsafe_code_point_and_is_idempotent(text: str, multiline: bool) -> None:
    out = printable(text, multiline=multiline)
    allowed = {"\n"} if multiline else set()
    assert all(unicodedata.category(c) not in REPLACED or c in allowed for c in out), ascii(out)
    assert "\t" not in out
    assert printable(out, multiline=multiline) == out
    if not multiline:
        assert "\n" not in out


@given(st.text())
def test_json_output_is_exact_and_pure_ascii(text: str) -> None:
    """``--output json`` stays exact: ``json.dumps`` escapes every control (and, with
    the default ``ensure_ascii``, every non-ASCII code point), and loads back unchanged."""
    dumped = json.dumps({"name": text, "message": [text]}, indent=2)
    assert dumped.isascii()
    assert all(c == "\n" or " " <= c <= "~" for c in dumped)
    assert json.loads(dumped) == {"name": text, "message": [text]}
