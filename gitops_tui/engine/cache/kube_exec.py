"""Exec credential plugins (``users[].user.exec``), as client-go runs them.

The command runs with the kubeconfig's ``args`` and ``env`` added to ours and
``KUBERNETES_EXEC_INFO`` holding an ``ExecCredential`` request (``spec.interactive``
false, ``spec.cluster`` when ``provideClusterInfo``). It is never interactive: its
stdin is closed, ``interactiveMode: Always`` is refused, and it has ``EXEC_TIMEOUT``
seconds. Its stdout must be an ``ExecCredential`` of the configured apiVersion with a
token or a client certificate and key; its stderr is kept for the error message (a
failed plugin's reason, e.g. "please log in"). A credential is reused by every client
of the process until its ``expirationTimestamp`` (forever without one), or until the
server answers 401 (``invalidate``).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from gitops_tui.engine.cache.kubeconfig import ExecSpec, KubeconfigError, ResolvedContext

EXEC_TIMEOUT = 60.0
MAX_OUTPUT_BYTES = 1024 * 1024
MAX_STDERR_SHOWN = 2000


class ExecPluginError(KubeconfigError):
    """The credential plugin failed or answered something unusable."""

    title = "Credential plugin"


@dataclass(frozen=True)
class ExecCredential:
    token: str | None = field(default=None, repr=False)
    client_cert_pem: bytes | None = field(default=None, repr=False)
    client_key_pem: bytes | None = field(default=None, repr=False)
    expires: float | None = None  # epoch seconds; None: valid until a 401

    def expired(self, now: float | None = None) -> bool:
        return self.expires is not None and (now or time.time()) >= self.expires


_cache: dict[str, ExecCredential] = {}
_locks: dict[str, threading.Lock] = {}
_cache_lock = threading.Lock()


def _cache_key(spec: ExecSpec, info: str) -> str:
    return json.dumps([spec.command, spec.args, spec.env, spec.api_version, info])


def exec_info(spec: ExecSpec, ctx: ResolvedContext) -> str:
    """The ``KUBERNETES_EXEC_INFO`` the plugin receives."""
    body: dict[str, object] = {"interactive": False}
    if spec.provide_cluster_info:
        cluster: dict[str, object] = {"server": ctx.server}
        if ctx.ca_pem is not None:
            cluster["certificate-authority-data"] = base64.b64encode(ctx.ca_pem).decode()
        if ctx.insecure:
            cluster["insecure-skip-tls-verify"] = True
        if ctx.tls_server_name:
            cluster["tls-server-name"] = ctx.tls_server_name
        if ctx.proxy_url:
            cluster["proxy-url"] = ctx.proxy_url
        config = ctx.cluster_extensions.get("client.authentication.k8s.io/exec")
        if config is not None:
            cluster["config"] = config
        body["cluster"] = cluster
    return json.dumps({"apiVersion": spec.api_version, "kind": "ExecCredential", "spec": body})


def credential(spec: ExecSpec, ctx: ResolvedContext, *, refresh: bool = False) -> ExecCredential:
    """The plugin's current credential: cached while valid, else the plugin is run
    (once at a time per plugin, whichever thread asks)."""
    info = exec_info(spec, ctx)
    key = _cache_key(spec, info)
    with _cache_lock:
        lock = _locks.setdefault(key, threading.Lock())
        stale = _cache.get(key) if refresh else None
    with lock:
        with _cache_lock:
            cached = _cache.get(key)
        if cached is not None and cached is not stale and not cached.expired():
            return cached
        fresh = run_plugin(spec, info)
        with _cache_lock:
            _cache[key] = fresh
        return fresh


def invalidate(spec: ExecSpec, ctx: ResolvedContext) -> None:
    with _cache_lock:
        _cache.pop(_cache_key(spec, exec_info(spec, ctx)), None)


def run_plugin(spec: ExecSpec, info: str) -> ExecCredential:
    if spec.interactive_mode == "Always":
        raise ExecPluginError(
            f"{spec.where}: exec plugin {spec.command} needs interactiveMode Always, but "
            "gitops-tui never runs credential plugins interactively (log in with the "
            "plugin first, or set interactiveMode: IfAvailable)"
        )
    env = dict(os.environ)
    env.update(dict(spec.env))
    env["KUBERNETES_EXEC_INFO"] = info
    try:
        done = subprocess.run(
            [spec.command, *spec.args],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=EXEC_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        hint = f" ({spec.install_hint.strip()[:500]})" if spec.install_hint else ""
        raise ExecPluginError(f"{spec.where}: exec plugin {spec.command} not found{hint}") from None
    except PermissionError:
        raise ExecPluginError(
            f"{spec.where}: exec plugin {spec.command} is not executable"
        ) from None
    except subprocess.TimeoutExpired:
        raise ExecPluginError(
            f"{spec.where}: exec plugin {spec.command} gave no credential within "
            f"{EXEC_TIMEOUT:.0f} s (it is run without a terminal: does it wait for a login?)"
        ) from None
    stderr = _printable(done.stderr)
    if done.returncode != 0:
        raise ExecPluginError(
            f"{spec.where}: exec plugin {spec.command} failed (exit {done.returncode})"
            + (f": {stderr}" if stderr else "")
        )
    return parse_credential(spec, done.stdout, stderr)


def parse_credential(spec: ExecSpec, stdout: bytes, stderr: str = "") -> ExecCredential:
    def fail(why: str) -> ExecPluginError:
        tail = f" (stderr: {stderr})" if stderr else ""
        return ExecPluginError(f"{spec.where}: exec plugin {spec.command} {why}{tail}")

    if len(stdout) > MAX_OUTPUT_BYTES:
        raise fail("wrote more than 1 MiB")
    try:
        doc = json.loads(stdout)
    except ValueError:
        raise fail("did not write an ExecCredential (not JSON)") from None
    if not isinstance(doc, dict) or doc.get("kind") != "ExecCredential":
        raise fail("did not write an ExecCredential")
    if doc.get("apiVersion") != spec.api_version:
        raise fail(
            f"answered apiVersion {str(doc.get('apiVersion'))[:80]!r}, "
            f"the kubeconfig asks for {spec.api_version}"
        )
    status = doc.get("status")
    if not isinstance(status, dict):
        raise fail("wrote an ExecCredential without status")
    token = status.get("token") or None
    cert = status.get("clientCertificateData") or None
    key = status.get("clientKeyData") or None
    if (cert is None) != (key is None):
        raise fail("returned a client certificate without its key, or a key without one")
    if token is None and cert is None:
        raise fail("returned neither a token nor a client certificate and key")
    if token is not None and any(c in str(token) for c in "\r\n\0"):
        raise fail("returned a token with a line break")
    expires = None
    stamp = status.get("expirationTimestamp")
    if stamp:
        try:
            expires = datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise fail(f"returned an invalid expirationTimestamp {str(stamp)[:40]!r}") from None
    return ExecCredential(
        token=str(token) if token is not None else None,
        client_cert_pem=str(cert).encode() if cert is not None else None,
        client_key_pem=str(key).encode() if key is not None else None,
        expires=expires,
    )


def _printable(data: bytes) -> str:
    text = data.decode(errors="replace").strip()
    text = "".join(c if c.isprintable() or c == " " else " " for c in text)
    return text if len(text) <= MAX_STDERR_SHOWN else text[:MAX_STDERR_SHOWN] + "..."
