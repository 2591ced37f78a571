"""ApplicationSets (argoproj.io/v1alpha1): parse, generate Applications, plan the change.

Headless and pure but for reading Git trees through the ``Checkout`` callable the
caller passes (the engine's ``RepoCache``): :func:`load_applicationset_files` /
:func:`parse_applicationset` -> :func:`generate` (generators, templates,
bounds; all Applications or none and an ``ErrorOccurred`` condition) ->
:func:`plan` (create/update/delete against existing apps per
``applicationsSync``). Modules: ``parse``, ``generators`` and ``gitgen``
(the generators), ``render``, ``gotemplate``, ``goparse`` and ``gofuncs`` (templates),
``selector``, ``generation``, ``policy``, ``preview`` (what a front end shows), ``model``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitops_tui.engine.app.applicationset.generation import generate, generate_all
    from gitops_tui.engine.app.applicationset.model import (
        MAX_GENERATED,
        ApplicationSet,
        ApplicationsSync,
        Checkout,
        ClusterInfo,
        Generated,
        GenerationError,
        Inputs,
        InvalidApplicationSet,
    )
    from gitops_tui.engine.app.applicationset.parse import (
        is_applicationset_document,
        load_applicationset_files,
        parse_applicationset,
    )
    from gitops_tui.engine.app.applicationset.policy import (
        Action,
        Change,
        Conflict,
        Plan,
        plan,
        plan_set_deletion,
    )
    from gitops_tui.engine.app.applicationset.preview import (
        AppSetApplied,
        AppSetChange,
        AppSetPreview,
        preview_of,
    )

# loaded on first use: a diff of a plain-directory app needs none of the set engine
# (goparse, gofuncs, generators, policy: ~15 % of a cold command's import time)
_HOME: dict[str, str] = {
    "Action": "policy",
    "AppSetApplied": "preview",
    "AppSetChange": "preview",
    "AppSetPreview": "preview",
    "ApplicationSet": "model",
    "ApplicationsSync": "model",
    "Change": "policy",
    "Checkout": "model",
    "ClusterInfo": "model",
    "Conflict": "policy",
    "Generated": "model",
    "GenerationError": "model",
    "Inputs": "model",
    "InvalidApplicationSet": "model",
    "MAX_GENERATED": "model",
    "Plan": "policy",
    "generate": "generation",
    "generate_all": "generation",
    "is_applicationset_document": "parse",
    "load_applicationset_files": "parse",
    "parse_applicationset": "parse",
    "plan": "policy",
    "plan_set_deletion": "policy",
    "preview_of": "preview",
}

__all__ = [
    "MAX_GENERATED",
    "Action",
    "AppSetApplied",
    "AppSetChange",
    "AppSetPreview",
    "ApplicationSet",
    "ApplicationsSync",
    "Change",
    "Checkout",
    "ClusterInfo",
    "Conflict",
    "Generated",
    "GenerationError",
    "Inputs",
    "InvalidApplicationSet",
    "Plan",
    "generate",
    "generate_all",
    "is_applicationset_document",
    "load_applicationset_files",
    "parse_applicationset",
    "plan",
    "plan_set_deletion",
    "preview_of",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
