"""The generators: ``list``, ``clusters``, ``git`` (:mod:`.gitgen`), ``matrix``, ``merge``.

Each turns its spec into parameter sets (``dict``) as Argo CD's generators do:
flat string maps for fasttemplate, nested values for goTemplate. A generator
entry's ``selector`` then keeps the sets it matches. ``matrix`` and ``merge`` take
their children as Argo CD allows: two children for ``matrix`` (the second one's
spec rendered with each parameter set of the first), two or more for ``merge``;
a child may itself be a ``matrix`` or ``merge`` of plain generators (one level).
The SCM provider, pull request, plugin and cluster decision resource generators
need services gitops-tui does not talk to: they are errors naming themselves.

Every count is bounded by ``Inputs.max_generated``; every error is a
:class:`GenerationError` whose message names the generator by its path in the
spec (``spec.generators[0].matrix.generators[1].git``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gitops_tui.engine.app.applicationset.gitgen import TreeCache, git_params
from gitops_tui.engine.app.applicationset.gofuncs import (
    TemplateError,
    as_go_numbers,
    go_str,
    sanitize_name,
)
from gitops_tui.engine.app.applicationset.gotemplate import Options
from gitops_tui.engine.app.applicationset.model import ClusterInfo, GenerationError, Inputs
from gitops_tui.engine.app.applicationset.render import render_string, render_value
from gitops_tui.engine.app.applicationset.selector import check_selector, flatten, matches
from gitops_tui.engine.manifest_yaml import ManifestFileError, load_manifest_documents

Params = dict[str, Any]

TERMINAL = ("list", "clusters", "git")
COMBINING = ("matrix", "merge")
UNSUPPORTED = {
    "scmProvider": "the SCM provider generator",
    "pullRequest": "the pull request generator",
    "plugin": "the plugin generator",
    "clusterDecisionResource": "the cluster decision resource generator",
}
CLUSTER_SECRET_LABEL = ("argocd.argoproj.io/secret-type", "cluster")


class Context:
    """What every generator of one ApplicationSet shares."""

    def __init__(
        self, *, go: bool, options: Options, inputs: Inputs, apply_nested_selectors: bool
    ) -> None:
        self.go = go
        self.options = options
        self.inputs = inputs
        self.limit = inputs.max_generated
        self.trees = TreeCache(inputs.checkout)
        self.apply_nested_selectors = apply_nested_selectors

    def check_count(self, count: int, where: str) -> None:
        if count > self.limit:
            raise GenerationError(
                f"{where}: yields {count} parameter sets, more than the limit of {self.limit}"
            )


def generator_kind(entry: Mapping[str, Any], where: str) -> str:
    """The one generator kind of an entry (``selector`` aside)."""
    kinds = [key for key in entry if key != "selector"]
    if len(kinds) != 1:
        found = ", ".join(sorted(kinds)) or "none"
        raise GenerationError(f"{where}: must hold exactly one generator (found: {found})")
    kind = kinds[0]
    if kind in UNSUPPORTED:
        raise GenerationError(
            f"{where}.{kind}: {UNSUPPORTED[kind]} is not supported by gitops-tui "
            "(it needs an external service); nothing is generated from this ApplicationSet"
        )
    if kind not in TERMINAL + COMBINING:
        raise GenerationError(f"{where}: unknown generator {kind!r}")
    return kind


def run(
    entry: Mapping[str, Any],
    ctx: Context,
    where: str,
    *,
    depth: int = 0,
    inherited: Params | None = None,
) -> list[Params]:
    """The parameter sets of one generator entry (after its ``selector``)."""
    kind = generator_kind(entry, where)
    if inherited:
        try:
            rendered = render_value(dict(entry), inherited, ctx.go, ctx.options)
        except TemplateError as exc:
            raise GenerationError(f"{where}: {exc}") from exc
        entry = rendered
    spec = entry[kind]
    here = f"{where}.{kind}"
    if not isinstance(spec, Mapping):
        raise GenerationError(f"{here}: must be a mapping")
    if kind == "list":
        params = _list(spec, ctx, here)
    elif kind == "clusters":
        params = _clusters(spec, ctx, here)
    elif kind == "git":
        params = git_params(
            spec,
            trees=ctx.trees,
            go=ctx.go,
            add_values=lambda p: _add_values(spec.get("values"), p, ctx, here),
            limit=ctx.limit,
            where=here,
        )
    elif depth >= 2:
        raise GenerationError(
            f"{here}: a {kind} nested in a nested generator (Argo CD allows one level of "
            "matrix/merge nesting)"
        )
    elif kind == "matrix":
        params = _matrix(spec, ctx, here, depth)
    else:
        params = _merge(spec, ctx, here, depth)
    ctx.check_count(len(params), here)
    selector = entry.get("selector")
    if selector is not None and (depth < 2 or ctx.apply_nested_selectors):
        checked = check_selector(selector, f"{where}.selector")
        params = [p for p in params if matches(checked, flatten(p))]
    return params


def _add_values(values: Any, params: Params, ctx: Context, where: str) -> None:
    """A generator's ``values``: each rendered with the parameters, added as ``values``."""
    if values is None:
        return
    if not isinstance(values, Mapping) or not all(isinstance(v, str) for v in values.values()):
        raise GenerationError(f"{where}.values: must map names to strings")
    try:
        rendered = {k: render_string(v, params, ctx.go, ctx.options) for k, v in values.items()}
    except TemplateError as exc:
        raise GenerationError(f"{where}.values: {exc}") from exc
    if ctx.go:
        params["values"] = rendered
    else:
        for key, value in rendered.items():
            params[f"values.{key}"] = value


