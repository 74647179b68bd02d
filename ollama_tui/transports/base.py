"""The one interface every transport implements, and what they share.

A transport turns a `protocol.Request` into a stream of `events.StreamEvent`s. Sync
transports (`stream`) are plain blocking code meant for worker threads; async ones
(`astream`) run on the event loop. Both feed bytes into `protocol.StreamDecoder`
with the clock (`time.perf_counter`) read right after the library handed them over, so the
only thing that differs between transports is the library under test.

Cancelling:
- sync: `CancelToken.cancel()` from any thread shuts the socket down, which wakes a
  blocked read at once; the stream then ends with `Stopped` and the response is
  closed, so the server sees the disconnect and stops generating.
- async: cancel the task that iterates (the asyncio way), or call `cancel()` on the
  token; either closes the response. Consume with `contextlib.aclosing` so that
  leaving the loop early closes the response at once, not at garbage collection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any, ClassVar, TypeVar

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.events import ErrorKind, StreamError, StreamEvent
from ollama_tui.core.protocol import (
    ERROR_BODY_LIMIT,
    Request,
    StreamDecoder,
    http_error_message,
    preview,
)
from ollama_tui.core.sanitize import clean

T = TypeVar("T")

JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/x-ndjson"}
DRAIN_LIMIT = 64 * 1024
"""After the done line, read at most this much to reach the end of the body, so
the connection goes back to the pool; past it, close instead."""


class CancelToken:
    """A thread-safe stop request that can also interrupt a blocking read."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run `callback` on cancel (at once if already cancelled); returns an undo."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return lambda: self._forget(callback)
        callback()
        return lambda: None

    def _forget(self, callback: Callable[[], None]) -> None:
        # Already run and removed by `cancel`: nothing left to undo.
        with self._lock, contextlib.suppress(ValueError):
            self._callbacks.remove(callback)


def shutdown_socket(sock: socket.socket | None) -> None:
    """Wake a thread blocked reading `sock`: `close()` alone does not on Linux."""
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        # Already closed or never connected: there is no read to wake.
        return


async def until_cancelled(awaitable: Awaitable[T], cancel: CancelToken | None) -> T | None:
    """Await the request up to its headers; None if `cancel` stopped the wait.

    The token may be cancelled from any thread; cancelling the task that awaits
    here (the asyncio way) still raises as usual.
    """
    if cancel is None:
        return await awaitable
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(awaitable)
    undo = cancel.on_cancel(lambda: loop.call_soon_threadsafe(task.cancel))
    try:
        return await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if cancel.cancelled and current is not None and not current.cancelling():
            return None
        raise
    finally:
        undo()


@dataclass(frozen=True, slots=True)
class RawReply:
    """A whole, non-streamed response, as each library hands it over."""

    status: int
    reason: str
    body: bytes
    location: str | None = None


class Failure(Enum):
    """What went wrong, as each transport classifies its library's exceptions."""

    REFUSED = auto()
    DNS = auto()
    CONNECT_TIMEOUT = auto()
    READ_TIMEOUT = auto()
    CUT = auto()


def failure_message(
    failure: Failure, settings: ConnectionSettings, received_any: bool
) -> tuple[ErrorKind, str]:
    """One sentence per failure, the same from every transport."""
    url = settings.base_url
    match failure:
        case Failure.REFUSED:
            return ErrorKind.CONNECT, f"Cannot reach Ollama at {url} — is `ollama serve` running?"
        case Failure.DNS:
            return (
                ErrorKind.CONNECT,
                f"Cannot reach Ollama at {url}: the host name could not be resolved. "
                "Check OLLAMA_HOST or --host.",
            )
        case Failure.CONNECT_TIMEOUT:
            return (
                ErrorKind.TIMEOUT,
                f"Ollama at {url} did not accept a connection within "
                f"{settings.connect_timeout:g} s (connect timeout).",
            )
        case Failure.READ_TIMEOUT:
            return (
                ErrorKind.TIMEOUT,
                f"Ollama sent nothing for {settings.read_timeout:g} s (read timeout). "
                "A slow model load may need more: --read-timeout SECONDS.",
            )
        case Failure.CUT if received_any:
            return (
                ErrorKind.DISCONNECTED,
                "The connection to Ollama was cut mid-reply; the text so far is kept.",
            )
        case Failure.CUT:
            return (
                ErrorKind.DISCONNECTED,
                f"Ollama at {url} closed the connection before answering.",
            )


def failure_event(
    decoder: StreamDecoder, failure: Failure, settings: ConnectionSettings, at: float
) -> StreamError:
    kind, text = failure_message(failure, settings, decoder.received_any)
    return decoder.fail(kind, text, at)


def ended(
    decoder: StreamDecoder, cancel: CancelToken | None, clock: Callable[[], float]
) -> list[StreamEvent]:
    """The body stopped coming: `Stopped` if we cancelled, else the end of the stream."""
    at = clock()
    return [decoder.stop(at)] if cancel is not None and cancel.cancelled else decoder.finish(at)


def failed(
    decoder: StreamDecoder,
    failure: Failure,
    settings: ConnectionSettings,
    cancel: CancelToken | None,
) -> StreamEvent:
    """The library raised: `Stopped` if our cancel caused it, else the failure's sentence."""
    at = settings.clock()
    if cancel is not None and cancel.cancelled:
        return decoder.stop(at)
    return failure_event(decoder, failure, settings, at)


