"""Argo CD's API server with authentication, for the ``--argocd-server`` tests.

``server`` (module scope, on top of the module's ``argocd`` peer) sets up two
accounts with API keys, ``ci`` (role:admin) and ``viewer`` (role:readonly), starts
the API server with auth, logs in as admin with the password Argo CD generated
(``argocd-initial-admin-secret``) through ``/api/v1/session`` and makes a token
per account through ``/api/v1/account/<name>/token`` (the server's own calls).
Import ``server`` into a test module to use it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import urllib3
from helpers import kubectl, wait_for

from gitops_tui.argocd.server_backend import ArgoCDServerBackend, ServerOptions
from gitops_tui.argocd.server_config import ServerTarget


@dataclass
class Server:
    port: int
    admin_password: str
    tokens: dict[str, str]

    def target(self, account: str = "ci", port: int | None = None) -> ServerTarget:
        return ServerTarget(
            server=f"127.0.0.1:{port or self.port}", plaintext=True, token=self.tokens[account]
        )


def call(port: int, method: str, path: str, body: Any = None, token: str = "") -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    resp = urllib3.request(
        method,
        f"http://127.0.0.1:{port}{path}",
        body=json.dumps(body).encode() if body is not None else None,
        headers=headers,
        timeout=30,
        retries=False,
    )
    if resp.status >= 300:
        raise AssertionError(f"{method} {path}: {resp.status} {resp.data[:300]!r}")
    return json.loads(resp.data)


@pytest.fixture(scope="module")
def server(sandbox: Any, argocd: Any) -> Iterator[Server]:
    kc = sandbox.kubeconfig
    kubectl(kc, "-n", "argocd", "patch", "configmap", "argocd-cm", "--type", "merge", "-p",
            json.dumps({"data": {"accounts.ci": "apiKey", "accounts.viewer": "apiKey"}}))  # fmt: skip
    policy = "g, ci, role:admin\ng, viewer, role:readonly\n"
    kubectl(kc, "-n", "argocd", "patch", "configmap", "argocd-rbac-cm", "--type", "merge", "-p",
            json.dumps({"data": {"policy.csv": policy}}))  # fmt: skip
    argocd.start_server(disable_auth=False)
    port = argocd.server_port
    secret = wait_for(
        lambda: (
            kubectl(
                kc,
                "-n",
                "argocd",
                "get",
                "secret",
                "argocd-initial-admin-secret",
                "-o",
                "jsonpath={.data.password}",
                check=False,
            ).stdout
        ),  # fmt: skip
        timeout=30,
        what="the initial admin password",
    )
    password = base64.b64decode(secret).decode()
    admin = call(port, "POST", "/api/v1/session", {"username": "admin", "password": password})
    tokens: dict[str, str] = {}

    def token(account: str) -> bool:
        try:
            tokens[account] = call(
                port, "POST", f"/api/v1/account/{account}/token", {"name": account},
                token=admin["token"],
            )["token"]  # fmt: skip
        except AssertionError:
            return False  # the server's settings informer has not seen the account yet
        return True

    for account in ("ci", "viewer"):
        wait_for(lambda a=account: token(a), timeout=30, what=f"a token for {account}", step=0.3)
    yield Server(port, password, tokens)


@contextmanager
def backend(target: ServerTarget, **options: Any) -> Iterator[ArgoCDServerBackend]:
    engine = ArgoCDServerBackend(ServerOptions(target=target, **options))
    engine.probe()
    engine.start()
    try:
        yield engine
    finally:
        engine.close()
