"""A real Argo CD beside the sandbox: its config objects and its processes on loopback.

``ArgoCDPeer.install`` puts into the cluster what Argo CD expects of its install
manifests: the namespace, the CRDs (server-side apply: they are too large for a
client-side apply), the ConfigMaps labelled ``app.kubernetes.io/part-of: argocd``
(the settings informer ignores unlabelled ones), an empty ``argocd-secret`` and
the ``default`` AppProject (the controller does not create it). ``start`` runs
redis, the repo server and the application controller (and optionally the API
server; ``start_appset_controller`` adds the ApplicationSet controller) as local processes of the one binary built by ``argocd_build``, the
component chosen by ``ARGOCD_BINARY_NAME``, each on free 127.0.0.1 ports, with
``ARGOCD_FAKE_IN_CLUSTER=true`` so the destination ``https://kubernetes.default.svc``
means the kubeconfig's cluster. Data paths that default to ``/app/config`` point
into the peer's directory. ``stop`` ends exactly the processes it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from gitops_tui.engine.source.tools import find_tool
from gitops_tui.sandbox.argocd_build import crds_dir
from gitops_tui.sandbox.controlplane import free_port
from gitops_tui.sandbox.toolchain import ToolError, require_tool

PART_OF = {"app.kubernetes.io/part-of": "argocd"}
CONFIG_MAPS = (
    "argocd-cm",
    "argocd-cmd-params-cm",
    "argocd-rbac-cm",
    "argocd-ssh-known-hosts-cm",
    "argocd-tls-certs-cm",
    "argocd-gpg-keys-cm",
)
KUBECTL_TIMEOUT_S = 120.0
START_TIMEOUT_S = 60.0


class PeerError(ToolError):
    """Argo CD could not be installed or started; the message says where to look."""

    title = "Argo CD peer"


def config_objects(namespace: str) -> list[dict[str, Any]]:
    """The namespace, ConfigMaps, Secret and default AppProject Argo CD needs."""
    docs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    ]
    for cm in CONFIG_MAPS:
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": cm, "namespace": namespace, "labels": dict(PART_OF)},
                "data": {},
            }
        )
    docs.append(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "argocd-secret", "namespace": namespace, "labels": dict(PART_OF)},
            "type": "Opaque",
        }
    )
    docs.append(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AppProject",
            "metadata": {"name": "default", "namespace": namespace},
            "spec": {
                "sourceRepos": ["*"],
                "destinations": [{"server": "*", "namespace": "*"}],
                "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
            },
        }
    )
    return docs


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class _Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int | None
    handle: IO[bytes] = field(repr=False)


class ArgoCDPeer:
    """Argo CD's redis, repo server, controller (and API server) against one kubeconfig."""

    def __init__(
        self,
        binary: Path,
        kubeconfig: Path,
        directory: Path,
        *,
        namespace: str = "argocd",
        persist_resource_health: bool = True,
        app_resync_s: int = 180,
        app_resync_jitter_s: int = 0,
        revision_cache_expiration_s: int | None = None,
        processors: tuple[int, int] | None = None,
    ) -> None:
        self.binary = binary
        self.kubeconfig = kubeconfig
        self.directory = directory
        self.namespace = namespace
        self.persist_resource_health = persist_resource_health
        self.app_resync_s = app_resync_s
        self.app_resync_jitter_s = app_resync_jitter_s
        # the repo server's cache of ref -> revision (Argo CD's default: 3 min, the
        # timeout.reconciliation of an install); None leaves Argo CD's default
        self.revision_cache_expiration_s = revision_cache_expiration_s
        # the controller's (status, operation) processors; None leaves Argo CD's 20, 10
        self.processors = processors
        self.procs: dict[str, _Proc] = {}
        self.redis_port = 0
        self.repo_port = 0
        self.server_port = 0

    # -- cluster objects --------------------------------------------------------------

    def _kubectl(self, *args: str, stdin: str | None = None) -> str:
        kubectl = require_tool("kubectl")
        try:
            proc = subprocess.run(
                [str(kubectl), "--kubeconfig", str(self.kubeconfig), *args],
                input=stdin,
                capture_output=True,
                text=True,
                timeout=KUBECTL_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise PeerError(f"kubectl {' '.join(args[:3])} timed out") from exc
        if proc.returncode != 0:
            raise PeerError(f"kubectl {' '.join(args[:3])} failed: {proc.stderr.strip()[-800:]}")
        return proc.stdout

    def install(self) -> None:
        """CRDs (server-side) and the config objects; idempotent."""
        crds = crds_dir()
        files = sorted(p for p in crds.glob("*-crd.yaml"))
        if not files:
            raise PeerError(f"no Argo CD CRDs in {crds}: build Argo CD first (make tools)")
        for path in files:
            self._kubectl("apply", "--server-side", "--force-conflicts", "-f", str(path))
        for crd in (
            "applications.argoproj.io",
            "appprojects.argoproj.io",
            "applicationsets.argoproj.io",
        ):
            self._established(crd)
        self._namespace_not_terminating()
        self._kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(config_objects(self.namespace)))

    def _namespace_not_terminating(self) -> None:
        """A previous ``uninstall`` deletes the namespace without waiting: objects cannot
        be created in it until it is gone, so wait for that (or for it to be Active)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            out = self._kubectl(
                "get", "namespace", self.namespace, "--ignore-not-found", "-o", "json"
            )
            phase = (json.loads(out).get("status") or {}).get("phase") if out.strip() else None
            if phase != "Terminating":
                return
            if time.monotonic() > deadline:
                raise PeerError(
                    f"namespace {self.namespace} still terminating after {START_TIMEOUT_S:.0f} s"
                )
            time.sleep(0.2)

    def _established(self, crd: str) -> None:
        # not `kubectl wait` (nor a jsonpath): both fail while a new CRD has no conditions
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            status = json.loads(self._kubectl("get", "crd", crd, "-o", "json")).get("status") or {}
            if any(
                c.get("type") == "Established" and c.get("status") == "True"
                for c in status.get("conditions") or []
            ):
                return
            if time.monotonic() > deadline:
                raise PeerError(f"CRD {crd} not Established after {START_TIMEOUT_S:.0f} s")
            time.sleep(0.2)

    def uninstall(self) -> None:
        """Delete the CRDs (with every Application/AppProject) and the namespace."""
        for path in sorted(crds_dir().glob("*-crd.yaml")):
            with contextlib.suppress(PeerError):
                self._kubectl("delete", "--ignore-not-found", "--wait=true", "-f", str(path))
        with contextlib.suppress(PeerError):
            self._kubectl(
                "delete", "namespace", self.namespace, "--ignore-not-found", "--wait=false"
            )

    # -- processes --------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        data = self.directory / "data"
        paths = {
            "ARGOCD_TLS_DATA_PATH": data / "tls",
            "ARGOCD_SSH_DATA_PATH": data / "ssh",
            "ARGOCD_GNUPGHOME": data / "gnupg",
            "ARGOCD_GPG_DATA_PATH": data / "gpg",
            "TMPDIR": data / "tmp",
        }
        for path in paths.values():
            path.mkdir(parents=True, exist_ok=True)
        (data / "ssh" / "ssh_known_hosts").touch()
        env = dict(os.environ)
        env.update({k: str(v) for k, v in paths.items()})
        tool_dirs = [str(p.parent) for p in (find_tool("helm"), find_tool("kustomize")) if p]
        env["PATH"] = os.pathsep.join([*dict.fromkeys(tool_dirs), env.get("PATH", "")])
        env.update(
            KUBECONFIG=str(self.kubeconfig),
            ARGOCD_FAKE_IN_CLUSTER="true",
            ARGOCD_GPG_ENABLED="false",
            HOME=str(data),
        )
        env.pop("ARGOCD_BINARY_NAME", None)
        return env

    def _spawn(self, name: str, argv: list[str], env: dict[str, str], port: int | None) -> None:
        logs = self.directory / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"{name}.log"
        handle = log.open("ab")
        popen = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = _Proc(name, popen, log, port, handle)

    def _wait_port(self, name: str, port: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        proc = self.procs[name]
        while time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                raise PeerError(
                    f"{name} exited with {proc.popen.returncode}: {self.log_tail(name)}"
                )
            if _port_open(port):
                return
            time.sleep(0.1)
        raise PeerError(f"{name} did not listen on 127.0.0.1:{port} in {START_TIMEOUT_S:.0f} s")

    def _component(self, binary_name: str, env: dict[str, str]) -> dict[str, str]:
        return {**env, "ARGOCD_BINARY_NAME": binary_name}

    def start(self, *, api_server: bool = False) -> None:
        redis = shutil.which("redis-server")
        if redis is None:
            raise PeerError(
                "redis-server not found: install the Debian package redis-server "
                "(make test-deps does as root)"
            )
        env = self._env()
        self.redis_port = free_port()
        self._spawn(
            "redis",
            [
                redis,
                "--save",
                "",
                "--appendonly",
                "no",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.redis_port),
                "--dir",
                str(self.directory),
            ],
            env,
            self.redis_port,
        )
        self._wait_port("redis", self.redis_port)
        redis_addr = f"127.0.0.1:{self.redis_port}"
        self.repo_port = free_port()
        self._spawn(
            "repo-server",
            [
                str(self.binary),
                "--address",
                "127.0.0.1",
                "--port",
                str(self.repo_port),
                "--metrics-address",
                "127.0.0.1",
                "--metrics-port",
                str(free_port()),
                "--redis",
                redis_addr,
                "--loglevel",
                "info",
                *(
                    ["--revision-cache-expiration", f"{self.revision_cache_expiration_s}s"]
                    if self.revision_cache_expiration_s is not None
                    else []
                ),
            ],
            self._component("argocd-repo-server", env),
            self.repo_port,
        )
        self._wait_port("repo-server", self.repo_port)
        self.start_controller()
        if api_server:
            self.start_server()

    def start_server(
        self, *, disable_auth: bool = True, port: int | None = None, tls: bool = False
    ) -> None:
        """The API server on loopback, plain HTTP (``--insecure``) unless ``tls`` (then its
        self-signed certificate); ``port`` reuses a port (a restart). With auth, accounts
        and tokens are the test's (``argocd-cm``)."""
        self.server_port = port or self.server_port or free_port()
        argv = [
            str(self.binary),
            "--namespace", self.namespace,
            "--address", "127.0.0.1",
            "--port", str(self.server_port),
            "--metrics-address", "127.0.0.1",
            "--metrics-port", str(free_port()),
            "--redis", f"127.0.0.1:{self.redis_port}",
            "--repo-server", f"127.0.0.1:{self.repo_port}",
            "--loglevel", "info",
        ]  # fmt: skip
        if not tls:
            argv.append("--insecure")
        if disable_auth:
            argv.append("--disable-auth")
        self._spawn("server", argv, self._component("argocd-server", self._env()), self.server_port)
        self._wait_port("server", self.server_port)

    def start_controller(self) -> None:
        metrics = free_port()
        argv = [
            str(self.binary),
            "--namespace", self.namespace,
            "--redis", f"127.0.0.1:{self.redis_port}",
            "--repo-server", f"127.0.0.1:{self.repo_port}",
            "--metrics-port", str(metrics),
            "--app-resync", str(self.app_resync_s),
            "--app-resync-jitter", str(self.app_resync_jitter_s),
            "--self-heal-timeout-seconds", "2",
            "--loglevel", "info",
        ]  # fmt: skip
        if self.persist_resource_health:
            argv.append("--persist-resource-health")
        if self.processors is not None:
            status, operation = self.processors
            argv += [f"--status-processors={status}", f"--operation-processors={operation}"]
        self._spawn(
            "controller",
            argv,
            self._component("argocd-application-controller", self._env()),
            metrics,
        )
        self._wait_port("controller", metrics)

    def start_appset_controller(self, *, policy: str = "") -> None:
        """Argo CD's ApplicationSet controller (optional: ``start`` does not run it): it
        watches ApplicationSets in the namespace and writes their Applications; git
        generators ask the repo server started by ``start``. ``policy`` overrides every
        set's ``applicationsSync`` (``--policy``; empty: each set's own)."""
        probe = free_port()
        argv = [
            str(self.binary),
            "--namespace", self.namespace,
            "--argocd-repo-server", f"127.0.0.1:{self.repo_port}",
            "--metrics-addr", f"127.0.0.1:{free_port()}",
            "--probe-addr", f"127.0.0.1:{probe}",
            "--webhook-addr", f"127.0.0.1:{free_port()}",
            "--enable-leader-election=false",
            "--logformat", "text",
            "--loglevel", "info",
        ]  # fmt: skip
        if policy:
            argv += ["--policy", policy]
        self._spawn(
            "appset-controller",
            argv,
            self._component("argocd-applicationset-controller", self._env()),
            probe,
        )
        self._wait_port("appset-controller", probe)

    def alive(self, name: str) -> bool:
        proc = self.procs.get(name)
        return proc is not None and proc.popen.poll() is None

    def log_tail(self, name: str, lines: int = 20) -> str:
        proc = self.procs.get(name)
        if proc is None:
            return ""
        try:
            data = proc.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(data[-lines:])

    @contextlib.contextmanager
    def paused(self, name: str) -> Iterator[None]:
        """``name``'s processes stopped (SIGSTOP) for the block, then continued: a
        test can make a write land while that component is not looking."""
        proc = self.procs[name]
        os.killpg(proc.popen.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.popen.pid, signal.SIGCONT)

    def stop_one(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        if proc.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.popen.pid, signal.SIGTERM)
            try:
                proc.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait(timeout=10)
        proc.handle.close()

    def stop(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop_one(name)
