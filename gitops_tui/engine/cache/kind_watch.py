"""The list + watch of one kind, feeding a ``LiveCache``.

Each watched kind is listed once (500 per page) and then followed by a watch. Watches
restart every few minutes (as Argo CD's do), reconnect with backoff when the server
goes away, and re-list on ``410 Gone``.
"""

from __future__ import annotations

import logging
import random
import threading
from typing import TYPE_CHECKING, Any

from gitops_tui.engine.cache.discovery import ApiResource
from gitops_tui.engine.cache.kubeclient import KubeApiError
from gitops_tui.engine.errors import EngineSignal
from gitops_tui.engine.model import Manifest, ResourceKey

if TYPE_CHECKING:
    from gitops_tui.engine.cache.live_cache import LiveCache

log = logging.getLogger(__name__)

PAGE_SIZE = 500
WATCH_SECONDS = (
    240,
    360,
)  # server-side watch timeout, randomised so watches don't restart together
BACKOFF = (0.25, 10.0)


class KindWatch:
    """List + watch of one kind across all namespaces, feeding the cache."""

    def __init__(self, cache: LiveCache, resource: ApiResource) -> None:
        self.cache = cache
        self.resource = resource
        self.synced = threading.Event()
        self.error: str | None = None
        self.resource_version = ""
        self.stopped = threading.Event()
        self.partial = False
        """Watching an excluded kind for a pinned object only (the rest is dropped)."""
        """Set by ``stop``: this watch ends (its kind was excluded), the cache goes on."""
        self._response: Any = None
        self._thread = threading.Thread(
            target=self._run, name=f"watch-{resource.kind}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """End this watch now: the open watch connection is shut down, no event of it is
        applied any more."""
        self.stopped.set()
        response = self._response
        if response is not None:
            try:
                response.shutdown()
            except Exception:  # already closed: nothing to end
                log.debug("watch %s: shutdown failed", self.resource.kind, exc_info=True)

    def _ended(self) -> bool:
        return self.stopped.is_set() or self.cache.stopped.is_set()

    def _opened(self, response: Any) -> None:
        self._response = response
        if self.stopped.is_set():  # stopped while connecting
            response.shutdown()

    def _list(self) -> None:
        items: dict[ResourceKey, Manifest] = {}
        cont: str | None = None
        while True:
            page = self.cache.client.request(
                "GET",
                self.resource.collection_path(),
                query={"limit": PAGE_SIZE, "continue": cont},
                timeout=(5.0, 60.0),
            )
            for item in page.get("items") or []:
                item.setdefault("apiVersion", self.resource.api_version)
                item.setdefault("kind", self.resource.kind)
                items[ResourceKey.of(item)] = item
            cont = (page.get("metadata") or {}).get("continue") or None
            if not cont:
                self.resource_version = str(
                    (page.get("metadata") or {}).get("resourceVersion") or ""
                )
                break
        if not self._ended():
            self.cache._replace_kind(self.resource, items)

    def _watch(self) -> None:
        seconds = random.randint(*WATCH_SECONDS)
        query = {
            "watch": "1",
            "resourceVersion": self.resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": seconds,
        }
        for event in self.cache.client.stream(
            self.resource.collection_path(),
            query=query,
            read_timeout=seconds + 30,
            on_open=self._opened,
        ):
            if self._ended():
                return
            kind = event.get("type")
            obj = event.get("object") or {}
            if kind == "ERROR":
                if obj.get("code") == 410:
                    raise _Gone()
                raise KubeApiError(
                    int(obj.get("code") or 500),
                    str(obj.get("reason") or ""),
                    str(obj.get("message") or ""),
                )
            self.resource_version = str(
                (obj.get("metadata") or {}).get("resourceVersion") or self.resource_version
            )
            if kind == "BOOKMARK":
                continue
            obj.setdefault("apiVersion", self.resource.api_version)
            obj.setdefault("kind", self.resource.kind)
            self.cache._apply_event(ResourceKey.of(obj), None if kind == "DELETED" else obj)

    def _run(self) -> None:
        delay = BACKOFF[0]
        need_list = True
        while not self._ended():
            try:
                if need_list:
                    self._list()
                    need_list = False
                    self.synced.set()
                    self.error = None
                    self.cache._note_reachable(True, "")
                self._watch()
                delay = BACKOFF[0]
            except _Gone:
                need_list = True
            except KubeApiError as exc:
                if self._ended():
                    return
                self.error = str(exc)
                if exc.status in (403, 404):
                    # forbidden or kind gone: report once, retry slowly
                    self.synced.set()
                    self.cache.stopped.wait(30.0)
                    need_list = True
                    continue
                self.cache._note_reachable(False, str(exc))
                if exc.status == 0:
                    # the server went away: list again once it is back (confirms it, and
                    # catches anything the watch missed)
                    need_list = True
                self.cache.stopped.wait(delay)
                delay = min(delay * 2, BACKOFF[1])
            except Exception as exc:  # a malformed event must not kill the watch thread
                log.exception("watch %s failed", self.resource.kind)
                self.error = f"{type(exc).__name__}: {exc}"
                self.cache.stopped.wait(delay)
                delay = min(delay * 2, BACKOFF[1])
                need_list = True


class _Gone(EngineSignal):
    """The watch's resourceVersion is too old (HTTP 410): list again."""
