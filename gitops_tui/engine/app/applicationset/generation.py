"""Generating the Applications of an ApplicationSet: all of them, or none and a condition.

For each top-level generator, in order: its parameter sets (:mod:`.generators`),
each rendered through the template (the generator's own ``template`` merged over
``spec.template``) and ``templatePatch`` (:mod:`.render`), then validated with the
Application parser. Any error (an unsupported generator, a template error, a
rendered Application that is invalid, two Applications with one name, a count
over the limit, a git path escaping the repository) becomes one ``ErrorOccurred``
condition and the set yields no Application at all: a half-generated set would
make a later plan delete the missing half. Sets are independent of each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gitops_tui.engine.app.application import Application, InvalidApplication
from gitops_tui.engine.app.applicationset.generators import Context, generator_kind, run
from gitops_tui.engine.app.applicationset.gofuncs import TemplateError
from gitops_tui.engine.app.applicationset.model import (
    RESOURCES_FINALIZER,
    ApplicationSet,
    Generated,
    GenerationError,
    Inputs,
    InvalidApplicationSet,
    error_condition,
)
from gitops_tui.engine.app.applicationset.render import deep_merge, render_application
from gitops_tui.engine.app.parse import declared_name, parse_application

MAX_REPORTED_PROBLEMS = 5
"""Invalid generated Applications named in one condition (then "and N more")."""


def generate(appset: ApplicationSet | InvalidApplicationSet, inputs: Inputs) -> Generated:
    """The Applications ``appset`` generates now, or its error conditions."""
    if isinstance(appset, InvalidApplicationSet):
        return Generated(appset, (), appset.conditions)
    try:
        apps = _generate(appset, inputs)
    except (GenerationError, TemplateError) as exc:
        return Generated(appset, (), (error_condition(str(exc)),))
    return Generated(appset, tuple(apps))


def generate_all(
    appsets: Iterable[ApplicationSet | InvalidApplicationSet], inputs: Inputs
) -> list[Generated]:
    """Each set generated on its own: one failing set leaves the others untouched."""
    return [generate(appset, inputs) for appset in appsets]


def _generate(appset: ApplicationSet, inputs: Inputs) -> list[Application]:
    ctx = Context(
        go=appset.go_template,
        options=appset.go_options,
        inputs=inputs,
        apply_nested_selectors=bool(appset.raw.get("spec", {}).get("applyNestedSelectors")),
    )
    documents: list[tuple[dict[str, Any], str]] = []
    for index, entry in enumerate(appset.generators):
        where = f"spec.generators[{index}]"
        kind = generator_kind(entry, where)
        params_list = run(entry, ctx, where)
        ctx.check_count(len(documents) + len(params_list), "spec.generators")
        template = _template_for(appset.template, entry[kind], where, kind)
        for params in params_list:
            try:
                doc = render_application(
                    template,
                    params,
                    go=appset.go_template,
                    options=appset.go_options,
                    template_patch=appset.template_patch,
                    namespace=appset.namespace,
                )
            except TemplateError as exc:
                raise GenerationError(f"{where}: rendering the template: {exc}") from exc
            if not appset.preserve_resources_on_deletion:
                _add_resources_finalizer(doc)
            documents.append((doc, where))
    return _validate(appset, documents)


def _add_resources_finalizer(doc: dict[str, Any]) -> None:
    """As Argo CD's controller does: a generated app deletes its resources with it (unless
    the set preserves them), i.e. it carries the resources finalizer, once."""
    meta = doc.get("metadata")
    if not isinstance(meta, dict):
        return  # invalid: reported by validation
    finalizers = meta.get("finalizers")
    if finalizers is None:
        finalizers = meta["finalizers"] = []
    if not isinstance(finalizers, list):
        return
    if not any(
        isinstance(f, str) and (f == RESOURCES_FINALIZER or f.startswith(RESOURCES_FINALIZER + "/"))
        for f in finalizers
    ):
        finalizers.append(RESOURCES_FINALIZER)


def _template_for(base: Mapping[str, Any], spec: Any, where: str, kind: str) -> Mapping[str, Any]:
    own = spec.get("template") if isinstance(spec, Mapping) else None
    if own is None:
        return base
    if not isinstance(own, Mapping):
        raise GenerationError(f"{where}.{kind}.template: must be a mapping")
    merged = deep_merge(base, own)
    assert isinstance(merged, Mapping)
    return merged


def _validate(
    appset: ApplicationSet, documents: list[tuple[dict[str, Any], str]]
) -> list[Application]:
    origin = f"{appset.origin} (ApplicationSet {appset.name})"
    apps: list[Application] = []
    invalid: list[str] = []
    seen: dict[str, int] = {}
    for doc, where in documents:
        parsed = parse_application(doc, origin)
        if isinstance(parsed, InvalidApplication):
            name = declared_name(doc) or "(no name)"
            invalid.append(f"{name} (from {where}): " + "; ".join(parsed.messages))
            continue
        seen[parsed.name] = seen.get(parsed.name, 0) + 1
        apps.append(parsed)
    if invalid:
        shown = invalid[:MAX_REPORTED_PROBLEMS]
        more = len(invalid) - len(shown)
        raise GenerationError(
            f"the template renders {len(invalid)} invalid Application(s): "
            + " | ".join(shown)
            + (f" | and {more} more" if more else "")
        )
    duplicates = sorted(name for name, count in seen.items() if count > 1)
    if duplicates:
        listed = ", ".join(duplicates[:MAX_REPORTED_PROBLEMS])
        more = len(duplicates) - min(len(duplicates), MAX_REPORTED_PROBLEMS)
        raise GenerationError(
            f"duplicate generated Application names: {listed}"
            + (f" and {more} more" if more else "")
            + " (each generated Application needs a unique metadata.name)"
        )
    return apps
