"""Argo CD ``/logs`` entries -> the engine's bounded, printable log lines (pure parts)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from gitops_tui.argocd.server_client import ServerApiError
from gitops_tui.argocd.server_logs import log_contents, logs_query
from gitops_tui.engine.model import ResourceKey
from gitops_tui.engine.podlogs import MAX_LINE_CHARS, MAX_LOG_BYTES, LogOptions, LogStream


def entry(
    content: str, *, last: bool = False, stamp: str = "2026-12-01T10:00:00.123456789Z"
) -> bytes:
    result = {"content": content, "timeStampStr": stamp, "last": last, "podName": "p"}
    return json.dumps({"result": result}).encode()


class Source:
    def __init__(self, lines: list[bytes], *, follow: bool = False) -> None:
        self.lines = lines
        self.follow = follow

    def chunks(self) -> Iterator[bytes]:
        return log_contents(iter(self.lines), follow=self.follow)

    def close(self) -> None:
        pass


def stream(lines: list[bytes]) -> list[str]:
    return list(LogStream(Source(lines), pod="Pod ns/p", container="c", follow=False))


def test_contents_until_the_last_entry_sanitised_and_cut() -> None:
    evil = "x \x1b]0;pwned\x07\x1b[2J\u009b31m\u202e end"
    lines = stream(
        [
            entry("one"),
            b"",
            entry(evil),
            entry("y" * (MAX_LINE_CHARS + 10)),
            entry("", last=True),
            entry("after the end"),
        ]  # fmt: skip
    )
    assert lines[0] == "one" and len(lines) == 3
    assert lines[1].endswith(" end") and "\u202e" not in lines[1]
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in lines[1])
    assert lines[2].startswith("y" * 100) and "line cut" in lines[2]


def test_an_error_entry_is_a_message_in_words() -> None:
    error = json.dumps({"error": {"grpc_code": 7, "message": "permission denied: logs, get"}})
    with pytest.raises(Exception, match="could not read the log of Pod ns/p .*permission denied"):
        stream([entry("one"), error.encode()])
    with pytest.raises(ServerApiError, match="not JSON"):
        list(log_contents(iter([b"{nope"]), follow=True))


def test_a_plain_read_stops_at_the_byte_bound_and_a_follow_does_not() -> None:
    big = entry("z" * (1 << 20))
    many = [big] * ((MAX_LOG_BYTES >> 20) + 5)
    assert len(list(log_contents(iter(many), follow=False))) == MAX_LOG_BYTES >> 20
    assert len(list(log_contents(iter(many), follow=True))) == len(many)


def test_entries_stamped_before_a_follow_from_now_are_dropped() -> None:
    old = entry("old", stamp="2026-12-01T10:00:00.5Z")
    new = entry("new", stamp="2026-12-01T10:00:02.000000001Z")
    import datetime as dt

    start = dt.datetime(2026, 12, 1, 10, 0, 1, tzinfo=dt.UTC).timestamp()
    got = list(log_contents(iter([old, new]), follow=True, not_before=start))
    assert got == [b"new\n"]


def test_query() -> None:
    pod = ResourceKey("", "Pod", "ns", "p")
    assert logs_query(pod, "c", LogOptions(tail_lines=5, since_seconds=60, previous=True)) == {
        "namespace": "ns", "podName": "p", "container": "c", "follow": "false",
        "previous": "true", "sinceSeconds": 60, "tailLines": 5,
    }  # fmt: skip
