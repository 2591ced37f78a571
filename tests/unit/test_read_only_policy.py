"""Read-only, however it was asked for, and the message naming where it came from.

The behaviour against a real cluster (no request of any kind, automation off) is
in ``tests/cluster/test_read_only_contexts.py``; these are the fast checks of
our own logic.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gitops_tui.config import load_settings, merge_cli
from gitops_tui.engine.api import ReadOnlyError
from gitops_tui.engine.cache.kubeclient import KubeApiError, KubeClient, KubeTarget, ReadOnlyRefusal
from gitops_tui.engine.cache.readonly import ReadOnlyPolicy


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def refusal(policy: ReadOnlyPolicy, context: str | None) -> str:
    with pytest.raises(ReadOnlyError) as error:
        policy.check("sync of web", context)
    return str(error.value)


def test_the_flag_is_named_as_before() -> None:
    policy = merge_cli(load_settings(Path("/nonexistent.yaml")), read_only=True).read_only_policy()
    assert policy.everywhere and policy.covers("any") and policy.covers(None)
    assert refusal(policy, "any") == (
        "read-only mode: sync of web refused (start without --read-only to change the cluster)"
    )


def test_a_read_only_context_names_its_config_key_and_file_not_the_flag(tmp_path: Path) -> None:
    path = config(tmp_path, "contexts:\n  prod: {readOnly: true}\n  dev: {readOnly: false}\n")
    policy = load_settings(path).read_only_policy()
    assert not policy.everywhere
    assert policy.covers("prod") and not policy.covers("dev") and not policy.covers(None)
    message = refusal(policy, "prod")
    assert message == (
        "read-only mode: sync of web refused (context prod is read-only: "
        f"contexts.prod.readOnly is true in {path})"
    )
    assert "--read-only" not in message
    policy.check("sync of web", "dev")  # not refused


def test_read_only_in_the_config_file_names_the_file(tmp_path: Path) -> None:
    path = config(tmp_path, "readOnly: true\n")
    policy = load_settings(path).read_only_policy()
    assert policy.everywhere
    message = refusal(policy, "dev")
    assert message == (
        f"read-only mode: sync of web refused (read-only is set by readOnly: true in {path})"
    )
    both = merge_cli(load_settings(path), read_only=True).read_only_policy()
    assert (
        f"start without --read-only to change the cluster, and remove readOnly: true from {path}"
        in refusal(both, None)
    )


def test_a_read_only_connection_refuses_writes_before_sending_anything(tmp_path: Path) -> None:
    """Belt and braces: a connection to a read-only context sends no write, whoever asks.

    The server address is closed: a request that went out would fail as unreachable.
    """
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "prod", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "prod",
            }
        )
    )
    guarded = KubeClient(KubeTarget(kubeconfig, "prod", read_only=True))
    plain = KubeClient(KubeTarget(kubeconfig, "prod"))
    try:
        for method in ("PATCH", "POST", "PUT", "DELETE", "patch"):
            with pytest.raises(ReadOnlyRefusal) as error:
                guarded.request(
                    method, "/api/v1/namespaces/x/configmaps/y", query={"dryRun": "All"}
                )
            assert error.value.status == 403 and "context prod is read-only" in str(error.value)
        # reads go out (and fail here as unreachable: proof the guard let them through)
        with pytest.raises(KubeApiError) as read:
            guarded.request("GET", "/api/v1/namespaces", timeout=(0.5, 0.5))
        assert read.value.unreachable
        with pytest.raises(KubeApiError) as write:
            plain.request("PATCH", "/api/v1/namespaces/x", timeout=(0.5, 0.5))
        assert write.value.unreachable
    finally:
        guarded.close()
        plain.close()
