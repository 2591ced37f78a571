"""ApplicationSets (argoproj.io/v1alpha1): parse, generate Applications, plan the change.

Headless and pure but for reading Git trees through the ``Checkout`` callable the
caller passes (the engine's ``RepoCache``): :func:`load_applicationset_files` /
:func:`parse_applicationset` -> :func:`generate` (generators, templates,
bounds; all Applications or none and an ``ErrorOccurred`` condition) ->
:func:`plan` (create/update/delete against existing apps per
``applicationsSync``). Modules: ``parse``, ``generators`` and ``gitgen``
(the generators), ``render``, ``gotemplate``, ``goparse`` and ``gofuncs`` (templates),
``selector``, ``generate``, ``policy``, ``preview`` (what a front end shows), ``model``.
"""

from gitops_tui.engine.app.applicationset.generate import generate, generate_all
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
