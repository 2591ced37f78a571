"""Our own kubeconfig loader and transport (engine/cache/kubeconfig, kubeauth, kube_exec).

Real files, real credential plugin scripts, and a real TLS server on 127.0.0.1 that
requires a client certificate (issued by the sandbox's PKI code): what kubectl would
do with the same kubeconfig is the expectation.
"""

from __future__ import annotations

import base64
import http.server
import json
import ssl
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_tui.engine.cache import kube_exec, kubeauth
from gitops_tui.engine.cache.kubeauth import Transport, no_proxy_matches, proxy_for
from gitops_tui.engine.cache.kubeclient import KubeApiError, KubeClient, KubeTarget
from gitops_tui.engine.cache.kubeconfig import (
    KubeconfigError,
    list_contexts,
    load_context,
)
from gitops_tui.engine.errors import GitOpsError
from gitops_tui.sandbox import pki


def write_config(path: Path, doc: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    base = {"apiVersion": "v1", "kind": "Config"}
    path.write_text(yaml.safe_dump({**base, **doc}))
    return path


def one_context(
    cluster: dict[str, Any], user: dict[str, Any], *, name: str = "ctx"
) -> dict[str, Any]:
    return {
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": name, "context": {"cluster": "c", "user": "u"}}],
        "current-context": name,
    }


# -- merging -----------------------------------------------------------------------------


def test_kubeconfig_list_merges_first_wins_per_name_and_first_current_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write_config(
        tmp_path / "a" / "config",
        {
            "clusters": [
                {"name": "shared", "cluster": {"server": "https://first:6443"}},
            ],
            "users": [{"name": "me", "user": {"tokenFile": "token"}}],  # relative to a/
            "contexts": [{"name": "one", "context": {"cluster": "shared", "user": "me"}}],
        },
    )
    (tmp_path / "a" / "token").write_text("token-from-a\n")
    second = write_config(
        tmp_path / "b" / "config",
        {
            "clusters": [
                {"name": "shared", "cluster": {"server": "https://second:6443"}},
                {"name": "other", "cluster": {"server": "https://other:6443"}},
            ],
            "users": [{"name": "me", "user": {"token": "ignored"}}],
            "contexts": [
                {"name": "one", "context": {"cluster": "other", "user": "me"}},
                {"name": "two", "context": {"cluster": "other", "user": "me", "namespace": "x"}},
            ],
            "current-context": "two",
        },
    )
    third = write_config(tmp_path / "c" / "config", {"current-context": "one"})
    missing = tmp_path / "nowhere" / "config"
    monkeypatch.setenv("KUBECONFIG", ":".join(map(str, (missing, first, second, third))))

    ctx = load_context(None, None)
    assert (ctx.context, ctx.server, ctx.namespace) == ("two", "https://other:6443", "x")
    assert ctx.token_file == tmp_path / "a" / "token" and ctx.token is None
    one = load_context(None, "one")
    assert one.server == "https://first:6443"  # context and cluster both from the first file
    assert Transport(one).headers()["Authorization"] == "Bearer token-from-a"
    contexts, current = list_contexts(None)
    assert current == "two"
    assert {c.name: c.server for c in contexts} == {
        "one": "https://first:6443",
        "two": "https://other:6443",
    }


def test_kubeconfig_errors_name_the_file_and_the_entry(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match="kubeconfig .*absent.* not found"):
        load_context(tmp_path / "absent", None)
    path = write_config(tmp_path / "config", one_context({"server": "https://h:1"}, {}))
    with pytest.raises(KubeconfigError) as error:
        load_context(path, "prod")
    assert "context 'prod' not found" in str(error.value) and "known: ctx" in str(error.value)
    assert str(path) in str(error.value)
    assert isinstance(error.value, GitOpsError)
    path.write_text("clusters: [unclosed")
    with pytest.raises(KubeconfigError, match="is not valid YAML"):
        load_context(path, None)
    write_config(
        path,
        one_context(
            {
                "server": "https://h:1",
                "insecure-skip-tls-verify": True,
                "certificate-authority-data": base64.b64encode(b"x").decode(),
            },
            {},
        ),
    )
    with pytest.raises(KubeconfigError, match=r"cluster c in .*insecure-skip-tls-verify"):
        load_context(path, None)
    write_config(path, one_context({"server": "https://h:1", "proxy-url": "socks5://p:1080"}, {}))
    with pytest.raises(KubeconfigError, match="SOCKS proxy is not"):
        load_context(path, None)
    write_config(
        path,
        one_context(
            {"server": "https://h:1"}, {"client-certificate": "gone.crt", "client-key": "gone.key"}
        ),
    )
    with pytest.raises(KubeconfigError) as unreadable:
        load_context(path, None)
    assert f"user u in {path}: client-certificate: cannot read {tmp_path / 'gone.crt'}" in str(
        unreadable.value
    )


def test_kubeconfig_data_wins_over_file_and_files_resolve_next_to_the_kubeconfig(
    tmp_path: Path,
) -> None:
    files = pki.generate(tmp_path / "pki")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "ca.crt").write_bytes(files.ca_cert.read_bytes())
    path = write_config(
        tmp_path / "conf" / "config",
        one_context(
            {"server": "https://127.0.0.1:1", "certificate-authority": "ca.crt"},
            {
                "client-certificate": str(files.admin_cert),
                "client-key-data": base64.b64encode(b"KEY FROM DATA").decode(),
                "client-key": "does-not-matter.key",
            },
        ),
    )
    ctx = load_context(path, None)
    assert ctx.ca_pem == files.ca_cert.read_bytes()
    assert ctx.client_cert_pem == files.admin_cert.read_bytes()
    assert ctx.client_key_pem == b"KEY FROM DATA"
    assert "KEY FROM DATA" not in repr(ctx)  # credentials stay out of reprs and logs


