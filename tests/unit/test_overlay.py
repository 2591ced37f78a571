"""The no-dry-run prediction (read-only mode): desired laid over live without default noise."""

from __future__ import annotations

import copy

from gitops_tui.engine.diff.compare import overlay
from gitops_tui.engine.diff.resource_diff import diff_resource
from gitops_tui.engine.model import ResourceKey

DESIRED = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "ns"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}
                ]
            },
        },
    },
}


def live_with_defaults() -> dict:  # type: ignore[type-arg]
    live = copy.deepcopy(DESIRED)
    live["metadata"].update(uid="u", resourceVersion="5", generation=1)
    spec = live["spec"]
    spec.update(
        progressDeadlineSeconds=600,
        revisionHistoryLimit=10,
        strategy={
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
        },
    )
    pod = spec["template"]["spec"]
    pod.update(
        restartPolicy="Always",
        dnsPolicy="ClusterFirst",
        schedulerName="default-scheduler",
        securityContext={},
        terminationGracePeriodSeconds=30,
    )
    container = pod["containers"][0]
    container.update(
        imagePullPolicy="IfNotPresent",
        terminationMessagePath="/dev/termination-log",
        terminationMessagePolicy="File",
        resources={},
    )
    container["ports"][0]["protocol"] = "TCP"
    live["status"] = {"replicas": 2}
    return live


KEY = ResourceKey("apps", "Deployment", "ns", "web")


def test_server_defaults_inside_containers_and_ports_are_not_differences() -> None:
    live = live_with_defaults()
    assert not diff_resource(KEY, overlay(live, DESIRED), live).modified


def test_a_real_change_still_shows_and_only_it() -> None:
    live = live_with_defaults()
    desired = copy.deepcopy(DESIRED)
    desired["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    result = diff_resource(KEY, overlay(live, desired), live)
    assert result.changed_paths == ("spec.template.spec.containers[0].image",)


def test_list_membership_follows_desired() -> None:
    live = live_with_defaults()
    live["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "envoy"})
    result = diff_resource(KEY, overlay(live, DESIRED), live)
    assert result.modified and any("containers[1]" in p for p in result.changed_paths)
