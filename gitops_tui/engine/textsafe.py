"""Strings of outside origin made safe for a terminal: the one sanitizer of gitops-tui.

Names, messages, conditions, diffs and errors come from Git repositories and
clusters, which are not trusted. Written raw, an ESC in any of them is a
terminal control sequence: ``ESC ] 0 ; title BEL`` retitles the window,
``ESC [ 2 J`` clears the screen, ``ESC ] 8`` plants links, C1 ``0x9b`` is a
one-byte CSI on some terminals, ``\\r`` / backspace overwrite what was printed
and bidi overrides (U+202E) reorder what is read.

:func:`printable` replaces every such code point by its visible Python escape
(``\\x1b``, ``\\x9b``, ``\\u202e``, ``\\udc9b``...), so the text still shows what
the data held and nothing reaches the terminal as a control. Replaced are the
Unicode categories Cc (C0, DEL, C1), Cf (format: bidi controls, zero-width
characters, BOM...), Cs (lone surrogates, as ``surrogateescape`` decoding of
undecodable bytes leaves them) and Zl/Zp (line and paragraph separators).
Newline is kept only where a multi-line text is rendered on purpose
(``multiline=True``: diff bodies, tool output in error messages); a tab is
written ``\\t`` in one-line text and expanded to spaces in multi-line text.

The function is idempotent (its output contains no replaced code point), costs
one regex search for the common clean string, and has no dependencies, so the
headless commands and the console (``gitops_tui.ui.safe``) both use it.
Markup is a separate matter: the console never hands these strings to a markup
parser (``gitops_tui.ui.safe`` turns them into plain ``rich.text.Text``).
"""

from __future__ import annotations

import logging
import re

TAB_SIZE = 8

# Every code point of the categories Cc, Cf, Cs, Zl and Zp (Unicode 15.1, a superset of
# older versions but for a few unassigned ones; checked
# against ``unicodedata`` for every code point by tests/unit/test_textsafe.py).
_OTHER_UNSAFE = (
    "\x7f-\x9f"  # Cc: DEL, C1
    "\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    "\ud800-\udfff"  # Cs: lone surrogates
)
_UNSAFE = re.compile(f"[\x00-\x1f{_OTHER_UNSAFE}]")  # with Cc C0
_UNSAFE_MULTILINE = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHER_UNSAFE}]")  # C0 but \t and \n


def _escape(char: str) -> str:
    code = ord(char)
    if code == 0x09:
        return "\\t"
    if code == 0x0A:
        return "\\n"
    if code == 0x0D:
        return "\\r"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _replace(match: re.Match[str]) -> str:
    return _escape(match.group())


def printable(text: str, *, multiline: bool = False) -> str:
    """``text`` with every control, format and separator code point shown as its escape.

    ``multiline``: keep ``\\n`` (and expand tabs) for text rendered over several
    lines on purpose; otherwise the result is always one line.
    """
    if not multiline:
        if _UNSAFE.search(text) is None:
            return text
        return _UNSAFE.sub(_replace, text)
    if "\t" in text:
        text = text.expandtabs(TAB_SIZE)
    if _UNSAFE_MULTILINE.search(text) is None:
        return text
    return _UNSAFE_MULTILINE.sub(_replace, text)


class PrintableFormatter(logging.Formatter):
    """A log formatter whose records are made printable: log messages quote names,
    paths and tool output of outside origin, and the handler writes to a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), multiline=True)
