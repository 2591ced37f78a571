"""Who we are to one API server and how its certificate is trusted: the TLS context,
the connection pool and the request headers of a ``ResolvedContext``.

- **TLS**: the cluster's CA (``certificate-authority[-data]``) alone, else the system's;
  ``insecure-skip-tls-verify`` verifies nothing; ``tls-server-name`` is the name sent
  and checked. A client certificate and key in memory are loaded through files in a
  0700 temporary directory, removed as soon as OpenSSL has read them.
- **Proxy**: ``proxy-url`` (http/https), else ``HTTPS_PROXY``/``HTTP_PROXY`` unless
  ``NO_PROXY`` or a loopback address exempts the server (as kubectl).
- **Credentials**: a token file is re-read at most every minute (client-go's cached
  file token source) and wins over ``token``; basic auth; an exec plugin (``kube_exec``)
  whose token is asked again when it expires and after a 401, and whose client
  certificate rebuilds the pool when it changes; a legacy ``auth-provider`` through the
  ``kubernetes`` package, imported only then (a clear error when it is not installed);
  impersonation headers (``as``, ``as-groups``, ...).
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import os
import ssl
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import urllib3

from gitops_tui.engine.cache import kube_exec
from gitops_tui.engine.cache.kubeconfig import (
    KubeconfigError,
    ResolvedContext,
    read_credential_file,
)

TOKEN_FILE_PERIOD = 60.0  # client-go re-reads a token file once a minute
POOL_MAXSIZE = 32


class Transport:
    """The pool and headers of one context; thread-safe."""

    def __init__(self, ctx: ResolvedContext, kubeconfig: Path | None = None) -> None:
        self.ctx = ctx
        self._kubeconfig = kubeconfig
        self._lock = threading.Lock()
        self._token_file: tuple[float, str] | None = None
        self._provider: Any = None  # kubernetes.client.Configuration (auth-provider only)
        self._cert: tuple[bytes, bytes] | None = None
        self._retired: list[urllib3.PoolManager] = []
        self._static = _static_headers(ctx)
        self._exec = ctx.exec
        if ctx.token or ctx.token_file or ctx.username:
            self._exec = None  # a static credential wins over the plugin (client-go)
        if ctx.auth_provider is not None:
            self._provider = _provider_config(ctx, kubeconfig)
        cert = None
        if ctx.client_cert_pem is not None and ctx.client_key_pem is not None:
            cert = (ctx.client_cert_pem, ctx.client_key_pem)
        elif self._exec is not None:
            cert = self._exec_cert(kube_exec.credential(self._exec, ctx))
        self._pool = self._build_pool(cert)

    # -- the pool ----------------------------------------------------------------------

    def pool(self) -> urllib3.PoolManager:
        if self._exec is not None and self._exec_uses_cert():
            wanted = self._exec_cert(kube_exec.credential(self._exec, self.ctx))
            with self._lock:
                if wanted != self._cert:
                    self._retired.append(self._pool)
                    self._pool = self._build_pool(wanted)
        return self._pool

    def _exec_uses_cert(self) -> bool:
        return self._cert is not None and self.ctx.client_cert_pem is None

    @staticmethod
    def _exec_cert(cred: kube_exec.ExecCredential) -> tuple[bytes, bytes] | None:
        if cred.client_cert_pem is None or cred.client_key_pem is None:
            return None
        return (cred.client_cert_pem, cred.client_key_pem)

    def _build_pool(self, cert: tuple[bytes, bytes] | None) -> urllib3.PoolManager:
        self._cert = cert
        context = ssl_context(self.ctx, cert)
        kw: dict[str, Any] = {"maxsize": POOL_MAXSIZE, "num_pools": 4}
        if self.ctx.server.startswith("https://"):
            kw["ssl_context"] = context
            if self.ctx.tls_server_name:
                kw["server_hostname"] = self.ctx.tls_server_name
        proxy = proxy_for(self.ctx)
        if proxy:
            return urllib3.ProxyManager(proxy, **kw)
        return urllib3.PoolManager(**kw)

    def close(self) -> None:
        with self._lock:
            pools = [self._pool, *self._retired]
            self._retired = []
        for pool in pools:
            pool.clear()

    # -- headers -----------------------------------------------------------------------

    def headers(self) -> dict[str, str]:
        """Authorization and impersonation headers for the next request."""
        out = dict(self._static)
        token = self._bearer()
        if token:
            out["Authorization"] = f"Bearer {token}"
        return out

    def _bearer(self) -> str | None:
        ctx = self.ctx
        if ctx.token_file is not None:
            return self._read_token_file(ctx.token_file) or ctx.token
        if ctx.token:
            return ctx.token
        if self._exec is not None:
            return kube_exec.credential(self._exec, ctx).token
        if self._provider is not None:
            settings = self._provider.auth_settings().get("BearerToken") or {}
            value = str(settings.get("value") or "")
            return value.removeprefix("Bearer ").strip() or None
        return None

    def _read_token_file(self, path: Path) -> str | None:
        now = time.monotonic()
        with self._lock:
            cached = self._token_file
        if cached is not None and now - cached[0] < TOKEN_FILE_PERIOD:
            return cached[1]
        try:
            token = read_credential_file(path, f"{self.ctx.where}: tokenFile").decode().strip()
        except (KubeconfigError, UnicodeDecodeError):
            if self.ctx.token or cached is not None:
                return cached[1] if cached is not None else None  # keep the last good one
            raise
        with self._lock:
            self._token_file = (now, token)
        return token

    def unauthorized(self) -> bool:
        """The server answered 401: forget credentials that can be asked again.
        True when a retry may succeed (an exec plugin or a token file to read again)."""
        if self._exec is not None:
            kube_exec.invalidate(self._exec, self.ctx)
            return True
        if self.ctx.token_file is not None:
            with self._lock:
                self._token_file = None
            return True
        return False


def _static_headers(ctx: ResolvedContext) -> dict[str, str]:
    headers: dict[str, str] = {}
    if ctx.username and not ctx.token and not ctx.token_file:
        pair = f"{ctx.username}:{ctx.password or ''}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    for name, value in ctx.impersonate:
        if name in headers:  # several groups: one header, comma-separated
            headers[name] += f",{value}"
        else:
            headers[name] = value
    return headers


def ssl_context(ctx: ResolvedContext, cert: tuple[bytes, bytes] | None) -> ssl.SSLContext:
    if ctx.insecure:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    elif ctx.ca_pem is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            context.load_verify_locations(cadata=ctx.ca_pem.decode("ascii", errors="replace"))
        except (ssl.SSLError, ValueError):
            raise KubeconfigError(
                f"{ctx.where}: the certificate authority of cluster {ctx.cluster} is not a "
                "PEM certificate"
            ) from None
    else:
        context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert is not None:
        load_client_cert(context, cert, ctx.where)
    return context


def load_client_cert(context: ssl.SSLContext, cert: tuple[bytes, bytes], where: str) -> None:
    """OpenSSL reads a certificate only from a file: write both to a private temporary
    directory, load them, remove them at once."""
    with tempfile.TemporaryDirectory(prefix="gitops-tui-cert-") as tmp:
        os.chmod(tmp, 0o700)
        paths = []
        for name, data in (("cert.pem", cert[0]), ("key.pem", cert[1])):
            path = os.path.join(tmp, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            paths.append(path)
        try:
            context.load_cert_chain(paths[0], paths[1])
        except ssl.SSLError as exc:
            raise KubeconfigError(
                f"{where}: the client certificate or key is not usable "
                f"({exc.reason or 'not PEM, or they do not match'})"
            ) from None


def proxy_for(ctx: ResolvedContext) -> str | None:
    if ctx.proxy_url:
        return ctx.proxy_url
    env = {k.lower(): v for k, v in os.environ.items() if k.lower().endswith("_proxy") and v}
    if not env:
        return None
    parts = urlsplit(ctx.server)
    host = parts.hostname or ""
    proxy = env.get("https_proxy") if parts.scheme == "https" else env.get("http_proxy")
    if not proxy or _loopback(host):
        return None
    if no_proxy_matches(host, env.get("no_proxy", "")):
        return None
    if not proxy.startswith(("http://", "https://")):
        if "://" in proxy:
            raise KubeconfigError(
                f"{ctx.where}: the proxy of the environment ({proxy.split('://')[0][:20]}://) "
                "is not supported (http:// and https:// proxies are)"
            )
        proxy = "http://" + proxy
    return proxy


def no_proxy_matches(host: str, no_proxy: str) -> bool:
    """Go's NO_PROXY rules: ``*``, a domain (with or without a leading dot) and its
    subdomains, an IP address, a CIDR range; ports in entries are ignored."""
    host = host.lower().strip("[]")
    address = None
    with contextlib.suppress(ValueError):
        address = ipaddress.ip_address(host)
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if "/" in entry:
            with contextlib.suppress(ValueError):
                if address is not None and address in ipaddress.ip_network(entry, strict=False):
                    return True
            continue
        if entry.startswith("[") and "]" in entry:
            entry = entry[1 : entry.index("]")]
        elif entry.count(":") == 1:
            entry = entry.split(":", 1)[0]
        entry = entry.removeprefix("*").removeprefix(".")
        if host == entry or host.endswith("." + entry):
            return True
    return False


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    return False


def _provider_config(ctx: ResolvedContext, kubeconfig: Path | None) -> Any:
    """A legacy auth-provider (oidc, gcp, azure): the ``kubernetes`` package's loader,
    imported only for it; its token is read from the configuration it fills."""
    try:
        from kubernetes import client as k8s_client
        from kubernetes import config as k8s_config
    except ImportError:
        raise KubeconfigError(
            f"{ctx.where}: user {ctx.user} authenticates with the legacy auth-provider "
            f"{ctx.auth_provider!r}, which needs the Python package 'kubernetes' "
            "(pip install kubernetes) or, better, an exec credential plugin "
            "(kubectl removed gcp and azure auth-providers in 1.26)"
        ) from None
    cfg = k8s_client.Configuration()
    try:
        k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=str(kubeconfig) if kubeconfig else None,
            context=ctx.context,
            client_configuration=cfg,
            persist_config=False,
        )
    except Exception as exc:
        raise KubeconfigError(
            f"{ctx.where}: auth-provider {ctx.auth_provider!r} failed: {str(exc)[:300]}"
        ) from None
    return cfg
