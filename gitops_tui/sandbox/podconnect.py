"""``kubectl exec`` and ``kubectl port-forward`` on the sandbox's simulated nodes.

kube-apiserver proxies ``pods/exec`` and ``pods/portforward`` to the node's kubelet
API, kwok's server, as it does ``pods/log`` (``sandbox/podlogs.py``). kwok v0.7
answers them from two more objects of its ``--config``:

- ``ClusterExec``: every container of every pod runs the command *locally*, as
  the user running kwok, in ``pod-exec/`` of the sandbox directory (kwok has no
  containers: ``kubectl exec POD -- echo hi`` runs ``echo hi`` on this machine).
  Only the sandbox's admin can reach it (kube-apiserver on loopback, client
  certificates); it is a test fixture, never part of the console.
- ``ClusterPortForward``: every port of every pod is tunnelled to one loopback
  address, ``127.0.0.1:<forward-target>`` (a port reserved when the sandbox
  starts, recorded in its state as ``ports["forward-target"]``); a test listens
  there and sees what came through ``kubectl port-forward``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXEC_DIR = "pod-exec"
FORWARD_TARGET = "forward-target"
"""The name of the reserved port in the sandbox state's ``ports``."""


def connect_docs(directory: Path, forward_port: int) -> list[dict[str, Any]]:
    """The ``ClusterExec`` and ``ClusterPortForward`` objects of kwok's config."""
    workdir = directory / EXEC_DIR
    workdir.mkdir(parents=True, exist_ok=True)
    return [
        {
            "apiVersion": "kwok.x-k8s.io/v1alpha1",
            "kind": "ClusterExec",
            "metadata": {"name": "sandbox-pod-exec"},
            "spec": {"selector": {}, "execs": [{"local": {"workDir": str(workdir)}}]},
        },
        {
            "apiVersion": "kwok.x-k8s.io/v1alpha1",
            "kind": "ClusterPortForward",
            "metadata": {"name": "sandbox-pod-forward"},
            "spec": {
                "selector": {},
                "forwards": [{"target": {"address": "127.0.0.1", "port": forward_port}}],
            },
        },
    ]


def forward_target_port(directory: Path) -> int:
    """The loopback port every pod port of the sandbox forwards to (from its state)."""
    from gitops_tui.sandbox.controlplane import STATE_FILE

    state = json.loads((directory / STATE_FILE).read_text())
    return int(state["ports"][FORWARD_TARGET])
