"""A changed kubeconfig entry (address, credentials) drops that context's connection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gitops_tui.engine.cache.destinations import ClusterRegistry
from gitops_tui.engine.cache.kubeclient import context_fingerprints


def kubeconfig(servers: dict[str, str], tokens: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "a",
        "clusters": [{"name": n, "cluster": {"server": s}} for n, s in servers.items()],
        "users": [{"name": n, "user": {"token": t}} for n, t in tokens.items()],
        "contexts": [
            {"name": n, "context": {"cluster": n, "user": n, "namespace": "default"}}
            for n in servers
        ],
    }


def test_fingerprints_change_with_address_or_credentials_only(tmp_path: Path) -> None:
    path = tmp_path / "config"
    servers = {"a": "https://127.0.0.1:1", "b": "https://127.0.0.1:2"}
    tokens = {"a": "secret-a", "b": "secret-b"}
    path.write_text(yaml.safe_dump(kubeconfig(servers, tokens)))
    first = context_fingerprints(path)
    assert set(first) == {"a", "b"}
    assert all("secret" not in v for v in first.values())
    path.write_text(yaml.safe_dump(kubeconfig(servers, {**tokens, "a": "rotated"})))
    second = context_fingerprints(path)
    assert second["a"] != first["a"] and second["b"] == first["b"]
    path.write_text(
        yaml.safe_dump(
            kubeconfig({**servers, "b": "https://127.0.0.1:3"}, {**tokens, "a": "rotated"})
        )
    )
    third = context_fingerprints(path)
    assert third["a"] == second["a"] and third["b"] != second["b"]


def test_registry_reload_reconnects_only_the_changed_context(tmp_path: Path) -> None:
    path = tmp_path / "config"
    servers = {"a": "https://127.0.0.1:1", "b": "https://127.0.0.1:2"}
    tokens = {"a": "t-a", "b": "t-b"}
    path.write_text(yaml.safe_dump(kubeconfig(servers, tokens)))
    registry = ClusterRegistry(path, None)
    try:
        a, b = registry.connection("a"), registry.connection("b")
        assert registry.reload() == set()
        assert registry.connection("a") is a
        path.write_text(yaml.safe_dump(kubeconfig({**servers, "a": "https://127.0.0.1:9"}, tokens)))
        assert registry.reload() == {"a"}
        fresh = registry.connection("a")
        assert fresh is not a and fresh.server == "https://127.0.0.1:9"
        assert registry.connection("b") is b
        assert [c.server for c in registry.contexts if c.name == "a"] == ["https://127.0.0.1:9"]
    finally:
        registry.close()
