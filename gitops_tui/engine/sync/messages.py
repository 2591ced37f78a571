"""The messages a sync run shows: from server and ``kubectl`` errors, never object content.

Server-side apply type errors print the offending value, ``kubectl apply`` may echo
the patch or the object, and validation errors quote field values: these are cut
out (for Secrets even the quoted values), secrets are redacted, and every message
is bounded (``MAX_MESSAGE``).
"""

from __future__ import annotations

import re

from gitops_tui.engine.cache.cluster import UnknownKindError
from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.redact import redact_text
from gitops_tui.engine.sync.takeover import conflict_message

MAX_MESSAGE = 1500

_VALUE_ECHO = re.compile(r"got &value\.[^\n]*")
_INVALID_VALUE = re.compile(r'Invalid value: "(?:[^"\\]|\\.)*"')


def truncate(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "..."


def safe_message(text: str, key: ResourceKey | None = None) -> str:
    """A server or tool message with anything that may echo object content removed.

    Server-side apply type errors print the offending value
    (``got &value.valueUnstructured{Value:...}``); for Secrets even field values
    named in validation errors are hidden.
    """
    text = _VALUE_ECHO.sub("got a value of the wrong type", text)
    if key is not None and key.group == "" and key.kind == "Secret":
        text = _INVALID_VALUE.sub('Invalid value: "***"', text)
    return truncate(redact_text(text))


def api_error(exc: KubeApiError, key: ResourceKey) -> str:
    """The user's message for an API error on ``key`` (a conflict names the other manager)."""
    conflict = conflict_message(exc)
    if conflict is not None:
        return conflict
    if isinstance(exc, UnknownKindError):
        return exc.message
    text = f"{exc.reason}: {exc.message}" if exc.reason else exc.message
    return safe_message(text, key)


def kubectl_error(stderr: str, key: ResourceKey) -> str:
    """The reason from ``kubectl apply``'s stderr, without the patch/object it may echo."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return "kubectl apply failed"
    text = stderr
    if "error when applying patch" in stderr or "for: " in stderr:
        marker = stderr.rfind('for: "STDIN":')
        text = stderr[marker + len('for: "STDIN":') :] if marker >= 0 else lines[-1]
    else:
        # keep the lines that look like messages, drop any that look like object content
        kept = [line for line in lines if not line.startswith(("{", '"', "}", "data:"))]
        text = "\n".join(kept) if kept else lines[-1]
    return safe_message(text, key)
