"""Credentials never survive redaction of URLs and git error text."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gitops_tui.engine.redact import redact_text, redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:tok@host/x", "https://***@host/x"),
        ("https://ghp_abcdefabcdef@github.com/org/repo.git", "https://***@github.com/org/repo.git"),
        ("http://admin:p%40ss@git.local:8080/r", "http://***@git.local:8080/r"),
        ("https://user:p@ss@host/x", "https://***@host/x"),
        ("ssh://user:secret@host:22/org/repo", "ssh://***@host:22/org/repo"),
        ("ssh://git@github.com/org/repo.git", "ssh://git@github.com/org/repo.git"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("https://github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("file:///srv/git/repo", "file:///srv/git/repo"),
        ("/srv/git/repo", "/srv/git/repo"),
        (
            "https://host/x?private_token=abc123&ref=main",
            "https://host/x?private_token=***&ref=main",
        ),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redact_text_finds_urls_inside_git_errors() -> None:
    message = (
        "Cmd('git') failed due to: exit code(128)\n"
        "  stderr: 'fatal: unable to access 'https://bot:hunter2secret@git.example.com/org/app.git/': "
        "The requested URL returned error: 403'\n"
        "  remote: also tried https://x-access-token:ghs_tokentokentoken@github.com/org/app"
    )
    redacted = redact_text(message)
    assert "hunter2secret" not in redacted
    assert "ghs_tokentokentoken" not in redacted
    assert "'https://***@git.example.com/org/app.git/'" in redacted
    assert "https://***@github.com/org/app" in redacted
    assert "exit code(128)" in redacted


def test_redact_text_keeps_emails_and_scp_addresses() -> None:
    text = "Author: dev@example.com pushed to git@github.com:org/repo.git"
    assert redact_text(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9"),
        (
            "-c http.extraheader=AUTHORIZATION: basic " + base64.b64encode(b"u:pw").decode(),
            "dTpwdw",
        ),
        ("Authorization: token ghp_0123456789abcdefghij0123", "ghp_0123456789abcdefghij0123"),
        ("got 401 with header bearer abcdef0123456789", "abcdef0123456789"),
        ("retrying with Basic " + base64.b64encode(b"robot:s3cr3t").decode(), "cm9ib3Q6czNjcjN0"),
        ("token glpat-abcdefghijklmnopqrstu leaked", "glpat-abcdefghijklmnopqrstu"),
    ],
)
def test_redact_text_hides_authorization_credentials_and_known_tokens(
    text: str, secret: str
) -> None:
    redacted = redact_text(text)
    assert secret not in redacted
    assert "***" in redacted


def test_redact_text_keeps_the_auth_scheme_name() -> None:
    assert redact_text("Authorization: Bearer abcdefgh12345678") == "Authorization: Bearer ***"


def test_redact_text_leaves_prose_about_basic_auth_alone() -> None:
    text = "remote: HTTP Basic: Access denied; check basic authentication settings"
    assert redact_text(text) == text


PASSWORDS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=6, max_size=40
)
USERS = st.from_regex(r"[A-Za-z0-9._-]{1,12}", fullmatch=True)
TEMPLATE = "fatal: unable to access '{scheme}://{cred}@git.example.com/org/repo.git/': 403"


@given(user=USERS, password=PASSWORDS, scheme=st.sampled_from(["https", "http", "ssh"]))
def test_no_encoded_password_survives(user: str, password: str, scheme: str) -> None:
    encoded = quote(password, safe="")
    text = TEMPLATE.format(scheme=scheme, cred=f"{quote(user, safe='')}:{encoded}")
    redacted = redact_text(text)
    assume(password not in TEMPLATE.format(scheme=scheme, cred="***"))
    assume(encoded not in TEMPLATE.format(scheme=scheme, cred="***"))
    assert password not in redacted
    assert encoded not in redacted
    assert redacted == TEMPLATE.format(scheme=scheme, cred="***")


@given(
    password=st.text(
        alphabet=st.characters(
            codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), exclude_characters="/"
        ),
        min_size=6,
        max_size=40,
    )
)
def test_no_raw_password_survives_even_unescaped(password: str) -> None:
    assume(not any(ch.isspace() for ch in password))
    text = TEMPLATE.format(scheme="https", cred=f"robot:{password}")
    assume(password not in TEMPLATE.format(scheme="https", cred="***"))
    assert password not in redact_text(text)
    assert password not in redact_url(f"https://robot:{password}@host/x")


def test_credentials_without_a_scheme_as_git_prints_them() -> None:
    assert redact_text("unable to look up user:s3cret@127.0.0.1 (port 9418)") == (
        "unable to look up ***@127.0.0.1 (port 9418)"
    )
    assert redact_text("git@github.com:org/repo.git") == "git@github.com:org/repo.git"
    assert redact_text("image nginx:1.27@sha256:0123abcd") == "image nginx:1.27@sha256:0123abcd"


# --------------------------------------------------------------------------- "/" in a password


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:abc/def@host/repo", "https://***@host/repo"),
        ("https://user:a/b/c@host:8443/org/repo.git", "https://***@host:8443/org/repo.git"),
        ("https://user:p/@ss@host/x", "https://***@host/x"),
        ("http://:only/slash@git.local/r", "http://***@git.local/r"),
        # no credentials: left alone, including an "@" after a port and in a digest
        ("https://host:8443/org/repo.git", "https://host:8443/org/repo.git"),
        ("https://registry:5000/app@sha256:0123abcd", "https://registry:5000/app@sha256:0123abcd"),
        ("https://github.com/org/repo", "https://github.com/org/repo"),
    ],
)
def test_redact_url_with_a_slash_in_the_password(url: str, expected: str) -> None:
    assert redact_url(url) == expected
    assert redact_text(f"fatal: unable to access '{url}': 403") == (
        f"fatal: unable to access '{expected}': 403"
    )


_NO_SPACE = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
    min_size=3,
    max_size=20,
)


@given(head=_NO_SPACE, tail=_NO_SPACE)
def test_no_raw_password_with_a_slash_survives(head: str, tail: str) -> None:
    password = f"{head}/{tail}"
    assume(not any(ch.isspace() for ch in password))
    text = TEMPLATE.format(scheme="https", cred=f"robot:{password}")
    assume(password not in TEMPLATE.format(scheme="https", cred="***"))
    assert password not in redact_text(text)
    assert password not in redact_url(f"https://robot:{password}@host/x")
