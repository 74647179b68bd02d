"""Every transport against a server that misbehaves at the HTTP and NDJSON level.

Each case: what the server does, the end event the user gets (its kind, a phrase of its
sentence), and the text that arrived before it, which must be kept.
"""

from __future__ import annotations

import resource
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.events import ContentDelta, Done, ErrorKind, StreamError
from ollama_tui.core.protocol import ChatMessage, chat_request
from ollama_tui.transports import TRANSPORT_NAMES, Transport, create_transport
from tests.hostile import (
    HostileServer,
    Script,
    chunked,
    endless,
    full,
    gzipped,
    line,
    reply_lines,
    reset,
    silence,
)
from tests.streaming import close, collect

MIB = 2**20


@dataclass(frozen=True)
class Case:
    script: Script
    kind: ErrorKind | None  # None: a Done
    says: str = ""
    kept: str = ""


CASES: dict[str, Case] = {
    "html-200": Case(
        full(b"<html><body>Welcome to nginx!</body></html>", Content_Type="text/html"),
        ErrorKind.PROTOCOL,
        "not JSON",
    ),
    "no-content-type": Case(full(reply_lines("plain ", "works")), None, kept="plain works"),
    "wrong-content-type": Case(
        full(reply_lines("still ", "fine"), Content_Type="text/plain"), None, kept="still fine"
    ),
    "content-length-not-chunked": Case(
        full(reply_lines("framed ", "by length"), Content_Type="application/x-ndjson"),
        None,
        kept="framed by length",
    ),
    "gzip": Case(gzipped(reply_lines("zipped ", "body")), None, kept="zipped body"),
    "redirect": Case(
        full(b"", status="302 Found", Location="http://127.0.0.1:1/elsewhere"),
        ErrorKind.HTTP,
        "redirect",
    ),
    "truncated-line": Case(
        chunked(reply_lines("kept ", done=False), b'{"message":{"content":"cut'),
        ErrorKind.PROTOCOL,
        "not JSON",
        kept="kept ",
    ),
    "not-an-object": Case(
        chunked(reply_lines("kept", done=False), b"[1, 2, 3]\n"),
        ErrorKind.PROTOCOL,
        "not a JSON object",
        kept="kept",
    ),
    "wrong-field-types": Case(
        chunked(
            reply_lines("kept", done=False),
            line({"message": {"content": 5}, "done": False}),
            line({"message": "text", "done": False}),
        ),
        ErrorKind.PROTOCOL,
        "'content' as int, not text",
        kept="kept",
    ),
    "invalid-utf8": Case(
        chunked(reply_lines("kept", done=False), b'{"message":{"content":"\xff\xfe"}}\n'),
        ErrorKind.PROTOCOL,
        "UTF-8",
        kept="kept",
    ),
    "final-line-without-newline": Case(
        chunked(reply_lines("last line ", done=False), line({"done": True})[:-1]),
        None,
        kept="last line ",
    ),
    "no-done-line": Case(
        chunked(reply_lines("all ", "of it", done=False)),
        ErrorKind.INCOMPLETE,
        kept="all of it",
    ),
    "line-separators-inside-json": Case(
        chunked(reply_lines("a\u2028b\u2029c\u0085d\u001ce\u001df\u001eg")),
        None,
        kept="a\u2028b\u2029c\u0085d\u001ce\u001df\u001eg",
    ),
    "headers-then-silence": Case(chunked(then=silence), ErrorKind.TIMEOUT, "0.5 s (read timeout)"),
    "text-then-silence": Case(
        chunked(reply_lines("so far", done=False), then=silence),
        ErrorKind.TIMEOUT,
        "read timeout",
        kept="so far",
    ),
    "accepts-and-never-answers": Case(silence, ErrorKind.TIMEOUT, "--read-timeout SECONDS"),
    "connection-reset": Case(
        chunked(reply_lines("before the reset", done=False), then=reset),
        ErrorKind.DISCONNECTED,
        kept="before the reset",
    ),
    "ten-megabyte-line": Case(
        chunked(reply_lines("kept", done=False), b'{"message":{"content":"' + b"x" * 10 * MIB),
        ErrorKind.PROTOCOL,
        "to bound memory",
        kept="kept",
    ),
    "endless-line": Case(endless(b"y" * 65536, 64 * MIB), ErrorKind.PROTOCOL, "to bound memory"),
}


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


