"""Deleting an Application with the local engine (real control plane): refused in
words (its Applications come from Git), and in read-only refused as read-only; in
both cases nothing is written (read from the audit log) and the app's objects stay."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit import WRITE_VERBS, audit_events, audit_mark
from helpers import wait_for
from test_resource_actions_cluster import get, live_in, settings, start

from gitops_tui.engine.api import EngineError, ReadOnlyError
from gitops_tui.engine.model import ResourceKey

pytestmark = pytest.mark.cluster


@pytest.mark.parametrize("read_only", [False, True])
def test_the_local_engine_refuses_to_delete_an_application(
    sandbox, sandbox_box, namespace: str, tmp_path: Path, read_only: bool
) -> None:
    cfg = ResourceKey("", "ConfigMap", namespace, "settings")
    with start(sandbox, namespace, tmp_path, [settings(namespace)], read_only=read_only) as engine:
        wait_for(lambda: live_in(engine, namespace, cfg), what="the ConfigMap compared")
        mark = audit_mark(sandbox_box)
        expected = (
            (ReadOnlyError, "read-only mode: delete of Application")
            if read_only
            else (EngineError, "deleting an Application is a Git change")
        )
        with pytest.raises(expected[0], match=expected[1]):
            engine.delete_app(namespace, "foreground")
        assert namespace in engine.snapshot().by_name
    events = audit_events(sandbox_box, sandbox.kubeconfig, mark, namespace)
    assert [e for e in events if e.get("verb") in WRITE_VERBS] == []
    assert get(sandbox, namespace, "configmap", "settings", check=False) is not None
