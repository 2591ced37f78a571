"""Container logs of an app's pods: options, the stream of lines, and its bounds.

A container's log is bytes written by whatever runs in it: not trusted. Every line
leaves the engine decoded (UTF-8, undecodable bytes escaped), made printable
(``textsafe.printable``: no ESC, OSC, C0/C1 or bidi control reaches a terminal),
and at most ``MAX_LINE_CHARS`` long; a line that never ends is cut, the rest of it
skipped up to its newline. A non-following read asks the API server for at most
``MAX_LOG_BYTES`` (``limitBytes``); a following one is endless by nature, so the
reader keeps what it shows bounded (the console: a ring buffer).

``LogStream`` is iterated on a worker thread (each read may wait for the
cluster); ``close()`` from any other thread ends it promptly, a waiting read
included. Pure parts (``LineSplitter``, ``parse_duration``, container choice)
are here; the request is ``controller/podlogs.py``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from gitops_tui.engine.errors import EngineError, GitOpsError
from gitops_tui.engine.model import Manifest
from gitops_tui.engine.textsafe import printable

MAX_LINE_CHARS = 8_192
"""Longest line handed on (in characters, after escaping); longer ones are cut."""

MAX_LOG_BYTES = 16 * 1024 * 1024
"""Most bytes one non-following read asks for (``limitBytes``)."""

MAX_TAIL_LINES = 100_000
MAX_SINCE_SECONDS = 366 * 24 * 3600

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 60.0
"""A non-following read that gets no byte for this long fails (a follow waits)."""

CUT_MARK = " [line cut: longer than {limit} characters]"
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"

_DURATION = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class LogOptions:
    """What to read of one container's log (``kubectl logs`` flags)."""

    container: str | None = None
    follow: bool = False
    previous: bool = False
    since_seconds: int | None = None
    tail_lines: int | None = None

    def checked(self) -> LogOptions:
        if self.since_seconds is not None and not 0 < self.since_seconds <= MAX_SINCE_SECONDS:
            raise EngineError(
                f"since must be between 1 second and {MAX_SINCE_SECONDS // 86400} days"
            )
        if self.tail_lines is not None and not 0 <= self.tail_lines <= MAX_TAIL_LINES:
            raise EngineError(f"tail must be between 0 and {MAX_TAIL_LINES} lines")
        return self

    def query(self, container: str) -> dict[str, Any]:
        """The ``pods/log`` query for ``container`` (values are checked ints and bools)."""
        query: dict[str, Any] = {"container": container}
        if self.follow:
            query["follow"] = "true"
        else:
            query["limitBytes"] = MAX_LOG_BYTES
        if self.previous:
            query["previous"] = "true"
        if self.since_seconds is not None:
            query["sinceSeconds"] = self.since_seconds
        if self.tail_lines is not None:
            query["tailLines"] = self.tail_lines
        return query


def parse_duration(text: str) -> int:
    """``"90s"``, ``"5m"``, ``"1h30m"``, ``"2d"`` (or plain seconds) in seconds."""
    value = text.strip().lower()
    if value.isdigit():
        seconds = int(value)
    else:
        parts = _DURATION.findall(value)
        if not parts or "".join(n + u for n, u in parts) != value:
            raise EngineError(f"not a duration: {text!r} (examples: 30s, 5m, 1h30m, 2d)")
        seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    if not 0 < seconds <= MAX_SINCE_SECONDS:
        raise EngineError(f"duration out of range: {text!r} (1s to {MAX_SINCE_SECONDS // 86400}d)")
    return seconds


def containers_of(pod: Manifest) -> tuple[list[str], list[str]]:
    """The pod's container names and its init (and ephemeral) container names."""

    def names(field: str) -> list[str]:
        spec = pod.get("spec") if isinstance(pod.get("spec"), dict) else {}
        items = spec.get(field) if isinstance(spec, dict) else None
        return [
            str(c["name"])
            for c in (items if isinstance(items, list) else [])
            if isinstance(c, dict) and isinstance(c.get("name"), str)
        ]

    return names("containers"), names("initContainers") + names("ephemeralContainers")


