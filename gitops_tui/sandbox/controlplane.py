"""A real local Kubernetes control plane, supervised from Python.

etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok run as
detached processes on free 127.0.0.1 ports, with certificates generated for this
sandbox only. Everything (state, certs, kubeconfigs, logs, audit log, etcd data)
lives in one directory, so two sandboxes in two directories run side by side,
and a later process (``gitops-tui sandbox status|down``) finds a running one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitops_tui.engine.errors import GitOpsError
from gitops_tui.sandbox import pki, podconnect, podlogs
from gitops_tui.sandbox.toolchain import SANDBOX_TOOLS, require_tool

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
STATE_FILE = "sandbox.json"
AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived"],
    "rules": [{"level": "Metadata"}],
}
NODE_ALLOCATABLE = {"cpu": "64", "memory": "512Gi", "pods": "2000"}
KUBELET_CLIENT = "kube-apiserver-kubelet-client"


class SandboxError(GitOpsError, RuntimeError):
    """The sandbox could not be started or reached; the message says why."""

    title = "Sandbox error"


@dataclass(frozen=True)
class ComponentState:
    name: str
    pid: int
    argv: tuple[str, ...]
    alive: bool


@dataclass(frozen=True)
class SandboxStatus:
    directory: Path
    server: str
    kubeconfig: Path
    context: str
    components: tuple[ComponentState, ...]
    ready: bool

    @property
    def running(self) -> bool:
        return bool(self.components) and all(c.alive for c in self.components)

    def describe(self) -> str:
        lines = [f"sandbox {self.directory}  server {self.server}  context {self.context}"]
        for comp in self.components:
            lines.append(
                f"  {comp.name:<24} pid {comp.pid:<8} {'running' if comp.alive else 'STOPPED'}"
            )
        lines.append(f"  ready: {'yes' if self.ready else 'no'}")
        lines.append(f"export KUBECONFIG={self.kubeconfig}")
        return "\n".join(lines)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pid_alive(pid: int) -> bool:
    """True for a live (not zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


class Sandbox:
    """One sandbox directory: start, inspect, stop, and restart single components."""

    def __init__(self, directory: Path, *, name: str | None = None) -> None:
        self.directory = directory.expanduser().resolve()
        self.name = name or "sandbox-" + "".join(
            ch if ch.isalnum() else "-" for ch in self.directory.name.lower()
        ).strip("-")

    # -- paths -----------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return self.directory / STATE_FILE

    @property
    def kubeconfig(self) -> Path:
        return self.directory / "kubeconfig"

    @property
    def audit_log(self) -> Path:
        return self.directory / "audit.log"

    @property
    def logs_dir(self) -> Path:
        return self.directory / "logs"

    @property
    def pki_dir(self) -> Path:
        return self.directory / "pki"

    def log_path(self, component: str) -> Path:
        return self.logs_dir / f"{component}.log"

    # -- state -----------------------------------------------------------
    def _load_state(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _save_state(self, state: dict[str, Any]) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.state_path)

    def status(self) -> SandboxStatus | None:
        state = self._load_state()
        if state is None:
            return None
        comps = tuple(
            ComponentState(
                name=name,
                pid=int(info["pid"]),
                argv=tuple(info["argv"]),
                alive=pid_alive(int(info["pid"])),
            )
            for name, info in state["components"].items()
        )
        server = str(state["server"])
        ready = all(c.alive for c in comps) and self._readyz(server)
        return SandboxStatus(
            directory=self.directory,
            server=server,
            kubeconfig=self.kubeconfig,
            context=str(state.get("context", self.name)),
            components=comps,
            ready=ready,
        )

    # -- HTTP to the API server with the admin cert ------------------------
    def _ssl_context(self) -> ssl.SSLContext:
        files = pki.PkiFiles.in_dir(self.pki_dir)
        ctx = ssl.create_default_context(cafile=str(files.ca_cert))
        ctx.load_cert_chain(str(files.admin_cert), str(files.admin_key))
        return ctx

    def api(self, method: str, path: str, body: Any = None, *, timeout: float = 10.0) -> Any:
        state = self._load_state()
        if state is None:
            raise SandboxError(f"no sandbox in {self.directory}")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            state["server"] + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout, context=self._ssl_context()) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def _readyz(self, server: str) -> bool:
        try:
            req = urllib.request.Request(server + "/readyz")
            with urllib.request.urlopen(req, timeout=3, context=self._ssl_context()) as resp:
                return bool(resp.status == 200)
        except (OSError, ssl.SSLError, urllib.error.URLError):
            return False

    def metrics(self) -> str:
        """The API server's Prometheus metrics text (admin credentials)."""
        state = self._load_state()
        if state is None:
            raise SandboxError(f"no sandbox in {self.directory}")
        req = urllib.request.Request(state["server"] + "/metrics")
        with urllib.request.urlopen(req, timeout=10, context=self._ssl_context()) as resp:
            return str(resp.read().decode())

    # -- lifecycle -------------------------------------------------------
    def up(self, *, nodes: int = 1, timeout: float = 120.0) -> SandboxStatus:
        """Start the sandbox, or return the running one. Raises SandboxError on failure."""
        current = self.status()
        if current is not None and current.running:
            return current
        if current is not None:
            self.down()
        binaries = {name: str(require_tool(name)) for name in SANDBOX_TOOLS}
        self._prepare_dir()
        files = pki.generate(self.pki_dir)
        ports = {
            "etcd": free_port(),
            "etcd-peer": free_port(),
            "apiserver": free_port(),
            "kwok": free_port(),  # kwok's kubelet API: container logs (sandbox/podlogs.py)
            # where every pod port forwards to (sandbox/podconnect.py); a test listens there
            podconnect.FORWARD_TARGET: free_port(),
        }
        server = f"https://127.0.0.1:{ports['apiserver']}"
        identities = {
            "admin": (files.admin_cert, files.admin_key),
            "kube-controller-manager": pki.issue_client_cert(
                files, "system:kube-controller-manager", (), self.pki_dir
            ),
            "kube-scheduler": pki.issue_client_cert(
                files, "system:kube-scheduler", (), self.pki_dir
            ),
            "kwok": pki.issue_client_cert(files, "kwok", ("system:masters",), self.pki_dir),
        }
        # kube-apiserver's identity towards the nodes' kubelet API (kwok's server)
        pki.issue_client_cert(files, KUBELET_CLIENT, ("system:masters",), self.pki_dir)
        for ident, (cert, key) in identities.items():
            path = self.kubeconfig if ident == "admin" else self.pki_dir / f"{ident}.kubeconfig"
            write_kubeconfig(
                path, server=server, ca=files.ca_cert, cert=cert, key=key, context=self.name
            )
        (self.directory / "audit-policy.yaml").write_text(yaml.safe_dump(AUDIT_POLICY))
        podlogs.write_kwok_config(
            self.directory,
            podconnect.connect_docs(self.directory, ports[podconnect.FORWARD_TARGET]),
        )
        argvs = self._argvs(binaries, files, ports)
        state: dict[str, Any] = {
            "server": server,
            "context": self.name,
            "ports": ports,
            "components": {},
        }
        try:
            for name in COMPONENTS:
                pid = self._spawn(name, argvs[name])
                state["components"][name] = {"pid": pid, "argv": argvs[name]}
                self._save_state(state)
                if name == "etcd":
                    self._wait_port(ports["etcd"], "etcd", timeout)
                elif name == "kube-apiserver":
                    self._wait_ready(server, timeout)
            self._register_nodes(nodes, ports["kwok"])
            self._wait_cluster_usable(timeout)
        except BaseException:
            logs = self.log_tails()
            self.down()
            if isinstance(logs, str):
                raise SandboxError(f"sandbox did not start:\n{logs}") from None
            raise
        status = self.status()
        assert status is not None
        return status

    def _prepare_dir(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for stale in ("etcd-data", "pki"):
            shutil.rmtree(self.directory / stale, ignore_errors=True)
        self.logs_dir.mkdir(exist_ok=True)
        for log in self.logs_dir.glob("*.log"):
            log.unlink()
        self.audit_log.unlink(missing_ok=True)

    def _argvs(
        self, bins: dict[str, str], files: pki.PkiFiles, ports: dict[str, int]
    ) -> dict[str, list[str]]:
        etcd_url = f"http://127.0.0.1:{ports['etcd']}"
        peer_url = f"http://127.0.0.1:{ports['etcd-peer']}"
        return {
            "etcd": [
                bins["etcd"],
                "--name=default",
                f"--data-dir={self.directory / 'etcd-data'}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=default={peer_url}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
            "kube-apiserver": [
                bins["kube-apiserver"],
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={ports['apiserver']}",
                f"--cert-dir={self.pki_dir}",
                f"--tls-cert-file={files.serving_cert}",
                f"--tls-private-key-file={files.serving_key}",
                f"--client-ca-file={files.ca_cert}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={files.sa_pub}",
                f"--service-account-signing-key-file={files.sa_key}",
                "--service-cluster-ip-range=10.96.0.0/16",
                "--authorization-mode=Node,RBAC",
                "--allow-privileged=true",
                f"--audit-policy-file={self.directory / 'audit-policy.yaml'}",
                f"--audit-log-path={self.audit_log}",
                "--audit-log-format=json",
                "--audit-log-maxsize=0",
                "--profiling=false",
                # The loopback address cannot be an Endpoints IP: skip that reconciler.
                "--endpoint-reconciler-type=none",
                # pods/log is proxied to the node's kubelet API: kwok's server (podlogs.py)
                f"--kubelet-client-certificate={self.pki_dir / (KUBELET_CLIENT + '.crt')}",
                f"--kubelet-client-key={self.pki_dir / (KUBELET_CLIENT + '.key')}",
                f"--kubelet-certificate-authority={files.ca_cert}",
                "--kubelet-preferred-address-types=InternalIP",
            ],
            "kube-controller-manager": [
                bins["kube-controller-manager"],
                f"--kubeconfig={self.pki_dir / 'kube-controller-manager.kubeconfig'}",
                f"--authentication-kubeconfig={self.pki_dir / 'kube-controller-manager.kubeconfig'}",
                f"--authorization-kubeconfig={self.pki_dir / 'kube-controller-manager.kubeconfig'}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                "--secure-port=0",
                f"--service-account-private-key-file={files.sa_key}",
                f"--root-ca-file={files.ca_cert}",
                "--use-service-account-credentials=true",
                f"--cluster-signing-cert-file={files.ca_cert}",
                f"--cluster-signing-key-file={files.ca_key}",
                # kwok renews node leases from this same machine: on a loaded machine a
                # late heartbeat must not mark every node NotReady and every Pod unready
                "--node-monitor-grace-period=1h",
            ],
            "kube-scheduler": [
                bins["kube-scheduler"],
                f"--kubeconfig={self.pki_dir / 'kube-scheduler.kubeconfig'}",
                f"--authentication-kubeconfig={self.pki_dir / 'kube-scheduler.kubeconfig'}",
                f"--authorization-kubeconfig={self.pki_dir / 'kube-scheduler.kubeconfig'}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                "--secure-port=0",
            ],
            "kwok": [
                bins["kwok"],
                f"--kubeconfig={self.pki_dir / 'kwok.kubeconfig'}",
                f"--config={self.directory / podlogs.KWOK_CONFIG}",
                "--manage-all-nodes=true",
                "--node-ip=127.0.0.1",
                f"--node-port={ports['kwok']}",
                f"--server-address=127.0.0.1:{ports['kwok']}",
                f"--tls-cert-file={files.serving_cert}",
                f"--tls-private-key-file={files.serving_key}",
            ],
        }

    def _spawn(self, name: str, argv: list[str]) -> int:
        log = self.log_path(name).open("ab")
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.directory,
                close_fds=True,
            )
        finally:
            log.close()
        return proc.pid

    def _wait_port(self, port: int, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
                return
            self._check_alive()
            time.sleep(0.1)
        raise SandboxError(f"{what} did not open port {port} within {timeout:.0f} s")

    def _wait_ready(self, server: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._readyz(server):
                return
            self._check_alive()
            time.sleep(0.25)
        raise SandboxError(f"kube-apiserver not ready at {server}/readyz within {timeout:.0f} s")

    def _check_alive(self) -> None:
        state = self._load_state() or {"components": {}}
        for name, info in state["components"].items():
            if not pid_alive(int(info["pid"])):
                raise SandboxError(f"{name} exited; see {self.log_path(name)}")

    def _register_nodes(self, count: int, kubelet_port: int) -> None:
        for index in range(count):
            name = f"kwok-node-{index}"
            node = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "annotations": {
                        "kwok.x-k8s.io/node": "fake",
                        "node.alpha.kubernetes.io/ttl": "0",
                    },
                    "labels": {
                        "kubernetes.io/hostname": name,
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        "type": "kwok",
                    },
                },
                "status": {
                    # where kube-apiserver reaches the node's kubelet API (kwok's server)
                    "addresses": [
                        {"type": "InternalIP", "address": "127.0.0.1"},
                        {"type": "Hostname", "address": name},
                    ],
                    "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet_port}},
                    "allocatable": NODE_ALLOCATABLE,
                    "capacity": NODE_ALLOCATABLE,
                    "nodeInfo": {
                        "architecture": "amd64",
                        "operatingSystem": "linux",
                        "kubeletVersion": "kwok",
                    },
                },
            }
            try:
                self.api("POST", "/api/v1/nodes", node)
            except urllib.error.HTTPError as exc:
                if exc.code != 409:
                    raise SandboxError(f"could not register node {name}: HTTP {exc.code}") from exc

    def _wait_cluster_usable(self, timeout: float) -> None:
        """Nodes Ready (kwok) and the default ServiceAccount exists (controller-manager)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
                nodes = self.api("GET", "/api/v1/nodes")["items"]
                ready = nodes and all(
                    any(
                        c["type"] == "Ready" and c["status"] == "True"
                        for c in n["status"].get("conditions", [])
                    )
                    for n in nodes
                )
                if ready:
                    self.api("GET", "/api/v1/namespaces/default/serviceaccounts/default")
                    return
            time.sleep(0.25)
        raise SandboxError(
            f"the sandbox did not become usable within {timeout:.0f} s "
            "(nodes Ready from kwok, default ServiceAccount from kube-controller-manager)"
        )

    def down(self, *, timeout: float = 5.0) -> list[str]:
        """Stop every component (SIGTERM, then SIGKILL after ``timeout``); return those stopped.

        A throwaway control plane has nothing to drain, so the grace period is short.
        """
        state = self._load_state()
        if state is None:
            return []
        pids = {name: int(info["pid"]) for name, info in state["components"].items()}
        running = [name for name, pid in pids.items() if pid_alive(pid)]
        for name in running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pids[name], signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name in running:
            if not _wait_dead(pids[name], max(0.0, deadline - time.monotonic())):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pids[name], signal.SIGKILL)
                _wait_dead(pids[name], 5.0)
        for pid in pids.values():
            _reap(pid)
        self.state_path.unlink(missing_ok=True)
        return list(reversed(running))

    def stop_component(self, name: str, *, sig: int = signal.SIGTERM, timeout: float = 5.0) -> None:
        """Stop one component (for fault tests); ``start_component`` brings it back."""
        state = self._load_state()
        if state is None:
            raise SandboxError(f"no sandbox in {self.directory}")
        pid = int(state["components"][name]["pid"])
        if sig == signal.SIGKILL:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _wait_dead(pid, timeout)
        else:
            _terminate(pid, timeout)

    def start_component(self, name: str, *, timeout: float = 60.0) -> None:
        state = self._load_state()
        if state is None:
            raise SandboxError(f"no sandbox in {self.directory}")
        argv = list(state["components"][name]["argv"])
        state["components"][name]["pid"] = self._spawn(name, argv)
        self._save_state(state)
        if name == "etcd":
            self._wait_port(int(state["ports"]["etcd"]), "etcd", timeout)
        elif name == "kube-apiserver":
            self._wait_ready(str(state["server"]), timeout)

    def log_tails(self, lines: int = 20) -> str:
        parts = []
        for name in COMPONENTS:
            path = self.log_path(name)
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path} (last {len(tail)} lines)\n" + "\n".join(tail))
        return "\n".join(parts)


def _wait_dead(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def _terminate(pid: int, timeout: float) -> bool:
    """SIGTERM, then SIGKILL after ``timeout``; True if the process was running."""
    if not pid_alive(pid):
        _reap(pid)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if not _wait_dead(pid, timeout):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _wait_dead(pid, 5.0)
    return True


def write_kubeconfig(
    path: Path, *, server: str, ca: Path, cert: Path, key: Path, context: str
) -> None:
    """A self-contained kubeconfig (certificates embedded) for one user of the sandbox."""
    import base64

    def b64(p: Path) -> str:
        return base64.b64encode(p.read_bytes()).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": context, "cluster": {"server": server, "certificate-authority-data": b64(ca)}}
        ],
        "users": [
            {
                "name": f"{context}-user",
                "user": {"client-certificate-data": b64(cert), "client-key-data": b64(key)},
            }
        ],
        "contexts": [
            {
                "name": context,
                "context": {"cluster": context, "user": f"{context}-user", "namespace": "default"},
            }
        ],
        "current-context": context,
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
