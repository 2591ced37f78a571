"""Bounds on what one app's manifests may cost: objects and bytes per app.

Repository content is not trusted: one file of 260,000 tiny documents took
minutes and more than a gigabyte to parse and compare. Each app gets a budget
(``limits:`` in the config file); an app over it fails with a condition naming
the limit, and the rest of the fleet goes on.

Plain directory sources are measured before anything is parsed: file sizes from
``stat`` and YAML document markers counted in the raw bytes (an upper bound of the
objects the files hold). Every source (Helm and Kustomize too) is measured again
after rendering: objects, and bytes as compact JSON.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gitops_tui.engine.app.application import Source
from gitops_tui.engine.errors import GitOpsError
from gitops_tui.engine.manifest_yaml import MANIFEST_SUFFIXES
from gitops_tui.engine.model import Manifest
from gitops_tui.engine.source.render import (
    RenderError,
    detect_tool,
    directory_filter,
    resolve_inside,
)

DEFAULT_MAX_OBJECTS = 10_000
DEFAULT_MAX_BYTES = 50 * 1024 * 1024

OBJECTS_KEY = "limits.objectsPerApp"
BYTES_KEY = "limits.manifestBytesPerApp"

_DOCUMENT_START = re.compile(rb"^---(?=[ \t\r\n]|$)", re.MULTILINE)
_READ_CHUNK = 1 << 20


@dataclass(frozen=True)
class ManifestLimits:
    """Most objects and most bytes of manifests one app may have."""

    max_objects: int = DEFAULT_MAX_OBJECTS
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        if self.max_objects <= 0 or self.max_bytes <= 0:
            raise ValueError("manifest limits must be positive")


class LimitExceeded(GitOpsError):
    """An app's manifests are over a limit; the message names the app and the limit."""

    title = "Limit exceeded"


def size_text(size: int) -> str:
    """``52428800`` -> ``50 MiB``; ``1536`` -> ``1.5 KiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


class ManifestBudget:
    """Counts one app's manifests across its sources and raises when a limit is crossed."""

    def __init__(self, limits: ManifestLimits, app: str) -> None:
        self.limits = limits
        self.app = app
        self.objects = 0
        self.bytes = 0

    def _too_big(self, what: str) -> LimitExceeded:
        return LimitExceeded(
            f"app {self.app}: {what}, over the limit of {size_text(self.limits.max_bytes)} "
            f"of manifests per app ({BYTES_KEY} in the config file)"
        )

    def before_render(self, source: Source, root: Path) -> None:
        """Refuse a plain directory source whose files are over budget, before parsing.

        Helm and Kustomize sources are left to ``add`` (their output is what counts).
        A path that does not resolve is left to the renderer to report.
        """
        try:
            app_dir = resolve_inside(root.resolve(), source.path or ".", what="path")
        except RenderError:
            return
        if not app_dir.is_dir() or detect_tool(app_dir, source) != "directory":
            return
        try:
            files = list(_directory_files(app_dir, root.resolve(), source))
        except RenderError:
            return
        total = self.bytes + sum(size for _path, size in files)
        if total > self.limits.max_bytes:
            raise self._too_big(f"its manifest files hold {size_text(total)}")
        documents = 0
        for path, _size in files:
            documents += _count_documents(path)
            if self.objects + documents > self.limits.max_objects:
                raise LimitExceeded(
                    f"app {self.app}: its manifest files hold more than "
                    f"{self.limits.max_objects - self.objects:,} YAML documents, over the limit "
                    f"of {self.limits.max_objects:,} objects per app ({OBJECTS_KEY} in the "
                    "config file)"
                )

    def add(self, manifests: Iterable[Manifest]) -> None:
        """Count rendered objects (bytes as compact JSON) against the limits."""
        for obj in manifests:
            self.objects += 1
            if self.objects > self.limits.max_objects:
                raise LimitExceeded(
                    f"app {self.app}: more than {self.limits.max_objects:,} objects, over the "
                    f"limit of {self.limits.max_objects:,} objects per app ({OBJECTS_KEY} in the "
                    "config file)"
                )
            self.bytes += len(json.dumps(obj, separators=(",", ":"), default=str).encode())
            if self.bytes > self.limits.max_bytes:
                raise self._too_big(
                    f"its manifests take more than {size_text(self.limits.max_bytes)} as JSON"
                )


def _directory_files(app_dir: Path, root: Path, source: Source) -> Iterable[tuple[Path, int]]:
    """The files a directory source reads (resolved), with their sizes, as the renderer
    picks them.

    Symlinked directories are not entered (as in the renderer). Only regular files
    inside the checkout ``root`` are measured and opened: a symlink out of the
    checkout, a FIFO or a device is left for the renderer to refuse, never read.
    """
    options = source.directory
    recurse = options.recurse if options is not None else False
    selected = directory_filter(options)
    for folder, dirnames, filenames in os.walk(app_dir):
        dirnames[:] = [name for name in dirnames if recurse and name != ".git"]
        for name in filenames:
            if not name.endswith(MANIFEST_SUFFIXES):
                continue
            path = Path(folder) / name
            if not selected(path.relative_to(app_dir).as_posix()):
                continue
            try:
                real = path.resolve()
                info = real.stat()
            except (OSError, RuntimeError):
                continue
            if real.is_relative_to(root) and stat.S_ISREG(info.st_mode):
                yield real, info.st_size


def _count_documents(path: Path) -> int:
    """How many documents a manifest file can hold at most: YAML markers + 1 (a JSON text,
    which cannot have a line starting with ``---``, counts 1)."""
    count = 1
    tail = b""
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_READ_CHUNK):
                data = tail + chunk
                # a marker split across chunks is found in the next round
                cut = data.rfind(b"\n") + 1
                count += len(_DOCUMENT_START.findall(data, 0, cut)) if cut else 0
                tail = data[cut:] if cut else data
            count += len(_DOCUMENT_START.findall(tail))
    except OSError:
        return 1
    return count
