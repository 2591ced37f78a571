"""The Application's finalizers for each cascade (Argo CD's semantics, pure)."""

from __future__ import annotations

import pytest

from gitops_tui.argocd.app_delete import (
    BACKGROUND,
    FOREGROUND,
    FOREGROUND_EXPLICIT,
    wanted_finalizers,
)
from gitops_tui.engine.api import EngineError

OTHER = "example.com/keep-me"


def test_each_cascade_sets_exactly_one_propagation_finalizer_and_keeps_the_others() -> None:
    assert wanted_finalizers([], "foreground") == [FOREGROUND]
    assert wanted_finalizers([OTHER], "background") == [OTHER, BACKGROUND]
    assert wanted_finalizers([OTHER, FOREGROUND], "orphan") == [OTHER]
    # switching: the controller reads the first propagation finalizer it finds
    assert wanted_finalizers([BACKGROUND, OTHER], "foreground") == [OTHER, FOREGROUND]
    assert wanted_finalizers([FOREGROUND, OTHER], "background") == [OTHER, BACKGROUND]
    # already foreground (either spelling): unchanged, nothing to patch
    assert wanted_finalizers([FOREGROUND_EXPLICIT, OTHER], "foreground") == [
        FOREGROUND_EXPLICIT,
        OTHER,
    ]
    assert wanted_finalizers([FOREGROUND, BACKGROUND], "foreground") == [FOREGROUND]


def test_an_unknown_cascade_is_refused_in_words() -> None:
    with pytest.raises(EngineError, match="unknown cascade 'delete-all': one of foreground"):
        wanted_finalizers([], "delete-all")
