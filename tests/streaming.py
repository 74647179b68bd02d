"""Test helpers: run any transport, sync or async, and collect its events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from contextlib import aclosing, closing
from typing import Any

from ollama_tui.core.events import StreamEvent
from ollama_tui.core.protocol import Request
from ollama_tui.transports import AsyncTransport, CancelToken, SyncTransport, Transport

StopWhen = Callable[[list[StreamEvent]], bool]


async def collect(
    transport: Transport,
    request: Request,
    *,
    cancel: CancelToken | None = None,
    cancel_when: StopWhen | None = None,
    timeout: float = 10.0,
) -> list[StreamEvent]:
    """All events of one stream; `cancel_when(events)` true → cancel through the token."""
    events: list[StreamEvent] = []
    if cancel_when is not None and cancel is None:
        cancel = CancelToken()

    def seen(event: StreamEvent) -> None:
        events.append(event)
        if cancel is not None and cancel_when is not None and cancel_when(events):
            cancel.cancel()

    if isinstance(transport, AsyncTransport):

        async def run() -> None:
            async with aclosing(transport.astream(request, cancel)) as stream:
                async for event in stream:
                    seen(event)

        await asyncio.wait_for(run(), timeout)
    else:
        assert isinstance(transport, SyncTransport)

        def run_sync() -> None:
            with closing(transport.stream(request, cancel)) as stream:
                for event in stream:
                    seen(event)

        await asyncio.wait_for(asyncio.to_thread(run_sync), timeout)
    return events


async def close(transport: Transport) -> None:
    if isinstance(transport, AsyncTransport):
        await transport.aclose()
    else:
        transport.close()


async def call(
    transport: Transport, method: str, path: str, body: Mapping[str, Any] | None = None
) -> Any:
    """A non-streamed call on any transport (a thread for the sync ones)."""
    if isinstance(transport, AsyncTransport):
        return await transport.acall(method, path, body)
    return await asyncio.to_thread(transport.call, method, path, body)
