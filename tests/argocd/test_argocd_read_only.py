"""Read-only over Argo CD: nothing mutating reaches the API server, proven by its audit log."""

from __future__ import annotations

import io
import uuid
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

import pytest
import yaml
from audit import audit_events, audit_mark, writes
from gitrepo import make_repo
from helpers import application, dump_all, kubectl, wait_for

from gitops_tui import cli
from gitops_tui.argocd.backend import ArgoCDBackend, ArgoCDOptions
from gitops_tui.engine.api import ReadOnlyError, SyncRequest
from gitops_tui.engine.cache.kubeclient import ReadOnlyRefusal
from gitops_tui.engine.cache.readonly import ReadOnlyPolicy

pytestmark = [pytest.mark.cluster, pytest.mark.argocd]


def test_read_only_sends_nothing_mutating(
    sandbox: Any, sandbox_box: Any, argocd: Any, namespace: str, tmp_path: Path
) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"v": "1"}}
    repo = make_repo(tmp_path / "repo", {"app/cm.yaml": dump_all([cm])})
    name = f"ro-{uuid.uuid4().hex[:6]}"
    doc = application(name, f"file://{repo.working_tree_dir}", "app", namespace, automated={})
    kubectl(sandbox.kubeconfig, "apply", "-f", "-", stdin=yaml.safe_dump(doc))
    try:
        mark = audit_mark(sandbox_box)
        engine = ArgoCDBackend(
            ArgoCDOptions(
                kubeconfig=sandbox.kubeconfig,
                read_only_policy=ReadOnlyPolicy(flag=True),
                tree_interval_s=0.5,
            )
        ).start()
        try:
            assert engine.read_only and engine.snapshot().read_only
            wait_for(
                lambda: bool(engine.history(name)) if name in engine.app_names() else False,
                timeout=90,
                what="Argo CD's automated sync, seen read-only",
            )
            with pytest.raises(ReadOnlyError, match="--read-only"):
                engine.sync(SyncRequest(app=name))
            with pytest.raises(ReadOnlyError):
                engine.rollback(name, engine.history(name)[0].id)
            with pytest.raises(ReadOnlyError):
                engine.terminate(name)
            engine.refresh(name)  # re-reads; annotates nothing
            engine.refresh(None, hard=True)
            # the connection itself refuses a write that a forgotten check would send
            with pytest.raises(ReadOnlyRefusal):
                engine._actions.patch(name, {"metadata": {"annotations": {"x": "y"}}})
            wait_for(
                lambda: any(
                    r.children or r.health for r in engine.snapshot().by_name[name].resources
                ),
                timeout=30,
                what="the live tree read",
            )
        finally:
            engine.close()
        # the command line with --read-only: refused with a message, exit 2
        err = io.StringIO()
        with redirect_stderr(err):
            code = cli.main(
                ["--kubeconfig", str(sandbox.kubeconfig), "--argocd", "argocd", "--read-only",
                 "sync", name, "--compare-timeout", "60"]
            )  # fmt: skip
        assert code == 2 and "read-only" in err.getvalue()
        events = audit_events(sandbox_box, sandbox.kubeconfig, mark)
        ours = [e for e in events if "applications" in str(e.get("requestURI"))]
        assert ours, "the audit log shows none of our reads: the check would prove nothing"
        assert writes(events, dry_run=None) == []
    finally:
        kubectl(
            sandbox.kubeconfig, "-n", "argocd", "delete", "applications.argoproj.io", name,
            "--wait=false", check=False,
        )  # fmt: skip