# -- a real TLS server -------------------------------------------------------------------


class _Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        peer = self.connection.getpeercert() or {}  # type: ignore[attr-defined]
        subject = dict(x[0] for x in peer.get("subject", ()))
        body = json.dumps(
            {
                "cn": subject.get("commonName"),
                "authorization": self.headers.get("Authorization"),
                "impersonate": self.headers.get_all("Impersonate-Group"),
                "user": self.headers.get("Impersonate-User"),
                "path": self.path,
            }
        ).encode()
        status = 401 if self.headers.get("Authorization") == "Bearer stale" else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, pki.PkiFiles]]:
    """HTTPS on 127.0.0.1 with the sandbox PKI's serving cert, client certs optional."""
    files = pki.generate(tmp_path / "server-pki")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.serving_cert, files.serving_key)
    context.load_verify_locations(files.ca_cert)
    context.verify_mode = ssl.CERT_OPTIONAL
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", files
    finally:
        server.shutdown()
        server.server_close()


def test_kubeconfig_client_certificate_from_data_and_tls_server_name(
    tmp_path: Path, tls_server: tuple[str, pki.PkiFiles]
) -> None:
    url, files = tls_server
    ca = base64.b64encode(files.ca_cert.read_bytes()).decode()
    path = write_config(
        tmp_path / "config",
        one_context(
            {
                "server": url,
                "certificate-authority-data": ca,
                "tls-server-name": "kubernetes.default",
            },
            {
                "client-certificate-data": base64.b64encode(files.admin_cert.read_bytes()).decode(),
                "client-key-data": base64.b64encode(files.admin_key.read_bytes()).decode(),
                "as": "jane",
                "as-groups": ["dev", "ops"],
            },
        ),
    )
    client = KubeClient(KubeTarget(path, None))
    try:
        answer = client.request("GET", "/api/v1/namespaces", query={"limit": 1})
    finally:
        client.close()
    assert answer["cn"] == "sandbox-admin" and answer["authorization"] is None
    assert answer["user"] == "jane" and answer["impersonate"] == ["dev,ops"]
    assert answer["path"] == "/api/v1/namespaces?limit=1"
    assert not list(tmp_path.glob("**/gitops-tui-cert-*"))

    # the name checked is tls-server-name: one the certificate does not hold fails
    doc = yaml.safe_load(path.read_text())
    doc["clusters"][0]["cluster"]["tls-server-name"] = "wrong.example"
    path.write_text(yaml.safe_dump(doc))
    wrong = KubeClient(KubeTarget(path, None))
    try:
        with pytest.raises(KubeApiError) as error:
            wrong.request("GET", "/api", timeout=(5, 5))
        assert error.value.unreachable and "wrong.example" in str(error.value)
    finally:
        wrong.close()


