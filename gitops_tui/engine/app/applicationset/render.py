"""Rendering an ApplicationSet template with one parameter set into an Application.

Both of Argo CD's styles:

* fasttemplate (the default): every ``{{ name }}`` in a string is replaced by the
  parameter ``name`` (surrounding spaces ignored); an unknown name is left as written;
* ``goTemplate: true``: every string is a Go template (:mod:`.gotemplate`) run over
  the parameters, with ``goTemplateOptions``.

Map keys are rendered too (Argo CD templates label and annotation keys).
``templatePatch`` is rendered as a string, read as YAML and merged over the
rendered template (maps merged, lists replaced, ``null`` removes a field).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gitops_tui.engine.app.applicationset.gofuncs import TemplateError, go_str
from gitops_tui.engine.app.applicationset.gotemplate import Options
from gitops_tui.engine.app.applicationset.gotemplate import render as go_render
from gitops_tui.engine.manifest_yaml import ManifestFileError, load_manifest_documents

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)

Params = dict[str, Any]


def fast_render(text: str, params: Mapping[str, Any]) -> str:
    """fasttemplate with unresolved tags kept, as Argo CD renders templates."""
    if "{{" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        key = match.group(1).strip()
        if key and key in params:
            value = params[key]
            return value if isinstance(value, str) else go_str(value, top=False)
        return match.group()

    return _TAG.sub(replace, text)


def render_string(text: str, params: Mapping[str, Any], go: bool, options: Options) -> str:
    return go_render(text, params, options) if go else fast_render(text, params)


def render_value(value: Any, params: Mapping[str, Any], go: bool, options: Options) -> Any:
    """``value`` (JSON-like) with every string and map key rendered."""
    if isinstance(value, str):
        return render_string(value, params, go, options)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out[render_string(str(key), params, go, options)] = render_value(
                item, params, go, options
            )
        return out
    if isinstance(value, list):
        return [render_value(item, params, go, options) for item in value]
    return value


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 merge: maps merged recursively, ``None`` deletes, anything else replaces."""
    if not isinstance(patch, Mapping):
        return patch
    out: dict[str, Any] = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def deep_merge(base: Any, override: Any) -> Any:
    """``override`` over ``base``: maps merged, other set values of ``override`` win."""
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        out = dict(base)
        for key, value in override.items():
            out[key] = deep_merge(base.get(key), value)
        return out
    return base if override in (None, "", {}, []) else override


def apply_template_patch(
    app: dict[str, Any], patch_template: str, params: Mapping[str, Any], go: bool, options: Options
) -> dict[str, Any]:
    """The rendered ``templatePatch`` merged over ``app``."""
    text = render_string(patch_template, params, go, options)
    try:
        docs = load_manifest_documents(text, "templatePatch")
    except ManifestFileError as exc:
        raise TemplateError(f"templatePatch: the rendered patch is not valid YAML: {exc}") from exc
    docs = [d for d in docs if d is not None]
    if not docs:
        return app
    if len(docs) > 1 or not isinstance(docs[0], dict):
        raise TemplateError("templatePatch: the rendered patch must be one YAML mapping")
    merged = merge_patch(app, docs[0])
    assert isinstance(merged, dict)
    return merged


def render_application(
    template: Mapping[str, Any],
    params: Mapping[str, Any],
    *,
    go: bool,
    options: Options,
    template_patch: str,
    namespace: str,
) -> dict[str, Any]:
    """One Application document (not yet validated) from the template and ``params``."""
    rendered = render_value(
        {"metadata": template.get("metadata") or {}, "spec": template.get("spec") or {}},
        params,
        go,
        options,
    )
    app: dict[str, Any] = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", **rendered}
    if template_patch:
        app = apply_template_patch(app, template_patch, params, go, options)
    meta = app.get("metadata")
    if isinstance(meta, dict):
        # Argo CD creates generated Applications in the ApplicationSet's namespace
        meta["namespace"] = namespace
    return app
