"""Container logs on the sandbox's simulated nodes, served through the real API server.

kwok runs its kubelet-like server on a loopback port (``--server-address``, TLS with
the sandbox's serving certificate); the nodes advertise it (``InternalIP`` 127.0.0.1
and ``daemonEndpoints.kubeletEndpoint.Port``), and kube-apiserver proxies
``/api/v1/namespaces/<ns>/pods/<pod>/log`` to it with its kubelet client
certificate, as it does for a real kubelet. kwok answers from the files named by a
``ClusterLogs`` object in its ``--config``: every container of every pod reads
``pod-logs/current.log`` (``previous.log`` for ``--previous``) in the sandbox
directory. The files are in the CRI log format (``<RFC 3339 time> <stream> F <text>``,
what kwok's reader, the kubelet's own, parses), so ``tailLines``, ``sinceSeconds``
and ``follow`` behave as on a real node: :func:`append_pod_log` writes such lines.

The kwok server listens on 127.0.0.1 only and asks no client certificate; besides these
files it serves exec and port-forward as ``sandbox/podconnect.py`` configures them
(no attach).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

LOGS_DIR = "pod-logs"
CURRENT = "current.log"
PREVIOUS = "previous.log"
KWOK_CONFIG = "kwok.yaml"


def log_file(directory: Path, *, previous: bool = False) -> Path:
    """The file every simulated container's log (``previous``: last run's log) is read from."""
    return directory / LOGS_DIR / (PREVIOUS if previous else CURRENT)


def write_kwok_config(directory: Path, extra: list[dict[str, Any]] | None = None) -> Path:
    """kwok's ``--config``: one ``ClusterLogs`` for every pod (then the ``extra``
    objects: ``podconnect.connect_docs``); fresh, empty log files.

    An explicit config also keeps a user's ``~/.kwok/kwok.yaml`` out of the sandbox;
    with no ``Stage`` in it, kwok v0.7 uses its built-in node and pod stages.
    """
    (directory / LOGS_DIR).mkdir(parents=True, exist_ok=True)
    for previous in (False, True):
        log_file(directory, previous=previous).write_bytes(b"")
    config = {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "ClusterLogs",
        "metadata": {"name": "sandbox-pod-logs"},
        "spec": {
            "selector": {},
            "logs": [
                {
                    "logsFile": str(log_file(directory)),
                    "previousLogsFile": str(log_file(directory, previous=True)),
                    "follow": True,
                }
            ],
        },
    }
    path = directory / KWOK_CONFIG
    path.write_text(yaml.safe_dump_all([config, *(extra or [])], sort_keys=False))
    return path


def append_pod_log(
    directory: Path,
    lines: list[str] | list[bytes],
    *,
    previous: bool = False,
    at: dt.datetime | None = None,
) -> None:
    """Append ``lines`` to the simulated containers' log (in one write: followers see them
    together). ``bytes`` lines are written as they are after the CRI prefix."""
    when = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.%f000Z").encode()
    data = b"".join(
        stamp + b" stdout F " + (line if isinstance(line, bytes) else line.encode()) + b"\n"
        for line in lines
    )
    with log_file(directory, previous=previous).open("ab") as out:
        out.write(data)
