"""``changed_paths`` (our walk) reports the paths DeepDiff reported before it replaced it.

DeepDiff stays a test-only dependency: the property test holds our walk to it on
random documents; the examples pin the cases where we differ on purpose (DeepDiff
takes ``1`` for ``True`` inside a list, a diff must not).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_tui.engine.diff.changed_paths import changed_paths
from gitops_tui.engine.diff.json_paths import format_path, path_sort_key

scalars = st.none() | st.integers(-2, 2) | st.sampled_from(["a", "b", "", "x.y"])
docs = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["a", "b", "c", "app.kubernetes.io/name"]), inner, max_size=3
        )
    ),
    max_leaves=12,
)


def deepdiff_paths(live: Any, desired: Any) -> tuple[str, ...]:
    from deepdiff import DeepDiff

    tree = DeepDiff(live, desired, view="tree")
    found = {
        tuple(level.path(output_format="list")) for levels in tree.values() for level in levels
    }
    return tuple(format_path(path) for path in sorted(found, key=path_sort_key))


@settings(max_examples=300, deadline=None)
@given(docs, docs)
def test_changed_paths_match_deepdiff(live: Any, desired: Any) -> None:
    assert changed_paths(live, desired) == deepdiff_paths(live, desired)


def test_changed_paths_examples() -> None:
    assert changed_paths({"a": {"b": 1}}, {"a": {"b": 1}}) == ()
    assert changed_paths({"a": ["x", "y", "z"]}, {"a": ["x", "z"]}) == ("a[1]",)
    assert changed_paths({"a": [1, 2]}, {"a": [0, 1, 2]}) == ("a[0]",)
    assert changed_paths({"a": [{"i": 1}, {"i": 2}]}, {"a": [{"i": 1}]}) == ("a[1]",)
    assert changed_paths({"n": 1}, {"n": 1.0}) == ("n",)  # JSON types differ
    assert changed_paths({"l": [1, True]}, {"l": [True, 1]}) == ("l[0]", "l[1]")  # DeepDiff: ()
    assert changed_paths({"m": {"k.x": 1}}, {"m": {}}) == ('m["k.x"]',)
