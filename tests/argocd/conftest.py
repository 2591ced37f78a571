"""A real Argo CD (v3.2.11, built from Go modules) beside the session's sandbox.

The ``argocd`` fixture installs Argo CD's CRDs and config objects into the sandbox
and starts redis, the repo server and the application controller on free loopback
ports, once per test module (about 5 s: "package" scope would act as session scope
here, tests/ has no __init__.py, and leave Argo CD running under the other cluster
tests); afterwards it stops exactly those processes and removes the CRDs (the other
cluster tests expect a cluster without them). Argo CD is built by ``make tools`` (``gitops_tui.sandbox.argocd_build``);
a missing build fails the tests rather than skipping them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gitops_tui.sandbox.argocd_build import find_argocd
from gitops_tui.sandbox.argocd_peer import ArgoCDPeer

_PEER_KEY = pytest.StashKey[ArgoCDPeer]()


@pytest.fixture(scope="module")
def argocd(
    sandbox: Any, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[ArgoCDPeer]:
    binary = find_argocd()
    if binary is None:
        pytest.fail(
            "Argo CD is not built: run `make tools` (builds it from Go modules into "
            "~/.cache/gitops-tui/tools/argocd-<version>, about 15 min once)"
        )
    peer = ArgoCDPeer(binary, sandbox.kubeconfig, tmp_path_factory.mktemp("argocd"))
    peer.install()
    pytestconfig.stash[_PEER_KEY] = peer
    try:
        peer.start()
        yield peer
    finally:
        peer.stop()
        peer.uninstall()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """On a failed Argo CD test, attach the tails of Argo CD's logs."""
    report = yield
    if report.failed and "argocd" in getattr(item, "fixturenames", ()):
        peer = item.config.stash.get(_PEER_KEY, None)
        if peer is not None:
            for name in list(peer.procs):
                report.sections.append((f"argocd {name} log", peer.log_tail(name, 15)))
    return report