def status_event(decoder: StreamDecoder, reply: RawReply, url: str, at: float) -> StreamError:
    """The error for a response whose status is not 200."""
    if 300 <= reply.status < 400:
        text = (
            f"Ollama at {url} answered with a redirect (HTTP {reply.status}) to "
            f"{clean(reply.location or '?')}; point OLLAMA_HOST or --host at the final address."
        )
    else:
        text = http_error_message(reply.status, reply.reason, reply.body, url)
    return decoder.fail(ErrorKind.HTTP, text, at, status=reply.status)


def pump(
    decoder: StreamDecoder,
    chunks: Iterator[bytes],
    cancel: CancelToken | None,
    clock: Callable[[], float],
    errors: tuple[type[BaseException], ...],
) -> Iterator[StreamEvent]:
    """Feed a body to the decoder, each read timed as it arrives, to the terminal event.

    Then the end of the body is read (bounded), so the connection can go back to the
    pool; that only happens if the consumer iterates on past the terminal event.
    """
    for data in chunks:
        at = clock()
        if cancel is not None and cancel.cancelled:
            break
        yield from decoder.feed(data, at)
        if decoder.finished:
            _drain(chunks, errors)
            return
    yield from ended(decoder, cancel, clock)


async def apump(
    decoder: StreamDecoder,
    chunks: AsyncIterator[bytes],
    cancel: CancelToken | None,
    clock: Callable[[], float],
    errors: tuple[type[BaseException], ...],
) -> AsyncIterator[StreamEvent]:
    """`pump` for an async body."""
    async for data in chunks:
        at = clock()
        if cancel is not None and cancel.cancelled:
            break
        for event in decoder.feed(data, at):
            yield event
        if decoder.finished:
            await _adrain(chunks, errors)
            return
    for event in ended(decoder, cancel, clock):
        yield event


def read_limited(chunks: Iterator[bytes], limit: int = ERROR_BODY_LIMIT) -> bytes:
    """At most `limit` bytes of a body: enough to find the server's error message."""
    body = b""
    for data in chunks:
        body += data
        if len(body) >= limit:
            break
    return body[:limit]


async def aread_limited(chunks: AsyncIterator[bytes], limit: int = ERROR_BODY_LIMIT) -> bytes:
    body = b""
    async for data in chunks:
        body += data
        if len(body) >= limit:
            break
    return body[:limit]


def _drain(chunks: Iterator[bytes], errors: tuple[type[BaseException], ...]) -> None:
    # A failure, or a body that goes on, just means the connection is closed, not pooled.
    left = DRAIN_LIMIT
    try:
        for data in chunks:
            left -= len(data)
            if left < 0:
                return
    except errors:
        return


async def _adrain(chunks: AsyncIterator[bytes], errors: tuple[type[BaseException], ...]) -> None:
    left = DRAIN_LIMIT
    try:
        async for data in chunks:
            left -= len(data)
            if left < 0:
                return
    except errors:
        return


def caused_by(exc: BaseException, *types: type[BaseException]) -> bool:
    """Whether `exc` or anything it wraps (cause, context, urllib3's `reason`) is one of `types`."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, types):
            return True
        for linked in (current.__cause__, current.__context__, getattr(current, "reason", None)):
            if isinstance(linked, BaseException):
                stack.append(linked)
        stack.extend(arg for arg in current.args if isinstance(arg, BaseException))
    return False


class ApiError(Exception):
    """A non-streamed call failed; `str(error)` is the sentence a person reads."""

    def __init__(self, kind: ErrorKind, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


def api_payload(body: Mapping[str, Any] | None) -> bytes | None:
    return None if body is None else json.dumps(body, ensure_ascii=False).encode()


def api_result(reply: RawReply, url: str) -> Any:
    """The JSON of a 200 reply (None for an empty body), or an `ApiError`."""
    if reply.status != 200:
        error = status_event(StreamDecoder(0.0), reply, url, 0.0)
        raise ApiError(error.kind, error.message, reply.status)
    if not reply.body.strip():
        return None
    try:
        return json.loads(reply.body)
    except ValueError as exc:
        raise ApiError(
            ErrorKind.PROTOCOL,
            f"The server at {url} did not answer with JSON: {preview(reply.body)}",
        ) from exc


def api_failure(failure: Failure, settings: ConnectionSettings) -> ApiError:
    kind, text = failure_message(failure, settings, received_any=False)
    return ApiError(kind, text)


class SyncTransport(ABC):
    """A blocking transport; run `stream` in a worker thread."""

    name: ClassVar[str]
    is_async: ClassVar[bool] = False

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings

    @abstractmethod
    def stream(self, request: Request, cancel: CancelToken | None = None) -> Iterator[StreamEvent]:
        """Send `request` and yield its events; the last one is terminal."""

    @abstractmethod
    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """One non-streamed request (`/api/tags`, `/api/show`…): its JSON, or `ApiError`."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection pool."""

    def __enter__(self) -> SyncTransport:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class AsyncTransport(ABC):
    """A transport for the event loop."""

    name: ClassVar[str]
    is_async: ClassVar[bool] = True

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings

    @abstractmethod
    def astream(
        self, request: Request, cancel: CancelToken | None = None
    ) -> AsyncIterator[StreamEvent]:
        """Send `request` and yield its events; the last one is terminal."""

    @abstractmethod
    async def acall(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """One non-streamed request (`/api/tags`, `/api/show`…): its JSON, or `ApiError`."""

    @abstractmethod
    async def aclose(self) -> None:
        """Close the connection pool."""

    async def __aenter__(self) -> AsyncTransport:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()


Transport = SyncTransport | AsyncTransport