def test_kubeconfig_untrusted_server_certificate_is_refused_unless_insecure(
    tmp_path: Path, tls_server: tuple[str, pki.PkiFiles]
) -> None:
    url, _ = tls_server
    other_ca = pki.generate(tmp_path / "other-pki").ca_cert
    path = write_config(
        tmp_path / "config",
        one_context({"server": url, "certificate-authority": str(other_ca)}, {"token": "t"}),
    )
    client = KubeClient(KubeTarget(path, None))
    try:
        with pytest.raises(KubeApiError, match="TLS certificate not trusted"):
            client.request("GET", "/api", timeout=(5, 5))
    finally:
        client.close()
    write_config(
        path, one_context({"server": url, "insecure-skip-tls-verify": True}, {"token": "t"})
    )
    insecure = KubeClient(KubeTarget(path, None))
    try:
        assert insecure.request("GET", "/api")["authorization"] == "Bearer t"
    finally:
        insecure.close()


# -- exec credential plugins -------------------------------------------------------------


def plugin(tmp_path: Path, body: str) -> Path:
    """A credential plugin script; each run appends a line to ``runs`` next to it."""
    script = tmp_path / "bin" / "plugin"
    script.parent.mkdir(exist_ok=True)
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"open({str(tmp_path / 'runs')!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
        "info = json.loads(os.environ['KUBERNETES_EXEC_INFO'])\n" + body
    )
    script.chmod(0o755)
    return script


def runs(tmp_path: Path) -> int:
    path = tmp_path / "runs"
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.fixture(autouse=True)
def _fresh_exec_cache() -> Iterator[None]:
    kube_exec._cache.clear()
    yield
    kube_exec._cache.clear()


def exec_config(tmp_path: Path, server: str, exec_entry: dict[str, Any], **cluster: Any) -> Path:
    return write_config(
        tmp_path / "kube" / "config",
        one_context({"server": server, **cluster}, {"exec": exec_entry}),
    )


def test_kubeconfig_exec_plugin_token_with_env_args_cache_and_expiry(tmp_path: Path) -> None:
    plugin(
        tmp_path,
        "assert info['spec']['interactive'] is False\n"
        "assert info['spec']['cluster']['server'] == 'https://h:6443'\n"
        "assert info['spec']['cluster']['config'] == {'audience': 'a'}\n"
        "assert sys.stdin.read() == ''\n"
        "print(json.dumps({'apiVersion': info['apiVersion'], 'kind': 'ExecCredential',\n"
        "  'status': {'token': os.environ['TOKEN_PREFIX'] + sys.argv[1],\n"
        "             'expirationTimestamp': os.environ['EXPIRES']}}))\n",
    )
    entry = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": "../bin/plugin",  # relative to the kubeconfig's directory
        "args": ["-one"],
        "env": [
            {"name": "TOKEN_PREFIX", "value": "tok"},
            {"name": "EXPIRES", "value": "2999-01-01T00:00:00Z"},
        ],
        "interactiveMode": "IfAvailable",
        "provideClusterInfo": True,
    }
    path = exec_config(
        tmp_path,
        "https://h:6443",
        entry,
        extensions=[{"name": "client.authentication.k8s.io/exec", "extension": {"audience": "a"}}],
    )
    transport = Transport(load_context(path, None))
    assert transport.headers()["Authorization"] == "Bearer tok-one"
    assert transport.headers()["Authorization"] == "Bearer tok-one"
    assert Transport(load_context(path, None)).headers()  # another client of the process
    assert runs(tmp_path) == 1  # cached until it expires
    # expired: run again on the next request
    entry["env"][1]["value"] = "2000-01-01T00:00:00Z"
    path = exec_config(
        tmp_path,
        "https://h:6443",
        entry,
        extensions=[{"name": "client.authentication.k8s.io/exec", "extension": {"audience": "a"}}],
    )
    expired = Transport(load_context(path, None))
    before = runs(tmp_path)
    expired.headers()
    expired.headers()
    assert runs(tmp_path) == before + 2


def test_kubeconfig_exec_plugin_failures_are_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": str(tmp_path / "bin" / "plugin"),
    }
    plugin(tmp_path, "sys.stderr.write('error: please run login first\\x1b[31m\\n'); sys.exit(3)\n")
    path = exec_config(tmp_path, "https://h:1", base)
    with pytest.raises(KubeconfigError) as failed:
        load_and_build(path)
    message = str(failed.value)
    assert f"user u in {path}: exec plugin" in message and "failed (exit 3)" in message
    assert "please run login first" in message and "\x1b" not in message

    plugin(
        tmp_path,
        "print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', 'kind': 'ExecCredential', 'status': {'token': 't'}}))\n",
    )
    with pytest.raises(
        KubeconfigError,
        match="answered apiVersion 'client.authentication.k8s.io/v1', the kubeconfig asks for client.authentication.k8s.io/v1beta1",
    ):
        load_and_build(path)

    plugin(tmp_path, "print('{}')\n")
    with pytest.raises(KubeconfigError, match="did not write an ExecCredential"):
        load_and_build(path)

    path = exec_config(
        tmp_path,
        "https://h:1",
        {**base, "command": "no-such-plugin-x", "installHint": "install it from the wiki"},
    )
    with pytest.raises(
        KubeconfigError, match="no-such-plugin-x not found .install it from the wiki."
    ):
        load_and_build(path)

    path = exec_config(tmp_path, "https://h:1", {**base, "interactiveMode": "Always"})
    with pytest.raises(KubeconfigError, match="never runs credential plugins interactively"):
        load_and_build(path)

    v1 = {**base, "apiVersion": "client.authentication.k8s.io/v1"}
    path = exec_config(tmp_path, "https://h:1", v1)
    with pytest.raises(KubeconfigError, match="interactiveMode must be set"):
        load_context(path, None)

    plugin(tmp_path, "import time; time.sleep(60)\n")
    monkeypatch.setattr(kube_exec, "EXEC_TIMEOUT", 0.5)
    path = exec_config(tmp_path, "https://h:1", base)
    with pytest.raises(KubeconfigError, match="gave no credential within"):
        load_and_build(path)


def load_and_build(path: Path) -> dict[str, str]:
    return Transport(load_context(path, None)).headers()


def test_kubeconfig_exec_plugin_asked_again_after_401(
    tmp_path: Path, tls_server: tuple[str, pki.PkiFiles]
) -> None:
    """The first token is refused (401): the plugin runs again and the request is retried."""
    url, files = tls_server
    plugin(
        tmp_path,
        f"first = not os.path.exists({str(tmp_path / 'seen')!r})\n"
        f"open({str(tmp_path / 'seen')!r}, 'w').close()\n"
        "print(json.dumps({'apiVersion': info['apiVersion'], 'kind': 'ExecCredential',\n"
        "  'status': {'token': 'stale' if first else 'fresh'}}))\n",
    )
    path = exec_config(
        tmp_path,
        url,
        {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": str(tmp_path / "bin" / "plugin"),
        },
        **{"certificate-authority": str(files.ca_cert)},
    )
    client = KubeClient(KubeTarget(path, None))
    try:
        assert client.request("GET", "/api")["authorization"] == "Bearer fresh"
    finally:
        client.close()
    assert runs(tmp_path) == 2