def default_container(pod: Manifest) -> str | None:
    """kubectl's choice: the ``default-container`` annotation if it names a container,
    else the first container."""
    main, _ = containers_of(pod)
    meta = pod.get("metadata") if isinstance(pod.get("metadata"), dict) else {}
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    wanted = (
        annotations.get(DEFAULT_CONTAINER_ANNOTATION) if isinstance(annotations, dict) else None
    )
    if isinstance(wanted, str) and wanted in main:
        return wanted
    return main[0] if main else None


class LineSplitter:
    """Bytes as they arrive -> whole, printable, bounded lines."""

    def __init__(self, max_chars: int = MAX_LINE_CHARS) -> None:
        self.max_chars = max_chars
        self.max_bytes = 4 * max_chars
        self._pending = b""
        self._skipping = False  # inside a line already cut: drop up to its newline
        self.cut_lines = 0

    def feed(self, data: bytes) -> list[str]:
        out: list[str] = []
        buffer = self._pending + data
        start = 0
        while True:
            end = buffer.find(b"\n", start)
            if end == -1:
                break
            if self._skipping:
                self._skipping = False
            else:
                out.append(self._line(buffer[start:end]))
            start = end + 1
        rest = buffer[start:]
        if self._skipping:
            rest = b""
        elif len(rest) > self.max_bytes:
            out.append(self._line(rest))
            self._skipping = True
            rest = b""
        self._pending = rest
        return out

    def flush(self) -> list[str]:
        rest, self._pending = self._pending, b""
        if self._skipping or not rest:
            self._skipping = False
            return []
        return [self._line(rest)]

    def _line(self, raw: bytes) -> str:
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        text = printable(raw.decode("utf-8", "surrogateescape"))
        if len(text) > self.max_chars or len(raw) > self.max_bytes:
            self.cut_lines += 1
            return text[: self.max_chars] + CUT_MARK.format(limit=self.max_chars)
        return text


class ByteSource(Protocol):
    def chunks(self) -> Iterator[bytes]: ...

    def close(self) -> None: ...


class LogStream:
    """The lines of one container's log, read on the caller's (worker) thread.

    Iterate ``batches()`` (the lines of each read, for chunked display) or the
    stream itself (line by line). ``close()`` is thread-safe and idempotent; the
    iteration then ends. ``EngineError`` when the connection breaks mid-stream.
    """

    def __init__(self, source: ByteSource, *, pod: str, container: str, follow: bool) -> None:
        self.pod = pod
        self.container = container
        self.follow = follow
        self._source = source
        self._closed = threading.Event()
        self.splitter = LineSplitter()
        self.bytes_read = 0

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    @property
    def truncated(self) -> bool:
        """A non-following read stopped at ``MAX_LOG_BYTES`` (older lines were cut)."""
        return not self.follow and self.bytes_read >= MAX_LOG_BYTES

    def batches(self) -> Iterator[list[str]]:
        try:
            for chunk in self._source.chunks():
                if self._closed.is_set():
                    return
                self.bytes_read += len(chunk)
                lines = self.splitter.feed(chunk)
                if lines:
                    yield lines
            if not self._closed.is_set():
                rest = self.splitter.flush()
                if rest:
                    yield rest
        except EngineError:
            raise
        except GitOpsError as exc:  # the API server's refusal (e.g. no previous container)
            if self._closed.is_set():
                return
            raise EngineError(
                f"could not read the log of {self.pod} ({self.container}): "
                f"{printable(str(exc))[:500]}"
            ) from None
        except Exception as exc:
            if self._closed.is_set():
                return
            raise EngineError(
                f"the log of {self.pod} ({self.container}) broke off: {printable(str(exc))[:300]}"
            ) from None
        finally:
            self.close()

    def __iter__(self) -> Iterator[str]:
        for batch in self.batches():
            yield from batch

    def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            self._source.close()

    def __enter__(self) -> LogStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
