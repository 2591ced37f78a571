"""Where the Argo CD API server is and which token to show it (``--argocd-server``).

The token comes from, in order: ``--auth-token``, the ``ARGOCD_AUTH_TOKEN``
environment variable, then the argocd CLI's own config file, so an operator who
ran ``argocd login`` needs nothing else. That file is YAML (``util/localconfig``
in Argo CD v3.2)::

    current-context: argocd.example.com
    contexts:
    - {name: argocd.example.com, server: argocd.example.com, user: argocd.example.com}
    servers:
    - {server: argocd.example.com, plain-text: false, insecure: false, grpc-web: false}
    users:
    - {name: argocd.example.com, auth-token: eyJ..., refresh-token: ...}

and lives in ``$ARGOCD_CONFIG_DIR/config``, else ``~/.argocd/config`` when
``~/.argocd`` exists (the legacy place), else ``$XDG_CONFIG_HOME/argocd/config``
or ``~/.config/argocd/config`` (``DefaultConfigDir``). The context whose server
is the one asked for is used (the current context first); its server entry also
supplies ``plain-text``/``insecure``/``grpc-web`` when the command line did not
set them. The token is a credential: it is never part of a message or a repr.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gitops_tui.engine.errors import GitOpsError

ENV_TOKEN = "ARGOCD_AUTH_TOKEN"
ENV_CONFIG_DIR = "ARGOCD_CONFIG_DIR"
MAX_CONFIG_BYTES = 1 << 20
_SERVER = re.compile(r"^[A-Za-z0-9._\-\[\]:]+(/[A-Za-z0-9._\-/]*)?$")


class ServerConfigError(GitOpsError, ValueError):
    """``--argocd-server`` or the argocd CLI config cannot be used; the message says why."""

    title = "Argo CD server"


@dataclass(frozen=True)
class ServerTarget:
    """One Argo CD API server: address, transport, token (never shown)."""

    server: str  # HOST[:PORT], as the argocd CLI spells it
    plaintext: bool = False
    insecure: bool = False
    grpc_web: bool = False
    token: str = field(default="", repr=False)
    token_source: str = "none"  # where the token came from, for messages

    @property
    def base_url(self) -> str:
        scheme = "http" if self.plaintext else "https"
        return f"{scheme}://{self.server}"


def validate_server(value: str) -> str:
    """``HOST[:PORT]`` (an URL's scheme is dropped: the transport is ``--plaintext``)."""
    server = value.strip()
    for prefix in ("https://", "http://"):
        if server.startswith(prefix):
            server = server[len(prefix) :]
    server = server.rstrip("/")
    if not server or len(server) > 300 or not _SERVER.match(server) or "@" in server:
        raise ServerConfigError(
            f"--argocd-server: {value[:80]!r} is not HOST[:PORT] (letters, digits, '.', '-', ':')"
        )
    return server


def config_dir(env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    """The argocd CLI's config directory, found as ``localconfig.DefaultConfigDir`` does."""
    env = os.environ if env is None else env
    if env.get(ENV_CONFIG_DIR):
        return Path(env[ENV_CONFIG_DIR])
    home = home or Path.home()
    legacy = home / ".argocd"
    if legacy.exists():
        return legacy
    if env.get("XDG_CONFIG_HOME"):
        return Path(env["XDG_CONFIG_HOME"]) / "argocd"
    return home / ".config" / "argocd"


def _entries(doc: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = doc.get(key)
    return [e for e in value if isinstance(e, Mapping)] if isinstance(value, list) else []


def _named(entries: list[Mapping[str, Any]], key: str, value: str) -> Mapping[str, Any] | None:
    return next((e for e in entries if str(e.get(key) or "") == value), None)


def read_cli_config(path: Path) -> Mapping[str, Any]:
    """The argocd CLI config file as a mapping ({} when there is none)."""
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ServerConfigError(f"{path}: larger than {MAX_CONFIG_BYTES >> 10} KiB")
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ServerConfigError(
            f"cannot read the argocd CLI config {path}: {type(exc).__name__}"
        ) from None
    return doc if isinstance(doc, Mapping) else {}


def from_cli_config(doc: Mapping[str, Any], server: str | None) -> ServerTarget | None:
    """The context for ``server`` (None: the current context) as a target; None if absent.

    The current context wins when it names ``server``; else the first context that does.
    """
    contexts = _entries(doc, "contexts")
    current = _named(contexts, "name", str(doc.get("current-context") or ""))
    if server is None or (current is not None and _same(str(current.get("server") or ""), server)):
        chosen = current
    else:
        chosen = next((c for c in contexts if _same(str(c.get("server") or ""), server)), None)
    if chosen is None:
        return None
    address = str(chosen.get("server") or "")
    if not address:
        return None
    entry = _named(_entries(doc, "servers"), "server", address) or {}
    user = _named(_entries(doc, "users"), "name", str(chosen.get("user") or "")) or {}
    token = user.get("auth-token")
    return ServerTarget(
        server=validate_server(address),
        plaintext=bool(entry.get("plain-text")),
        insecure=bool(entry.get("insecure")),
        grpc_web=bool(entry.get("grpc-web")),
        token=token if isinstance(token, str) else "",
        token_source=f"argocd CLI config (context {str(chosen.get('name'))[:100]})",
    )


def _same(a: str, b: str) -> bool:
    try:
        return validate_server(a) == validate_server(b)
    except ServerConfigError:
        return False


def resolve_target(
    server: str | None,
    *,
    token: str | None = None,
    plaintext: bool | None = None,
    insecure: bool | None = None,
    grpc_web: bool | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> ServerTarget:
    """The server to talk to: the command line first, then ``ARGOCD_AUTH_TOKEN``, then
    the argocd CLI's config (its current context when ``server`` is None)."""
    env = os.environ if env is None else env
    path = config_dir(env, home) / "config"
    stored = from_cli_config(read_cli_config(path), validate_server(server) if server else None)
    if server is None and stored is None:
        raise ServerConfigError(
            f"no Argo CD server named and no current context in {path}: give "
            "--argocd-server HOST[:PORT] (or run `argocd login HOST`)"
        )
    address = validate_server(server) if server else stored.server  # type: ignore[union-attr]
    chosen_token, source = "", "none"
    if token:
        chosen_token, source = token, "--auth-token"
    elif env.get(ENV_TOKEN):
        chosen_token, source = env[ENV_TOKEN], ENV_TOKEN
    elif stored is not None and stored.token:
        chosen_token, source = stored.token, stored.token_source
    if any(c.isspace() or ord(c) < 32 for c in chosen_token):
        raise ServerConfigError(f"the Argo CD token from {source} holds spaces or control bytes")

    def pick(given: bool | None, stored_value: bool) -> bool:
        return given if given is not None else stored_value

    return ServerTarget(
        server=address,
        plaintext=pick(plaintext, stored.plaintext if stored else False),
        insecure=pick(insecure, stored.insecure if stored else False),
        grpc_web=pick(grpc_web, stored.grpc_web if stored else False),
        token=chosen_token,
        token_source=source,
    )
