"""The one interface every transport implements, and what they share.

A transport turns a `protocol.Request` into a stream of `events.StreamEvent`s. Sync
transports (`stream`) are plain blocking code meant for worker threads; async ones
(`astream`) run on the event loop. Both feed bytes into `ndjson.StreamDecoder`
with the clock (`time.perf_counter`) read right after the library handed them over, so the
only thing that differs between transports is the library under test.

Cancelling is `cancel.CancelToken`; consume an async stream with
`contextlib.aclosing` so that leaving the loop early closes the response at once, not
at garbage collection. The session layer (`ollama_tui.session.runner`) runs sync
streams on threads of their own and async ones on a network loop of their own.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Generator, Mapping
from typing import Any, ClassVar

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.events import StreamEvent
from ollama_tui.core.protocol import Request
from ollama_tui.transports.cancel import CancelToken


def api_payload(body: Mapping[str, Any] | None) -> bytes | None:
    return None if body is None else json.dumps(body, ensure_ascii=False).encode()


class SyncTransport(ABC):
    """A blocking transport; run `stream` in a worker thread."""

    name: ClassVar[str]
    is_async: ClassVar[bool] = False

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings

    @abstractmethod
    def stream(
        self, request: Request, cancel: CancelToken | None = None
    ) -> Generator[StreamEvent, None, None]:
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
    ) -> AsyncGenerator[StreamEvent, None]:
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
