"""Built-in health of the ecosystem's custom resources (and core CronJob, PodDisruptionBudget).

Fixtures are written from each project's documented status fields; every kind
has Healthy, Progressing, Degraded, Suspended where the project has it, and a
malformed status that must give Unknown (never an exception).
"""

from __future__ import annotations

from typing import Any

import pytest

from gitops_tui.engine.health.dispatch import resource_health
from gitops_tui.engine.model import HealthStatus

H = HealthStatus
HEALTHY, PROGRESSING, DEGRADED, SUSPENDED, UNKNOWN = (
    H.HEALTHY,
    H.PROGRESSING,
    H.DEGRADED,
    H.SUSPENDED,
    H.UNKNOWN,
)


def cond(kind: str, status: str, reason: str = "", message: str = "") -> dict[str, str]:
    return {"type": kind, "status": status, "reason": reason, "message": message}


def obj(
    api: str,
    kind: str,
    *,
    spec: Any = None,
    status: Any = None,
    conditions: list[dict[str, str]] | None = None,
    generation: int | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "x", "namespace": "default"}
    if generation is not None:
        meta["generation"] = generation
    if annotations:
        meta["annotations"] = annotations
    out: dict[str, Any] = {"apiVersion": api, "kind": kind, "metadata": meta}
    if spec is not None:
        out["spec"] = spec
    if conditions is not None:
        status = {**(status or {}), "conditions": conditions}
    if status is not None:
        out["status"] = status
    return out


BAD_CONDITIONS = {"conditions": "not-a-list"}

