"""Bad input, against the real engine, a real Git repository and the real sandbox cluster.

One engine holds a fleet of Applications: a few good ones and one per bad input.
Each bad input is its own test (``test_bad_input[<case>]``) and checks three things:

* the app says what is wrong, in a condition (or, for what only a sync can find,
  the operation message) of *that* app, with the specific text asserted;
* a sync of it is refused or fails, and the API server's audit log shows no write
  (other than ``dryRun=All``) from ``gitops-tui/...`` in the fleet's namespaces;
* the good app beside it is still Synced and Healthy, with no condition.

``docs/reliability.md`` lists the cases with the messages observed. Set
``GITOPS_TUI_RELIABILITY_OUT=<file>`` to have the observed messages written there
(JSON lines) to refresh that table.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from gitrepo import GitDaemon, Symlink, commit, free_port, make_repo
from helpers import application, dump_all, kubectl, wait_for

from gitops_tui.engine.api import EngineError, SyncRequest
from gitops_tui.engine.cache.kubeclient import KubeApiError, KubeClient, KubeTarget
from gitops_tui.engine.cache.tracking import with_tracking
from gitops_tui.engine.controller.engine import Engine, EngineOptions
from gitops_tui.engine.model import ConditionType, HealthStatus, SyncStatus
from gitops_tui.engine.snapshot import AppSnapshot, OperationPhase

pytestmark = pytest.mark.cluster

WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
OBSERVED: dict[str, dict[str, str]] = {}
"""Case id -> what the app said (written to ``GITOPS_TUI_RELIABILITY_OUT`` if set)."""


# --------------------------------------------------------------------------- the audit log


class AuditLog:
    """The sandbox API server's audit log, read from a byte offset on."""

    def __init__(self, path: Path, kubeconfig: Path) -> None:
        self.path = path
        self.client = KubeClient(KubeTarget(kubeconfig, None))

    def mark(self) -> int:
        return self.path.stat().st_size

    def events(self, since: int, namespaces: set[str]) -> list[dict[str, Any]]:
        """Completed ``gitops-tui/...`` requests on objects in ``namespaces`` (or on them).

        A marker GET (user agent ``gitops-tui/...``) is made last and waited for, so
        every earlier request is in what is read.
        """
        marker = f"audit-marker-{uuid.uuid4().hex[:10]}"
        try:
            self.client.request("GET", f"/api/v1/namespaces/default/configmaps/{marker}")
        except KubeApiError as exc:
            assert exc.status == 404, exc

        def read() -> tuple[list[dict[str, Any]]] | None:
            with self.path.open("rb") as handle:
                handle.seek(since)
                data = handle.read()
            found: list[dict[str, Any]] = []
            for line in data.splitlines():
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("stage") != "ResponseComplete":
                    continue
                if not str(event.get("userAgent", "")).startswith("gitops-tui/"):
                    continue
                ref = event.get("objectRef") or {}
                if ref.get("name") == marker:
                    return (found,)
                if ref.get("namespace") in namespaces or (
                    ref.get("resource") == "namespaces" and ref.get("name") in namespaces
                ):
                    found.append(event)
            return None

        return wait_for(read, timeout=15, what="the audit log to catch up")[0]

    def real_writes(self, since: int, namespaces: set[str]) -> list[str]:
        """Mutating requests that were not dry runs, as ``VERB URI`` lines."""
        return [
            f"{event['verb']} {event.get('requestURI')}"
            for event in self.events(since, namespaces)
            if event.get("verb") in WRITE_VERBS
            and "dryRun=All" not in str(event.get("requestURI", ""))
        ]

    def close(self) -> None:
        self.client.close()


