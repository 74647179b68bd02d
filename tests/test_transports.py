"""All four transports against the built-in server on loopback: real HTTP, real sockets."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.events import (
    ContentDelta,
    Done,
    ErrorKind,
    FirstChunk,
    Stopped,
    StreamError,
    StreamEvent,
    ThinkingDelta,
)
from ollama_tui.core.protocol import ChatMessage, Request, chat_request, generate_request
from ollama_tui.demo import DemoServer, Fault
from ollama_tui.transports import (
    TRANSPORT_NAMES,
    AsyncTransport,
    CancelToken,
    Transport,
    create_transport,
)
from tests.streaming import close, collect

REPLY = "# Title\n\nHello, **world**! 你好，世界 🦙🚀 — `code` and é.\n\n```python\nprint(1)\n```\n"


@pytest.fixture(params=TRANSPORT_NAMES)
async def transport(request: pytest.FixtureRequest, server: DemoServer) -> AsyncIterator[Transport]:
    made = create_transport(request.param, ConnectionSettings(base_url=server.url))
    yield made
    await close(made)


def chat(text: str = "hello", model: str = "demo", **kwargs: object) -> Request:
    return chat_request(model, [ChatMessage("user", text)], **kwargs)  # type: ignore[arg-type]


def text_of(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, ContentDelta))


def terminal(events: list[StreamEvent]) -> StreamEvent:
    ends = [e for e in events if isinstance(e, Done | StreamError | Stopped)]
    assert len(ends) == 1, events
    assert ends[0] is events[-1]
    return ends[0]


async def test_streams_the_whole_reply_and_the_servers_stats(
    transport: Transport, server: DemoServer
) -> None:
    server.configure(reply=REPLY)
    events = await collect(transport, chat())
    assert isinstance(events[0], FirstChunk)
    assert text_of(events) == REPLY
    done = terminal(events)
    assert isinstance(done, Done)
    assert done.done_reason == "stop"
    deltas = [e for e in events if isinstance(e, ContentDelta)]
    assert done.stats.eval_count == len(deltas) == done.timing.tokens
    assert done.stats.eval_rate is not None and done.stats.eval_rate > 0


async def test_sends_the_same_bytes_on_every_transport(
    transport: Transport, server: DemoServer
) -> None:
    request = chat("wire check", options={"temperature": 0}, think=False)
    await collect(transport, request)
    (record,) = server.wait_for_requests(1)
    assert (record.method, record.path) == ("POST", "/api/chat")
    assert record.body == request.payload
    assert record.headers.get("Content-Type") == "application/json"


async def test_generate_endpoint(transport: Transport, server: DemoServer) -> None:
    server.configure(reply="plain words here")
    events = await collect(transport, generate_request("demo", "hi"))
    assert text_of(events) == "plain words here"
    assert isinstance(terminal(events), Done)


async def test_thinking_arrives_before_the_answer(transport: Transport) -> None:
    events = await collect(transport, chat(model="demo-think", think=True))
    kinds = [type(e) for e in events if isinstance(e, ThinkingDelta | ContentDelta)]
    assert ThinkingDelta in kinds and ContentDelta in kinds
    assert kinds.index(ContentDelta) > kinds.index(ThinkingDelta)
    assert max(i for i, k in enumerate(kinds) if k is ThinkingDelta) < kinds.index(ContentDelta)
    assert isinstance(terminal(events), Done)


async def test_timing_order_and_ttfc_matches_the_servers_first_token_delay(
    transport: Transport, server: DemoServer
) -> None:
    delay = 0.25
    server.configure(first_token_delay=delay, token_rate=200.0, reply="one two three four")
    events = await collect(transport, chat())
    done = terminal(events)
    assert isinstance(done, Done)
    t = done.timing
    assert t.first_chunk is not None and t.first_token is not None and t.ended is not None
    assert t.sent <= t.first_chunk <= t.first_token <= t.ended
    (record,) = server.wait_for_requests(1)
    # One clock for both sides (the server runs in this process): the request was sent
    # before the server saw it, and the first line was written before it arrived.
    assert record.first_line_at is not None
    assert t.sent <= record.received_at
    assert record.first_line_at <= t.first_chunk
    assert t.first_chunk - record.first_line_at < 0.05
    assert t.ttfc is not None and delay <= t.ttfc < delay + 0.05


async def test_a_server_that_ignores_stream_gives_its_whole_reply(
    transport: Transport, server: DemoServer
) -> None:
    # Ollama's answer to "stream": false is one JSON object: it is the last line too.
    server.configure(reply=REPLY, fault=Fault.WHOLE)
    events = await collect(transport, chat())
    assert text_of(events) == REPLY
    done = terminal(events)
    assert isinstance(done, Done) and done.stats.eval_count


async def test_unknown_model_is_the_servers_404_message(transport: Transport) -> None:
    events = await collect(transport, chat(model="llama3"))
    error = terminal(events)
    assert isinstance(error, StreamError)
    assert (error.kind, error.status) == (ErrorKind.HTTP, 404)
    assert error.message == 'Ollama: model "llama3" not found, try pulling it first (HTTP 404)'


@pytest.mark.parametrize(
    ("fault", "kind", "message"),
    [
        (Fault.ERROR_MID, ErrorKind.SERVER, "Ollama: an error was encountered"),
        (Fault.CUT, ErrorKind.DISCONNECTED, "The connection to Ollama was cut mid-reply"),
        (Fault.MALFORMED, ErrorKind.PROTOCOL, "The server sent a line that is not JSON"),
        (Fault.NO_DONE, ErrorKind.INCOMPLETE, "The reply ended before Ollama said it was done"),
    ],
)
async def test_faults_mid_stream_keep_the_text_that_arrived(
    transport: Transport, server: DemoServer, fault: Fault, kind: ErrorKind, message: str
) -> None:
    server.configure(reply=REPLY, fault=fault, fault_after=5)
    events = await collect(transport, chat())
    error = terminal(events)
    assert isinstance(error, StreamError)
    assert error.kind is kind
    assert error.message.startswith(message)
    received = text_of(events)
    assert len([e for e in events if isinstance(e, ContentDelta)]) >= 5
    assert REPLY.startswith(received)


async def test_read_timeout_names_the_timeout(server: DemoServer, transport: Transport) -> None:
    server.configure(fault=Fault.STALL, fault_after=3)
    settings = ConnectionSettings(base_url=server.url, read_timeout=0.3)
    slow = create_transport(transport.name, settings)
    try:
        started = time.perf_counter()
        events = await collect(slow, chat())
        elapsed = time.perf_counter() - started
    finally:
        await close(slow)
    error = terminal(events)
    assert isinstance(error, StreamError)
    assert error.kind is ErrorKind.TIMEOUT
    assert error.message == (
        "Ollama sent nothing for 0.3 s (read timeout). "
        "A slow model load may need more: --read-timeout SECONDS."
    )
    assert len([e for e in events if isinstance(e, ContentDelta)]) == 3
    assert 0.3 <= elapsed < 3


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("name", TRANSPORT_NAMES)
async def test_server_down_is_one_clear_sentence(name: str) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    down = create_transport(name, ConnectionSettings(base_url=url))
    try:
        events = await collect(down, chat())
    finally:
        await close(down)
    assert len(events) == 1
    error = events[0]
    assert isinstance(error, StreamError)
    assert error.kind is ErrorKind.CONNECT
    assert error.message == f"Cannot reach Ollama at {url} — is `ollama serve` running?"


async def test_cancel_mid_stream_closes_the_servers_stream(
    transport: Transport, server: DemoServer
) -> None:
    server.configure(reply=REPLY, token_rate=100.0)
    events = await collect(
        transport,
        chat(),
        cancel_when=lambda seen: sum(isinstance(e, ContentDelta) for e in seen) == 4,
    )
    stopped = terminal(events)
    assert isinstance(stopped, Stopped)
    assert stopped.timing.tokens == 4
    assert text_of(events) == REPLY[: len(text_of(events))]
    (record,) = server.wait_for_requests(1)
    # Waited for off this loop: asyncio closes the client's socket at the loop's next turn,
    # which a blocking wait would hold back (since 3.12 `wait_for` returns with no turn).
    assert await asyncio.to_thread(record.finished.wait, 2), "the server never saw it go"
    assert record.outcome == "disconnected"
    assert record.lines_sent < 20


async def test_cancel_wakes_a_stalled_read_at_once(
    transport: Transport, server: DemoServer
) -> None:
    server.configure(fault=Fault.STALL, fault_after=2)
    token = CancelToken()

    def stalled(seen: list[StreamEvent]) -> bool:
        if sum(isinstance(e, ContentDelta) for e in seen) == 2:
            # From another thread, once the stream is blocked on its read, as a UI would.
            threading.Timer(0.1, token.cancel).start()
        return False

    started = time.perf_counter()
    events = await collect(transport, chat(), cancel=token, cancel_when=stalled)
    assert isinstance(terminal(events), Stopped)
    assert time.perf_counter() - started < 2.0
    (record,) = server.wait_for_requests(1)
    assert await asyncio.to_thread(record.finished.wait, 2)  # (off the loop: see above)
    assert record.outcome == "disconnected"


@pytest.mark.parametrize("reused", [False, True], ids=["new-connection", "pooled-connection"])
async def test_cancel_during_a_model_load_returns_at_once(
    transport: Transport, server: DemoServer, reused: bool
) -> None:
    # Ollama sends its headers only with the first token: the wait is in the library.
    if reused:
        assert isinstance(terminal(await collect(transport, chat())), Done)
    server.configure(first_token_delay=30.0)
    token = CancelToken()
    timer = threading.Timer(0.2, token.cancel)
    timer.start()
    started = time.perf_counter()
    events = await collect(transport, chat(), cancel=token)
    elapsed = time.perf_counter() - started
    stopped = terminal(events)
    assert isinstance(stopped, Stopped) and len(events) == 1
    assert stopped.timing.first_chunk is None
    # The timer may fire a hair before `started` plus 0.2 s; what matters is the bound.
    assert 0.15 <= elapsed < 1.5
    record = server.wait_for_requests(1 + reused)[-1]
    assert await asyncio.to_thread(record.finished.wait, 2)  # (off the loop: see above)
    assert record.outcome == "disconnected" and record.lines_sent == 0


@pytest.mark.parametrize("name", ["httpx-async", "aiohttp"])
async def test_cancelling_the_task_closes_the_servers_stream(name: str, server: DemoServer) -> None:
    server.configure(reply=REPLY, token_rate=100.0)
    transport = create_transport(name, ConnectionSettings(base_url=server.url))
    assert isinstance(transport, AsyncTransport)
    got_three = asyncio.Event()
    received: list[StreamEvent] = []

    async def consume() -> None:
        async with aclosing(transport.astream(chat())) as stream:
            async for event in stream:
                received.append(event)
                if sum(isinstance(e, ContentDelta) for e in received) == 3:
                    got_three.set()

    task = asyncio.create_task(consume())
    try:
        await asyncio.wait_for(got_three.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        (record,) = server.wait_for_requests(1)
        assert await asyncio.to_thread(record.finished.wait, 2)
        assert record.outcome == "disconnected"
    finally:
        await transport.aclose()


@pytest.mark.parametrize(
    "fault", [None, Fault.NOT_FOUND, Fault.ERROR_MID, Fault.CUT, Fault.MALFORMED, Fault.NO_DONE]
)
async def test_every_transport_says_the_same_thing(server: DemoServer, fault: Fault | None) -> None:
    server.configure(reply=REPLY, fault=fault, fault_after=5)
    outcomes = set()
    for name in TRANSPORT_NAMES:
        transport = create_transport(name, ConnectionSettings(base_url=server.url))
        try:
            events = await collect(transport, chat())
        finally:
            await close(transport)
        end = terminal(events)
        message = end.message if isinstance(end, StreamError) else type(end).__name__
        outcomes.add((message, text_of(events)))
    assert len(outcomes) == 1, outcomes


async def test_the_pool_is_reused_across_requests(transport: Transport, server: DemoServer) -> None:
    for _ in range(3):
        assert isinstance(terminal(await collect(transport, chat())), Done)
    records = server.wait_for_requests(3)
    assert len({r.peer for r in records}) == 1, [r.peer for r in records]


async def test_http_error_without_ollama_body_shows_status(transport: Transport) -> None:
    # /api/tags answers GET only; a POST is a 405 with a plain-text body.
    events = await collect(transport, Request.of("/api/tags", {"model": "demo"}))
    error = terminal(events)
    assert isinstance(error, StreamError)
    assert error.kind is ErrorKind.HTTP and error.status == 405
    assert error.message.startswith("HTTP 405 Method Not Allowed from http://127.0.0.1:")


def test_registry_names() -> None:
    assert TRANSPORT_NAMES == ("requests", "httpx-sync", "httpx-async", "aiohttp")
    with pytest.raises(ValueError, match="Unknown transport 'curl'"):
        create_transport("curl", ConnectionSettings())


def test_httpx_sync_reads_through_a_backend_a_cancel_can_wake() -> None:
    """The hook sits on httpx/httpcore internals: the transport checks them when it is
    made, and here they hold the backend that lets a cancel wake a header wait."""
    from ollama_tui.transports._wakeup import WakeableBackend
    from ollama_tui.transports.httpx_sync import HttpxSyncTransport

    transport = HttpxSyncTransport(ConnectionSettings())
    try:
        pool = transport._client._transport._pool  # type: ignore[attr-defined]
        assert isinstance(pool._network_backend, WakeableBackend)
    finally:
        transport.close()
