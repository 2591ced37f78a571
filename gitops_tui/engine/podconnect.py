"""Shelling into a container and forwarding a port: what ``kubectl`` is told, checked.

The console hands the terminal to ``kubectl exec -it`` and runs ``kubectl
port-forward`` in the background; the engine does neither (it speaks HTTP to the
API server and has no terminal). What it gives a front end is a ``PodConnection``:
the kubeconfig and context of the app's destination cluster, the pod, and its
containers with their ports, read from the cluster.

Trust: pod, namespace and container names come from the cluster (not trusted).
Each is checked to be the DNS name Kubernetes requires before it goes on a
command line, and goes there as ``--flag=value`` (the pod, a positional, is a
checked DNS name, so it cannot start with ``-``); ``--`` precedes the command of
an exec. The command is the operator's (trusted), split with ``shlex`` and run
without a shell; the kubeconfig path and context name are the operator's too and
go as ``--kubeconfig=`` / ``--context=``. Ports are integers in 1..65535.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from gitops_tui.engine.errors import EngineError
from gitops_tui.engine.model import Manifest
from gitops_tui.engine.podlogs import default_container

MAX_COMMAND_CHARS = 4_096
MAX_PORTS = 32
"""Most container ports offered per container."""

_LABEL = r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?"
DNS_LABEL = re.compile(_LABEL)
DNS_SUBDOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


def check_label(what: str, value: str) -> str:
    """``value`` if it is a DNS label (RFC 1123: namespaces, container names)."""
    if not DNS_LABEL.fullmatch(value):
        raise EngineError(f"{what} {value[:80]!r} is not a valid DNS label: refused")
    return value


def check_subdomain(what: str, value: str) -> str:
    """``value`` if it is a DNS subdomain (RFC 1123, at most 253 characters: pod names)."""
    if len(value) > 253 or not DNS_SUBDOMAIN.fullmatch(value):
        raise EngineError(f"{what} {value[:80]!r} is not a valid DNS name: refused")
    return value


def check_port(what: str, port: int) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise EngineError(f"{what} must be a number between 1 and 65535, not {port!r}")
    return port


def split_command(command: str) -> list[str]:
    """The operator's command line, split as a POSIX shell would (never run by one)."""
    if len(command) > MAX_COMMAND_CHARS:
        raise EngineError(f"the command is longer than {MAX_COMMAND_CHARS} characters")
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise EngineError(f"cannot split the command: {exc}") from None
    if not argv:
        raise EngineError("no command given (e.g. sh)")
    return argv


@dataclass(frozen=True, slots=True)
class ContainerPorts:
    name: str
    ports: tuple[int, ...]
    """Its declared TCP ``containerPort``s."""


@dataclass(frozen=True, slots=True)
class PodConnection:
    """How ``kubectl`` reaches one pod of an app's destination cluster."""

    kubeconfig: str | None
    """``--kubeconfig``; None: kubectl's own default ($KUBECONFIG, ~/.kube/config), as ours."""
    context: str
    namespace: str
    pod: str
    containers: tuple[ContainerPorts, ...]
    default_container: str | None

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.pod}"

    def ports(self, container: str | None = None) -> list[int]:
        """The declared ports of ``container`` (default: of every container)."""
        found: list[int] = []
        for c in self.containers:
            if container is None or c.name == container:
                found.extend(p for p in c.ports if p not in found)
        return found

    def _base(self, kubectl: str) -> list[str]:
        argv = [kubectl]
        if self.kubeconfig:
            argv.append(f"--kubeconfig={self.kubeconfig}")
        argv.append(f"--context={self.context}")
        return argv

    def exec_argv(self, kubectl: str, container: str, command: str) -> list[str]:
        """``kubectl exec -it`` of ``command`` in ``container``: checked names, ``--``
        before the operator's command (split, never given to a shell)."""
        check_label("namespace", self.namespace)
        check_subdomain("pod name", self.pod)
        check_label("container name", container)
        if container not in {c.name for c in self.containers}:
            raise EngineError(f"{self.label} has no container {container!r}")
        return [
            *self._base(kubectl),
            "exec",
            "--stdin",
            "--tty",
            f"--namespace={self.namespace}",
            f"--container={container}",
            self.pod,
            "--",
            *split_command(command),
        ]

    def port_forward_argv(self, kubectl: str, local: int, remote: int) -> list[str]:
        """``kubectl port-forward`` of loopback ``local`` to the pod's ``remote`` port."""
        check_label("namespace", self.namespace)
        check_subdomain("pod name", self.pod)
        check_port("the local port", local)
        check_port("the pod's port", remote)
        return [
            *self._base(kubectl),
            "port-forward",
            f"--namespace={self.namespace}",
            "--address=127.0.0.1",
            "--",
            f"pod/{self.pod}",
            f"{local}:{remote}",
        ]


def containers_with_ports(pod: Manifest) -> tuple[ContainerPorts, ...]:
    """The pod's (regular) containers and their declared TCP ports; names that are not
    DNS labels are left out (they cannot be asked for safely)."""
    spec = pod.get("spec") if isinstance(pod.get("spec"), dict) else {}
    items = spec.get("containers") if isinstance(spec, dict) else None
    found: list[ContainerPorts] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        name = item.get("name")
        if not isinstance(name, str) or not DNS_LABEL.fullmatch(name):
            continue
        ports: list[int] = []
        raw = item.get("ports")
        for port in raw if isinstance(raw, list) else []:
            if not isinstance(port, dict) or port.get("protocol", "TCP") != "TCP":
                continue
            number = port.get("containerPort")
            if not isinstance(number, int) or isinstance(number, bool):
                continue
            if 0 < number < 65536 and number not in ports and len(ports) < MAX_PORTS:
                ports.append(number)
        found.append(ContainerPorts(name, tuple(ports)))
    return tuple(found)


def pod_connection_from(
    manifest: Manifest, *, kubeconfig: str | None, context: str, namespace: str, pod: str
) -> PodConnection:
    containers = containers_with_ports(manifest)
    default = default_container(manifest)
    if default not in {c.name for c in containers}:
        default = containers[0].name if containers else None
    return PodConnection(
        kubeconfig=kubeconfig,
        context=context,
        namespace=check_label("namespace", namespace),
        pod=check_subdomain("pod name", pod),
        containers=containers,
        default_container=default,
    )
