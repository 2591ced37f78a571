"""List-then-watch of one kind of object, with reconnects (a small informer).

``Watcher.run`` lists the collection, hands the items to ``on_list``, then
follows a watch from the list's ``resourceVersion`` and hands every change to
``on_event``. A dropped connection re-watches from the last version seen; an
expired version (410 Gone) or any failure lists again. Failures are reported
through ``on_error`` (a message for the header) and retried with a growing
pause (at most ``MAX_BACKOFF_S``). ``listed`` is set once the first list is in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from gitops_tui.engine.cache.kubeclient import KubeApiError, KubeClient
from gitops_tui.engine.model import Manifest

WATCH_SECONDS = 300  # the server ends each watch after this; we re-watch
LIST_TIMEOUT = (5.0, 60.0)
MAX_BACKOFF_S = 10.0


class Watcher:
    def __init__(
        self,
        client: KubeClient,
        path: str,
        kind: str,
        *,
        on_list: Callable[[list[Manifest]], None],
        on_event: Callable[[str, Manifest], None],
        on_error: Callable[[str], None],
        stop: threading.Event,
    ) -> None:
        self._client = client
        self.path = path
        self.kind = kind
        self._on_list = on_list
        self._on_event = on_event
        self._on_error = on_error
        self._stop = stop
        self.listed = threading.Event()

    def _list(self) -> str:
        body = self._client.request("GET", self.path, timeout=LIST_TIMEOUT)
        if not isinstance(body, dict):
            raise KubeApiError(500, "BadResponse", f"listing {self.kind}: not a JSON object")
        items = [i for i in body.get("items") or [] if isinstance(i, dict)]
        self._on_list(items)
        self.listed.set()
        return str((body.get("metadata") or {}).get("resourceVersion") or "")

    def _watch(self, version: str) -> str | None:
        """Follow changes from ``version``; the last version seen, or None to list again."""
        query: dict[str, Any] = {
            "watch": "true",
            "resourceVersion": version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": WATCH_SECONDS,
        }
        for event in self._client.stream(self.path, query=query, read_timeout=WATCH_SECONDS + 30):
            if self._stop.is_set():
                return version
            kind = str(event.get("type") or "")
            obj = event.get("object")
            if not isinstance(obj, dict):
                continue
            if kind == "ERROR":
                return None  # 410 Gone (version expired) and the like: list again
            version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
            if kind in ("ADDED", "MODIFIED", "DELETED"):
                self._on_event(kind, obj)
        return version

    def run(self) -> None:
        version: str | None = None
        backoff = 0.5
        while not self._stop.is_set():
            try:
                if version is None:
                    version = self._list()
                version = self._watch(version)
                backoff = 0.5
            except KubeApiError as exc:
                version = None
                if exc.status == 404:
                    message = (
                        f"no {self.kind} objects can be read at {self.path}: are Argo CD's "
                        "CRDs installed and is the namespace right?"
                    )
                else:
                    message = f"watching {self.kind} objects failed: {exc}"
                self._on_error(message)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
            except ValueError as exc:  # a broken JSON line: list again
                version = None
                self._on_error(f"watching {self.kind} objects: bad data ({exc})")
                self._stop.wait(backoff)
