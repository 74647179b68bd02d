"""Test helpers: run any transport, sync or async, and collect its events."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextlib import aclosing, closing

from ollama_tui.events import StreamEvent
from ollama_tui.protocol import Request
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
            with closing(transport.stream(request, cancel)) as stream:  # type: ignore[type-var]
                for event in stream:
                    seen(event)

        await asyncio.wait_for(asyncio.to_thread(run_sync), timeout)
    return events


def cancel_from_another_thread(token: CancelToken, when: threading.Event) -> threading.Thread:
    """Cancel `token` from a thread of its own once `when` is set, as a UI would."""

    def run() -> None:
        when.wait(10)
        token.cancel()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread
