"""Reading a body into the decoder, each read timed with the clock as it arrives.

`pump` (sync) and `apump` (async) are the only loops over a body: every transport
hands its library's chunk iterator here, so the clock is read at the same place, right
after the library returned the bytes, whichever library it is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

from ollama_tui.core.events import StreamEvent
from ollama_tui.core.ndjson import StreamDecoder
from ollama_tui.core.protocol import ERROR_BODY_LIMIT
from ollama_tui.transports.cancel import CancelToken

DRAIN_LIMIT = 64 * 1024
"""After the done line, read at most this much to reach the end of the body, so
the connection goes back to the pool; past it, close instead."""


def ended(
    decoder: StreamDecoder, cancel: CancelToken | None, clock: Callable[[], float]
) -> list[StreamEvent]:
    """The body stopped coming: `Stopped` if we cancelled, else the end of the stream."""
    at = clock()
    return [decoder.stop(at)] if cancel is not None and cancel.cancelled else decoder.finish(at)


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
