"""The kubectl argv of a shell and a port-forward: names from the cluster are checked DNS
names given as ``--flag=value``; the operator's command is split, after ``--``."""

from __future__ import annotations

import pytest

from gitops_tui.engine.errors import EngineError
from gitops_tui.engine.podconnect import (
    ContainerPorts,
    PodConnection,
    containers_with_ports,
    pod_connection_from,
    split_command,
)


def conn(**changes: object) -> PodConnection:
    fields: dict[str, object] = {
        "kubeconfig": "/home/op/.kube/config",
        "context": "prod",
        "namespace": "shop",
        "pod": "web-7d9f8-abcde",
        "containers": (ContainerPorts("web", (8080,)), ContainerPorts("sidecar", ())),
        "default_container": "web",
    }
    fields.update(changes)
    return PodConnection(**fields)  # type: ignore[arg-type]


def test_exec_argv() -> None:
    assert conn().exec_argv("kubectl", "web", "sh -c 'echo $HOME; id'") == [
        "kubectl",
        "--kubeconfig=/home/op/.kube/config",
        "--context=prod",
        "exec",
        "--stdin",
        "--tty",
        "--namespace=shop",
        "--container=web",
        "web-7d9f8-abcde",
        "--",
        "sh",
        "-c",
        "echo $HOME; id",
    ]
    # no kubeconfig: kubectl's own default ($KUBECONFIG, ~/.kube/config), as the engine's
    assert conn(kubeconfig=None).exec_argv("kubectl", "web", "sh")[:3] == [
        "kubectl",
        "--context=prod",
        "exec",
    ]


def test_port_forward_argv() -> None:
    assert conn().port_forward_argv("/usr/bin/kubectl", 18080, 8080) == [
        "/usr/bin/kubectl",
        "--kubeconfig=/home/op/.kube/config",
        "--context=prod",
        "port-forward",
        "--namespace=shop",
        "--address=127.0.0.1",
        "--",
        "pod/web-7d9f8-abcde",
        "18080:8080",
    ]


@pytest.mark.parametrize(
    ("changes", "container"),
    [
        ({"namespace": "--all-namespaces"}, "web"),
        ({"namespace": "shop --token=x"}, "web"),
        ({"namespace": "Shop"}, "web"),
        ({"pod": "-it"}, "web"),
        ({"pod": "--kubeconfig=/tmp/evil"}, "web"),
        ({"pod": "web\n--context=other"}, "web"),
        ({"pod": "a" * 254}, "web"),
        ({"pod": "web/../x"}, "web"),
        ({}, "--privileged"),
        ({}, "web;rm"),
        ({}, "nope"),  # not one of the pod's containers
    ],
)
def test_hostile_names_are_refused(changes: dict[str, object], container: str) -> None:
    with pytest.raises(EngineError, match="refused|no container"):
        conn(**changes).exec_argv("kubectl", container, "sh")
    if container == "web":
        with pytest.raises(EngineError, match="refused"):
            conn(**changes).port_forward_argv("kubectl", 1234, 80)


@pytest.mark.parametrize(("local", "remote"), [(0, 80), (80, 0), (70000, 80), (True, 80)])
def test_ports_are_checked(local: int, remote: int) -> None:
    with pytest.raises(EngineError, match="between 1 and 65535"):
        conn().port_forward_argv("kubectl", local, remote)


def test_the_command_is_split_never_given_to_a_shell() -> None:
    assert split_command("echo 'a b' \"c\"") == ["echo", "a b", "c"]
    assert split_command("ls; rm -rf /") == ["ls;", "rm", "-rf", "/"]
    for bad, why in (("", "no command"), ("   ", "no command"), ("echo 'x", "cannot split")):
        with pytest.raises(EngineError, match=why):
            split_command(bad)
    with pytest.raises(EngineError, match="longer than"):
        split_command("x" * 5000)


def test_containers_and_ports_from_the_pod() -> None:
    pod = {
        "metadata": {"annotations": {"kubectl.kubernetes.io/default-container": "web"}},
        "spec": {
            "containers": [
                {"name": "sidecar", "ports": [{"containerPort": 9090, "protocol": "UDP"}]},
                {
                    "name": "web",
                    "ports": [
                        {"containerPort": 8080},
                        {"containerPort": 8080, "name": "again"},
                        {"containerPort": 99999},
                        {"containerPort": "8443"},
                        {"containerPort": 8443, "protocol": "TCP"},
                    ],
                },
                {"name": "--evil", "ports": [{"containerPort": 1}]},
                "junk",
            ],
            "initContainers": [{"name": "init"}],
        },
    }
    assert containers_with_ports(pod) == (
        ContainerPorts("sidecar", ()),
        ContainerPorts("web", (8080, 8443)),
    )
    found = pod_connection_from(pod, kubeconfig=None, context="c", namespace="ns", pod="p-1")
    assert found.default_container == "web" and found.ports() == [8080, 8443]
    with pytest.raises(EngineError, match="refused"):
        pod_connection_from(pod, kubeconfig=None, context="c", namespace="ns", pod="-p")


def test_a_backend_without_it_says_so_in_words() -> None:
    from gitops_tui.engine.api import pod_connection
    from gitops_tui.engine.model import ResourceKey

    with pytest.raises(EngineError, match="cannot open a shell or forward a port"):
        pod_connection(object(), "app", ResourceKey("", "Pod", "ns", "p"))  # type: ignore[arg-type]