SILENCE_TIMEOUT = 0.5
"""The read timeout where a case waits for one: its silence ends the test in half a second."""
CALM_TIMEOUT = 10.0
"""Where a case does not wait for one: a busy machine may hold the server's thread back
for more than half a second (a case once ended TIMEOUT, not PROTOCOL, under the suite's
own load on Python 3.12)."""


def hostile_transport(name: str, url: str, read_timeout: float) -> Transport:
    settings = ConnectionSettings(
        base_url=url, read_timeout=read_timeout, connect_timeout=2, max_line_bytes=4 * MIB
    )
    return create_transport(name, settings)


@pytest.fixture(params=TRANSPORT_NAMES)
def transport_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def transport(transport_name: str, hostile: HostileServer) -> AsyncIterator[Transport]:
    made = hostile_transport(transport_name, hostile.url, SILENCE_TIMEOUT)
    yield made
    await close(made)


REQUEST = chat_request("demo", [ChatMessage("user", "hi")])


@pytest.mark.parametrize("name", list(CASES))
async def test_a_hostile_reply_ends_in_one_clear_event(
    name: str, transport_name: str, hostile: HostileServer
) -> None:
    case = CASES[name]
    hostile.script = case.script
    timeout = SILENCE_TIMEOUT if case.kind is ErrorKind.TIMEOUT else CALM_TIMEOUT
    transport = hostile_transport(transport_name, hostile.url, timeout)
    try:
        events = await collect(transport, REQUEST, timeout=20)
    finally:
        await close(transport)
    ends = [e for e in events if isinstance(e, Done | StreamError)]
    assert len(ends) == 1 and ends[0] is events[-1], events[-3:]
    end = ends[0]
    if case.kind is None:
        assert isinstance(end, Done), end
    else:
        assert isinstance(end, StreamError) and end.kind is case.kind, end
        assert case.says in end.message, end.message
        assert "\x1b" not in end.message
    text = "".join(e.text for e in events if isinstance(e, ContentDelta))
    assert text == case.kept


async def test_an_endless_line_keeps_memory_bounded(hostile: HostileServer) -> None:
    """64 MiB sent as one line: the client stops at its 4 MiB limit, memory stays flat."""
    hostile.script = endless(b"z" * 65536, 64 * MIB)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for name in TRANSPORT_NAMES:
        settings = ConnectionSettings(base_url=hostile.url, read_timeout=5, max_line_bytes=4 * MIB)
        transport = create_transport(name, settings)
        try:
            events = await collect(transport, REQUEST, timeout=20)
        finally:
            await close(transport)
        assert isinstance(events[-1], StreamError) and events[-1].kind is ErrorKind.PROTOCOL
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 48, f"peak RSS grew {grown_mib:.0f} MiB"


async def test_the_pool_recovers_after_every_fault(
    transport: Transport, hostile: HostileServer
) -> None:
    """After a reset, a timeout and a bad line on pooled connections, the next request
    works: no app restart needed."""
    for script in (
        chunked(reply_lines("x", done=False), then=reset),
        chunked(then=silence),
        chunked(b"[1]\n"),
    ):
        hostile.script = script
        events = await collect(transport, REQUEST, timeout=20)
        assert isinstance(events[-1], StreamError)
    hostile.script = chunked(reply_lines("back ", "again"))
    events = await collect(transport, REQUEST, timeout=20)
    assert isinstance(events[-1], Done)
    assert "".join(e.text for e in events if isinstance(e, ContentDelta)) == "back again"
