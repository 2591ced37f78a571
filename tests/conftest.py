"""Shared fixtures: a real local Kubernetes sandbox for the session, a namespace per test.

``async def`` tests (the console's pilot tests) run on a fresh event loop each.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops_tui.sandbox.controlplane import Sandbox, SandboxStatus
from gitops_tui.sandbox.toolchain import SANDBOX_TOOLS, missing_tools

_SANDBOX_KEY = pytest.StashKey[Sandbox]()


@pytest.fixture(scope="session")
def sandbox(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[SandboxStatus]:
    """One running control plane per test session (``GITOPS_TUI_TEST_SANDBOX`` reuses a dir)."""
    missing = missing_tools(SANDBOX_TOOLS)
    if missing:
        pytest.fail(
            f"sandbox tools missing: {', '.join(missing)}; run `make tools` "
            "(the README's test command does this for you)"
        )
    reuse = os.environ.get("GITOPS_TUI_TEST_SANDBOX")
    directory = Path(reuse) if reuse else tmp_path_factory.mktemp("sandbox")
    box = Sandbox(directory, name="sandbox-test")
    status = box.up(nodes=2)
    pytestconfig.stash[_SANDBOX_KEY] = box
    yield status
    if not reuse:
        box.down()


@pytest.fixture(scope="session")
def sandbox_box(sandbox: SandboxStatus, pytestconfig: pytest.Config) -> Sandbox:
    """The ``Sandbox`` object behind the session sandbox (to stop/start components)."""
    return pytestconfig.stash[_SANDBOX_KEY]


@pytest.fixture(scope="session")
def kube_api(sandbox: SandboxStatus):  # type: ignore[no-untyped-def]
    """A kubernetes ``ApiClient`` for the sandbox's admin user."""
    from kubernetes import client, config

    cfg = client.Configuration()
    config.load_kube_config(config_file=str(sandbox.kubeconfig), client_configuration=cfg)
    return client.ApiClient(cfg)


@pytest.fixture
def namespace(kube_api) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh namespace per test, deleted afterwards (without waiting)."""
    from kubernetes import client

    name = f"t-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(kube_api)
    core.create_namespace({"metadata": {"name": name}})
    yield name
    try:
        core.delete_namespace(name)
    except client.ApiException as exc:
        if exc.status != 404:
            raise


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    function = pyfuncitem.obj
    if not inspect.iscoroutinefunction(function):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(function(**{name: pyfuncitem.funcargs[name] for name in names}))
    return True


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """On a failed test that used the sandbox, attach the tails of the component logs.

    On CI (``CI=true``) a skipped test is a failed one: what a test needs is installed
    by ``make test``, so a skip there means a check silently did not run.
    """
    report = yield
    if report.skipped and _on_ci() and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped on CI (CI=true), which counts as a failure: {reason}"
    if report.failed and "sandbox" in getattr(item, "fixturenames", ()):
        box = item.config.stash.get(_SANDBOX_KEY, None)
        if box is not None:
            report.sections.append(("sandbox component logs", box.log_tails(6)))
    return report