def test_kubeconfig_exec_plugin_client_certificate(
    tmp_path: Path, tls_server: tuple[str, pki.PkiFiles]
) -> None:
    url, files = tls_server
    cred = {
        "clientCertificateData": files.admin_cert.read_text(),
        "clientKeyData": files.admin_key.read_text(),
    }
    plugin(
        tmp_path,
        "print(json.dumps({'apiVersion': info['apiVersion'], 'kind': 'ExecCredential',\n"
        f"  'status': {cred!r}}}))\n",
    )
    path = exec_config(
        tmp_path,
        url,
        {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": str(tmp_path / "bin" / "plugin"),
        },
        **{"certificate-authority": str(files.ca_cert)},
    )
    client = KubeClient(KubeTarget(path, None))
    try:
        answer = client.request("GET", "/api")
    finally:
        client.close()
    assert answer["cn"] == "sandbox-admin" and answer["authorization"] is None


# -- tokens, basic auth, proxies, auth-providers -------------------------------------------


def test_kubeconfig_token_file_is_read_again_after_its_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = tmp_path / "token"
    token.write_text("one\n")
    path = write_config(
        tmp_path / "config",
        one_context({"server": "https://h:1"}, {"tokenFile": "token", "token": "static"}),
    )
    transport = Transport(load_context(path, None))
    assert transport.headers()["Authorization"] == "Bearer one"  # the file wins over token
    token.write_text("two\n")
    assert transport.headers()["Authorization"] == "Bearer one"  # within the period
    monkeypatch.setattr(kubeauth, "TOKEN_FILE_PERIOD", 0.0)
    assert transport.headers()["Authorization"] == "Bearer two"
    token.unlink()
    assert transport.headers()["Authorization"] == "Bearer two"  # the last good one


def test_kubeconfig_basic_auth_and_two_methods_refused(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "config",
        one_context({"server": "https://h:1"}, {"username": "ann", "password": "pw"}),
    )
    header = Transport(load_context(path, None)).headers()["Authorization"]
    assert header == "Basic " + base64.b64encode(b"ann:pw").decode()
    write_config(path, one_context({"server": "https://h:1"}, {"username": "ann", "token": "t"}))
    with pytest.raises(KubeconfigError, match="more than one authentication method"):
        load_context(path, None)
    # an impersonation value cannot smuggle in another header
    write_config(path, one_context({"server": "https://h:1"}, {"as": "jane\r\nX-Evil: 1"}))
    with pytest.raises(KubeconfigError, match="impersonation value holds a line break"):
        load_context(path, None)


def test_kubeconfig_proxy_from_kubeconfig_or_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path / "config", one_context({"server": "https://api.corp:6443"}, {}))
    for name in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert proxy_for(load_context(path, None)) is None
    monkeypatch.setenv("HTTPS_PROXY", "proxy.corp:3128")
    assert proxy_for(load_context(path, None)) == "http://proxy.corp:3128"
    monkeypatch.setenv("NO_PROXY", "10.0.0.0/8,.corp")
    assert proxy_for(load_context(path, None)) is None
    write_config(path, one_context({"server": "https://127.0.0.1:6443"}, {}))
    monkeypatch.delenv("NO_PROXY")
    assert proxy_for(load_context(path, None)) is None  # loopback never proxied (as Go)
    write_config(
        path, one_context({"server": "https://api:6443", "proxy-url": "http://p:8080"}, {})
    )
    assert proxy_for(load_context(path, None)) == "http://p:8080"
    assert no_proxy_matches("10.1.2.3", "10.0.0.0/8")
    assert no_proxy_matches("a.b.corp", "corp:443")
    assert not no_proxy_matches("notcorp", ".corp")


def test_kubeconfig_auth_provider_without_the_kubernetes_package_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(
        tmp_path / "config",
        one_context({"server": "https://h:1"}, {"auth-provider": {"name": "oidc", "config": {}}}),
    )
    monkeypatch.setitem(sys.modules, "kubernetes", None)
    with pytest.raises(
        KubeconfigError, match="legacy auth-provider 'oidc'.*exec credential plugin"
    ):
        KubeClient(KubeTarget(path, None))


def test_kubeconfig_one_shot_import_does_not_load_the_kubernetes_package() -> None:
    import subprocess

    code = (
        "import sys, gitops_tui.engine.cache.kubeclient, gitops_tui.cli;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'kubernetes'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"
