"""`aiohttp`: one `ClientSession` (and its connector pool) per transport, on the event loop.

The session is made on first use, inside the running loop it then belongs to.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import aiohttp

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.decoding import decoder_for
from ollama_tui.core.events import StreamEvent
from ollama_tui.core.protocol import Request
from ollama_tui.transports.base import AsyncTransport, api_payload
from ollama_tui.transports.cancel import CancelToken, until_cancelled
from ollama_tui.transports.errors import (
    Failure,
    RawReply,
    api_failure,
    api_result,
    caused_by,
    failed,
    status_event,
)
from ollama_tui.transports.pump import apump, aread_limited


def classify(exc: BaseException) -> Failure:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return Failure.CONNECT_TIMEOUT
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return Failure.READ_TIMEOUT
    if isinstance(exc, aiohttp.ClientConnectorDNSError) or caused_by(exc, socket.gaierror):
        return Failure.DNS
    if isinstance(exc, aiohttp.ClientConnectorError):
        return Failure.REFUSED
    return Failure.CUT


class AiohttpTransport(AsyncTransport):
    name = "aiohttp"

    def __init__(self, settings: ConnectionSettings) -> None:
        super().__init__(settings)
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            settings = self.settings
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=settings.max_connections),
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    sock_connect=settings.connect_timeout,
                    sock_read=settings.read_timeout,
                ),
                trust_env=False,
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def acall(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        settings = self.settings
        try:
            async with self._get_session().request(
                method,
                settings.url(path),
                data=api_payload(body),
                headers=settings.headers(),
                allow_redirects=False,
            ) as response:
                reply = _reply(response, await response.read())
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise api_failure(classify(exc), settings) from exc
        return api_result(reply, settings.base_url)

    async def astream(
        self, request: Request, cancel: CancelToken | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        settings = self.settings
        url = settings.url(request.path)
        session = self._get_session()
        clock = settings.clock
        decoder = decoder_for(request, clock(), settings.max_line_bytes)
        try:
            response = await until_cancelled(
                session.post(
                    url,
                    data=request.payload,
                    headers=settings.headers(request.wire),
                    allow_redirects=False,
                ),
                cancel,
            )
        except (TimeoutError, aiohttp.ClientError) as exc:
            yield failed(decoder, classify(exc), settings, cancel)
            return
        if response is None:
            yield decoder.stop(clock())
            return
        undo = None
        if cancel is not None:
            loop = asyncio.get_running_loop()
            # close() aborts the connection; a pending read then ends at once.
            undo = cancel.on_cancel(lambda: loop.call_soon_threadsafe(response.close))
        try:
            if response.status != 200:
                body = await aread_limited(response.content.iter_any())
                yield status_event(decoder, _reply(response, body), url, clock())
                return
            chunks = response.content.iter_any()
            async for event in apump(decoder, chunks, cancel, clock, (aiohttp.ClientError,)):
                yield event
        except (TimeoutError, aiohttp.ClientError) as exc:
            yield failed(decoder, classify(exc), settings, cancel)
        finally:
            if undo is not None:
                undo()
            # After a fully read body this returns the connection to the pool;
            # otherwise it closes it, so the server stops generating.
            if response.content.at_eof():
                response.release()
            else:
                response.close()


def _reply(response: aiohttp.ClientResponse, body: bytes) -> RawReply:
    return RawReply(response.status, response.reason or "", body, response.headers.get("Location"))
