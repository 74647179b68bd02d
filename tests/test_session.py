"""The session layer, with no UI: where streams run, what a reply hands its front end,
and the stream worker process. Against the built-in server over loopback."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterator

import pytest

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.events import Done, ErrorKind, Stopped, StreamError, StreamEvent
from ollama_tui.core.protocol import ChatMessage, Request, chat_request
from ollama_tui.demo import DemoServer
from ollama_tui.demo.config import RequestRecord
from ollama_tui.session.procrunner import ProcessRunner
from ollama_tui.session.reply import Reply
from ollama_tui.session.runner import LiveStream, StreamRunner
from ollama_tui.transports import TRANSPORT_NAMES, AsyncTransport, CancelToken, Transport

REPLY = "Streams run below the UI, each read where its bytes arrive."
ASK = chat_request("demo", [ChatMessage("user", "hi")])


@pytest.fixture
def runner(server: DemoServer) -> Iterator[StreamRunner]:
    made = StreamRunner(ConnectionSettings(base_url=server.url))
    yield made
    made.close()


def follow(stream: LiveStream, model: str = "demo") -> Reply:
    reply = Reply(stream, model)
    for _ in reply.follow():
        pass
    return reply


def interrupted(stream: LiveStream, act: Callable[[], object]) -> Reply:
    """Follow `stream`, `act()` once its first text arrived, then follow it to its end."""
    reply = Reply(stream, "demo")
    updates = reply.follow()
    next(updates)
    act()
    for _ in updates:
        pass
    return reply


@pytest.mark.parametrize("name", TRANSPORT_NAMES)
def test_every_transport_is_read_on_a_thread_of_the_runner(
    server: DemoServer, runner: StreamRunner, name: str
) -> None:
    server.configure(reply=REPLY)
    heard_on: set[str] = set()
    ready = threading.Event()

    def heard(_: LiveStream) -> None:
        heard_on.add(threading.current_thread().name)
        ready.set()

    reply = Reply(runner.start(name, ASK, heard), "demo")
    while reply.end is None:
        assert ready.wait(10)
        ready.clear()
        reply.take()
    assert reply.text == REPLY and isinstance(reply.end, Done)
    expected = "ollama-tui-network" if name in ("httpx-async", "aiohttp") else "ollama-tui-stream"
    assert heard_on and all(thread.startswith(expected) for thread in heard_on), heard_on


@pytest.mark.parametrize("name", ["httpx-async", "aiohttp"])
async def test_a_blocked_caller_loop_does_not_hold_up_an_async_stream(
    server: DemoServer, runner: StreamRunner, name: str
) -> None:
    """The caller's loop (the UI's) is blocked from the send on: the stream still reads
    and times its first chunk meanwhile (waited for, not slept on; a stream driven by the
    caller's loop would never get there while it is blocked)."""
    server.configure(reply=REPLY, token_rate=200.0)
    stream = runner.start(name, ASK)
    deadline = time.monotonic() + 10
    while stream.timing.first_chunk is None:  # the whole caller loop waits here, blocked
        assert time.monotonic() < deadline, "the first chunk was not read while blocked"
        time.sleep(0.001)
    timed_while_blocked = stream.timing.first_chunk
    reply = Reply(stream, "demo")
    async for _ in reply.updates():
        pass
    assert reply.text == REPLY
    assert reply.timing.first_chunk == timed_while_blocked


def ended(server: DemoServer) -> RequestRecord:
    """The last request's record once the server has finished it: the client can read
    the done line before the server's write returns and counts it."""
    record = server.log[-1]
    deadline = time.monotonic() + 5
    while record.outcome == "pending" and time.monotonic() < deadline:
        time.sleep(0.002)
    assert record.outcome == "completed", record.outcome
    return record


def test_a_reply_routes_inline_thinking_cleans_text_and_ends_with_the_decoders_figures(
    server: DemoServer, runner: StreamRunner
) -> None:
    server.configure(reply="The \x1b[2Janswer.", thinking="Hmm.")
    stream = runner.start("requests", chat_request("demo-think", [ChatMessage("user", "q")]))
    reply = Reply(stream, "demo-think")
    seen = [update.timing.tokens for update in reply.follow()]
    assert reply.thinking.strip() == "Hmm." and reply.text == "The [2Janswer."
    assert seen == sorted(seen), "live figures only grow"
    end = reply.end
    assert isinstance(end, Done) and reply.timing is end.timing
    record = ended(server)
    assert end.timing.chunks == record.lines_sent  # every line, the done line included
    assert end.timing.tokens == record.lines_sent - 1


def test_a_listener_added_late_hears_of_what_already_waits(
    server: DemoServer, runner: StreamRunner
) -> None:
    server.configure(reply="short")
    before = len(server.log)
    stream = runner.start("httpx-sync", ASK)
    record = server.wait_for_requests(before + 1)[-1]
    assert record.finished.wait(5)
    while not stream.ended:
        time.sleep(0.001)
    told = threading.Event()
    stream.listen(lambda _: told.set())
    assert told.is_set(), "events were waiting: the listener is told at once"
    assert any(isinstance(event, Done) for event in stream.take())


class Broken(AsyncTransport):
    """A transport with a bug: it raises after its first event."""

    name = "broken"

    async def acall(self, method: str, path: str, body: object = None) -> object:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None

    async def astream(
        self, request: Request, cancel: CancelToken | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        raise RuntimeError("a bug")
        yield  # an async generator


def test_a_crashing_stream_ends_with_an_internal_error_not_silence() -> None:
    def make(name: str, settings: ConnectionSettings) -> Transport:
        return Broken(settings)

    runner = StreamRunner(ConnectionSettings(), make)
    try:
        reply = follow(runner.start("broken", ASK))
    finally:
        runner.close()
    assert isinstance(reply.end, StreamError) and reply.end.kind is ErrorKind.INTERNAL
    assert reply.end.message == "Internal error: RuntimeError('a bug')"
    assert not runner.busy


def test_stopping_from_another_thread_ends_the_stream_and_the_servers_work(
    server: DemoServer, runner: StreamRunner
) -> None:
    server.configure(reply="word " * 200, token_rate=50.0)
    stream = runner.start("aiohttp", ASK)
    reply = interrupted(stream, threading.Thread(target=stream.stop).start)
    assert isinstance(reply.end, Stopped) and reply.text
    record = server.log[-1]
    assert record.finished.wait(2) and record.outcome == "disconnected"


# ---------------------------------------------------------------------- the worker process


@pytest.fixture
def worker(server: DemoServer) -> Iterator[ProcessRunner]:
    made = ProcessRunner(ConnectionSettings(base_url=server.url))
    yield made
    made.close()


def test_the_worker_streams_every_transport_and_answers_calls(
    server: DemoServer, worker: ProcessRunner
) -> None:
    server.configure(reply=REPLY)
    tags = worker.call_future("GET", "/api/tags", transport="requests").result(10)
    assert "demo:latest" in [m["name"] for m in tags["models"]]
    for name in TRANSPORT_NAMES:
        reply = follow(worker.start(name, ASK))
        assert reply.text == REPLY and isinstance(reply.end, Done), name
        assert reply.end.timing.tokens == ended(server).lines_sent - 1
    assert not worker.busy


def test_the_worker_says_a_failed_call_as_the_transports_do(worker: ProcessRunner) -> None:
    with pytest.raises(Exception, match=r'model "nope" not found'):
        body = {"model": "nope", "messages": [], "stream": False}
        asyncio.run(worker.call("POST", "/api/chat", body, "aiohttp"))


def test_a_stop_reaches_the_worker_and_the_server(
    server: DemoServer, worker: ProcessRunner
) -> None:
    server.configure(reply="word " * 200, token_rate=50.0)
    stream = worker.start("httpx-sync", ASK)
    reply = interrupted(stream, stream.stop)
    assert isinstance(reply.end, Stopped)
    record = server.log[-1]
    assert record.finished.wait(2) and record.outcome == "disconnected"


def test_a_worker_that_dies_ends_its_streams_with_a_sentence(
    server: DemoServer, worker: ProcessRunner
) -> None:
    server.configure(reply="word " * 200, token_rate=50.0)
    worker.open()
    process = worker._process
    assert process is not None
    reply = interrupted(worker.start("requests", ASK), process.kill)
    assert isinstance(reply.end, StreamError) and reply.end.kind is ErrorKind.INTERNAL
    assert reply.end.message.startswith("The stream worker process ended unexpectedly")


def test_closing_ends_the_worker_process(server: DemoServer) -> None:
    worker = ProcessRunner(ConnectionSettings(base_url=server.url))
    worker.open()
    process = worker._process
    assert process is not None and process.poll() is None
    worker.close()
    assert process.poll() == 0