# --------------------------------------------------------------------------- list


def _list(spec: Mapping[str, Any], ctx: Context, where: str) -> list[Params]:
    elements = spec.get("elements") or []
    if not isinstance(elements, list):
        raise GenerationError(f"{where}.elements: must be a list")
    ctx.check_count(len(elements), where)
    out: list[Params] = []
    for i, element in enumerate(elements):
        if not isinstance(element, Mapping):
            raise GenerationError(f"{where}.elements[{i}]: must be a mapping")
        out.append(_list_element(element, ctx, f"{where}.elements[{i}]"))
    raw_yaml = spec.get("elementsYaml")
    if raw_yaml:
        if not isinstance(raw_yaml, str):
            raise GenerationError(f"{where}.elementsYaml: must be a string")
        try:
            docs = load_manifest_documents(raw_yaml, f"{where}.elementsYaml")
        except ManifestFileError as exc:
            raise GenerationError(f"{where}.elementsYaml: {exc}") from exc
        items = docs[0] if docs else None
        if items is not None and (
            not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items)
        ):
            raise GenerationError(f"{where}.elementsYaml: must be a YAML list of mappings")
        ctx.check_count(len(out) + len(items or []), where)
        # Argo CD appends these as written, in either template style
        out.extend(dict(as_go_numbers(item) if ctx.go else item) for item in items or [])
    return out


def _list_element(element: Mapping[str, Any], ctx: Context, where: str) -> Params:
    if ctx.go:
        return dict(as_go_numbers(element))
    params: Params = {}
    for key, value in element.items():
        if key == "values":
            if not isinstance(value, Mapping):
                raise GenerationError(f"{where}.values: must be a mapping")
            for k, v in value.items():
                if not isinstance(v, str):
                    raise GenerationError(
                        f"{where}.values.{k}: must be a string without goTemplate"
                    )
                params[f"values.{k}"] = v
        elif isinstance(value, str):
            params[key] = value
        else:
            raise GenerationError(
                f"{where}.{key}: must be a string without goTemplate "
                "(set goTemplate: true for nested values)"
            )
    return params


