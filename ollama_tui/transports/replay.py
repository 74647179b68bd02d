"""Recorded responses played back through the real decoder: no socket, the same events
on every run.

Not one of the user-facing transports (it is not in `TRANSPORT_NAMES`): tests plug it in
with `OllamaApp(..., transports=replaying(recording))`. The factory gets each name the
app asks for and makes a replay that stands in for it (its `name` is that name), so the
chat, the compare view and the models screen work as usual, each stream showing the
transport it stands in for.

A streamed request is answered with the recorded body, chunk by chunk as recorded,
through `pump.apump` and `ndjson.StreamDecoder` with `ConnectionSettings.clock` read as
each chunk "arrives": the path a network transport's bytes take, minus the network. An
error status goes through `errors.status_event`, a non-streamed call through
`errors.api_result`: the sentences a person reads are the real ones. With a fixed clock
(as tests use) every event is the same, figures included, on every run.

It is an `AsyncTransport`: the runner plays it on its network loop, like httpx-async and
aiohttp, so it needs no thread per stream and several play side by side (the compare
view) on one loop; a stalled body is an awaited event that a cancel from any thread wakes
(`loop.call_soon_threadsafe`), as aiohttp's transport closes its response.

Recordings of the built-in server for the tests: `tests/replayed.py`.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.decoding import decoder_for
from ollama_tui.core.events import StreamEvent
from ollama_tui.core.protocol import ERROR_BODY_LIMIT, Request
from ollama_tui.transports import TRANSPORT_NAMES
from ollama_tui.transports.base import AsyncTransport, api_payload
from ollama_tui.transports.cancel import CancelToken
from ollama_tui.transports.errors import (
    Failure,
    RawReply,
    api_failure,
    api_result,
    failed,
    status_event,
)
from ollama_tui.transports.pump import apump


class Ending(Enum):
    """What the body does after its last recorded chunk."""

    EOF = auto()
    """It ends (a complete reply ends with its done line)."""
    STALL = auto()
    """It stays open and silent until the client cancels (a stalled model)."""
    CUT = auto()
    """The connection is cut."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """One response as it came over the wire: status, and the body as it was read."""

    chunks: tuple[bytes, ...] = ()
    status: int = 200
    reason: str = "OK"
    ending: Ending = Ending.EOF

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


Recording = Callable[[str, str, bytes | None], Recorded]
"""`(method, path, request bytes)` → the response recorded for that request."""


class ReplayTransport(AsyncTransport):
    """Plays `recording`'s responses; made by `replaying`, named after what it stands in for."""

    name = "replay"

    def __init__(self, settings: ConnectionSettings, recording: Recording) -> None:
        super().__init__(settings)
        self.recording = recording

    async def acall(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        recorded = self.recording(method, path, api_payload(body))
        if recorded.ending is not Ending.EOF:
            # A non-streamed call sees a stalled body as its read timeout, a cut as a cut.
            stalled = recorded.ending is Ending.STALL
            raise api_failure(Failure.READ_TIMEOUT if stalled else Failure.CUT, self.settings)
        reply = RawReply(recorded.status, recorded.reason, recorded.body)
        return api_result(reply, self.settings.base_url)

    async def astream(
        self, request: Request, cancel: CancelToken | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        settings = self.settings
        clock = settings.clock
        decoder = decoder_for(request, clock(), settings.max_line_bytes)
        recorded = self.recording("POST", request.path, request.payload)
        if recorded.status != 200:
            reply = RawReply(recorded.status, recorded.reason, recorded.body[:ERROR_BODY_LIMIT])
            yield status_event(decoder, reply, settings.url(request.path), clock())
            return
        try:
            async for event in apump(decoder, _body(recorded, cancel), cancel, clock, ()):
                yield event
        except _Cut:
            yield failed(decoder, Failure.CUT, settings, cancel)

    async def aclose(self) -> None:
        return None


def replaying(recording: Recording) -> Callable[[str, ConnectionSettings], ReplayTransport]:
    """A transport factory for `OllamaApp(transports=...)`: every name the app asks for
    (one of `TRANSPORT_NAMES`) gets a replay of `recording` that stands in for it."""

    def make(name: str, settings: ConnectionSettings) -> ReplayTransport:
        if name not in TRANSPORT_NAMES:
            raise ValueError(f"Unknown transport {name!r}; choose one of {TRANSPORT_NAMES}")
        return _standing_in(name)(settings, recording)

    return make


@functools.cache
def _standing_in(name: str) -> type[ReplayTransport]:
    """`ReplayTransport` named `name` (the name is a class attribute of every transport)."""
    return type(f"Replay[{name}]", (ReplayTransport,), {"name": name})


class _Cut(Exception):
    """The recorded body was cut: the network transports' libraries raise here."""


async def _body(recorded: Recorded, cancel: CancelToken | None) -> AsyncIterator[bytes]:
    for chunk in recorded.chunks:
        yield chunk
    if recorded.ending is Ending.STALL:
        await _cancelled(cancel)
    elif recorded.ending is Ending.CUT:
        raise _Cut


async def _cancelled(cancel: CancelToken | None) -> None:
    """Return once `cancel` is cancelled, from any thread (never without a token: the
    consumer then ends the stream by closing it)."""
    woken = asyncio.Event()
    if cancel is None:
        await woken.wait()
        return
    loop = asyncio.get_running_loop()
    undo = cancel.on_cancel(lambda: loop.call_soon_threadsafe(woken.set))
    try:
        await woken.wait()
    finally:
        undo()
