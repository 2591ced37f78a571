"""App of Apps: a parent's health from its own objects and its child apps."""

from __future__ import annotations

import pytest

from gitops_tui.engine.controller.app_of_apps import (
    ChildHealth,
    child_health_input,
    children_changed,
    parent_health,
)
from gitops_tui.engine.model import HealthStatus

H = HealthStatus


def test_unregistered_children_count_as_missing() -> None:
    # a parent that lists only child apps, none registered yet (before any sync)
    children = [ChildHealth("a", False, H.MISSING), ChildHealth("b", False, H.MISSING)]
    health, message = parent_health([], "", children)
    assert health is H.MISSING
    assert "sync the parent" in message


def test_a_live_own_object_keeps_a_parent_with_unregistered_children_out_of_missing() -> None:
    health, _ = parent_health([(None, False)], "", [ChildHealth("a", False, H.MISSING)])
    assert health is H.HEALTHY


def test_the_worst_registered_child_decides_and_is_named() -> None:
    children = [
        ChildHealth("a", True, H.HEALTHY),
        ChildHealth("b", True, H.PROGRESSING),
        ChildHealth("c", True, H.SUSPENDED),
    ]
    assert parent_health([], "", children) == (H.PROGRESSING, "child app 'b' is Progressing")
    children.append(ChildHealth("d", True, H.DEGRADED))
    assert parent_health([(H.PROGRESSING, False)], "web: waiting", children) == (
        H.DEGRADED,
        "child app 'd' is Degraded",
    )


def test_own_objects_worse_than_the_children_keep_their_message() -> None:
    children = [ChildHealth("a", True, H.PROGRESSING)]
    assert parent_health([(H.DEGRADED, False)], "web: crashed", children) == (
        H.DEGRADED,
        "web: crashed",
    )


@pytest.mark.parametrize("word", [H.MISSING, H.UNKNOWN, None])
def test_registered_child_missing_or_unknown_does_not_affect_the_parent(
    word: HealthStatus | None,
) -> None:
    child = ChildHealth("a", True, word)
    assert child_health_input(child) is None
    # present: the parent is not Missing because of it
    assert parent_health([], "", [child]) == (H.HEALTHY, "")


def test_hooks_of_the_parent_still_do_not_count() -> None:
    children = [ChildHealth("a", True, H.HEALTHY)]
    assert parent_health([(H.DEGRADED, True)], "", children)[0] is H.HEALTHY


def test_children_changed() -> None:
    now = {"a": H.HEALTHY, "b": H.PROGRESSING}
    assert not children_changed({"a": H.HEALTHY, "b": H.PROGRESSING}, now.get)
    assert children_changed({"a": H.MISSING, "b": H.PROGRESSING}, now.get)
    assert not children_changed({}, now.get)
