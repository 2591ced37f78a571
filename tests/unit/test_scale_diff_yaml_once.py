"""A Synced resource's YAML is rendered once and shared by both sides (scaling, round 4)."""

from __future__ import annotations

import base64
import copy

from gitops_tui.engine.diff.resource_diff import diff_resource, to_yaml
from gitops_tui.engine.model import ResourceKey

CM = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "a", "namespace": "ns", "resourceVersion": "7", "uid": "u"},
    "data": {"k": "v", "n": "1"},
}
KEY = ResourceKey("", "ConfigMap", "ns", "a")


def test_synced_object_shares_one_yaml_text_equal_to_each_side() -> None:
    live = copy.deepcopy(CM)
    diff = diff_resource(KEY, copy.deepcopy(CM), live)
    assert not diff.modified
    assert diff.live_yaml is diff.desired_yaml  # rendered once
    assert diff.live_yaml == diff_resource(KEY, None, live).live_yaml  # the text of live alone


def test_modified_object_renders_each_side() -> None:
    desired = copy.deepcopy(CM)
    desired["data"]["n"] = 1  # an int: differs from the string "1"
    diff = diff_resource(KEY, desired, copy.deepcopy(CM))
    assert diff.modified
    assert diff.live_yaml != diff.desired_yaml
    assert "n: 1\n" in diff.desired_yaml and "n: '1'\n" in diff.live_yaml


def test_synced_secret_shares_the_masked_text_and_hides_values() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "ns"},
        "data": {"password": base64.b64encode(b"hunter2").decode()},
    }
    key = ResourceKey("", "Secret", "ns", "s")
    diff = diff_resource(key, copy.deepcopy(secret), copy.deepcopy(secret))
    assert not diff.modified
    assert diff.live_yaml is diff.desired_yaml
    assert "hunter2" not in diff.live_yaml and secret["data"]["password"] not in diff.live_yaml
    assert diff.live_yaml == to_yaml({**secret, "data": {"password": "++++++++"}})