# --------------------------------------------------------------------------- clusters


def _cluster_labels(cluster: ClusterInfo) -> dict[str, str]:
    labels = dict(cluster.labels)
    labels.setdefault(*CLUSTER_SECRET_LABEL)
    return labels


def _clusters(spec: Mapping[str, Any], ctx: Context, where: str) -> list[Params]:
    selector = check_selector(spec.get("selector"), f"{where}.selector")
    if ctx.inputs.clusters_error:
        raise GenerationError(f"{where}: {ctx.inputs.clusters_error}")
    flat = spec.get("flatList", False)
    if not isinstance(flat, bool):
        raise GenerationError(f"{where}.flatList: must be true or false")
    if ctx.inputs.argocd_clusters:
        params = _argocd_clusters(spec, selector, ctx, where)
    else:
        params = _context_clusters(spec, selector, ctx, where)
    # flatList: one parameter set holding every cluster's (as Argo CD's paramHolder)
    return [{"clusters": params}] if flat else params


def _context_clusters(
    spec: Mapping[str, Any], selector: Mapping[str, Any], ctx: Context, where: str
) -> list[Params]:
    out: list[Params] = []
    for cluster in ctx.inputs.clusters:
        labels = _cluster_labels(cluster)
        if not matches(selector, labels):
            continue
        params: Params
        if ctx.go:
            params = {
                "name": cluster.name,
                "nameNormalized": sanitize_name(cluster.name),
                "server": cluster.server,
                "project": cluster.project,
                "metadata": {"labels": labels, "annotations": dict(cluster.annotations)},
            }
        else:
            params = {
                "name": cluster.name,
                "nameNormalized": sanitize_name(cluster.name),
                "server": cluster.server,
                "project": cluster.project,
            }
            for key, value in labels.items():
                params[f"metadata.labels.{key}"] = value
            for key, value in cluster.annotations.items():
                params[f"metadata.annotations.{key}"] = value
        _add_values(spec.get("values"), params, ctx, where)
        out.append(params)
    return out


def _argocd_clusters(
    spec: Mapping[str, Any], selector: Mapping[str, Any], ctx: Context, where: str
) -> list[Params]:
    """Argo CD's order and parameters (``generators/cluster.go``): the clusters without a
    matching Secret (the implicit in-cluster) first, unless there is a selector, with
    no ``metadata``; then the Secrets the selector matches, looked up by cluster name."""
    ignore_local = bool(selector.get("matchLabels") or selector.get("matchExpressions"))
    by_name = {c.name: c for c in ctx.inputs.clusters if c.secret and matches(selector, c.labels)}
    local: list[Params] = []
    found: list[ClusterInfo] = []
    for cluster in ctx.inputs.clusters:
        secret = by_name.get(cluster.name)
        if secret is not None:
            found.append(secret)
        elif not ignore_local:
            params: Params = {
                "name": cluster.name,
                "nameNormalized": cluster.name,
                "server": cluster.server,
                "project": "",
            }
            _add_values(spec.get("values"), params, ctx, where)
            local.append(params)
    out = local
    for secret in found:
        params = {
            "name": secret.name,
            "nameNormalized": sanitize_name(secret.name),
            "server": secret.server,
            "project": secret.project,
        }
        if ctx.go:
            meta: Params = {}
            if secret.annotations:
                meta["annotations"] = dict(secret.annotations)
            if secret.labels:
                meta["labels"] = dict(secret.labels)
            params["metadata"] = meta
        else:
            for key, value in secret.annotations.items():
                params[f"metadata.annotations.{key}"] = value
            for key, value in secret.labels.items():
                params[f"metadata.labels.{key}"] = value
        _add_values(spec.get("values"), params, ctx, where)
        out.append(params)
    return out


# --------------------------------------------------------------------------- matrix and merge


