"""The project's own transports as bench clients: the full path the app streams through.

Each stream goes through `create_transport(...)` and the shared `StreamDecoder`; the
consumer keeps only the terminal event, whose `StreamTiming` (taken where the bytes
arrived, from the transport's own send time) becomes the sample.
"""

from __future__ import annotations

from contextlib import aclosing, closing

from ollama_tui.bench.spec import StreamSample
from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.events import Done, Stopped, StreamError, StreamEvent
from ollama_tui.core.protocol import Request
from ollama_tui.transports import AsyncTransport, SyncTransport, create_transport

_TERMINAL = (Done, StreamError, Stopped)


def sample_of(terminal: StreamEvent | None) -> StreamSample:
    if terminal is None or not isinstance(terminal, _TERMINAL):
        return StreamSample(ok=False, error="the stream ended without a terminal event")
    timing = terminal.timing
    sample = StreamSample(
        ok=isinstance(terminal, Done),
        ttfc=timing.ttfc,
        ttft=timing.ttft,
        total=timing.total,
        chunks=timing.chunks,
        tokens=timing.tokens,
    )
    if isinstance(terminal, StreamError):
        sample.error = f"{terminal.kind}: {terminal.message}"
    elif isinstance(terminal, Stopped):
        sample.error = "stopped"
    return sample


class ProjectSync:
    def __init__(self, name: str, settings: ConnectionSettings) -> None:
        transport = create_transport(name, settings)
        assert isinstance(transport, SyncTransport)
        self.transport = transport

    def one(self, request: Request) -> StreamSample:
        # A transport must never raise; if one does, the harness counts it as an error.
        terminal: StreamEvent | None = None
        with closing(self.transport.stream(request)) as events:
            for event in events:
                terminal = event
        return sample_of(terminal)

    def close(self) -> None:
        self.transport.close()


class ProjectAsync:
    def __init__(self, name: str, settings: ConnectionSettings) -> None:
        transport = create_transport(name, settings)
        assert isinstance(transport, AsyncTransport)
        self.transport = transport

    async def one(self, request: Request) -> StreamSample:
        terminal: StreamEvent | None = None
        async with aclosing(self.transport.astream(request)) as events:
            async for event in events:
                terminal = event
        return sample_of(terminal)

    async def aclose(self) -> None:
        await self.transport.aclose()
