"""Find, and if missing build from Go modules, the binaries the sandbox and renderer need.

Nothing here downloads a prebuilt binary: each component is compiled from its Go
module through the module proxy, in a small wrapper module kept in the cache
(``<cache>/src/<component>-<version>``). Module and build caches live in
``<cache>/go`` and finished binaries in ``<cache>/tools/<component>-<version>/``,
so a version bump builds anew while an unchanged one costs nothing. The pinned
versions, that layout and ``find_tool`` live in ``gitops_tui.engine.source.tools`` (the
engine looks tools up without importing the sandbox).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gitops_tui.engine.errors import GitOpsError
from gitops_tui.engine.source.tools import (
    COMPLETE_MARKER,
    ETCD_VERSION,
    HELM_VERSION,
    KUBERNETES_VERSION,
    KUSTOMIZE_VERSION,
    KWOK_VERSION,
    component_key,
    find_tool,
    tools_dir,
)
from gitops_tui.paths import cache_dir

BUILD_TIMEOUT_S = 60 * 60
_COMPLETE = COMPLETE_MARKER

# The staging modules k8s.io/kubernetes requires at v0.0.0 (its go.mod replaces
# them with ./staging/...); the wrapper points each at the published v0.x tag.
KUBERNETES_STAGING = [
    "api",
    "apiextensions-apiserver",
    "apimachinery",
    "apiserver",
    "cli-runtime",
    "client-go",
    "cloud-provider",
    "cluster-bootstrap",
    "code-generator",
    "component-base",
    "component-helpers",
    "controller-manager",
    "cri-api",
    "cri-client",
    "csi-translation-lib",
    "dynamic-resource-allocation",
    "endpointslice",
    "externaljwt",
    "kms",
    "kube-aggregator",
    "kube-controller-manager",
    "kube-proxy",
    "kube-scheduler",
    "kubectl",
    "kubelet",
    "metrics",
    "mount-utils",
    "pod-security-admission",
    "sample-apiserver",
    "sample-cli-plugin",
    "sample-controller",
]


class ToolError(GitOpsError, RuntimeError):
    """A tool is missing or could not be built; the message says what to do."""

    title = "Tool missing"


@dataclass(frozen=True)
class Component:
    """One Go module to build, and the binaries (name -> package) it yields."""

    name: str
    version: str
    module: str
    binaries: dict[str, str]
    replaces: dict[str, str] = field(default_factory=dict)
    ldflags: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return component_key(self.name, self.version)


def _kube_version_ldflags(version: str) -> tuple[str, ...]:
    major, minor, _ = version.lstrip("v").split(".", 2)
    built = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    flags: list[str] = []
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {pkg}.gitVersion={version}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean",
            f"-X {pkg}.buildDate={built}",
        ]
    return tuple(flags)


def components() -> tuple[Component, ...]:
    staging_version = "v0." + KUBERNETES_VERSION.split(".", 1)[1]
    return (
        Component(
            name="etcd",
            version=ETCD_VERSION,
            module="go.etcd.io/etcd/server/v3",
            binaries={"etcd": "go.etcd.io/etcd/server/v3"},
        ),
        Component(
            name="kubernetes",
            version=KUBERNETES_VERSION,
            module="k8s.io/kubernetes",
            binaries={
                name: f"k8s.io/kubernetes/cmd/{name}"
                for name in (
                    "kube-apiserver",
                    "kube-controller-manager",
                    "kube-scheduler",
                    "kubectl",
                )
            },
            replaces={f"k8s.io/{m}": staging_version for m in KUBERNETES_STAGING},
            ldflags=_kube_version_ldflags(KUBERNETES_VERSION),
        ),
        Component(
            name="kwok",
            version=KWOK_VERSION,
            module="sigs.k8s.io/kwok",
            binaries={"kwok": "sigs.k8s.io/kwok/cmd/kwok"},
            ldflags=(f"-X sigs.k8s.io/kwok/pkg/consts.Version={KWOK_VERSION}",),
        ),
        Component(
            name="kustomize",
            version=KUSTOMIZE_VERSION,
            module="sigs.k8s.io/kustomize/kustomize/v5",
            binaries={"kustomize": "sigs.k8s.io/kustomize/kustomize/v5"},
            ldflags=(f"-X sigs.k8s.io/kustomize/api/provenance.version={KUSTOMIZE_VERSION}",),
        ),
        Component(
            name="helm",
            version=HELM_VERSION,
            module="helm.sh/helm/v3",
            binaries={"helm": "helm.sh/helm/v3/cmd/helm"},
            ldflags=(f"-X helm.sh/helm/v3/internal/version.version={HELM_VERSION}",),
        ),
    )


SANDBOX_TOOLS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
RENDER_TOOLS = ("kustomize", "helm")
ALL_TOOLS = (*SANDBOX_TOOLS, "kubectl", *RENDER_TOOLS)


def _component_for(binary: str) -> Component:
    for comp in components():
        if binary in comp.binaries:
            return comp
    raise ToolError(f"no known Go module builds {binary!r}")


def built_path(binary: str) -> Path:
    """Where the cache keeps ``binary`` for the pinned version."""
    return tools_dir() / _component_for(binary).key / binary


def require_tool(name: str) -> Path:
    path = find_tool(name)
    if path is None:
        raise ToolError(
            f"{name} not found: run `make tools` (or `gitops-tui sandbox tools --build`) to build it "
            f"from Go modules into {tools_dir()}, put {name} on PATH, or set KUBEBUILDER_ASSETS"
        )
    return path


def _go_env(scratch: Path) -> dict[str, str]:
    go_root = cache_dir() / "go"
    env = dict(os.environ)
    env.update(
        GOMODCACHE=str(go_root / "mod"),
        GOCACHE=str(go_root / "build"),
        GOPATH=str(go_root / "path"),
        GOFLAGS="-mod=mod",
        CGO_ENABLED="0",
        GOTOOLCHAIN="local",
        GOTMPDIR=str(scratch),
    )
    return env


def _wrapper_module(comp: Component) -> tuple[str, str]:
    """go.mod and a tools.go that pins ``comp`` (and its replaces) for the build."""
    lines = [f"module gitops-tui.local/build/{comp.name}", "", "go 1.24.0", ""]
    lines.append(f"require {comp.module} {comp.version}")
    lines += [f"replace {mod} => {mod} {ver}" for mod, ver in sorted(comp.replaces.items())]
    imports = "\n".join(f'\t_ "{pkg}"' for pkg in sorted(set(comp.binaries.values())))
    tools = f"//go:build tools\n\npackage tools\n\nimport (\n{imports}\n)\n"
    return "\n".join(lines) + "\n", tools


Reporter = Callable[[str], None]


def _run_go(args: Sequence[str], cwd: Path, env: dict[str, str], log: Path) -> None:
    with log.open("a") as out:
        out.write(f"$ go {' '.join(args)}\n")
        out.flush()
        try:
            proc = subprocess.run(
                ["go", *args],
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=BUILD_TIMEOUT_S,
                check=False,
            )
        except FileNotFoundError as exc:
            raise ToolError("the Go toolchain (`go`) is not on PATH; install Go >= 1.24") from exc
        except subprocess.TimeoutExpired as exc:
            raise ToolError(
                f"`go {args[0]}` timed out after {BUILD_TIMEOUT_S} s; log: {log}"
            ) from exc
    if proc.returncode != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-25:])
        raise ToolError(
            f"`go {' '.join(args[:2])}` failed (exit {proc.returncode}); log {log}:\n{tail}"
        )


def build_component(comp: Component, report: Reporter) -> Path:
    """Build every binary of ``comp`` into its tools dir; return that dir."""
    dest = tools_dir() / comp.key
    if (dest / _COMPLETE).exists():
        return dest
    src = cache_dir() / "src" / comp.key
    src.mkdir(parents=True, exist_ok=True)
    scratch = cache_dir() / "go" / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    gomod, tools = _wrapper_module(comp)
    (src / "go.mod").write_text(gomod)
    (src / "tools.go").write_text(tools)
    log = src / "build.log"
    log.write_text("")
    env = _go_env(scratch)
    report(f"  resolving modules for {comp.key} (log: {log})")
    _run_go(["mod", "tidy"], src, env, log)
    staging = dest.with_name(dest.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for binary, pkg in comp.binaries.items():
        report(f"  compiling {binary}")
        args = ["build", "-trimpath", "-tags", "selinux,notest"]
        if comp.ldflags:
            args += ["-ldflags", "-s -w " + " ".join(comp.ldflags)]
        else:
            args += ["-ldflags", "-s -w"]
        _run_go([*args, "-o", str(staging / binary), pkg], src, env, log)
    (staging / _COMPLETE).write_text(f"{comp.module} {comp.version}\n")
    shutil.rmtree(dest, ignore_errors=True)
    staging.rename(dest)
    return dest


class _Ticker:
    """Prints 'still building X (m:ss)' every ``every`` seconds while a step runs."""

    def __init__(self, label: str, report: Reporter, every: float = 30.0) -> None:
        self._label, self._report, self._every = label, report, every
        self._stop = threading.Event()
        self._start = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self._report(
                f"  ... still building {self._label} ({_fmt(time.monotonic() - self._start)})"
            )

    def __enter__(self) -> _Ticker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._start


def _fmt(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s"


def missing_tools(names: Iterable[str]) -> list[str]:
    return [name for name in names if find_tool(name) is None]


def ensure_tools(
    names: Iterable[str] = ALL_TOOLS, report: Reporter | None = None
) -> dict[str, Path]:
    """Return a path for every tool in ``names``, building missing ones from Go modules."""
    say: Reporter = report or (lambda line: print(line, file=sys.stderr, flush=True))
    wanted = list(names)
    todo: list[Component] = []
    for name in missing_tools(wanted):
        comp = _component_for(name)
        if comp not in todo:
            todo.append(comp)
    if todo:
        if shutil.which("go") is None:
            raise ToolError(
                "missing "
                + ", ".join(missing_tools(wanted))
                + " and no Go toolchain to build them: "
                "install Go >= 1.24, or put the binaries on PATH / in KUBEBUILDER_ASSETS"
            )
        total = time.monotonic()
        for index, comp in enumerate(todo, 1):
            say(f"[{index}/{len(todo)}] building {comp.key} ({', '.join(comp.binaries)})")
            with _Ticker(comp.key, say) as ticker:
                build_component(comp, say)
            say(f"[{index}/{len(todo)}] {comp.key} built in {_fmt(ticker.elapsed)}")
        say(f"tools ready in {_fmt(time.monotonic() - total)} ({tools_dir()})")
    return {name: require_tool(name) for name in wanted}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gitops_tui.sandbox.toolchain [TOOL...]``: build what is missing."""
    names = list(argv if argv is not None else sys.argv[1:]) or list(ALL_TOOLS)
    try:
        paths = ensure_tools(names)
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, path in paths.items():
        print(f"{name:<24} {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
