"""Build Argo CD from Go modules into the tool cache, keyed by version.

Argo CD's ``go.mod`` carries a ``replace`` block, so ``go install pkg@version``
refuses it. As for Kubernetes, we build through a small wrapper module kept in
``<cache>/src/argocd-<version>``: it requires ``github.com/argoproj/argo-cd/v3``
at the pinned version, copies that module's whole ``replace (...)`` block, seeds
``go.sum`` from the module's own, and imports its ``cmd`` package from a
build-tagged file. ``go mod tidy`` then ``go build`` yields one binary
(``<cache>/tools/argocd-<version>/argocd``; the component is chosen at run time
by ``ARGOCD_BINARY_NAME``). The module's CRDs are copied beside it (``crds/``)
so a test can install them without a network.

v3.2.11 is pinned: later v3.3 declares a nested ``./gitops-engine`` module the
proxy's zip lacks, and the proxy's v3.2.12 zip does not compile.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from gitops_tui.engine.source.tools import COMPLETE_MARKER, component_key, tools_dir
from gitops_tui.paths import cache_dir
from gitops_tui.sandbox.toolchain import (
    BUILD_TIMEOUT_S,
    Reporter,
    ToolError,
    _fmt,
    _go_env,
    _run_go,
    _Ticker,
)

ARGOCD_VERSION = "v3.2.11"
ARGOCD_MODULE = "github.com/argoproj/argo-cd/v3"
ARGOCD_PACKAGE = ARGOCD_MODULE + "/cmd"
# The go directive of the wrapper: at least argo-cd's own (1.24.x for v3.2).
_WRAPPER_GO = "1.24.6"


def argocd_dir(version: str = ARGOCD_VERSION) -> Path:
    return tools_dir() / component_key("argocd", version)


def find_argocd(version: str = ARGOCD_VERSION) -> Path | None:
    """The cached binary when its build completed, else None."""
    dest = argocd_dir(version)
    binary = dest / "argocd"
    if (dest / COMPLETE_MARKER).exists() and os.access(binary, os.X_OK):
        return binary
    return None


def crds_dir(version: str = ARGOCD_VERSION) -> Path:
    """The Argo CD CRDs copied beside the binary at build time."""
    return argocd_dir(version) / "crds"


_REPLACE_BLOCK = re.compile(r"^replace\s*\(\s*\n(?P<body>.*?)^\)", re.M | re.S)
_REPLACE_LINE = re.compile(r"^replace\s+(?P<line>[^(\n].*)$", re.M)


def replace_lines(gomod: str) -> list[str]:
    """Every ``replace`` directive of a go.mod, one ``old [v] => new [v]`` per entry.

    Local-path replacements (``=> ./x``) are refused: the module zip does not hold
    them, so such a version cannot be built from the proxy.
    """
    out: list[str] = []
    for block in _REPLACE_BLOCK.finditer(gomod):
        for raw in block.group("body").splitlines():
            line = raw.split("//", 1)[0].strip()
            if line:
                out.append(line)
    for single in _REPLACE_LINE.finditer(gomod):
        out.append(single.group("line").split("//", 1)[0].strip())
    for line in out:
        target = line.split("=>", 1)[-1].strip()
        if target.startswith((".", "/")):
            raise ToolError(
                f"Argo CD's go.mod replaces a module with a local path ({line!r}): "
                "this version cannot be built from the Go module proxy; pin v3.2.11"
            )
    return out


def wrapper_gomod(version: str, replaces: Sequence[str]) -> str:
    lines = [
        "module gitops-tui.local/build/argocd",
        "",
        f"go {_WRAPPER_GO}",
        "",
        f"require {ARGOCD_MODULE} {version}",
        "",
        "replace (",
        *(f"\t{line}" for line in replaces),
        ")",
    ]
    return "\n".join(lines) + "\n"


_TOOLS_GO = f'//go:build tools\n\npackage tools\n\nimport (\n\t_ "{ARGOCD_PACKAGE}"\n)\n'


def _download(version: str, src: Path, env: dict[str, str], log: Path) -> dict[str, str]:
    """``go mod download -json`` the argo-cd module; return its JSON record."""
    with log.open("a") as out:
        out.write(f"$ go mod download -json {ARGOCD_MODULE}@{version}\n")
        try:
            proc = subprocess.run(
                ["go", "mod", "download", "-json", f"{ARGOCD_MODULE}@{version}"],
                cwd=src,
                env=env,
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT_S,
                check=False,
            )
        except FileNotFoundError as exc:
            raise ToolError("the Go toolchain (`go`) is not on PATH; install Go >= 1.24") from exc
        except subprocess.TimeoutExpired as exc:
            raise ToolError(f"downloading {ARGOCD_MODULE}@{version} timed out") from exc
        out.write(proc.stdout + proc.stderr)
    try:
        info: dict[str, str] = json.loads(proc.stdout)
    except ValueError:
        info = {}
    if proc.returncode != 0 or "Dir" not in info or "GoMod" not in info:
        raise ToolError(
            f"could not download {ARGOCD_MODULE}@{version} from the module proxy "
            f"(exit {proc.returncode}): {(info.get('Error') or proc.stderr)[-800:]}"
        )
    return info


def build_argocd(version: str = ARGOCD_VERSION, report: Reporter | None = None) -> Path:
    """Return the cached Argo CD binary, building it from Go modules when missing."""
    found = find_argocd(version)
    if found is not None:
        return found
    say: Reporter = report or (lambda line: print(line, file=sys.stderr, flush=True))
    if shutil.which("go") is None:
        raise ToolError("building Argo CD needs the Go toolchain (`go` >= 1.24) on PATH")
    key = component_key("argocd", version)
    src = cache_dir() / "src" / key
    src.mkdir(parents=True, exist_ok=True)
    scratch = cache_dir() / "go" / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    log = src / "build.log"
    log.write_text("")
    env = _go_env(scratch)
    say(f"building {key} from Go modules (cold: about 15 min on 2 cores; log: {log})")
    start = time.monotonic()
    with _Ticker(key, say, every=60.0):
        (src / "go.mod").write_text("module gitops-tui.local/build/argocd-download\n")
        info = _download(version, src, env, log)
        module_dir = Path(info["Dir"])
        replaces = replace_lines(Path(info["GoMod"]).read_text())
        (src / "go.mod").write_text(wrapper_gomod(version, replaces))
        seed = module_dir / "go.sum"
        if seed.exists():
            (src / "go.sum").write_text(seed.read_text())
        (src / "tools.go").write_text(_TOOLS_GO)
        say(f"  resolving modules for {key}")
        _run_go(["mod", "tidy"], src, env, log)
        dest = argocd_dir(version)
        staging = dest.with_name(dest.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        say("  compiling argocd")
        _run_go(
            [
                "build",
                "-trimpath",
                "-ldflags",
                f"-s -w -X github.com/argoproj/argo-cd/v3/common.version={version.lstrip('v')}",
                "-o",
                str(staging / "argocd"),
                ARGOCD_PACKAGE,
            ],
            src,
            env,
            log,
        )
        shutil.copytree(module_dir / "manifests" / "crds", staging / "crds")
        (staging / "crds").chmod(0o755)
        for copied in (staging / "crds").iterdir():
            copied.chmod(0o644)
        (staging / COMPLETE_MARKER).write_text(f"{ARGOCD_MODULE} {version}\n")
        shutil.rmtree(dest, ignore_errors=True)
        staging.rename(dest)
    say(f"{key} built in {_fmt(time.monotonic() - start)} ({dest})")
    return dest / "argocd"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gitops_tui.sandbox.argocd_build``: build Argo CD when missing."""
    del argv
    try:
        path = build_argocd()
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{'argocd':<24} {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