# --------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    """One bad input: what the app must say, and what a sync attempt must say.

    ``condition`` is the condition type expected on the app (None: only the sync
    finds the problem); every string of ``says`` must be in its message.
    ``compared``: the app still has a sync status (the problem is a warning, or
    shows only at sync time). ``sync``: strings the refusal (EngineError) or the
    failed operation's message must hold; None: no sync is attempted.
    """

    id: str
    what: str
    condition: str | None
    says: tuple[str, ...]
    sync: tuple[str, ...] | None = ()
    compared: bool = False


INVALID = ConditionType.INVALID_SPEC.value
COMPARISON = ConditionType.COMPARISON_ERROR.value
REPO = ConditionType.REPO_ERROR.value
UNREACHABLE = ConditionType.CLUSTER_UNREACHABLE.value
UNKNOWN_KIND = ConditionType.UNKNOWN_KIND.value
INVALID_APP = ("is invalid",)
NOT_COMPARED = ("has not been compared yet",)
DECLARED_NAMES = {"app-bad-name": "app-Bad_Name"}
NS = "{ns}"  # replaced by the fleet's namespace in ``says`` and ``sync``
MISSING_NS = "{missing_ns}"

CASES: tuple[Case, ...] = (
    # -- the Application itself ------------------------------------------------------
    Case(
        "app-not-yaml",
        "Application file that is not YAML at all",
        INVALID,
        ("app-not-yaml.yaml: line 1, column 13: mapping values are not allowed in this context",),
        INVALID_APP,
    ),
    Case(
        "app-empty",
        "empty Application file (named with --apps)",
        INVALID,
        ("app-empty.yaml: is empty (expected documents with apiVersion argoproj.io/v1alpha1",),
        INVALID_APP,
    ),
    Case(
        "app-binary",
        "binary Application file",
        INVALID,
        ("app-binary.yaml: binary content (NUL byte at offset 4), not a YAML/JSON text",),
        INVALID_APP,
    ),
    Case(
        "app-alias-bomb",
        "YAML alias bomb in an Application file",
        INVALID,
        ("YAML aliases expand to", "(refusing a possible alias bomb)"),
        INVALID_APP,
    ),
    Case(
        "app-spec-not-mapping",
        "Application whose spec is a list, not a mapping",
        INVALID,
        ("spec: required (a mapping)",),
        INVALID_APP,
    ),
    Case(
        "app-both-destinations",
        "destination.server and destination.name both set",
        INVALID,
        ("spec.destination: destination has both server and name",),
        INVALID_APP,
    ),
    Case(
        "app-no-destination",
        "no destination",
        INVALID,
        ("spec.destination: required",),
        INVALID_APP,
    ),
    Case(
        "app-no-repourl",
        "source without repoURL",
        INVALID,
        ("spec.source.repoURL: required",),
        INVALID_APP,
    ),
    Case(
        "app-no-source",
        "neither source nor sources",
        INVALID,
        ("spec.source: required (or spec.sources)",),
        INVALID_APP,
    ),
    Case(
        "app-source-and-sources",
        "both source and sources",
        INVALID,
        ("spec: spec.source and spec.sources are both set; use one",),
        INVALID_APP,
    ),
    Case(
        "app-unknown-sync-option",
        "unknown sync option",
        INVALID,
        ("spec.syncPolicy.syncOptions[0]: unknown sync option 'PruneLastt'",),
        INVALID_APP,
    ),
    Case(
        "app-bad-sync-option-value",
        "sync option with a value it does not take",
        INVALID,
        ("spec.syncPolicy.syncOptions[0]: CreateNamespace must be one of false, true, got 'yes'",),
        INVALID_APP,
    ),
    Case(
        "app-bad-retry",
        "retry backoff duration that is not a duration",
        INVALID,
        ("spec.syncPolicy.retry.backoff.duration: invalid duration 'soon' (use e.g. 5s, 3m, 1h)",),
        INVALID_APP,
    ),
    Case(
        "app-unknown-helm-key",
        "unknown helm option key",
        INVALID,
        ("spec.source.helm.valueFile: unknown field",),
        INVALID_APP,
    ),
    Case(
        "app-unknown-kustomize-key",
        "unknown kustomize option key",
        INVALID,
        ("spec.source.kustomize.nameprefix: unknown field",),
        INVALID_APP,
    ),
    Case(
        "app-two-tools",
        "helm and kustomize sections in one source",
        INVALID,
        ("spec.source: multiple tool sections set (kustomize, helm); use one",),
        INVALID_APP,
    ),
    Case(
        "app-plugin",
        "config management plugin (not supported)",
        INVALID,
        ("spec.source.plugin: config management plugins are not supported by gitops-tui",),
        INVALID_APP,
    ),
    Case(
        "app-bad-jq",
        "ignoreDifferences jq expression that does not compile",
        INVALID,
        ("spec.ignoreDifferences[0]: invalid jq path expression '.data['",),
        INVALID_APP,
    ),
    Case(
        "app-bad-json-pointer",
        "ignoreDifferences JSON pointer without a leading /",
        INVALID,
        ("spec.ignoreDifferences[0]: invalid JSON pointer 'data' in ignoreDifferences",),
        INVALID_APP,
    ),
    Case(
        "app-bad-name",
        "Application name that is not a DNS name (uppercase)",
        INVALID,
        ("metadata.name: '{ns}-app-Bad_Name' is not a valid name",),
        INVALID_APP,
    ),
    Case(
        "app-wrong-api-version",
        "Application of another API version",
        INVALID,
        ("apiVersion: must be argoproj.io/v1alpha1, got 'argoproj.io/v1beta1'",),
        INVALID_APP,
    ),
    # -- destinations ------------------------------------------------------------------
    Case(
        "dest-unknown-name",
        "destination.name that matches no kubeconfig context",
        UNREACHABLE,
        ("destination.name 'no-such-context' matches no kubeconfig context (known: ",),
        ("destination.name 'no-such-context' matches no kubeconfig context",),
    ),
    Case(
        "dest-unknown-server",
        "destination.server that matches no kubeconfig cluster",
        UNREACHABLE,
        ("destination.server 'https://10.255.255.1:6443' matches no kubeconfig cluster",),
        ("matches no kubeconfig cluster",),
    ),
    # -- Git ---------------------------------------------------------------------------
    Case(
        "revision-missing",
        "targetRevision that does not exist",
        REPO,
        ("revision not found: no-such-branch",),
        NOT_COMPARED,
    ),
    Case(
        "repo-missing",
        "repository that does not exist",
        REPO,
        (
            "repository not found or unreachable",
            "'/no/such/repo' does not appear to be a git repository",
        ),
        NOT_COMPARED,
    ),
    Case(
        "repo-not-exported",
        "git daemon refusing access (repository not exported)",
        REPO,
        ("remote error: access denied or repository not exported: /nope.git",),
        NOT_COMPARED,
    ),
    Case(
        "repo-closed-port",
        "repository on a closed port",
        REPO,
        ("repository not found or unreachable", "errno=Connection refused"),
        NOT_COMPARED,
    ),
    # -- reading manifests -----------------------------------------------------------
    Case(
        "yaml-malformed",
        "malformed YAML",
        COMPARISON,
        ("malformed/a.yaml: line 5, column 2: did not find expected key",),
        ("cannot sync", "did not find expected key"),
    ),
    Case(
        "yaml-alias-bomb",
        "YAML alias bomb (billion laughs)",
        COMPARISON,
        ("bomb/a.yaml: YAML aliases expand to", "(refusing a possible alias bomb)"),
        ("cannot sync", "alias bomb"),
    ),
    Case(
        "yaml-recursive-alias",
        "recursive YAML alias",
        COMPARISON,
        ("recursive/a.yaml: recursive YAML alias",),
        ("cannot sync", "recursive YAML alias"),
    ),
    Case(
        "yaml-python-tag",
        "YAML tag that would construct a Python object",
        COMPARISON,
        (
            "pytag/a.yaml: line 4, column 4: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object/apply:os.system'",
        ),
        ("cannot sync", "could not determine a constructor"),
    ),
    Case(
        "yaml-deep-nesting",
        "YAML nested 100,000 levels deep",
        COMPARISON,
        ("deep/a.yaml: line 3, column", "exceeded maximum nesting depth"),
        ("cannot sync", "nesting depth"),
    ),
    Case(
        "json-malformed",
        "malformed JSON manifest",
        COMPARISON,
        ("jsonbad/a.json: line 1, column 42: Expecting property name enclosed in double quotes",),
        ("cannot sync", "Expecting property name"),
    ),
    Case(
        "doc-not-mapping",
        "document that is not a mapping",
        COMPARISON,
        ("notmap/a.yaml: document 1 is a list, not a mapping",),
        ("cannot sync", "not a mapping"),
    ),
    Case(
        "missing-apiversion",
        "object without apiVersion",
        COMPARISON,
        ("noapi/a.yaml: document 1 is missing apiVersion",),
        ("cannot sync", "missing apiVersion"),
    ),
    Case(
        "missing-kind",
        "object without kind",
        COMPARISON,
        ("nokind/a.yaml: document 2 is missing kind",),
        ("cannot sync", "missing kind"),
    ),
    Case(
        "missing-name",
        "object without metadata.name",
        COMPARISON,
        ("noname/a.yaml: document 1 is missing metadata.name",),
        ("cannot sync", "missing metadata.name"),
    ),
    Case(
        "list-item-not-mapping",
        "List whose item is not a mapping",
        COMPARISON,
        ("listbad/a.yaml: document 1 item 2 is a string, not a mapping",),
        ("cannot sync", "item 2 is a string"),
    ),
    Case(
        "binary-file",
        "binary file with a manifest suffix in the path",
        COMPARISON,
        ("binary/a.yaml: binary content (NUL byte at offset 14), not a YAML/JSON text",),
        ("cannot sync", "binary content"),
    ),
    Case(
        "non-utf8-file",
        "file that is not UTF-8 in the path",
        COMPARISON,
        ("nonutf8/a.yaml: not valid UTF-8 text (byte offset 52)",),
        ("cannot sync", "not valid UTF-8"),
    ),
    Case(
        "jsonnet-file",
        "jsonnet file (not supported)",
        COMPARISON,
        ("jsonnet/a.jsonnet: jsonnet is not supported; exclude the file with",),
        ("cannot sync", "jsonnet"),
    ),
    Case(
        "directory-bad-glob",
        "directory include glob that does not parse",
        COMPARISON,
        ("{a,b: invalid include glob: unclosed '{'",),
        ("cannot sync", "invalid include glob"),
    ),
    Case(
        "manifest-10mb",
        "10 MB manifest (one 10 MiB ConfigMap)",
        COMPARISON,
        (
            "ConfigMap {ns}/big: object is 10.0 MiB as JSON, more than the 3 MiB the Kubernetes "
            "API server accepts in one request",
        ),
        ("cannot sync", "more than the 3 MiB"),
    ),
    Case(
        "manifest-17mb",
        "17 MB manifest file (over the 16 MiB read limit)",
        COMPARISON,
        ("huge/cm.yaml: manifest larger than 16 MiB",),
        ("cannot sync", "larger than 16 MiB"),
    ),
    # -- objects -----------------------------------------------------------------------
    Case(
        "duplicate-object",
        "the same object twice in one app",
        "RepeatedResourceWarning",
        ("the same object appears more than once (the last one is used): ConfigMap {ns}/twice",),
        None,
        compared=True,
    ),
    Case(
        "duplicate-object-namespaces",
        "the same object twice, once with the destination namespace written out",
        "RepeatedResourceWarning",
        ("the same object appears more than once (the last one is used): ConfigMap {ns}/twice",),
        None,
        compared=True,
    ),
    Case(
        "unknown-kind",
        "kind the cluster does not know (no CRD)",
        UNKNOWN_KIND,
        ("the cluster has no resource type Widget.example.com (is its CRD installed?)",),
        (
            "nothing was changed",
            "Widget {ns}/w: the cluster has no resource type Widget.example.com",
        ),
        compared=True,
    ),
    # -- paths -------------------------------------------------------------------------
    Case(
        "path-dotdot",
        "path escaping the repository with ../",
        COMPARISON,
        ("../outside: path leaves the repository",),
        ("cannot sync", "path leaves the repository"),
    ),
    Case(
        "path-absolute",
        "absolute path",
        COMPARISON,
        ("/etc: path must be relative to the repository, not absolute",),
        ("cannot sync", "must be relative"),
    ),
    Case(
        "path-symlink",
        "path that is a symlink out of the repository",
        COMPARISON,
        ("linked-etc: path leaves the repository",),
        ("cannot sync", "path leaves the repository"),
    ),
    Case(
        "path-missing",
        "path that does not exist",
        COMPARISON,
        ("no/such/dir: app path does not exist at revision ",),
        ("cannot sync", "does not exist"),
    ),
    Case(
        "file-symlink",
        "manifest file that is a symlink to /etc/passwd",
        COMPARISON,
        ("passwd/passwd.yaml: symlink points outside the repository",),
        ("cannot sync", "symlink points outside the repository"),
    ),
    # -- Helm --------------------------------------------------------------------------
    Case(
        "helm-values-dotdot",
        "Helm valueFiles entry escaping with ../",
        COMPARISON,
        ("helm: ../../x.yaml: helm value file leaves the repository",),
        ("cannot sync", "leaves the repository"),
    ),
    Case(
        "helm-values-absolute-outside",
        "Helm valueFiles absolute path climbing out (/../../etc/passwd)",
        COMPARISON,
        ("helm: /../../etc/passwd: helm value file leaves the repository",),
        ("cannot sync", "leaves the repository"),
    ),
    Case(
        "helm-values-absolute",
        "Helm valueFiles /etc/passwd (absolute = from the repository root, as Argo CD)",
        COMPARISON,
        ("helm: /etc/passwd: value file not found",),
        ("cannot sync", "value file not found"),
    ),
    Case(
        "helm-values-symlink",
        "Helm valueFiles entry that is a symlink to /etc/passwd",
        COMPARISON,
        ("helm: ../vals/link.yaml: helm value file leaves the repository",),
        ("cannot sync", "leaves the repository"),
    ),
    Case(
        "helm-values-remote",
        "Helm valueFiles URL",
        COMPARISON,
        ("helm: https://example.com/v.yaml: remote value files are not supported",),
        ("cannot sync", "remote value files"),
    ),
    Case(
        "helm-template-error",
        "Helm template error",
        COMPARISON,
        (
            "helm: badchart: exit status 1: Error: execution error at (c/templates/cm.yaml:1:3): "
            "boom from template",
        ),
        ("cannot sync", "boom from template"),
    ),
    Case(
        "helm-files-symlink",
        "Helm chart reading a symlink to /etc/passwd with .Files.Get",
        COMPARISON,
        ("fileschart/secret.txt: symlink points outside the repository",),
        ("cannot sync", "symlink points outside"),
    ),
    # -- Kustomize -----------------------------------------------------------------------
    Case(
        "kustomize-error",
        "Kustomize error (missing resource)",
        COMPARISON,
        ("kustomize: badkust: exit status 1: Error: accumulating resources", "missing.yaml"),
        ("cannot sync", "accumulating resources"),
    ),
    Case(
        "kustomize-escape",
        "Kustomize resource outside the kustomization root (../)",
        COMPARISON,
        ("kustomize: kesc: exit status 1", "security; file", "is not in or below"),
        ("cannot sync", "is not in or below"),
    ),
    Case(
        "kustomize-bad-image",
        "kustomize.images entry that is not an image",
        COMPARISON,
        ("kustomize: invalid image '=:': use name:tag, name@digest or name=new[:tag][@digest]",),
        ("cannot sync", "invalid image"),
    ),
    # -- found only when syncing (the plan, or the server's dry run) -----------------------
    Case(
        "sync-wave-invalid",
        "sync-wave annotation that is not an integer",
        None,
        (),
        (
            "cannot sync, the plan has errors: ConfigMap {ns}/w: annotation "
            "argocd.argoproj.io/sync-wave='first' is not an integer",
        ),
        compared=True,
    ),
    Case(
        "hook-type-unknown",
        "hook annotation naming an unknown hook type",
        None,
        (),
        ("cannot sync, the plan has errors", "unknown hook type(s) PreSynk"),
        compared=True,
    ),
    Case(
        "secret-bad-base64",
        "Secret whose data is not base64",
        None,
        (),
        (
            "failed to apply (dry run), nothing was changed",
            "Secret {ns}/s: ",
            "illegal base64 data at input byte 0",
        ),
        compared=True,
    ),
    Case(
        "name-uppercase",
        "object name with uppercase letters",
        None,
        (),
        (
            "nothing was changed",
            'metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain',
        ),
        compared=True,
    ),
    Case(
        "namespace-missing",
        "namespaced object in a namespace that does not exist (no CreateNamespace)",
        None,
        (),
        ("nothing was changed", 'NotFound: namespaces "{missing_ns}" not found'),
        compared=True,
    ),
    Case(
        "unknown-field",
        "unknown field under spec (strict field validation)",
        None,
        (),
        ("nothing was changed", ".spec.bogusField: field not declared in schema"),
        compared=True,
    ),
)


# --------------------------------------------------------------------------- the fleet


def cm(name: str, namespace: str | None = None, **data: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {"k": "v"}}


ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
)
CHART = {
    "Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    "templates/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n"
        'data:\n  v: {{ .Values.v | default "d" | quote }}\n'
    ),
}


def repo_files(ns: str, missing_ns: str) -> dict[str, str | bytes | Symlink]:
    files: dict[str, str | bytes | Symlink] = {
        "good/cm.yaml": dump_all([cm("good")]),
        "malformed/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: [\n",
        "bomb/a.yaml": "apiVersion: v1\nkind: ConfigMap\n" + ALIAS_BOMB,
        "recursive/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: r}\nx: &a [*a]\n",
        "pytag/a.yaml": (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: r}\n"
            "x: !!python/object/apply:os.system ['true']\n"
        ),
        "deep/a.yaml": "apiVersion: v1\nkind: ConfigMap\nx: " + "[" * 100_000 + "]" * 100_000,
        "jsonbad/a.json": '{"apiVersion": "v1", "kind": "ConfigMap",, }',
        "notmap/a.yaml": "# kind: ConfigMap\n- one\n- two\n",
        "noapi/a.yaml": "kind: ConfigMap\nmetadata:\n  name: x\n",
        "nokind/a.yaml": dump_all([cm("fine")]) + "---\napiVersion: v1\nmetadata:\n  name: x\n",
        "noname/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\n",
        "listbad/a.yaml": (
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
            "  metadata: {name: ok}\n- just a string\n"
        ),
        "binary/a.yaml": b"apiVersion: v1\x00\x01\x02kind",
        "nonutf8/a.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n",
        "jsonnet/a.jsonnet": "{}",
        "glob/a.yaml": dump_all([cm("g")]),
        "big/cm.yaml": dump_all([cm("big", blob="x" * (10 * 1024 * 1024))]),
        "huge/cm.yaml": dump_all([cm("huge", blob="x" * (17 * 1024 * 1024))]),
        "dup/a.yaml": dump_all([cm("twice"), cm("twice", other="value")]),
        "dupns/a.yaml": dump_all([cm("twice"), cm("twice", ns)]),
        "unknownkind/a.yaml": dump_all(
            [
                cm("beside-widget"),
                {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
            ]
        ),
        "outside/x.yaml": "a: 1\n",
        "linked-etc": Symlink("/etc"),
        "passwd/cm.yaml": dump_all([cm("p")]),
        "passwd/passwd.yaml": Symlink("/etc/passwd"),
        **{f"chart/{name}": text for name, text in CHART.items()},
        "vals/link.yaml": Symlink("/etc/passwd"),
        "badchart/Chart.yaml": CHART["Chart.yaml"],
        "badchart/templates/cm.yaml": '{{ fail "boom from template" }}\n',
        **{f"fileschart/{name}": text for name, text in CHART.items()},
        "fileschart/templates/file.yaml": (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: f\n"
            'data:\n  p: {{ .Files.Get "secret.txt" | quote }}\n'
        ),
        "fileschart/secret.txt": Symlink("/etc/passwd"),
        "badkust/kustomization.yaml": "resources:\n- missing.yaml\n",
        "kesc/kustomization.yaml": "resources:\n- ../outside/cm.yaml\n",
        "outside/cm.yaml": dump_all([cm("o")]),
        "kust/kustomization.yaml": "resources:\n- cm.yaml\n",
        "kust/cm.yaml": dump_all([cm("k")]),
        "wave/a.yaml": dump_all(
            [
                {
                    **cm("w"),
                    "metadata": {
                        "name": "w",
                        "annotations": {"argocd.argoproj.io/sync-wave": "first"},
                    },
                }
            ]
        ),
        "hook/a.yaml": dump_all(
            [
                {
                    **cm("h"),
                    "metadata": {
                        "name": "h",
                        "annotations": {"argocd.argoproj.io/hook": "PreSynk"},
                    },
                }
            ]
        ),
        "b64/a.yaml": dump_all(
            [
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": "s"},
                    "data": {"k": "!!!not-base64"},
                }
            ]
        ),
        "upper/a.yaml": dump_all([cm("Bad_Name")]),
        "nsmissing/a.yaml": dump_all([cm("x", missing_ns)]),
        "unknownfield/a.yaml": dump_all(
            [
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": "svc"},
                    "spec": {"ports": [{"port": 80}], "bogusField": 1},
                }
            ]
        ),
        "not-k8s/values.yaml": "replicas: 3\nimage: nginx\n",
        "not-k8s/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "not-k8s/empty.yaml": "",
        "not-k8s/cm.yaml": dump_all([cm("v")]),
    }
    return files


def app_documents(ns: str, url: str, daemon: GitDaemon, served: Path) -> dict[str, Any]:
    """Case id (or ``good...``) -> the Application document, or raw file content."""

    def app(case: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return application(f"{ns}-{case}", url, path, ns, **kwargs)

    def spec_edit(case: str, **spec: Any) -> dict[str, Any]:
        doc = app(case, "good")
        for key, value in spec.items():
            if value is None:
                doc["spec"].pop(key, None)
            else:
                doc["spec"][key] = value
        return doc

    def helm(case: str, path: str, **options: Any) -> dict[str, Any]:
        return app(case, path, source_extra={"helm": options})

    good_source = {"repoURL": url, "path": "good"}
    return {
        "good": app("good", "good"),
        "good-helm": app("good-helm", "chart"),
        "good-kustomize": app("good-kustomize", "kust"),
        "good-daemon": application(f"{ns}-good-daemon", daemon.url_for(served), "good", ns),
        "not-k8s-files": app("not-k8s-files", "not-k8s"),
        # the Application itself
        "app-binary": b"kind\x00\x01\x02 argoproj.io",
        "app-alias-bomb": f"apiVersion: argoproj.io/v1alpha1\nkind: Application\n{ALIAS_BOMB}",
        "app-spec-not-mapping": {**app("app-spec-not-mapping", "good"), "spec": ["a", "list"]},
        "app-both-destinations": spec_edit(
            "app-both-destinations",
            destination={"server": "https://kubernetes.default.svc", "name": "x", "namespace": ns},
        ),
        "app-no-destination": spec_edit("app-no-destination", destination=None),
        "app-no-repourl": spec_edit("app-no-repourl", source={"path": "good"}),
        "app-no-source": spec_edit("app-no-source", source=None),
        "app-source-and-sources": spec_edit("app-source-and-sources", sources=[good_source]),
        "app-unknown-sync-option": app(
            "app-unknown-sync-option", "good", sync_options=["PruneLastt=true"]
        ),
        "app-bad-sync-option-value": app(
            "app-bad-sync-option-value", "good", sync_options=["CreateNamespace=yes"]
        ),
        "app-bad-retry": spec_edit(
            "app-bad-retry", syncPolicy={"retry": {"limit": 2, "backoff": {"duration": "soon"}}}
        ),
        "app-unknown-helm-key": helm("app-unknown-helm-key", "chart", valueFile=["v.yaml"]),
        "app-unknown-kustomize-key": app(
            "app-unknown-kustomize-key", "kust", source_extra={"kustomize": {"nameprefix": "x-"}}
        ),
        "app-two-tools": app("app-two-tools", "chart", source_extra={"helm": {}, "kustomize": {}}),
        "app-plugin": app("app-plugin", "good", source_extra={"plugin": {"name": "cmp"}}),
        "app-bad-jq": spec_edit(
            "app-bad-jq", ignoreDifferences=[{"kind": "ConfigMap", "jqPathExpressions": [".data["]}]
        ),
        "app-bad-json-pointer": spec_edit(
            "app-bad-json-pointer",
            ignoreDifferences=[{"kind": "ConfigMap", "jsonPointers": ["data"]}],
        ),
        "app-bad-name": {
            **app("app-bad-name", "good"),
            "metadata": {"name": f"{ns}-app-Bad_Name", "namespace": "argocd"},
        },
        "app-wrong-api-version": {
            **app("app-wrong-api-version", "good"),
            "apiVersion": "argoproj.io/v1beta1",
        },
        # destinations
        "dest-unknown-name": spec_edit(
            "dest-unknown-name", destination={"name": "no-such-context", "namespace": ns}
        ),
        "dest-unknown-server": spec_edit(
            "dest-unknown-server",
            destination={"server": "https://10.255.255.1:6443", "namespace": ns},
        ),
        # Git
        "revision-missing": app("revision-missing", "good", revision="no-such-branch"),
        "repo-missing": application(f"{ns}-repo-missing", "file:///no/such/repo", "good", ns),
        "repo-not-exported": application(
            f"{ns}-repo-not-exported", f"git://127.0.0.1:{daemon.port}/nope.git", "good", ns
        ),
        "repo-closed-port": application(
            f"{ns}-repo-closed-port", f"git://127.0.0.1:{free_port()}/x.git", "good", ns
        ),
        # manifests
        "yaml-malformed": app("yaml-malformed", "malformed"),
        "yaml-alias-bomb": app("yaml-alias-bomb", "bomb"),
        "yaml-recursive-alias": app("yaml-recursive-alias", "recursive"),
        "yaml-python-tag": app("yaml-python-tag", "pytag"),
        "yaml-deep-nesting": app("yaml-deep-nesting", "deep"),
        "json-malformed": app("json-malformed", "jsonbad"),
        "doc-not-mapping": app("doc-not-mapping", "notmap"),
        "missing-apiversion": app("missing-apiversion", "noapi"),
        "missing-kind": app("missing-kind", "nokind"),
        "missing-name": app("missing-name", "noname"),
        "list-item-not-mapping": app("list-item-not-mapping", "listbad"),
        "binary-file": app("binary-file", "binary"),
        "non-utf8-file": app("non-utf8-file", "nonutf8"),
        "jsonnet-file": app("jsonnet-file", "jsonnet"),
        "directory-bad-glob": app(
            "directory-bad-glob", "glob", source_extra={"directory": {"include": "{a,b"}}
        ),
        "manifest-10mb": app("manifest-10mb", "big"),
        "manifest-17mb": app("manifest-17mb", "huge"),
        "duplicate-object": app("duplicate-object", "dup"),
        "duplicate-object-namespaces": app("duplicate-object-namespaces", "dupns"),
        "unknown-kind": app("unknown-kind", "unknownkind"),
        "path-dotdot": app("path-dotdot", "../outside"),
        "path-absolute": app("path-absolute", "/etc"),
        "path-symlink": app("path-symlink", "linked-etc"),
        "path-missing": app("path-missing", "no/such/dir"),
        "file-symlink": app("file-symlink", "passwd"),
        "helm-values-dotdot": helm("helm-values-dotdot", "chart", valueFiles=["../../x.yaml"]),
        "helm-values-absolute-outside": helm(
            "helm-values-absolute-outside", "chart", valueFiles=["/../../etc/passwd"]
        ),
        "helm-values-absolute": helm("helm-values-absolute", "chart", valueFiles=["/etc/passwd"]),
        "helm-values-symlink": helm(
            "helm-values-symlink", "chart", valueFiles=["../vals/link.yaml"]
        ),
        "helm-values-remote": helm(
            "helm-values-remote", "chart", valueFiles=["https://example.com/v.yaml"]
        ),
        "helm-template-error": app("helm-template-error", "badchart"),
        "helm-files-symlink": app("helm-files-symlink", "fileschart"),
        "kustomize-error": app("kustomize-error", "badkust"),
        "kustomize-escape": app("kustomize-escape", "kesc"),
        "kustomize-bad-image": app(
            "kustomize-bad-image", "kust", source_extra={"kustomize": {"images": ["=:"]}}
        ),
        "sync-wave-invalid": app("sync-wave-invalid", "wave"),
        "hook-type-unknown": app("hook-type-unknown", "hook"),
        "secret-bad-base64": app("secret-bad-base64", "b64"),
        "name-uppercase": app("name-uppercase", "upper"),
        "namespace-missing": app("namespace-missing", "nsmissing"),
        "unknown-field": app("unknown-field", "unknownfield"),
    }


@dataclass
class Fleet:
    engine: Engine
    ns: str
    missing_ns: str
    audit: AuditLog
    daemon: GitDaemon
    repo: Any
    started_at: int
    kubeconfig: Path

    @property
    def namespaces(self) -> set[str]:
        return {self.ns, self.missing_ns}

    def app(self, case: str) -> AppSnapshot:
        name = f"{self.ns}-{DECLARED_NAMES.get(case, case)}"
        snapshot = self.engine.snapshot()
        assert name in snapshot.by_name, f"no app {name}; have {sorted(snapshot.by_name)}"
        return snapshot.by_name[name]

    def text(self, template: str) -> str:
        return template.replace(NS, self.ns).replace(MISSING_NS, self.missing_ns)

    def assert_good(self, *, skip: tuple[str, ...] = ()) -> None:
        good = self.app("good")
        assert (good.sync, good.health) == (SyncStatus.SYNCED, HealthStatus.HEALTHY), good
        assert good.conditions == ()
        for case in {"good-helm", "good-kustomize", "good-daemon"} - set(skip):
            other = self.app(case)
            assert other.sync == SyncStatus.OUT_OF_SYNC and other.conditions == (), other

    def try_sync(self, case: str) -> tuple[str, str]:
        """Ask for a sync: ("refused", error) or (final phase, operation message)."""
        name = f"{self.ns}-{DECLARED_NAMES.get(case, case)}"
        try:
            op_id = self.engine.sync(SyncRequest(app=name, initiated_by="test"))
        except EngineError as exc:
            return "refused", str(exc)
        final = self.engine.wait_for_operation(name, op_id, timeout=60)
        assert final is not None, f"sync of {name} did not finish"
        return final.phase.value, final.message


def _write_app_files(directory: Path, ns: str, docs: dict[str, Any]) -> list[Path]:
    """Application files in ``directory``; returns the extra files named explicitly."""
    directory.mkdir()
    for case, doc in docs.items():
        path = directory / f"{ns}-{case}.yaml"
        if isinstance(doc, bytes):
            path.write_bytes(doc)
        elif isinstance(doc, str):
            path.write_text(doc)
        else:
            path.write_text(yaml.safe_dump(doc, sort_keys=False))
    # a second Application with the name of one already defined
    (directory / f"{ns}-zz-duplicate.yaml").write_text(
        yaml.safe_dump(application(f"{ns}-dup-name", "file:///x", "good", ns))
    )
    (directory / f"{ns}-dup-name.yaml").write_text(
        yaml.safe_dump(application(f"{ns}-dup-name", "file:///x", "good", ns))
    )
    # inside a directory: an empty file and unrelated YAML are not Applications, not errors
    (directory / "empty-in-directory.yaml").write_text("")
    (directory / "unrelated-in-directory.yaml").write_text("not: [an, application")
    explicit = directory.parent / "explicit"
    explicit.mkdir()
    (explicit / f"{ns}-app-empty.yaml").write_text("")
    (explicit / f"{ns}-app-not-yaml.yaml").write_text("this is: not: yaml: [\n\t{")
    return [explicit / f"{ns}-app-empty.yaml", explicit / f"{ns}-app-not-yaml.yaml"]


@pytest.fixture(scope="module")
def fleet(sandbox, sandbox_box, kube_api, tmp_path_factory) -> Iterator[Fleet]:  # type: ignore[no-untyped-def]
    from kubernetes import client

    tmp = tmp_path_factory.mktemp("bad-input")
    ns = f"t-{uuid.uuid4().hex[:10]}"
    missing_ns = f"no-such-ns-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube_api)
    core.create_namespace({"metadata": {"name": ns}})
    audit = AuditLog(Path(sandbox_box.audit_log), sandbox.kubeconfig)
    repo = make_repo(tmp / "repo", repo_files(ns, missing_ns))
    url = f"file://{repo.working_tree_dir}"
    served = tmp / "served"
    make_repo(served / "good-repo", {"good/cm.yaml": dump_all([cm("good-daemon")])})
    daemon = GitDaemon(served).start()
    docs = app_documents(ns, url, daemon, served / "good-repo")
    explicit = _write_app_files(tmp / "apps", ns, docs)
    # the good app's object is live already, tracked by it: the app is Synced
    live = with_tracking(cm("good", ns), f"{ns}-good")
    kubectl(
        sandbox.kubeconfig,
        "apply",
        "--server-side",
        "--field-manager=gitops-tui",
        "-f",
        "-",
        stdin=dump_all([live]),
    )
    started_at = audit.mark()
    options = EngineOptions(
        app_paths=(tmp / "apps", *explicit),
        kubeconfig=sandbox.kubeconfig,
        repo_cache_dir=tmp / "repo-cache",
        history_path=tmp / "history.sqlite3",
        automation=False,
        watch_local_repos=False,
    )
    engine = Engine(options).start()
    try:
        assert engine.wait_until_compared(timeout=120), "the fleet was not compared in 120 s"
        fleet = Fleet(engine, ns, missing_ns, audit, daemon, repo, started_at, sandbox.kubeconfig)
        wait_for(
            lambda: fleet.app("good").sync == SyncStatus.SYNCED, timeout=30, what="good Synced"
        )
        yield fleet
    finally:
        engine.close()
        daemon.stop()
        audit.close()
        core.delete_namespace(ns)
        out = os.environ.get("GITOPS_TUI_RELIABILITY_OUT")
        if out:
            with open(out, "a", encoding="utf-8") as handle:
                for case_id, observed in OBSERVED.items():
                    handle.write(json.dumps({"case": case_id, **observed}) + "\n")


# --------------------------------------------------------------------------- the tests


def test_every_case_has_an_application() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    docs = app_documents("ns", "file:///x", GitDaemon(Path("/")), Path("/served"))
    explicit = {"app-empty", "app-not-yaml"}
    assert set(ids) - explicit <= set(docs), set(ids) - explicit - set(docs)
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(fleet: Fleet, case: Case) -> None:
    app = fleet.app(case.id)
    observed: dict[str, str] = {"what": case.what}
    # 1. a specific message on that app
    if case.condition is not None:
        of_type = [c.message for c in app.conditions if c.type == case.condition]
        assert of_type, f"no {case.condition} on {app.name}: {app.conditions}"
        wanted = [fleet.text(s) for s in case.says]
        assert any(all(s in message for s in wanted) for message in of_type), (
            f"{app.name}: {of_type} should say {wanted}"
        )
        observed["condition"] = f"{case.condition}: {of_type[0]}"
    if case.compared:
        assert app.sync != SyncStatus.UNKNOWN, app
    else:
        assert app.sync == SyncStatus.UNKNOWN and app.health == HealthStatus.UNKNOWN, app
    # 2. a sync is refused, or fails before changing anything
    if case.sync is not None:
        mark = fleet.audit.mark()
        outcome, message = fleet.try_sync(case.id)
        assert outcome in ("refused", OperationPhase.FAILED.value), (outcome, message)
        for wanted_text in case.sync:
            assert fleet.text(wanted_text) in message, f"{message!r} lacks {wanted_text!r}"
        if case.condition != INVALID:  # an invalid app has no operations, only its conditions
            operation = wait_for(
                lambda: fleet.app(case.id).operation, timeout=10, what="the operation on the app"
            )
            assert operation.phase.done and operation.phase != OperationPhase.SUCCEEDED
            assert message in operation.message or operation.message in message
        assert fleet.audit.real_writes(mark, fleet.namespaces) == []
        observed["sync"] = f"{outcome}: {message}"
    # 3. the good apps beside it still work
    fleet.assert_good()
    OBSERVED[case.id] = observed


def test_duplicate_object_is_kept_once(fleet: Fleet) -> None:
    for case in ("duplicate-object", "duplicate-object-namespaces"):
        app = fleet.app(case)
        twice = [r for r in app.resources if r.key.name == "twice"]
        assert len(twice) == 1 and twice[0].key.namespace == fleet.ns, app.resources
    # the last one wins, as in Argo CD
    [diff] = [d for d in fleet.engine.diffs(f"{fleet.ns}-duplicate-object") if d.modified]
    assert "other: value" in diff.unified


def test_unknown_kind_leaves_the_rest_of_the_app_compared(fleet: Fleet) -> None:
    app = fleet.app("unknown-kind")
    by_name = {r.key.name: r for r in app.resources}
    assert by_name["beside-widget"].status == SyncStatus.OUT_OF_SYNC
    assert by_name["w"].status == SyncStatus.OUT_OF_SYNC
    assert "is its CRD installed?" in by_name["w"].health_message


def test_sync_errors_show_in_the_preview_before_any_sync(fleet: Fleet) -> None:
    for case, wanted in (
        ("sync-wave-invalid", "sync-wave='first' is not an integer"),
        ("hook-type-unknown", "unknown hook type(s) PreSynk"),
    ):
        preview = fleet.engine.preview(SyncRequest(app=f"{fleet.ns}-{case}"))
        assert not preview.ok
        assert any(wanted in error for error in preview.errors), preview.errors


def test_files_that_are_not_manifests_are_no_error(fleet: Fleet) -> None:
    """values.yaml without apiVersion/kind, a PNG and an empty YAML file are skipped."""
    app = fleet.app("not-k8s-files")
    assert app.conditions == ()
    assert [r.key.name for r in app.resources] == ["v"]
    # inside an --apps directory, empty and unrelated YAML files are not apps, not errors
    names = fleet.engine.app_names()
    assert not any("in-directory" in name for name in names), names


def test_duplicate_application_name_keeps_the_first(fleet: Fleet) -> None:
    apps = [a for a in fleet.engine.snapshot().apps if a.name.startswith(f"{fleet.ns}-dup-name")]
    assert any(
        "duplicate application name, first defined in" in c.message
        for a in apps
        for c in a.conditions
    ), apps
    # the first (valid) definition was kept and processed: it reaches Git (and fails
    # there, its repository does not exist) instead of being replaced by the invalid one
    assert len(apps) == 1
    assert any(c.type == REPO for c in apps[0].conditions), "the first definition was lost"


def test_stopped_git_daemon_keeps_the_last_manifests_and_recovers(fleet: Fleet) -> None:
    name = f"{fleet.ns}-good-daemon"
    assert fleet.app("good-daemon").conditions == ()
    revision = fleet.app("good-daemon").revision
    fleet.daemon.stop()
    try:
        fleet.engine.refresh(name)
        app = wait_for(
            lambda: (a := fleet.app("good-daemon")).conditions and a,
            timeout=30,
            what="a RepoError after the daemon stopped",
        )
        [condition] = app.conditions
        assert condition.type == REPO
        assert "errno=Connection refused" in condition.message
        assert condition.message.endswith("(showing the last known manifests)")
        assert app.revision == revision and app.sync == SyncStatus.OUT_OF_SYNC
        fleet.assert_good(skip=("good-daemon",))
    finally:
        fleet.daemon.start()
    fleet.engine.refresh(name)
    wait_for(
        lambda: fleet.app("good-daemon").conditions == (),
        timeout=30,
        what="the RepoError to clear once the daemon is back",
    )
    OBSERVED["git-daemon-stopped"] = {
        "what": "git daemon stopped after the first fetch",
        "condition": f"{condition.type}: {condition.message}",
    }


def test_hard_refresh_of_everything_keeps_the_good_apps_working(fleet: Fleet) -> None:
    fleet.engine.refresh(hard=True)
    assert fleet.engine.wait_until_compared(timeout=120)
    fleet.assert_good()
    # and the broken ones still say what is wrong
    for case in CASES:
        if case.condition is not None:
            assert any(c.type == case.condition for c in fleet.app(case.id).conditions), case.id


def test_no_write_reached_the_cluster_from_the_whole_fleet(fleet: Fleet) -> None:
    assert fleet.audit.real_writes(fleet.started_at, fleet.namespaces) == []
    # the objects the refused syncs wanted do not exist
    for case, kind, name in (
        ("secret-bad-base64", "secret", "s"),
        ("sync-wave-invalid", "configmap", "w"),
        ("hook-type-unknown", "configmap", "h"),
        ("unknown-field", "service", "svc"),
        ("unknown-kind", "configmap", "beside-widget"),
    ):
        result = kubectl(fleet.kubeconfig, "-n", fleet.ns, "get", kind, name, check=False)
        assert result.returncode != 0 and "NotFound" in result.stderr, (case, result.stdout)


# --------------------------------------------------------------------------- two apps, one object


def test_object_claimed_by_two_apps(sandbox, sandbox_box, namespace, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A shared object is reported as such, and dropping it from one app's Git prunes nothing."""
    repo = make_repo(
        tmp_path / "repo",
        {
            "a/cm.yaml": dump_all([cm("shared", mode="a"), cm("only-a")]),
            "b/cm.yaml": dump_all([cm("shared", mode="a")]),
        },
    )
    url = f"file://{repo.working_tree_dir}"
    a, b = f"{namespace}-a", f"{namespace}-b"
    audit = AuditLog(Path(sandbox_box.audit_log), sandbox.kubeconfig)
    options = EngineOptions(
        kubeconfig=sandbox.kubeconfig,
        repo_cache_dir=tmp_path / "repo-cache",
        history_path=tmp_path / "history.sqlite3",
        automation=False,
        watch_local_repos=False,
    )
    from gitops_tui.engine.app.parse import parse_application

    docs = [application(a, url, "a", namespace), application(b, url, "b", namespace)]
    engine = Engine(options, apps=[parse_application(d, "test") for d in docs]).start()
    try:
        assert engine.wait_until_compared(timeout=60)

        def sync(name: str, prune: bool = False) -> None:
            op = engine.sync(SyncRequest(app=name, prune=prune, initiated_by="test"))
            final = engine.wait_for_operation(name, op, timeout=60)
            assert final is not None and final.phase == OperationPhase.SUCCEEDED, final

        sync(b)
        sync(a)  # a applies last: the live object carries a's tracking id

        def shared_warning(name: str) -> str | None:
            app = engine.snapshot().by_name[name]
            for condition in app.conditions:
                if condition.type == ConditionType.SHARED_RESOURCE.value:
                    return condition.message
            return None

        message = wait_for(lambda: shared_warning(b), what="SharedResourceWarning on b")
        assert (
            message == f"ConfigMap {namespace}/shared: also managed by app '{a}' (shared resource)"
        )
        OBSERVED["shared-resource"] = {
            "what": "two apps claiming the same object",
            "condition": f"SharedResourceWarning: {message}",
        }
        # the object leaves a's Git: it is still wanted by b, so a must not prune it
        sha = commit(repo, {"a/cm.yaml": dump_all([cm("only-a")])}, "a gives up shared")
        engine.refresh(a)
        app_a = wait_for(
            lambda: (x := engine.snapshot().by_name[a]).revision == sha and not x.comparing and x,
            what="a at the new revision",
        )
        [shared_in_a] = [r for r in app_a.resources if r.key.name == "shared"]
        assert not shared_in_a.requires_pruning
        assert shared_in_a.health_message == f"wanted by app '{b}': not pruned"
        app_b = engine.snapshot().by_name[b]
        assert not any(r.requires_pruning for r in app_b.resources)
        assert not any(r.requires_pruning for r in app_a.resources)
        # a sync of a with prune deletes nothing
        mark = audit.mark()
        preview = engine.preview(SyncRequest(app=a, prune=True))
        assert [t.key.name for t in preview.plan.tasks if t.is_prune] == []
        sync(a, prune=True)
        writes = audit.real_writes(mark, {namespace})
        # the audit log does show this sync's apply (so an empty list elsewhere means something)
        assert any(w.startswith("patch ") and "/configmaps/only-a?" in w for w in writes), writes
        assert [w for w in writes if w.startswith(("delete", "deletecollection"))] == []
        assert (
            kubectl(sandbox.kubeconfig, "-n", namespace, "get", "configmap", "shared").returncode
            == 0
        )
    finally:
        engine.close()
        audit.close()
