"""`httpx` (async): one `httpx.AsyncClient` (and its pool) per transport, on the event loop."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from typing import Any

import httpx

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.decoding import decoder_for
from ollama_tui.core.events import StreamEvent
from ollama_tui.core.protocol import Request
from ollama_tui.transports._httpx import classify, client_options, reply_of, socket_of
from ollama_tui.transports.base import AsyncTransport, api_payload
from ollama_tui.transports.cancel import CancelToken, shutdown_socket, until_cancelled
from ollama_tui.transports.errors import api_failure, api_result, failed, status_event
from ollama_tui.transports.pump import apump, aread_limited


class HttpxAsyncTransport(AsyncTransport):
    name = "httpx-async"

    def __init__(self, settings: ConnectionSettings) -> None:
        super().__init__(settings)
        self._client = httpx.AsyncClient(**client_options(settings))

    async def aclose(self) -> None:
        await self._client.aclose()

    async def acall(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        settings = self.settings
        try:
            response = await self._client.request(
                method, settings.url(path), content=api_payload(body), headers=settings.headers()
            )
        except httpx.HTTPError as exc:
            raise api_failure(classify(exc), settings) from exc
        return api_result(reply_of(response, response.content), settings.base_url)

    async def astream(
        self, request: Request, cancel: CancelToken | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        settings = self.settings
        url = settings.url(request.path)
        clock = settings.clock
        decoder = decoder_for(request, clock(), settings.max_line_bytes)
        try:
            response = await until_cancelled(
                self._client.send(
                    self._client.build_request(
                        "POST", url, content=request.payload, headers=settings.headers(request.wire)
                    ),
                    stream=True,
                ),
                cancel,
            )
        except httpx.HTTPError as exc:
            yield failed(decoder, classify(exc), settings, cancel)
            return
        if response is None:
            yield decoder.stop(clock())
            return
        # Shutting the socket down makes a pending read return at once.
        undo = cancel.on_cancel(lambda: shutdown_socket(socket_of(response))) if cancel else None
        try:
            if response.status_code != 200:
                body = await aread_limited(response.aiter_bytes())
                yield status_event(decoder, reply_of(response, body), url, clock())
                return
            chunks = response.aiter_bytes()
            async for event in apump(decoder, chunks, cancel, clock, (httpx.HTTPError,)):
                yield event
        except httpx.HTTPError as exc:
            yield failed(decoder, classify(exc), settings, cancel)
        finally:
            if undo is not None:
                undo()
            await response.aclose()
