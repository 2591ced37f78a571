"""Scenario "appset": preview and apply of an ApplicationSet generating one app per fleet directory.

One ``ApplicationSet`` with a git directories generator over the fleet repository
(``apps/*``: N directories, N apps; 1,000 by default), run as the operator would:
``gitops-tui appset preview FILE -o json`` (local: generate, compare with the
existing Applications, print), then ``gitops-tui appset apply NAME FILE
--from-cluster`` (the set and its N Applications written into the sandbox by
server-side apply; Argo CD's CRDs installed first). Each is a fresh process: its
wall time, and CPU and peak RSS from ``wait4``.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import yaml

from benchmarks.context import Bench
from benchmarks.figures import appset_specs
from benchmarks.resources import run_measured
from benchmarks.timing import log, now

APPSET_NAMESPACE = "bench-appset"
APPSET_NAME = "fleet"


def applicationset(repo_url: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": APPSET_NAME, "namespace": namespace},
        "spec": {
            "generators": [
                {
                    "git": {
                        "repoURL": repo_url,
                        "revision": "HEAD",
                        "directories": [{"path": "apps/*"}],
                    }
                }
            ],
            "template": {
                "metadata": {"name": "set-{{path.basename}}"},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": repo_url, "targetRevision": "HEAD", "path": "{{path}}"},
                    "destination": {
                        "server": "https://kubernetes.default.svc",
                        "namespace": "bench-appset-apps",
                    },
                },
            },
        },
    }


def _step(b: Bench, argv: list[str]) -> dict[str, Any]:
    t0 = now()
    code, out, err, usage = run_measured(argv, env=b.child_env(), timeout=1800)
    wall = now() - t0
    generated = None
    with contextlib.suppress(ValueError):
        data = json.loads(out)
        if isinstance(data, list) and data:
            entry = data[0]
            generated = {k: v for k, v in entry.items() if isinstance(v, (int, str))} or None
            for key in ("create", "update", "delete", "unchanged", "conflicts"):
                if isinstance(entry.get(key), list):
                    generated = (generated or {}) | {f"{key}_count": len(entry[key])}
        elif isinstance(data, dict):
            generated = {
                k: (len(v) if isinstance(v, list) else v)
                for k, v in data.items()
                if isinstance(v, (int, str, list))
            }
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.cpu_s, 2),
        "peak_rss_mib": round(usage.peak_rss_mib, 1),
        "exit": code,
        "output": generated,
        "stderr_tail": err.strip()[-300:],
    }


def scenario_appset(b: Bench) -> None:
    from benchmarks.scenarios.argocd import make_peer

    fleet = b.fleet()
    n = len(fleet.names)
    path = b.work / "appset.yaml"
    path.write_text(yaml.safe_dump(applicationset(fleet.url, APPSET_NAMESPACE)))
    cli = b.gitops_argv()
    runs: dict[str, dict[str, Any]] = {}
    runs["preview"] = _step(b, [*cli, "appset", "preview", "-o", "json", str(path)])
    log(f"appset: preview of {n} apps: {runs['preview']['wall_s']:.2f} s")
    peer = make_peer(b, "appset-peer")
    peer.install()  # the CRDs only: no Argo CD process runs
    try:
        b.kubectl("create", "namespace", APPSET_NAMESPACE)
        runs["apply"] = _step(
            b,
            [
                *cli, "appset", "apply", "--from-cluster", "--kubeconfig", str(b.kubeconfig),
                "-o", "json", APPSET_NAME, str(path),
            ],
        )  # fmt: skip
        log(f"appset: apply of {n} apps: {runs['apply']['wall_s']:.2f} s")
        listed = b.kubectl("get", "applications.argoproj.io", "-n", APPSET_NAMESPACE, "-o", "name")
        runs["apply"]["applications_in_cluster"] = len(listed.split())
    finally:
        with contextlib.suppress(Exception):
            b.kubectl("delete", "namespace", APPSET_NAMESPACE, "--wait=false", "--ignore-not-found")
        with contextlib.suppress(Exception):
            peer.uninstall()
    for spec in appset_specs(n, runs):
        b.record_spec("appset", spec)
