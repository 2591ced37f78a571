"""Kubeconfig files read as kubectl reads them, without the ``kubernetes`` package.

Which files: ``--kubeconfig`` alone, else every file of ``$KUBECONFIG`` (missing ones
skipped), else ``~/.kube/config``. Merging follows client-go: per name, the first file
that defines a cluster, user or context wins, and so does the first non-empty
``current-context``. Relative paths in an entry (certificate files, ``tokenFile``, an
exec command with a ``/``) resolve against the directory of the file that entry came
from. ``load_context`` turns one context into a ``ResolvedContext``: the server, how to
trust it and who to be (certificates in memory, a token, a token file, basic auth, an
exec credential plugin, or a legacy auth-provider, which ``kubeauth`` handles).

Errors are ``KubeconfigError``s naming the file and the context, cluster or user;
they never hold a credential. ``list_contexts`` and ``context_fingerprints`` read the
same merge without resolving credentials (they never fail on a broken file).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gitops_tui.engine.errors import GitOpsError

EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
MAX_KUBECONFIG_BYTES = 16 * 1024 * 1024
MAX_CREDENTIAL_FILE_BYTES = 1024 * 1024

try:  # libyaml when present: a large kubeconfig parses ten times faster
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader


class KubeconfigError(GitOpsError):
    """The kubeconfig cannot give a usable connection; the message names file and entry."""

    title = "Kubeconfig"


@dataclass(frozen=True)
class ContextInfo:
    name: str
    cluster: str
    server: str
    namespace: str


@dataclass(frozen=True)
class ExecSpec:
    """A ``users[].user.exec`` entry (client.authentication.k8s.io credential plugin)."""

    command: str
    args: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    api_version: str
    install_hint: str
    provide_cluster_info: bool
    interactive_mode: str
    where: str  # "user U in F": for error messages


@dataclass(frozen=True)
class ResolvedContext:
    """Everything one connection needs, from one context of the merged kubeconfig."""

    context: str
    cluster: str
    user: str
    where: str  # "context C in F"
    server: str
    namespace: str = "default"
    ca_pem: bytes | None = field(default=None, repr=False)
    insecure: bool = False
    tls_server_name: str | None = None
    proxy_url: str | None = None
    client_cert_pem: bytes | None = field(default=None, repr=False)
    client_key_pem: bytes | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    token_file: Path | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    exec: ExecSpec | None = None
    auth_provider: str | None = None
    impersonate: tuple[tuple[str, str], ...] = ()  # extra request headers (kubectl --as)
    cluster_extensions: Mapping[str, Any] = field(default_factory=dict, repr=False)


def kubeconfig_files(kubeconfig: Path | None) -> list[Path]:
    """``--kubeconfig``, else every file of ``$KUBECONFIG``, else ``~/.kube/config``."""
    if kubeconfig:
        return [kubeconfig.expanduser()]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path("~/.kube/config").expanduser()]


@dataclass
class _Merged:
    clusters: dict[str, tuple[Mapping[str, Any], Path]] = field(default_factory=dict)
    users: dict[str, tuple[Mapping[str, Any], Path]] = field(default_factory=dict)
    contexts: dict[str, tuple[Mapping[str, Any], Path]] = field(default_factory=dict)
    current: str | None = None
    files: list[Path] = field(default_factory=list)


_SECTIONS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))


def _read_doc(path: Path) -> Mapping[str, Any]:
    with path.open("rb") as fh:
        data = fh.read(MAX_KUBECONFIG_BYTES + 1)
    if len(data) > MAX_KUBECONFIG_BYTES:
        raise KubeconfigError(f"kubeconfig {path} is larger than {MAX_KUBECONFIG_BYTES >> 20} MiB")
    doc = yaml.load(data, Loader=_Loader) or {}
    if not isinstance(doc, dict):
        raise KubeconfigError(f"kubeconfig {path} is not a mapping")
    return doc


def _merge(kubeconfig: Path | None, *, strict: bool) -> _Merged:
    """The merged kubeconfig. ``strict``: an unreadable or malformed file is an error
    (as for kubectl); else it is skipped (listing contexts never fails)."""
    merged = _Merged()
    explicit = kubeconfig is not None
    for path in kubeconfig_files(kubeconfig):
        try:
            doc = _read_doc(path)
        except FileNotFoundError:
            if strict and explicit:
                raise KubeconfigError(f"kubeconfig {path} not found") from None
            continue
        except OSError as exc:
            if strict:
                raise KubeconfigError(
                    f"kubeconfig {path} cannot be read: {exc.strerror or exc}"
                ) from None
            continue
        except yaml.YAMLError as exc:
            if strict:
                mark = getattr(exc, "problem_mark", None)
                at = f" (line {mark.line + 1})" if mark is not None else ""
                raise KubeconfigError(f"kubeconfig {path} is not valid YAML{at}") from None
            continue
        except KubeconfigError:
            if strict:
                raise
            continue
        merged.files.append(path)
        for section, key in _SECTIONS:
            entries = getattr(merged, section)
            items = doc.get(section) or []
            if not isinstance(items, list):
                if strict:
                    raise KubeconfigError(f"kubeconfig {path}: {section} is not a list")
                continue
            for item in items:
                if not isinstance(item, dict) or not item.get("name"):
                    continue
                body = item.get(key) or {}
                if not isinstance(body, dict):
                    if strict:
                        raise KubeconfigError(
                            f"kubeconfig {path}: {key} {str(item['name'])[:80]!r} is not a mapping"
                        )
                    continue
                entries.setdefault(str(item["name"]), (body, path))
        current = doc.get("current-context")
        if not merged.current and isinstance(current, str) and current:
            merged.current = current
    return merged


def list_contexts(kubeconfig: Path | None) -> tuple[list[ContextInfo], str | None]:
    """The kubeconfig's contexts with their server URLs, and the current context.

    Files are merged as kubectl does: the first file that defines a name wins.
    """
    merged = _merge(kubeconfig, strict=False)
    out = []
    for name, (spec, _) in merged.contexts.items():
        cluster = str(spec.get("cluster", ""))
        server = merged.clusters.get(cluster, ({}, None))[0].get("server", "")
        out.append(
            ContextInfo(
                name=name,
                cluster=cluster,
                server=str(server),
                namespace=str(spec.get("namespace") or "default"),
            )
        )
    return out, merged.current


def context_fingerprints(kubeconfig: Path | None) -> dict[str, str]:
    """Per context, a digest of everything that shapes its connection (its context,
    cluster and user entries, merged as kubectl does): a changed digest means a new
    address or new credentials. Secrets never leave this function, only digests."""
    merged = _merge(kubeconfig, strict=False)
    out: dict[str, str] = {}
    for name, (spec, _) in merged.contexts.items():
        material = json.dumps(
            [
                spec,
                merged.clusters.get(str(spec.get("cluster", "")), (None,))[0],
                merged.users.get(str(spec.get("user", "")), (None,))[0],
            ],
            sort_keys=True,
            default=str,
        )
        out[name] = hashlib.sha256(material.encode()).hexdigest()
    return out


def load_context(kubeconfig: Path | None, context: str | None) -> ResolvedContext:
    """The connection settings of ``context`` (None: the current context)."""
    merged = _merge(kubeconfig, strict=True)
    files = ", ".join(str(p) for p in kubeconfig_files(kubeconfig))
    name = context or merged.current
    if not name:
        raise KubeconfigError(
            f"no context given and no current-context in the kubeconfig ({files})"
        )
    if name not in merged.contexts:
        known = ", ".join(sorted(merged.contexts)[:20]) or "none"
        raise KubeconfigError(
            f"context {name!r} not found in the kubeconfig ({files}); known: {known}"
        )
    ctx, ctx_file = merged.contexts[name]
    where = f"context {name} in {ctx_file}"
    cluster_name = str(ctx.get("cluster") or "")
    if cluster_name not in merged.clusters:
        raise KubeconfigError(f"{where}: cluster {cluster_name!r} is not defined")
    cluster, cluster_file = merged.clusters[cluster_name]
    cwhere = f"cluster {cluster_name} in {cluster_file}"
    user_name = str(ctx.get("user") or "")
    user, user_file = merged.users.get(user_name, ({}, ctx_file))
    uwhere = f"user {user_name or '(none)'} in {user_file}"

    server = str(cluster.get("server") or "")
    if not server:
        raise KubeconfigError(f"{cwhere}: no server")
    if not server.startswith(("https://", "http://")):
        raise KubeconfigError(f"{cwhere}: server {server[:200]!r} is not an http(s) URL")
    ca_pem = _data_or_file(cluster, "certificate-authority", cluster_file, cwhere)
    insecure = bool(cluster.get("insecure-skip-tls-verify"))
    if insecure and ca_pem is not None:
        raise KubeconfigError(
            f"{cwhere}: certificate-authority and insecure-skip-tls-verify are both set "
            "(kubectl refuses this too: specifying a root certificate with the insecure "
            "flag is not allowed)"
        )
    proxy = str(cluster.get("proxy-url") or "") or None
    if proxy and not proxy.startswith(("http://", "https://")):
        raise KubeconfigError(
            f"{cwhere}: proxy-url {proxy.split('://')[0][:20]!r}:// is not supported "
            "(http:// and https:// proxies are; a SOCKS proxy is not)"
        )
    cert = _data_or_file(user, "client-certificate", user_file, uwhere)
    key = _data_or_file(user, "client-key", user_file, uwhere)
    if (cert is None) != (key is None):
        raise KubeconfigError(f"{uwhere}: a client certificate needs both a certificate and a key")
    token = str(user.get("token") or "") or None
    token_file = _path(user.get("tokenFile"), user_file)
    username = str(user.get("username") or "") or None
    password = str(user.get("password") or "") or None
    if (token or token_file) and username:
        raise KubeconfigError(
            f"{uwhere}: more than one authentication method (token and username/password)"
        )
    exec_spec = _exec_spec(user.get("exec"), user_file, uwhere)
    provider = user.get("auth-provider")
    provider_name = None
    if provider:
        provider_name = (
            str((provider or {}).get("name") or "") if isinstance(provider, dict) else ""
        )
        provider_name = provider_name or "(unnamed)"
        if exec_spec is not None:
            raise KubeconfigError(f"{uwhere}: exec and auth-provider are both set")
    return ResolvedContext(
        context=name,
        cluster=cluster_name,
        user=user_name,
        where=where,
        server=server.rstrip("/"),
        namespace=str(ctx.get("namespace") or "default"),
        ca_pem=ca_pem,
        insecure=insecure,
        tls_server_name=str(cluster.get("tls-server-name") or "") or None,
        proxy_url=proxy,
        client_cert_pem=cert,
        client_key_pem=key,
        token=token,
        token_file=token_file,
        username=username,
        password=password,
        exec=exec_spec,
        auth_provider=provider_name,
        impersonate=_impersonation(user, uwhere),
        cluster_extensions=_extensions(cluster),
    )


def _path(value: Any, origin: Path) -> Path | None:
    if not value:
        return None
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else origin.parent / path


def read_credential_file(path: Path, what: str) -> bytes:
    """A certificate, key or token file, bounded; the error names it (never its content)."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_CREDENTIAL_FILE_BYTES + 1)
    except OSError as exc:
        raise KubeconfigError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_CREDENTIAL_FILE_BYTES:
        raise KubeconfigError(f"{what}: {path} is larger than 1 MiB")
    return data


def _data_or_file(entry: Mapping[str, Any], key: str, origin: Path, where: str) -> bytes | None:
    """``key-data`` (base64, wins as in client-go) else the file ``key``, else None."""
    data = entry.get(f"{key}-data")
    if data:
        try:
            return base64.b64decode(str(data), validate=False)
        except (binascii.Error, ValueError):
            raise KubeconfigError(f"{where}: {key}-data is not valid base64") from None
    path = _path(entry.get(key), origin)
    if path is None:
        return None
    return read_credential_file(path, f"{where}: {key}")


def _exec_spec(raw: Any, origin: Path, where: str) -> ExecSpec | None:
    if not raw:
        return None
    if not isinstance(raw, dict):
        raise KubeconfigError(f"{where}: exec is not a mapping")
    command = str(raw.get("command") or "")
    if not command:
        raise KubeconfigError(f"{where}: exec has no command")
    if "/" in command and not os.path.isabs(command):
        command = str(origin.parent / command)  # client-go: relative to the kubeconfig
    api_version = str(raw.get("apiVersion") or "")
    if api_version not in EXEC_API_VERSIONS:
        raise KubeconfigError(
            f"{where}: exec apiVersion {api_version[:80]!r} is not supported "
            f"(supported: {', '.join(EXEC_API_VERSIONS)})"
        )
    mode = str(raw.get("interactiveMode") or "")
    if not mode:
        if api_version.endswith("/v1"):
            raise KubeconfigError(f"{where}: exec interactiveMode must be set for {api_version}")
        mode = "IfAvailable"
    if mode not in ("Never", "IfAvailable", "Always"):
        raise KubeconfigError(f"{where}: exec interactiveMode {mode[:40]!r} is not valid")
    env: list[tuple[str, str]] = []
    for item in raw.get("env") or []:
        if not isinstance(item, dict) or not item.get("name"):
            raise KubeconfigError(f"{where}: exec env entries need a name and a value")
        env.append((str(item["name"]), str(item.get("value") or "")))
    args = raw.get("args") or []
    if not isinstance(args, list):
        raise KubeconfigError(f"{where}: exec args is not a list")
    return ExecSpec(
        command=command,
        args=tuple(str(a) for a in args),
        env=tuple(env),
        api_version=api_version,
        install_hint=str(raw.get("installHint") or ""),
        provide_cluster_info=bool(raw.get("provideClusterInfo")),
        interactive_mode=mode,
        where=where,
    )


def _impersonation(user: Mapping[str, Any], where: str) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    who = user.get("as")
    if who:
        headers.append(("Impersonate-User", str(who)))
    for group in user.get("as-groups") or []:
        headers.append(("Impersonate-Group", str(group)))
    uid = user.get("as-uid")
    if uid:
        headers.append(("Impersonate-Uid", str(uid)))
    extra = user.get("as-user-extra") or {}
    if isinstance(extra, dict):
        for key, values in extra.items():
            for value in values if isinstance(values, list) else [values]:
                headers.append((f"Impersonate-Extra-{key}", str(value)))
    if headers and not who:
        raise KubeconfigError(f"{where}: as-groups/as-uid/as-user-extra need as (a user name)")
    for _, value in headers:
        if any(c in value for c in "\r\n\0"):
            raise KubeconfigError(f"{where}: an impersonation value holds a line break")
    return tuple(headers)


def _extensions(cluster: Mapping[str, Any]) -> Mapping[str, Any]:
    out: dict[str, Any] = {}
    for item in cluster.get("extensions") or []:
        if isinstance(item, dict) and item.get("name"):
            out[str(item["name"])] = item.get("extension")
    return out
