"""Argo CD health rules and app health aggregation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gitops_tui.engine.health.dispatch import (
    HealthResult,
    aggregate_health,
    app_health_input,
    left_out_of_app_health,
    resource_health,
)
from gitops_tui.engine.model import HealthStatus

H = HealthStatus


def make(api: str, kind: str, spec: Any = None, status: Any = None, **meta: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": "web", "namespace": "default", **meta},
    }
    if spec is not None:
        obj["spec"] = spec
    if status is not None:
        obj["status"] = status
    return obj


def health(obj: dict[str, Any]) -> HealthResult:
    result = resource_health(obj)
    assert result is not None
    return result


# -- general -----------------------------------------------------------------------------


def test_kinds_without_rule_have_no_health() -> None:
    assert resource_health(make("v1", "ConfigMap")) is None
    assert resource_health(make("example.com/v1", "Widget")) is None


def test_rule_is_matched_on_group_not_just_kind() -> None:
    assert resource_health(make("example.com/v1", "Deployment")) is None


def test_deletion_timestamp_is_progressing_for_any_kind() -> None:
    obj = make("v1", "ConfigMap", deletionTimestamp="2024-01-01T00:00:00Z")
    assert health(obj) == HealthResult(H.PROGRESSING, "Pending deletion")


def test_deletion_timestamp_with_hook_finalizer_uses_kind_rule() -> None:
    obj = make(
        "v1",
        "Service",
        spec={"type": "ClusterIP"},
        deletionTimestamp="2024-01-01T00:00:00Z",
        finalizers=["argocd.argoproj.io/hook-finalizer"],
    )
    assert health(obj).status is H.HEALTHY


def test_ignore_healthcheck_annotation() -> None:
    obj = make(
        "apps/v1",
        "Deployment",
        spec={"paused": True},
        annotations={"argocd.argoproj.io/ignore-healthcheck": "true"},
    )
    assert resource_health(obj) is None


def test_malformed_status_gives_unknown_not_an_exception() -> None:
    obj = make("apps/v1", "Deployment", spec={"replicas": "many"}, status={})
    result = health(obj)
    assert result.status is H.UNKNOWN
    assert "failed to assess health" in result.message


# -- Deployment ----------------------------------------------------------------------------


def deployment(
    wanted: int = 3, generation: int = 2, observed: int = 2, **status: Any
) -> dict[str, Any]:
    """A Deployment asking for ``wanted`` replicas; ``status`` holds the counters."""
    return make(
        "apps/v1",
        "Deployment",
        spec={"replicas": wanted},
        status={"observedGeneration": observed, **status},
        generation=generation,
    )


def test_deployment_healthy() -> None:
    obj = deployment(wanted=3, replicas=3, updatedReplicas=3, availableReplicas=3)
    assert health(obj) == HealthResult(H.HEALTHY)


def test_deployment_paused_is_suspended() -> None:
    obj = deployment()
    obj["spec"]["paused"] = True
    assert health(obj) == HealthResult(H.SUSPENDED, "Deployment is paused")


def test_deployment_generation_not_observed() -> None:
    result = health(deployment(generation=3, observed=2))
    assert result.status is H.PROGRESSING
    assert "observed deployment generation less than desired generation" in result.message


def test_deployment_progress_deadline_exceeded_is_degraded() -> None:
    cond = {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
    result = health(deployment(conditions=[cond]))
    assert result == HealthResult(H.DEGRADED, 'Deployment "web" exceeded its progress deadline')


def test_deployment_mid_rollout_updated_below_spec() -> None:
    result = health(deployment(wanted=3, replicas=3, updatedReplicas=1, availableReplicas=1))
    assert result == HealthResult(
        H.PROGRESSING,
        "Waiting for rollout to finish: 1 out of 3 new replicas have been updated...",
    )


def test_deployment_old_replicas_pending_termination() -> None:
    obj = deployment(wanted=3, replicas=4, updatedReplicas=3, availableReplicas=3)
    assert health(obj).message == (
        "Waiting for rollout to finish: 1 old replicas are pending termination..."
    )


def test_deployment_updated_not_available() -> None:
    obj = deployment(wanted=3, replicas=3, updatedReplicas=3, availableReplicas=1)
    assert health(obj) == HealthResult(
        H.PROGRESSING,
        "Waiting for rollout to finish: 1 of 3 updated replicas are available...",
    )


# -- StatefulSet -----------------------------------------------------------------------------


def statefulset(strategy: dict[str, Any], **status: Any) -> dict[str, Any]:
    return make(
        "apps/v1",
        "StatefulSet",
        spec={"replicas": 3, "updateStrategy": strategy},
        status={"observedGeneration": 1, **status},
        generation=1,
    )


def test_statefulset_not_observed() -> None:
    obj = statefulset({"type": "RollingUpdate"}, readyReplicas=3)
    obj["status"]["observedGeneration"] = 0
    assert health(obj).message == "Waiting for statefulset spec update to be observed..."


def test_statefulset_waiting_for_ready_pods() -> None:
    result = health(statefulset({"type": "RollingUpdate"}, readyReplicas=1))
    assert result == HealthResult(H.PROGRESSING, "Waiting for 2 pods to be ready...")


def test_statefulset_partition_rollout_in_progress() -> None:
    obj = statefulset(
        {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
        readyReplicas=3,
        updatedReplicas=1,
    )
    assert health(obj) == HealthResult(
        H.PROGRESSING,
        "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...",
    )


def test_statefulset_partition_rollout_complete() -> None:
    obj = statefulset(
        {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
        readyReplicas=3,
        updatedReplicas=2,
    )
    assert health(obj).status is H.HEALTHY


def test_statefulset_on_delete_is_healthy_when_ready() -> None:
    obj = statefulset(
        {"type": "OnDelete"}, readyReplicas=3, updateRevision="b", currentRevision="a"
    )
    assert health(obj) == HealthResult(H.HEALTHY, "statefulset has 3 ready pods")


def test_statefulset_revision_mismatch_is_progressing() -> None:
    obj = statefulset(
        {"type": "RollingUpdate"},
        readyReplicas=3,
        updatedReplicas=1,
        updateRevision="b",
        currentRevision="a",
    )
    assert health(obj).status is H.PROGRESSING


def test_statefulset_revisions_equal_is_healthy() -> None:
    obj = statefulset(
        {"type": "RollingUpdate"},
        readyReplicas=3,
        currentReplicas=3,
        updateRevision="a",
        currentRevision="a",
    )
    assert health(obj) == HealthResult(
        H.HEALTHY, "statefulset rolling update complete 3 pods at revision a..."
    )


# -- DaemonSet / ReplicaSet ------------------------------------------------------------------


def daemonset(strategy: str = "RollingUpdate", **status: Any) -> dict[str, Any]:
    return make(
        "apps/v1",
        "DaemonSet",
        spec={"updateStrategy": {"type": strategy}},
        status={"observedGeneration": 1, **status},
        generation=1,
    )


def test_daemonset_rollout_progress_and_health() -> None:
    assert health(daemonset(desiredNumberScheduled=3, updatedNumberScheduled=1)).message == (
        'Waiting for daemon set "web" rollout to finish: 1 out of 3 new pods have been updated...'
    )
    waiting = daemonset(desiredNumberScheduled=3, updatedNumberScheduled=3, numberAvailable=2)
    assert health(waiting).status is H.PROGRESSING
    done = daemonset(desiredNumberScheduled=3, updatedNumberScheduled=3, numberAvailable=3)
    assert health(done) == HealthResult(H.HEALTHY)


def test_daemonset_on_delete_is_healthy() -> None:
    obj = daemonset("OnDelete", desiredNumberScheduled=3, updatedNumberScheduled=1)
    assert health(obj).status is H.HEALTHY


def test_daemonset_generation_not_observed() -> None:
    obj = daemonset(desiredNumberScheduled=1, updatedNumberScheduled=1, numberAvailable=1)
    obj["metadata"]["generation"] = 2
    assert health(obj).status is H.PROGRESSING


def replicaset(**status: Any) -> dict[str, Any]:
    return make(
        "apps/v1",
        "ReplicaSet",
        spec={"replicas": 2},
        status={"observedGeneration": 1, **status},
        generation=1,
    )


def test_replicaset_failure_is_degraded() -> None:
    cond = {"type": "ReplicaFailure", "status": "True", "message": "quota exceeded"}
    assert health(replicaset(conditions=[cond])) == HealthResult(H.DEGRADED, "quota exceeded")


def test_replicaset_counts() -> None:
    assert health(replicaset(availableReplicas=1)).status is H.PROGRESSING
    assert health(replicaset(availableReplicas=2)).status is H.HEALTHY


# -- Pod -------------------------------------------------------------------------------------


def pod(phase: str, restart: str | None = "Always", **status: Any) -> dict[str, Any]:
    spec = {"restartPolicy": restart} if restart else {}
    return make("v1", "Pod", spec=spec, status={"phase": phase, **status})


def waiting(reason: str, message: str = "") -> dict[str, Any]:
    return {"name": "app", "state": {"waiting": {"reason": reason, "message": message}}}


@pytest.mark.parametrize(
    "reason", ["CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError"]
)
def test_pod_waiting_error_is_degraded(reason: str) -> None:
    obj = pod(
        "Running", containerStatuses=[waiting(reason, "back-off 5m0s restarting failed container")]
    )
    assert health(obj) == HealthResult(H.DEGRADED, "back-off 5m0s restarting failed container")


def test_pod_waiting_error_with_restart_never_is_not_degraded() -> None:
    obj = pod("Pending", "Never", containerStatuses=[waiting("ImagePullBackOff")])
    assert health(obj).status is H.PROGRESSING


def test_pod_waiting_normal_reason_is_not_degraded() -> None:
    obj = pod("Pending", containerStatuses=[waiting("ContainerCreating")])
    assert health(obj).status is H.PROGRESSING


def test_pod_phases() -> None:
    assert health(pod("Pending", message="unschedulable")) == HealthResult(
        H.PROGRESSING, "unschedulable"
    )
    assert health(pod("Succeeded", "Never")).status is H.HEALTHY
    assert health(pod("Failed", "Never", message="Evicted")) == HealthResult(H.DEGRADED, "Evicted")
    assert health(pod("Weird")).status is H.UNKNOWN


def test_failed_pod_uses_container_exit_code() -> None:
    terminated = {"name": "app", "state": {"terminated": {"exitCode": 2}}}
    obj = pod("Failed", "Never", containerStatuses=[terminated])
    assert health(obj) == HealthResult(H.DEGRADED, 'container "app" failed with exit code 2')


def test_running_ready_pod_is_healthy() -> None:
    obj = pod("Running", conditions=[{"type": "Ready", "status": "True"}])
    assert health(obj).status is H.HEALTHY


def test_running_pod_without_restart_policy_defaults_to_always() -> None:
    obj = pod("Running", None, conditions=[{"type": "Ready", "status": "True"}])
    assert health(obj).status is H.HEALTHY


def test_running_not_ready_pod_is_progressing() -> None:
    obj = pod("Running", conditions=[{"type": "Ready", "status": "False"}])
    assert health(obj).status is H.PROGRESSING


def test_running_not_ready_pod_that_restarted_is_degraded() -> None:
    restarted = {
        "name": "app",
        "lastState": {"terminated": {"exitCode": 1}},
        "state": {"running": {}},
    }
    obj = pod("Running", containerStatuses=[restarted])
    assert health(obj).status is H.DEGRADED


def test_running_hook_pod_is_progressing() -> None:
    obj = pod("Running", "OnFailure", conditions=[{"type": "Ready", "status": "True"}])
    assert health(obj).status is H.PROGRESSING


@pytest.mark.parametrize("policy", ["Never", "OnFailure"])
def test_running_pod_with_ignore_restart_policy_is_judged_like_restart_always(policy: str) -> None:
    # gitops-engine: an operator-managed pod (restartPolicy Never/OnFailure) marked
    # argocd.argoproj.io/ignore-restart-policy gets the readiness rules of restartPolicy Always
    marked = {"argocd.argoproj.io/ignore-restart-policy": "true"}
    ready = pod("Running", policy, conditions=[{"type": "Ready", "status": "True"}])
    ready["metadata"]["annotations"] = marked
    assert health(ready).status is H.HEALTHY
    restarted = pod(
        "Running",
        policy,
        containerStatuses=[{"name": "app", "lastState": {"terminated": {"exitCode": 1}}}],
    )
    restarted["metadata"]["annotations"] = marked
    assert health(restarted).status is H.DEGRADED
    not_ready = pod("Running", policy, conditions=[{"type": "Ready", "status": "False"}])
    not_ready["metadata"]["annotations"] = marked
    assert health(not_ready).status is H.PROGRESSING
    # as in gitops-engine, the annotation's presence counts, not its value
    ready["metadata"]["annotations"] = {"argocd.argoproj.io/ignore-restart-policy": ""}
    assert health(ready).status is H.HEALTHY


def test_ignore_restart_policy_does_not_make_waiting_errors_degraded() -> None:
    # upstream keeps the waiting-error rule for restartPolicy Always only (hook pods)
    obj = pod("Pending", "Never", containerStatuses=[waiting("ImagePullBackOff")])
    obj["metadata"]["annotations"] = {"argocd.argoproj.io/ignore-restart-policy": "true"}
    assert health(obj).status is H.PROGRESSING


# -- Service / Ingress / PVC -----------------------------------------------------------------


def test_service_health() -> None:
    assert health(make("v1", "Service", spec={"type": "ClusterIP"})).status is H.HEALTHY
    pending_lb = make("v1", "Service", spec={"type": "LoadBalancer"}, status={"loadBalancer": {}})
    assert health(pending_lb).status is H.PROGRESSING
    ready_lb = make(
        "v1",
        "Service",
        spec={"type": "LoadBalancer"},
        status={"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}},
    )
    assert health(ready_lb).status is H.HEALTHY


@pytest.mark.parametrize("api", ["networking.k8s.io/v1", "extensions/v1beta1"])
def test_ingress_health(api: str) -> None:
    assert health(make(api, "Ingress", status={"loadBalancer": {}})).status is H.PROGRESSING
    ready = make(api, "Ingress", status={"loadBalancer": {"ingress": [{"hostname": "lb"}]}})
    assert health(ready).status is H.HEALTHY


def test_pvc_health() -> None:
    assert (
        health(make("v1", "PersistentVolumeClaim", status={"phase": "Bound"})).status is H.HEALTHY
    )
    assert (
        health(make("v1", "PersistentVolumeClaim", status={"phase": "Lost"})).status is H.DEGRADED
    )
    provisioning = make(
        "v1",
        "PersistentVolumeClaim",
        status={"phase": "Pending"},
        annotations={"volume.beta.kubernetes.io/storage-provisioner": "rancher.io/local-path"},
    )
    assert health(provisioning) == HealthResult(H.PROGRESSING, "Provisioning volume")
    waiting_consumer = make("v1", "PersistentVolumeClaim", status={"phase": "Pending"})
    assert health(waiting_consumer) == HealthResult(H.HEALTHY, "Waiting for consumer")


# -- Job / HPA / APIService ------------------------------------------------------------------


def job(*conditions: dict[str, Any]) -> dict[str, Any]:
    return make("batch/v1", "Job", status={"conditions": list(conditions)})


def test_job_health() -> None:
    assert health(job()).status is H.PROGRESSING
    assert health(job({"type": "Complete", "status": "True"})).status is H.HEALTHY
    failed = job({"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"})
    assert health(failed) == HealthResult(H.DEGRADED, "BackoffLimitExceeded")
    assert health(job({"type": "Suspended", "status": "True"})).status is H.SUSPENDED


def test_job_condition_with_status_false_is_ignored() -> None:
    assert health(job({"type": "Suspended", "status": "False"})).status is H.PROGRESSING


def test_hpa_v2_conditions() -> None:
    healthy = make(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        status={
            "conditions": [
                {
                    "type": "AbleToScale",
                    "status": "True",
                    "reason": "SucceededRescale",
                    "message": "ok",
                },
            ]
        },
    )
    assert health(healthy) == HealthResult(H.HEALTHY, "ok")
    degraded = make(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        status={
            "conditions": [
                {
                    "type": "ScalingActive",
                    "status": "False",
                    "reason": "FailedGetResourceMetric",
                    "message": "no metrics",
                },
                {"type": "AbleToScale", "status": "True", "reason": "SucceededGetScale"},
            ]
        },
    )
    assert health(degraded) == HealthResult(H.DEGRADED, "no metrics")
    assert health(make("autoscaling/v2", "HorizontalPodAutoscaler", status={})) == HealthResult(
        H.PROGRESSING, "Waiting to Autoscale"
    )


def hpa_v2(*conditions: dict[str, str]) -> dict[str, Any]:
    return make(
        "autoscaling/v2", "HorizontalPodAutoscaler", status={"conditions": list(conditions)}
    )


ABLE = {"type": "AbleToScale", "status": "True", "reason": "SucceededGetScale", "message": "ok"}


@pytest.mark.parametrize(
    ("cond_type", "reason"),
    [
        ("AbleToScale", "FailedGetScale"),
        ("AbleToScale", "FailedUpdateScale"),
        ("ScalingActive", "FailedGetResourceMetric"),
        ("ScalingActive", "FailedGetObjectMetric"),
        ("ScalingActive", "FailedGetPodsMetric"),
        ("ScalingActive", "FailedGetExternalMetric"),
        ("ScalingActive", "FailedComputeMetricsReplicas"),
        ("ScalingActive", "InvalidSelector"),
    ],
)
def test_hpa_failure_reason_wins_over_an_earlier_healthy_condition(
    cond_type: str, reason: str
) -> None:
    # the API server lists AbleToScale first: a healthy condition must not hide a failure
    failure = {"type": cond_type, "status": "False", "reason": reason, "message": "broken"}
    assert health(hpa_v2(ABLE, failure)) == HealthResult(H.DEGRADED, "broken")
    assert health(hpa_v2(failure, ABLE)) == HealthResult(H.DEGRADED, "broken")


def test_hpa_v1_failure_in_annotation_after_a_healthy_condition_is_degraded() -> None:
    failure = {
        "type": "ScalingActive",
        "status": "False",
        "reason": "FailedGetExternalMetric",
        "message": "no external metrics",
    }
    obj = make(
        "autoscaling/v1",
        "HorizontalPodAutoscaler",
        annotations={"autoscaling.alpha.kubernetes.io/conditions": json.dumps([ABLE, failure])},
    )
    assert health(obj) == HealthResult(H.DEGRADED, "no external metrics")


def test_hpa_healthy_needs_able_to_scale_or_scaling_limited_true() -> None:
    active = {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound"}
    limited = {"type": "ScalingLimited", "status": "False", "reason": "DesiredWithinRange"}
    assert health(hpa_v2(active, limited)) == HealthResult(H.PROGRESSING, "Waiting to Autoscale")
    assert health(hpa_v2(active, limited, ABLE)) == HealthResult(H.HEALTHY, "ok")
    unable = {"type": "AbleToScale", "status": "False", "reason": "BackoffBoth"}
    assert health(hpa_v2(unable)).status is H.PROGRESSING


def test_hpa_v1_empty_conditions_annotation_is_progressing() -> None:
    obj = make(
        "autoscaling/v1",
        "HorizontalPodAutoscaler",
        annotations={"autoscaling.alpha.kubernetes.io/conditions": "[]"},
    )
    assert health(obj) == HealthResult(H.PROGRESSING, "Waiting to Autoscale")


def test_hpa_v1_reads_conditions_annotation() -> None:
    conditions = [{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"}]
    obj = make(
        "autoscaling/v1",
        "HorizontalPodAutoscaler",
        annotations={"autoscaling.alpha.kubernetes.io/conditions": json.dumps(conditions)},
    )
    assert health(obj).status is H.HEALTHY
    assert health(make("autoscaling/v1", "HorizontalPodAutoscaler")).status is H.PROGRESSING


def test_hpa_v1_bad_annotation_is_unknown() -> None:
    obj = make(
        "autoscaling/v1",
        "HorizontalPodAutoscaler",
        annotations={"autoscaling.alpha.kubernetes.io/conditions": "{not json"},
    )
    assert health(obj).status is H.UNKNOWN


def test_apiservice_health() -> None:
    api = "apiregistration.k8s.io/v1"
    assert health(make(api, "APIService", status={})) == HealthResult(
        H.PROGRESSING, "Waiting to be processed"
    )
    available = {
        "type": "Available",
        "status": "True",
        "reason": "Passed",
        "message": "all checks passed",
    }
    assert health(make(api, "APIService", status={"conditions": [available]})) == HealthResult(
        H.HEALTHY, "Passed: all checks passed"
    )
    down = {
        "type": "Available",
        "status": "False",
        "reason": "MissingEndpoints",
        "message": "no endpoints",
    }
    assert health(make(api, "APIService", status={"conditions": [down]})).status is H.PROGRESSING


# -- Application / Workflow / Namespace ------------------------------------------------------


def test_application_has_no_built_in_health() -> None:
    # Argo CD >= 1.8: no rule for argoproj.io/Application unless the operator adds the
    # argoproj.io_Application health customization (here: applicationHealth: true)
    app = make(
        "argoproj.io/v1alpha1",
        "Application",
        status={"health": {"status": "Degraded", "message": "x"}},
    )
    assert resource_health(app) is None
    assert app_health_input(app) is None
    assert aggregate_health([(app_health_input(app), False)]) is H.HEALTHY
    # an Application nobody reconciles (no status) does not hold its parent at Progressing
    assert resource_health(make("argoproj.io/v1alpha1", "Application")) is None


def test_application_health_opt_in_reads_status_health() -> None:
    app = make(
        "argoproj.io/v1alpha1",
        "Application",
        status={"health": {"status": "Degraded", "message": "x"}},
    )
    assert resource_health(app, application_health=True) == HealthResult(H.DEGRADED, "x")
    assert app_health_input(app, application_health=True) is H.DEGRADED
    bare = make("argoproj.io/v1alpha1", "Application")
    assert resource_health(bare, application_health=True) == HealthResult(H.PROGRESSING, "")
    # the switch is about Applications only
    assert resource_health(make("v1", "ConfigMap"), application_health=True) is None
    assert resource_health(make("example.com/v1", "Application"), application_health=True) is None


def test_workflow_health() -> None:
    assert (
        health(make("argoproj.io/v1alpha1", "Workflow", status={"phase": "Running"})).status
        is H.PROGRESSING
    )
    assert (
        health(make("argoproj.io/v1alpha1", "Workflow", status={"phase": "Error"})).status
        is H.DEGRADED
    )


def test_namespace_health() -> None:
    assert health(make("v1", "Namespace", status={"phase": "Active"})).status is H.HEALTHY
    assert health(make("v1", "Namespace", status={"phase": "Terminating"})).status is H.PROGRESSING


# -- aggregation -------------------------------------------------------------------------


def test_no_resources_is_healthy() -> None:
    assert aggregate_health([]) is H.HEALTHY


def test_worst_of_non_hook_resources() -> None:
    items = [(H.HEALTHY, False), (H.PROGRESSING, False), (H.SUSPENDED, False)]
    assert aggregate_health(items) is H.PROGRESSING


def test_hooks_do_not_count() -> None:
    assert aggregate_health([(H.HEALTHY, False), (H.DEGRADED, True)]) is H.HEALTHY


def test_resources_without_health_do_not_count() -> None:
    assert aggregate_health([(None, False), (None, False)]) is H.HEALTHY
    # issue 13: a missing object whose kind has a check is Missing (see test_health_missing.py)
    assert aggregate_health([(None, False), (H.MISSING, False)]) is H.MISSING


def test_a_missing_resource_among_live_ones_makes_the_app_missing() -> None:
    # issue 13, measured on Argo CD v3.2: guestbook with its Service deleted is Missing
    assert aggregate_health([(H.HEALTHY, False), (H.MISSING, False)]) is H.MISSING


def test_all_missing_is_missing() -> None:
    assert aggregate_health([(H.MISSING, False), (H.MISSING, False)]) is H.MISSING
    assert aggregate_health([(H.MISSING, False), (H.HEALTHY, True)]) is H.MISSING


def test_only_hooks_is_healthy() -> None:
    assert aggregate_health([(H.DEGRADED, True)]) is H.HEALTHY


def test_degraded_beats_missing() -> None:
    assert aggregate_health([(H.DEGRADED, False), (H.MISSING, False)]) is H.DEGRADED
    assert aggregate_health([(H.UNKNOWN, False)]) is H.UNKNOWN


def test_app_health_input() -> None:
    assert app_health_input(None) is H.MISSING
    assert app_health_input(make("v1", "ConfigMap")) is None
    assert app_health_input(make("v1", "Service", spec={"type": "ClusterIP"})) is H.HEALTHY


@pytest.mark.parametrize("word", ["Missing", "Unknown"])
def test_child_app_missing_or_unknown_does_not_affect_parent(word: str) -> None:
    child = make("argoproj.io/v1alpha1", "Application", status={"health": {"status": word}})
    assert app_health_input(child, application_health=True) is None
    assert aggregate_health([(app_health_input(child, application_health=True), False)]) is (
        H.HEALTHY
    )


def test_left_out_of_app_health() -> None:
    hook = make("batch/v1", "Job", annotations={"argocd.argoproj.io/hook": "PreSync"})
    skipped = make("v1", "ConfigMap", annotations={"argocd.argoproj.io/hook": "Skip"})
    plain = make("v1", "ConfigMap")
    assert left_out_of_app_health(None, hook)
    assert left_out_of_app_health(skipped, None)
    assert not left_out_of_app_health(plain, plain)
    assert not left_out_of_app_health(plain, None)
