"""``gitops-tui appset apply NAME FILE_OR_DIR... --from-cluster``: write a set's Applications.

With ``--from-cluster`` this does what Argo CD's ApplicationSet controller does for
one set, once: the ApplicationSet itself is applied (server-side apply, field
manager ``gitops-tui``) into its namespace, then the Applications it generates now
are created, updated and deleted there as its ``applicationsSync`` policy allows
(``policy.plan`` over the Application objects of that namespace), each carrying an
``ownerReference`` to the set (controller, with the set's uid). Only Applications
whose ownerReference names this set's uid are ever deleted (the delete carries a
uid precondition); others of the same name are conflicts, left alone.

In local mode (no ``--from-cluster``) there is nothing to write: the engine (the
console, ``list``, ``sync``) creates, updates and removes a set's apps itself, per
policy, each time it reads the set; ``appset preview`` shows that change.

Read-only (flag, config file, or the context marked read-only) refuses before
anything is sent. Exit codes: 0 applied; 1 the set has a condition (nothing
written for its apps) or conflicts; 2 an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gitops_tui.appset_cli import EXIT_DIFF, EXIT_OK, SafeOutput
from gitops_tui.config import ConfigError, Settings
from gitops_tui.engine.app.applicationset import Action, ApplicationSet, Generated, plan
from gitops_tui.engine.cache.kubeclient import (
    KubeApiError,
    KubeClient,
    KubeTarget,
    list_contexts,
    path_segment,
)
from gitops_tui.engine.textsafe import printable

FIELD_MANAGER = "gitops-tui"
GROUP_PATH = "/apis/argoproj.io/v1alpha1/namespaces"

LOCAL_MODE = (
    "appset apply writes Application objects to a cluster and needs --from-cluster: in "
    "local mode there is nothing to write, the engine (console, list, sync) creates, "
    "updates and removes a set's apps itself, per applicationsSync, each time it reads "
    "the set; `gitops-tui appset preview` shows that change"
)

_SERVER_FIELDS = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields")


def _clean(doc: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """A document to apply: no status or server-set metadata, in ``namespace``."""
    out = {k: v for k, v in doc.items() if k != "status"}
    meta = {k: v for k, v in dict(out.get("metadata") or {}).items() if k not in _SERVER_FIELDS}
    meta["namespace"] = namespace
    out["metadata"] = meta
    out.setdefault("apiVersion", "argoproj.io/v1alpha1")
    return out


def _owner_uids(doc: Mapping[str, Any]) -> set[str]:
    refs = (doc.get("metadata") or {}).get("ownerReferences")
    return {
        str(ref.get("uid"))
        for ref in (refs if isinstance(refs, list) else [])
        if isinstance(ref, dict) and ref.get("kind") == "ApplicationSet" and ref.get("uid")
    }


def _apply(client: KubeClient, plural: str, namespace: str, doc: Mapping[str, Any]) -> Any:
    name = path_segment("name", str((doc.get("metadata") or {}).get("name") or ""))
    return client.request(
        "PATCH",
        f"{GROUP_PATH}/{path_segment('namespace', namespace)}/{plural}/{name}",
        query={"fieldManager": FIELD_MANAGER, "force": "true"},
        body=doc,
        content_type="application/apply-patch+yaml",
    )


def run_apply(
    name: str,
    results: list[Generated],
    settings: Settings,
    *,
    output: str,
    out: SafeOutput,
) -> int:
    """Apply the set ``name`` (one of ``results``); the exit code. Raises on errors."""
    if not settings.from_cluster:
        raise ConfigError(LOCAL_MODE)
    found = [g for g in results if g.name == name]
    if not found:
        raise ConfigError(
            f"appset apply: no ApplicationSet named {name!r} in the files given "
            f"(found: {', '.join(sorted(g.name for g in results)) or 'none'})"
        )
    generated = found[0]
    appset = generated.appset
    if not isinstance(appset, ApplicationSet) or not generated.ok:
        for condition in generated.conditions or getattr(appset, "conditions", ()):
            out.write(printable(f"{condition.type}: {condition.message}") + "\n")
        out.write(printable(f"ApplicationSet {name}: nothing applied") + "\n")
        return EXIT_DIFF
    _contexts, current = list_contexts(settings.kubeconfig)
    context = settings.context or current
    policy = settings.read_only_policy()
    policy.check(f"appset apply {name}", context)  # ReadOnlyError before anything is sent
    namespace = appset.namespace
    client = KubeClient(KubeTarget(settings.kubeconfig, context, read_only=policy.covers(context)))
    try:
        written = _apply(client, "applicationsets", namespace, _clean(appset.raw, namespace))
        uid = str((written.get("metadata") or {}).get("uid") or "")
        listing = client.request(
            "GET", f"{GROUP_PATH}/{path_segment('namespace', namespace)}/applications"
        )
        existing = [i for i in (listing.get("items") or []) if isinstance(i, dict)]
        result = plan(generated, existing)
        owner = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "ApplicationSet",
            "name": name,
            "uid": uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }
        done: list[dict[str, Any]] = []
        skipped: list[dict[str, str]] = [
            {"name": c.name, "action": c.action.value, "reason": c.reason}
            for c in result.changes
            if not c.allowed
        ]
        for change in result.pending:
            if change.action is Action.DELETE:
                doc = change.existing or {}
                if uid not in _owner_uids(doc):
                    skipped.append(
                        {"name": change.name, "action": "delete",
                         "reason": "its ownerReference does not name this set's uid"}
                    )  # fmt: skip
                    continue
                client.request(
                    "DELETE",
                    f"{GROUP_PATH}/{path_segment('namespace', namespace)}/applications/"
                    f"{path_segment('name', change.name)}",
                    body={
                        "kind": "DeleteOptions",
                        "apiVersion": "v1",
                        "preconditions": {"uid": (doc.get("metadata") or {}).get("uid")},
                    },
                )
            else:
                doc = _clean(change.desired or {}, namespace)
                doc["metadata"]["ownerReferences"] = [owner]
                _apply(client, "applications", namespace, doc)
            done.append({"name": change.name, "action": change.action.value})
    except KubeApiError as exc:
        raise ConfigError(f"appset apply {name}: {exc}") from None
    finally:
        client.close()
    conflicts = [{"name": c.name, "message": c.message} for c in result.conflicts]
    if output == "json":
        json.dump(
            {"name": name, "namespace": namespace, "policy": appset.applications_sync.value,
             "applied": done, "skipped": skipped, "unchanged": list(result.unchanged),
             "conflicts": conflicts},
            out,
            indent=2,
        )  # fmt: skip
        out.write("\n")
    else:
        verbs = {"create": "created", "update": "updated", "delete": "deleted"}
        out.write(
            printable(
                f"ApplicationSet {name} ({namespace}, {appset.applications_sync.value}): "
                f"{len(done)} applied, {len(skipped)} skipped, {len(result.unchanged)} unchanged"
            )
            + "\n"
        )
        for item in done:
            out.write(printable(f"  {verbs[item['action']]} {item['name']}") + "\n")
        for item in skipped:
            out.write(
                printable(f"  skipped {item['action']} {item['name']}: {item['reason']}") + "\n"
            )
        for conflict in conflicts:
            out.write(printable(f"  ! {conflict['name']}  {conflict['message']}") + "\n")
    return EXIT_DIFF if conflicts else EXIT_OK


__all__ = ["LOCAL_MODE", "run_apply"]
