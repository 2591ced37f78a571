"""Copy to the local clipboard, over SSH too: OSC 52 (the terminal sets its clipboard).

``y`` copies what is selected (an app's name; in the app view a resource's name, or
the diff when the diff viewer has the focus). Some terminals refuse OSC 52 (or a
multiplexer drops it): ``:clipboard off`` then shows the text in a notice instead,
``:clipboard on`` turns OSC 52 back on. The text is made printable first (it comes
from Git and the cluster: no control sequence reaches the clipboard) and bounded
(terminals drop longer OSC 52 payloads).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitops_tui.engine.textsafe import printable

if TYPE_CHECKING:
    from gitops_tui.ui.app import GitOpsApp

MAX_COPY_BYTES = 74_000
"""Above this, the copy is refused with a message (xterm's limit for OSC 52 is near)."""

SHOWN_WHEN_OFF = 400
"""With OSC 52 off, the notice shows this many characters of the text."""


def copy_text(app: GitOpsApp, text: str, what: str) -> bool:
    """Copy ``text`` (described as ``what`` in the notice); False when nothing was sent."""
    text = printable(text, multiline=True)
    if not app.osc52:
        shown = text if len(text) <= SHOWN_WHEN_OFF else text[:SHOWN_WHEN_OFF] + "…"
        app.notify(f"{what} (clipboard off, :clipboard on):\n{shown}", timeout=15)
        return False
    size = len(text.encode("utf-8"))
    if size > MAX_COPY_BYTES:
        app.notify(
            f"Not copied: {what} is {size} bytes, more than the {MAX_COPY_BYTES} a terminal "
            "takes over OSC 52.",
            severity="warning",
        )
        return False
    app.copy_to_clipboard(text)
    app.notify(f"Copied {what} ({size} bytes).", timeout=4)
    return True


def set_clipboard(app: GitOpsApp, argument: str) -> None:
    """``:clipboard on|off`` (no argument: say which)."""
    word = argument.strip().lower()
    if word in ("on", "off"):
        app.osc52 = word == "on"
    elif word:
        app.notify(f":clipboard takes on or off, not {word!r}.", severity="error")
        return
    state = "on (OSC 52)" if app.osc52 else "off (copies are shown in a notice)"
    app.notify(f"Clipboard: {state}")