def _children(spec: Mapping[str, Any], where: str, minimum: int) -> list[Mapping[str, Any]]:
    children = spec.get("generators")
    if not isinstance(children, list) or len(children) < minimum:
        raise GenerationError(f"{where}.generators: needs at least {minimum} child generators")
    for i, child in enumerate(children):
        if not isinstance(child, Mapping):
            raise GenerationError(f"{where}.generators[{i}]: must be a mapping")
    return children


def _combine_flat(a: Params, b: Params, where: str) -> Params:
    out = dict(a)
    for key, value in b.items():
        if key in out and out[key] != value:
            raise GenerationError(
                f"{where}: found duplicate key {key} with different value, "
                f"a: {go_str(out[key], top=False)}, b: {go_str(value, top=False)}"
            )
        out[key] = value
    return out


def _empty(value: Any) -> bool:
    """mergo's notion of an empty value: nil, "", false, 0, an empty list or map."""
    if value is None or value is False:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return value == 0
    if isinstance(value, str | list | tuple | Mapping):
        return len(value) == 0
    return False


def fill_missing(base: Any, extra: Any) -> Any:
    """mergo.Merge without override: ``extra`` fills what ``base`` lacks, maps recursively."""
    if isinstance(base, Mapping) and isinstance(extra, Mapping):
        out = dict(base)
        for key, value in extra.items():
            out[key] = fill_missing(base[key], value) if key in base else value
        return out
    return extra if _empty(base) else base


def override(base: Any, extra: Any) -> Any:
    """mergo.Merge with override: ``extra`` wins, maps merged recursively."""
    if isinstance(base, Mapping) and isinstance(extra, Mapping):
        out = dict(base)
        for key, value in extra.items():
            out[key] = override(base[key], value) if key in base else value
        return out
    return base if _empty(extra) else extra


def _matrix(spec: Mapping[str, Any], ctx: Context, where: str, depth: int) -> list[Params]:
    children = _children(spec, where, 2)
    if len(children) > 2:
        raise GenerationError(f"{where}.generators: a matrix combines exactly two generators")
    first = run(children[0], ctx, f"{where}.generators[0]", depth=depth + 1)
    second_where = f"{where}.generators[1]"
    # a child without templates in its spec gives the same sets for every row: run it once
    static = "{{" not in json.dumps(children[1], default=str)
    shared = run(children[1], ctx, second_where, depth=depth + 1) if static else None
    out: list[Params] = []
    for row in first:
        seconds = (
            shared
            if shared is not None
            else run(children[1], ctx, second_where, depth=depth + 1, inherited=row)
        )
        ctx.check_count(len(out) + len(seconds), where)
        for other in seconds:
            out.append(fill_missing(row, other) if ctx.go else _combine_flat(row, other, where))
    return out


def _merge(spec: Mapping[str, Any], ctx: Context, where: str, depth: int) -> list[Params]:
    children = _children(spec, where, 2)
    keys = spec.get("mergeKeys")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise GenerationError(
            f"{where}.mergeKeys: needs at least one merge key (a list of strings)"
        )
    unique_keys = sorted(set(keys))

    def key_of(params: Params) -> str:
        return json.dumps({k: params.get(k) for k in unique_keys}, sort_keys=True, default=str)

    base = run(children[0], ctx, f"{where}.generators[0]", depth=depth + 1)
    merged = [dict(p) for p in base]
    for i, child in enumerate(children[1:], start=1):
        child_where = f"{where}.generators[{i}]"
        overrides: dict[str, Params] = {}
        for params in run(child, ctx, child_where, depth=depth + 1):
            key = key_of(params)
            if key in overrides:
                raise GenerationError(
                    f"{child_where}: the parameters are not unique by the merge keys "
                    f"(duplicate key {key})"
                )
            overrides[key] = params
        for index, params in enumerate(merged):
            extra = overrides.get(key_of(params))
            if extra is not None:
                merged[index] = override(params, extra) if ctx.go else {**params, **extra}
    return merged