CASES: list[tuple[str, dict[str, Any], HealthStatus, str]] = [
    # -- core: CronJob ---------------------------------------------------------------
    (
        "cronjob suspended",
        obj("batch/v1", "CronJob", spec={"suspend": True}),
        SUSPENDED,
        "Suspended",
    ),
    ("cronjob no status", obj("batch/v1", "CronJob", spec={}), PROGRESSING, "Waiting"),
    (
        "cronjob never scheduled",
        obj("batch/v1", "CronJob", spec={}, status={}),
        HEALTHY,
        "not been scheduled",
    ),
    (
        "cronjob last run ok",
        obj(
            "batch/v1",
            "CronJob",
            spec={},
            status={
                "lastScheduleTime": "2026-01-01T10:00:00Z",
                "lastSuccessfulTime": "2026-01-01T10:00:09Z",
            },
        ),
        HEALTHY,
        "successfully",
    ),
    (
        "cronjob last run failed",
        obj(
            "batch/v1",
            "CronJob",
            spec={},
            status={
                "lastScheduleTime": "2026-01-01T11:00:00Z",
                "lastSuccessfulTime": "2026-01-01T10:00:09Z",
            },
        ),
        DEGRADED,
        "not completed its last execution",
    ),
    (
        "cronjob running",
        obj(
            "batch/v1",
            "CronJob",
            spec={},
            status={
                "lastScheduleTime": "2026-01-01T11:00:00Z",
                "lastSuccessfulTime": "2026-01-01T10:00:09Z",
                "active": [{"name": "j"}],
            },
        ),
        HEALTHY,
        "running",
    ),
    ("cronjob malformed", obj("batch/v1", "CronJob", spec={}, status="broken"), UNKNOWN, ""),
    # -- core: PodDisruptionBudget ---------------------------------------------------------
    (
        "pdb ok",
        obj(
            "policy/v1",
            "PodDisruptionBudget",
            conditions=[cond("DisruptionAllowed", "True", "SufficientPods")],
        ),
        HEALTHY,
        "SufficientPods",
    ),
    (
        "pdb insufficient is fine",
        obj(
            "policy/v1",
            "PodDisruptionBudget",
            conditions=[cond("DisruptionAllowed", "False", "InsufficientPods")],
        ),
        HEALTHY,
        "",
    ),
    (
        "pdb sync failed",
        obj(
            "policy/v1",
            "PodDisruptionBudget",
            conditions=[cond("DisruptionAllowed", "False", "SyncFailed")],
        ),
        DEGRADED,
        "SyncFailed",
    ),
    ("pdb waiting", obj("policy/v1", "PodDisruptionBudget", status={}), PROGRESSING, "Waiting"),
    (
        "pdb malformed",
        obj(
            "policy/v1",
            "PodDisruptionBudget",
            status=BAD_CONDITIONS,
        ),
        UNKNOWN,
        "",
    ),
    # -- Argo Rollouts ---------------------------------------------------------------------
    (
        "rollout healthy",
        obj(
            "argoproj.io/v1alpha1",
            "Rollout",
            generation=2,
            status={"observedGeneration": "2", "phase": "Healthy"},
        ),
        HEALTHY,
        "",
    ),
    (
        "rollout progressing",
        obj(
            "argoproj.io/v1alpha1",
            "Rollout",
            generation=2,
            status={
                "observedGeneration": "2",
                "phase": "Progressing",
                "message": "more replicas need to be updated",
            },
        ),
        PROGRESSING,
        "more replicas",
    ),
    (
        "rollout unobserved",
        obj(
            "argoproj.io/v1alpha1",
            "Rollout",
            generation=3,
            status={"observedGeneration": "2", "phase": "Healthy"},
        ),
        PROGRESSING,
        "observed",
    ),
    (
        "rollout paused",
        obj(
            "argoproj.io/v1alpha1",
            "Rollout",
            generation=2,
            status={"observedGeneration": "2", "phase": "Paused", "message": "CanaryPauseStep"},
        ),
        SUSPENDED,
        "CanaryPauseStep",
    ),
    (
        "rollout degraded",
        obj(
            "argoproj.io/v1alpha1",
            "Rollout",
            generation=2,
            status={
                "observedGeneration": "2",
                "phase": "Degraded",
                "message": "ProgressDeadlineExceeded",
            },
        ),
        DEGRADED,
        "Deadline",
    ),
    (
        "rollout invalid spec",
        obj(
            "argoproj.io/v1alpha1",
            "Rollout",
            conditions=[cond("InvalidSpec", "True", message="bad selector")],
        ),
        DEGRADED,
        "bad selector",
    ),
    (
        "rollout aborted",
        obj("argoproj.io/v1alpha1", "Rollout", status={"abort": True, "phase": "Degraded"}),
        DEGRADED,
        "abort",
    ),
    ("rollout malformed", obj("argoproj.io/v1alpha1", "Rollout", status=["x"]), UNKNOWN, ""),
    (
        "analysisrun ok",
        obj("argoproj.io/v1alpha1", "AnalysisRun", status={"phase": "Successful"}),
        HEALTHY,
        "successfully",
    ),
    (
        "analysisrun running",
        obj("argoproj.io/v1alpha1", "AnalysisRun", status={"phase": "Running"}),
        PROGRESSING,
        "running",
    ),
    (
        "analysisrun failed",
        obj(
            "argoproj.io/v1alpha1",
            "AnalysisRun",
            status={"phase": "Failed", "message": "metric failed"},
        ),
        DEGRADED,
        "metric failed",
    ),
    (
        "analysisrun inconclusive",
        obj("argoproj.io/v1alpha1", "AnalysisRun", status={"phase": "Inconclusive"}),
        UNKNOWN,
        "inconclusive",
    ),
    ("analysisrun malformed", obj("argoproj.io/v1alpha1", "AnalysisRun", status="x"), UNKNOWN, ""),
    (
        "experiment ok",
        obj("argoproj.io/v1alpha1", "Experiment", status={"phase": "Successful"}),
        HEALTHY,
        "",
    ),
    ("experiment pending", obj("argoproj.io/v1alpha1", "Experiment"), PROGRESSING, ""),
    (
        "experiment error",
        obj("argoproj.io/v1alpha1", "Experiment", status={"phase": "Error"}),
        DEGRADED,
        "error",
    ),
    (
        "experiment weird phase",
        obj("argoproj.io/v1alpha1", "Experiment", status={"phase": "Dancing"}),
        UNKNOWN,
        "Dancing",
    ),
    # -- cert-manager ----------------------------------------------------------------------
    (
        "cert ready",
        obj(
            "cert-manager.io/v1",
            "Certificate",
            conditions=[cond("Ready", "True", "Ready", "Certificate is up to date")],
        ),
        HEALTHY,
        "up to date",
    ),
    (
        "cert issuing wins",
        obj(
            "cert-manager.io/v1",
            "Certificate",
            conditions=[
                cond("Ready", "False", "DoesNotExist"),
                cond("Issuing", "True", "Issuing", "Issuing certificate as Secret does not exist"),
            ],
        ),
        PROGRESSING,
        "Issuing",
    ),
    (
        "cert failed",
        obj(
            "cert-manager.io/v1",
            "Certificate",
            conditions=[cond("Ready", "False", "Failed", "issuer not ready")],
        ),
        DEGRADED,
        "issuer not ready",
    ),
    (
        "cert waiting",
        obj("cert-manager.io/v1", "Certificate"),
        PROGRESSING,
        "Waiting for certificate",
    ),
    (
        "cert malformed",
        obj("cert-manager.io/v1", "Certificate", status=BAD_CONDITIONS),
        UNKNOWN,
        "",
    ),
    (
        "certrequest ok",
        obj(
            "cert-manager.io/v1", "CertificateRequest", conditions=[cond("Ready", "True", "Issued")]
        ),
        HEALTHY,
        "",
    ),
    (
        "certrequest pending",
        obj(
            "cert-manager.io/v1",
            "CertificateRequest",
            conditions=[cond("Ready", "False", "Pending", "waiting on ACME")],
        ),
        PROGRESSING,
        "ACME",
    ),
    (
        "certrequest denied",
        obj(
            "cert-manager.io/v1",
            "CertificateRequest",
            conditions=[cond("Denied", "True", "Policy", "denied by policy")],
        ),
        DEGRADED,
        "policy",
    ),
    (
        "certrequest failed",
        obj(
            "cert-manager.io/v1",
            "CertificateRequest",
            conditions=[cond("Ready", "False", "Failed", "boom")],
        ),
        DEGRADED,
        "boom",
    ),
    (
        "certrequest malformed",
        obj("cert-manager.io/v1", "CertificateRequest", status=BAD_CONDITIONS),
        UNKNOWN,
        "",
    ),
    (
        "issuer ok",
        obj(
            "cert-manager.io/v1",
            "Issuer",
            conditions=[cond("Ready", "True", "ACMEAccountRegistered")],
        ),
        HEALTHY,
        "",
    ),
    (
        "clusterissuer bad",
        obj(
            "cert-manager.io/v1",
            "ClusterIssuer",
            conditions=[cond("Ready", "False", "ErrRegisterACMEAccount", "no account")],
        ),
        DEGRADED,
        "no account",
    ),
    ("issuer init", obj("cert-manager.io/v1", "Issuer"), PROGRESSING, "Initializing"),
    ("issuer malformed", obj("cert-manager.io/v1", "Issuer", status=BAD_CONDITIONS), UNKNOWN, ""),
    # -- External Secrets ------------------------------------------------------------------
    (
        "es synced",
        obj(
            "external-secrets.io/v1beta1",
            "ExternalSecret",
            conditions=[cond("Ready", "True", "SecretSynced", "Secret was synced")],
        ),
        HEALTHY,
        "synced",
    ),
    (
        "es error",
        obj(
            "external-secrets.io/v1beta1",
            "ExternalSecret",
            conditions=[cond("Ready", "False", "SecretSyncedError", "could not get secret data")],
        ),
        DEGRADED,
        "could not get",
    ),
    ("es waiting", obj("external-secrets.io/v1beta1", "ExternalSecret"), PROGRESSING, "Waiting"),
    (
        "es malformed",
        obj("external-secrets.io/v1beta1", "ExternalSecret", status=BAD_CONDITIONS),
        UNKNOWN,
        "",
    ),
    (
        "store valid",
        obj(
            "external-secrets.io/v1beta1",
            "SecretStore",
            conditions=[cond("Ready", "True", "Valid")],
        ),
        HEALTHY,
        "",
    ),
    (
        "cluster store invalid",
        obj(
            "external-secrets.io/v1beta1",
            "ClusterSecretStore",
            conditions=[cond("Ready", "False", "InvalidProviderConfig", "bad auth")],
        ),
        DEGRADED,
        "bad auth",
    ),
    (
        "store malformed",
        obj("external-secrets.io/v1beta1", "SecretStore", status=BAD_CONDITIONS),
        UNKNOWN,
        "",
    ),
    # -- Sealed Secrets --------------------------------------------------------------------
    (
        "sealed ok",
        obj(
            "bitnami.com/v1alpha1",
            "SealedSecret",
            generation=1,
            status={"observedGeneration": 1},
            conditions=[cond("Synced", "True")],
        ),
        HEALTHY,
        "",
    ),
    (
        "sealed unobserved",
        obj(
            "bitnami.com/v1alpha1",
            "SealedSecret",
            generation=2,
            status={"observedGeneration": 1},
            conditions=[cond("Synced", "True")],
        ),
        PROGRESSING,
        "unseal",
    ),
    (
        "sealed fails",
        obj(
            "bitnami.com/v1alpha1",
            "SealedSecret",
            conditions=[cond("Synced", "False", "ErrUnsealFailed", "no key could decrypt secret")],
        ),
        DEGRADED,
        "no key",
    ),
    (
        "sealed malformed",
        obj("bitnami.com/v1alpha1", "SealedSecret", status=BAD_CONDITIONS),
        UNKNOWN,
        "",
    ),
    # -- KEDA ------------------------------------------------------------------------------
    (
        "keda ready",
        obj(
            "keda.sh/v1alpha1",
            "ScaledObject",
            conditions=[cond("Ready", "True", "ScaledObjectReady")],
        ),
        HEALTHY,
        "",
    ),
    (
        "keda paused",
        obj(
            "keda.sh/v1alpha1",
            "ScaledObject",
            conditions=[
                cond("Ready", "True"),
                cond("Paused", "True", "ScaledObjectPaused", "paused"),
            ],
        ),
        SUSPENDED,
        "paused",
    ),
    (
        "keda not ready",
        obj(
            "keda.sh/v1alpha1",
            "ScaledObject",
            conditions=[cond("Ready", "False", "ScaledObjectCheckFailed", "trigger error")],
        ),
        DEGRADED,
        "trigger",
    ),
    (
        "keda fallback",
        obj(
            "keda.sh/v1alpha1",
            "ScaledObject",
            conditions=[
                cond("Ready", "True"),
                cond("Fallback", "True", "FallbackExists", "using fallback"),
            ],
        ),
        DEGRADED,
        "fallback",
    ),
    ("keda creating", obj("keda.sh/v1alpha1", "ScaledJob"), PROGRESSING, "Creating"),
    ("keda malformed", obj("keda.sh/v1alpha1", "ScaledJob", status=BAD_CONDITIONS), UNKNOWN, ""),
    # -- Flux ------------------------------------------------------------------------------
    (
        "flux ready",
        obj(
            "kustomize.toolkit.fluxcd.io/v1",
            "Kustomization",
            generation=1,
            status={"observedGeneration": 1},
            conditions=[cond("Ready", "True", "ReconciliationSucceeded", "Applied revision")],
        ),
        HEALTHY,
        "Applied",
    ),
    (
        "flux suspended",
        obj("kustomize.toolkit.fluxcd.io/v1", "Kustomization", spec={"suspend": True}),
        SUSPENDED,
        "suspended",
    ),
    (
        "flux reconciling",
        obj(
            "helm.toolkit.fluxcd.io/v2",
            "HelmRelease",
            conditions=[
                cond("Ready", "Unknown", "Progressing", "Reconciliation in progress"),
                cond("Reconciling", "True", "Progressing", "Running upgrade"),
            ],
        ),
        PROGRESSING,
        "",
    ),
    (
        "flux unobserved",
        obj(
            "source.toolkit.fluxcd.io/v1",
            "GitRepository",
            generation=3,
            status={"observedGeneration": 2},
            conditions=[cond("Ready", "True")],
        ),
        PROGRESSING,
        "generation",
    ),
    (
        "flux failed",
        obj(
            "source.toolkit.fluxcd.io/v1",
            "HelmRepository",
            conditions=[cond("Ready", "False", "IndexationFailed", "failed to fetch index")],
        ),
        DEGRADED,
        "index",
    ),
    (
        "flux stalled",
        obj(
            "source.toolkit.fluxcd.io/v1beta2",
            "OCIRepository",
            conditions=[cond("Stalled", "True", "InvalidURL", "bad url"), cond("Ready", "False")],
        ),
        DEGRADED,
        "bad url",
    ),
    (
        "flux malformed",
        obj("source.toolkit.fluxcd.io/v1", "GitRepository", status=BAD_CONDITIONS),
        UNKNOWN,
        "",
    ),
    # -- CloudNativePG ---------------------------------------------------------------------
    (
        "cnpg healthy",
        obj("postgresql.cnpg.io/v1", "Cluster", status={"phase": "Cluster in healthy state"}),
        HEALTHY,
        "",
    ),
    (
        "cnpg creating",
        obj(
            "postgresql.cnpg.io/v1",
            "Cluster",
            status={"phase": "Creating a new replica", "phaseReason": "Creating replica 2"},
        ),
        PROGRESSING,
        "replica 2",
    ),
    (
        "cnpg failing over",
        obj("postgresql.cnpg.io/v1", "Cluster", status={"phase": "Failing over"}),
        DEGRADED,
        "",
    ),
    (
        "cnpg hibernated",
        obj(
            "postgresql.cnpg.io/v1",
            "Cluster",
            conditions=[cond("cnpg.io/hibernation", "True", "Hibernated", "Cluster hibernated")],
        ),
        SUSPENDED,
        "hibernated",
    ),
    (
        "cnpg reconciliation off",
        obj("postgresql.cnpg.io/v1", "Cluster", annotations={"cnpg.io/reconciliation": "disabled"}),
        SUSPENDED,
        "",
    ),
    (
        "cnpg unknown phase",
        obj("postgresql.cnpg.io/v1", "Cluster", status={"phase": "Spinning"}),
        UNKNOWN,
        "Spinning",
    ),
    ("cnpg malformed", obj("postgresql.cnpg.io/v1", "Cluster", status=BAD_CONDITIONS), UNKNOWN, ""),
    # -- Crossplane ------------------------------------------------------------------------
    (
        "xp ready",
        obj(
            "s3.aws.upbound.io/v1beta1",
            "Bucket",
            conditions=[
                cond("Ready", "True", "Available"),
                cond("Synced", "True", "ReconcileSuccess"),
            ],
        ),
        HEALTHY,
        "",
    ),
    (
        "xp creating",
        obj(
            "ec2.aws.crossplane.io/v1beta1",
            "VPC",
            conditions=[cond("Ready", "False", "Creating"), cond("Synced", "True")],
        ),
        PROGRESSING,
        "",
    ),
    (
        "xp sync error",
        obj(
            "database.example.crossplane.io/v1",
            "PostgreSQLInstance",
            conditions=[cond("Synced", "False", "ReconcileError", "cannot connect")],
        ),
        DEGRADED,
        "cannot connect",
    ),
    (
        "xp paused",
        obj("ec2.aws.crossplane.io/v1beta1", "VPC", annotations={"crossplane.io/paused": "true"}),
        SUSPENDED,
        "paused",
    ),
    (
        "xp provider unhealthy",
        obj(
            "pkg.crossplane.io/v1",
            "Provider",
            conditions=[
                cond("Installed", "True"),
                cond("Healthy", "False", "UnhealthyPackageRevision", "crashloop"),
            ],
        ),
        DEGRADED,
        "crashloop",
    ),
    ("xp new", obj("ec2.aws.crossplane.io/v1beta1", "VPC"), PROGRESSING, "created"),
    (
        "xp malformed",
        obj("ec2.aws.crossplane.io/v1beta1", "VPC", status=BAD_CONDITIONS),
        UNKNOWN,
        "",
    ),
    # -- Knative ---------------------------------------------------------------------------
    (
        "kn ready",
        obj(
            "serving.knative.dev/v1",
            "Service",
            generation=1,
            status={"observedGeneration": 1},
            conditions=[cond("Ready", "True")],
        ),
        HEALTHY,
        "",
    ),
    (
        "kn unknown",
        obj(
            "serving.knative.dev/v1", "Service", conditions=[cond("Ready", "Unknown", "Deploying")]
        ),
        PROGRESSING,
        "Deploying",
    ),
    (
        "kn failed",
        obj(
            "serving.knative.dev/v1",
            "Service",
            conditions=[cond("Ready", "False", "RevisionFailed", "image pull")],
        ),
        DEGRADED,
        "image pull",
    ),
    ("kn malformed", obj("serving.knative.dev/v1", "Service", status=BAD_CONDITIONS), UNKNOWN, ""),
    # -- Strimzi ---------------------------------------------------------------------------
    (
        "kafka ready",
        obj("kafka.strimzi.io/v1beta2", "Kafka", conditions=[cond("Ready", "True")]),
        HEALTHY,
        "",
    ),
    (
        "kafka creating",
        obj("kafka.strimzi.io/v1beta2", "Kafka", conditions=[cond("NotReady", "True", "Creating")]),
        PROGRESSING,
        "Waiting for Kafka",
    ),
    (
        "kafka failed",
        obj(
            "kafka.strimzi.io/v1beta2",
            "Kafka",
            conditions=[cond("NotReady", "True", "TimeoutException", "timed out")],
        ),
        DEGRADED,
        "timed out",
    ),
    (
        "topic ready",
        obj("kafka.strimzi.io/v1beta2", "KafkaTopic", conditions=[cond("Ready", "True")]),
        HEALTHY,
        "",
    ),
    (
        "kafka malformed",
        obj("kafka.strimzi.io/v1beta2", "Kafka", status=BAD_CONDITIONS),
        UNKNOWN,
        "",
    ),
    # -- Istio -----------------------------------------------------------------------------
    (
        "istio healthy",
        obj("install.istio.io/v1alpha1", "IstioOperator", status={"status": "HEALTHY"}),
        HEALTHY,
        "",
    ),
    (
        "istio reconciling",
        obj("install.istio.io/v1alpha1", "IstioOperator", status={"status": "RECONCILING"}),
        PROGRESSING,
        "",
    ),
    (
        "istio error",
        obj(
            "install.istio.io/v1alpha1",
            "IstioOperator",
            status={"status": "ERROR", "message": "pilot failed"},
        ),
        DEGRADED,
        "pilot",
    ),
    ("istio malformed", obj("install.istio.io/v1alpha1", "IstioOperator", status="x"), UNKNOWN, ""),
]


@pytest.mark.parametrize(
    ("name", "manifest", "expected", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_builtin_rule(
    name: str, manifest: dict[str, Any], expected: HealthStatus, words: str
) -> None:
    result = resource_health(manifest)
    assert result is not None, name
    assert result.status is expected, result
    assert words.lower() in result.message.lower()


def test_custom_resource_without_rule_still_has_no_health() -> None:
    assert (
        resource_health(obj("example.com/v1", "Widget", conditions=[cond("Ready", "True")])) is None
    )
