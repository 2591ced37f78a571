"""Secret values never leave the diff pipeline; changes stay visible through masks."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
from typing import Any

from gitops_tui.engine.diff.masking import mask_secret, mask_secret_pair
from gitops_tui.engine.diff.resource_diff import ResourceDiff, diff_resource
from gitops_tui.engine.model import ResourceKey

KEY = ResourceKey("", "Secret", "default", "db")
CANARY = "canary-Zq7vX2-do-not-leak"
OTHER = "other-Pw9-also-secret"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret(**fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "default"},
        **fields,
    }


def is_mask(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= 8 and set(value) == {"+"}


def all_text(diff: ResourceDiff) -> list[str]:
    """Every string the ResourceDiff carries, in any field."""
    texts: list[str] = [repr(diff)]
    for field in dataclasses.fields(diff):
        value = getattr(diff, field.name)
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, tuple):
            texts.extend(str(item) for item in value)
    return texts


def assert_never_shown(diff: ResourceDiff, *values: str) -> None:
    forms = [form for value in values for form in (value, b64(value))]
    for text in all_text(diff):
        for form in forms:
            assert form not in text


def test_equal_values_get_the_same_mask() -> None:
    desired, live = mask_secret_pair(
        secret(data={"pw": b64(CANARY)}), secret(data={"pw": b64(CANARY)})
    )
    assert desired is not None and live is not None
    assert is_mask(desired["data"]["pw"])
    assert desired["data"]["pw"] == live["data"]["pw"]


def test_changed_values_get_different_masks() -> None:
    desired, live = mask_secret_pair(
        secret(data={"pw": b64(CANARY), "user": b64("admin")}),
        secret(data={"pw": b64(OTHER), "user": b64("admin")}),
    )
    assert desired is not None and live is not None
    assert desired["data"]["pw"] == "+" * 8
    assert live["data"]["pw"] == "+" * 12
    assert desired["data"]["user"] == live["data"]["user"] == "+" * 8


def test_masks_are_deterministic_and_keys_on_one_side_are_masked() -> None:
    pair = (
        secret(data={"a": b64("1"), "b": b64("2")}),
        secret(data={"a": b64("3"), "c": b64("4")}),
    )
    first = mask_secret_pair(*pair)
    assert first == mask_secret_pair(*copy.deepcopy(pair))
    desired, live = first
    assert desired is not None and live is not None
    assert all(is_mask(v) for v in [*desired["data"].values(), *live["data"].values()])
    assert set(desired["data"]) == {"a", "b"} and set(live["data"]) == {"a", "c"}


def test_masking_does_not_touch_its_inputs() -> None:
    desired, live = secret(stringData={"pw": CANARY}), secret(data={"pw": b64(CANARY)})
    originals = copy.deepcopy((desired, live))
    mask_secret_pair(desired, live)
    assert (desired, live) == originals


def test_string_data_is_folded_before_masking() -> None:
    desired, live = mask_secret_pair(
        secret(stringData={"pw": CANARY}), secret(data={"pw": b64(CANARY)})
    )
    assert desired is not None and live is not None
    assert "stringData" not in desired
    assert desired["data"]["pw"] == live["data"]["pw"]


def test_null_value_masks_like_an_empty_value() -> None:
    desired, live = mask_secret_pair(secret(data={"pw": None}), secret(data={"pw": ""}))
    assert desired is not None and live is not None
    assert desired["data"]["pw"] == live["data"]["pw"]


def test_non_secrets_pass_through_unchanged() -> None:
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"k": CANARY},
    }
    not_core = {
        "apiVersion": "example.com/v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"k": "v"},
    }
    assert mask_secret(configmap) == configmap
    assert mask_secret(not_core) == not_core
    assert mask_secret_pair(configmap, None) == (configmap, None)
    assert mask_secret_pair(None, None) == (None, None)


def test_mask_secret_masks_a_single_object_and_its_last_applied_copy() -> None:
    applied = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db"},
        "stringData": {"pw": CANARY},
    }
    live = secret(data={"pw": b64(CANARY)})
    live["metadata"]["annotations"] = {LAST_APPLIED: json.dumps(applied)}
    masked = mask_secret(live)
    dumped = json.dumps(masked)
    assert CANARY not in dumped and b64(CANARY) not in dumped
    restored = json.loads(masked["metadata"]["annotations"][LAST_APPLIED])
    assert restored["data"]["pw"] == masked["data"]["pw"]
    assert "stringData" not in restored


def test_last_applied_that_is_not_json_is_masked_whole() -> None:
    live = secret(data={"pw": b64(CANARY)})
    live["metadata"]["annotations"] = {LAST_APPLIED: f"not json {CANARY}"}
    assert is_mask(mask_secret(live)["metadata"]["annotations"][LAST_APPLIED])


def test_malformed_data_is_masked_whole() -> None:
    masked = mask_secret(secret(data=f"garbage {CANARY}"))
    assert is_mask(masked["data"])


def test_changed_secret_diff_shows_the_change_but_never_the_values() -> None:
    result = diff_resource(
        KEY, secret(data={"pw": b64(CANARY)}), secret(data={"pw": b64(OTHER)}), context=-1
    )
    assert result.modified
    assert result.changed_paths == ("data.pw",)
    assert "-  pw: ++++++++++++" in result.unified
    assert "+  pw: ++++++++" in result.unified
    assert_never_shown(result, CANARY, OTHER)


def test_unchanged_secret_is_in_sync_and_masked() -> None:
    result = diff_resource(KEY, secret(stringData={"pw": CANARY}), secret(data={"pw": b64(CANARY)}))
    assert not result.modified
    assert "pw: ++++++++" in result.desired_yaml
    assert_never_shown(result, CANARY)


def test_canary_in_string_data_never_appears_for_create_prune_and_change() -> None:
    desired = secret(stringData={"pw": CANARY, "token": OTHER})
    live = secret(data={"pw": b64("previous-value-123")})
    live["metadata"]["annotations"] = {LAST_APPLIED: json.dumps(secret(stringData={"pw": CANARY}))}
    for result in (
        diff_resource(KEY, desired, None),
        diff_resource(KEY, None, live),
        diff_resource(KEY, desired, live, context=-1),
    ):
        assert result.modified
        assert_never_shown(result, CANARY, OTHER, "previous-value-123")
