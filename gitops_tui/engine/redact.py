"""Remove credentials from URLs and free text (git errors, logs) before showing them.

Redaction errs on the side of hiding too much: the user part of an
``https://`` URL may be a token, so it goes too. Only the user of an
``ssh://`` URL without a password (``ssh://git@host/x``) and scp-like
addresses (``git@host:org/repo``) are kept, since SSH authenticates with keys.
"""

from __future__ import annotations

import base64
import binascii
import re

REDACTED = "***"

_SSH_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git"})

# scheme://userinfo@ ; the user info runs to the last "@" before a "/" or
# whitespace, so an unescaped "@" inside a password is still covered. Once a
# ":" comes before any "/" ("user:pass..."), the password may hold unescaped
# "/" too: it then runs to the last "@" before whitespace (more may be hidden
# than needed, never less). An "@sha256:" digest is no end of credentials.
_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://"
    r"(?P<userinfo>[^\s/@:]*:[^\s]*|[^\s/]*)@(?!sha\d+:)"
)

# user:password@host without a scheme, as git prints it ("unable to look up
# user:pw@host"); needs both a ":" before the "@" and a host name after it, so
# scp-like "git@github.com:org/repo" (no password) is left alone.
_BARE_CREDENTIALS = re.compile(
    r"(?<![\w/:@])(?P<user>[A-Za-z0-9._~%+-]+):(?P<password>[^\s@/]+)@(?!sha\d+:)(?=[A-Za-z0-9][A-Za-z0-9.-]*)"
)

_AUTHORIZATION_HEADER = re.compile(
    r"(?P<name>\b(?:proxy-)?authorization\s*[:=]\s*)"
    r"(?:(?P<scheme>bearer|basic|token|digest|negotiate)\s+)?"
    r"(?P<credential>[^\s\"',;]+)",
    re.IGNORECASE,
)
_BEARER_TOKEN = re.compile(
    r"(?P<scheme>\bbearer\s+)(?P<token>[A-Za-z0-9._~+/=-]{8,})", re.IGNORECASE
)
_BASIC_CREDENTIAL = re.compile(
    r"(?P<scheme>\bbasic\s+)(?P<token>[A-Za-z0-9+/]{4,}={0,2})", re.IGNORECASE
)
_KNOWN_TOKENS = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,})"
)
_QUERY_SECRETS = re.compile(
    r"(?P<name>[?&](?:access_token|private_token|token|password|passwd|secret)=)(?P<value>[^&\s#]+)",
    re.IGNORECASE,
)


def redact_url(url: str) -> str:
    """``https://user:tok@host/x`` -> ``https://***@host/x``; other URLs unchanged."""
    return _QUERY_SECRETS.sub(_redact_query_value, _URL_CREDENTIALS.sub(_redact_userinfo, url))


def redact_text(text: str) -> str:
    """Redact URL credentials, Authorization headers and well-known token shapes in ``text``."""
    text = _URL_CREDENTIALS.sub(_redact_userinfo, text)
    text = _BARE_CREDENTIALS.sub(REDACTED + "@", text)
    text = _QUERY_SECRETS.sub(_redact_query_value, text)
    text = _AUTHORIZATION_HEADER.sub(_redact_header, text)
    text = _BEARER_TOKEN.sub(lambda m: m["scheme"] + REDACTED, text)
    text = _BASIC_CREDENTIAL.sub(_redact_basic, text)
    return _KNOWN_TOKENS.sub(REDACTED, text)


def url_userinfo(url: str) -> str:
    """The credentials part of ``url`` (``user:password``), as redaction finds it; or ``""``."""
    match = _URL_CREDENTIALS.match(url.strip())
    return match["userinfo"] if match else ""


def _redact_userinfo(match: re.Match[str]) -> str:
    scheme, userinfo = match["scheme"], match["userinfo"]
    if scheme.lower() in _SSH_SCHEMES and ":" not in userinfo:
        return match[0]
    return f"{scheme}://{REDACTED}@"


def _redact_query_value(match: re.Match[str]) -> str:
    return match["name"] + REDACTED


def _redact_header(match: re.Match[str]) -> str:
    scheme = f"{match['scheme']} " if match["scheme"] else ""
    return f"{match['name']}{scheme}{REDACTED}"


def _redact_basic(match: re.Match[str]) -> str:
    """Only a real ``user:password`` base64 pair: "basic authentication" is prose."""
    if _is_basic_pair(match["token"]):
        return match["scheme"] + REDACTED
    return match[0]


def _is_basic_pair(token: str) -> bool:
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded
