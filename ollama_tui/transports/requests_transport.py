"""`requests`: blocking, one `Session` (and its urllib3 pool) per transport."""

from __future__ import annotations

import socket
from collections.abc import Generator, Mapping
from typing import Any

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.decoding import decoder_for
from ollama_tui.core.events import StreamEvent
from ollama_tui.core.protocol import ERROR_BODY_LIMIT, Request
from ollama_tui.transports._wakeup import URLLIB3_POOL_CLASSES, waiting_for_headers
from ollama_tui.transports.base import SyncTransport, api_payload
from ollama_tui.transports.cancel import CancelToken, shutdown_socket
from ollama_tui.transports.errors import (
    Failure,
    RawReply,
    api_failure,
    api_result,
    caused_by,
    failed,
    status_event,
)
from ollama_tui.transports.pump import pump

# With chunked bodies urllib3 returns each HTTP chunk as soon as it is read, up to
# this size; it never waits to fill the block.
READ_SIZE = 64 * 1024


def classify(exc: Exception) -> Failure:
    if isinstance(exc, requests.ConnectTimeout):
        return Failure.CONNECT_TIMEOUT
    # A read timeout while iterating the body surfaces as ConnectionError(ReadTimeoutError).
    if isinstance(exc, requests.ReadTimeout) or caused_by(
        exc, urllib3.exceptions.ReadTimeoutError, TimeoutError
    ):
        return Failure.READ_TIMEOUT
    if caused_by(exc, urllib3.exceptions.NameResolutionError, socket.gaierror):
        return Failure.DNS
    if caused_by(exc, urllib3.exceptions.NewConnectionError, ConnectionRefusedError):
        return Failure.REFUSED
    return Failure.CUT


def _socket_of(response: requests.Response) -> socket.socket | None:
    connection = getattr(response.raw, "connection", None)
    return getattr(connection, "sock", None)


class RequestsTransport(SyncTransport):
    name = "requests"

    def __init__(self, settings: ConnectionSettings) -> None:
        super().__init__(settings)
        self._session = requests.Session()
        # The four transports ignore proxy variables alike, so they compare fairly.
        self._session.trust_env = False
        adapter = HTTPAdapter(pool_maxsize=settings.max_connections, pool_block=True)
        adapter.poolmanager.pool_classes_by_scheme = URLLIB3_POOL_CLASSES
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def close(self) -> None:
        self._session.close()

    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        settings = self.settings
        try:
            response = self._session.request(
                method,
                settings.url(path),
                data=api_payload(body),
                headers=settings.headers(),
                timeout=(settings.connect_timeout, settings.read_timeout),
                allow_redirects=False,
            )
            reply = _reply(response, response.content)
        except requests.RequestException as exc:
            raise api_failure(classify(exc), settings) from exc
        return api_result(reply, settings.base_url)

    def stream(
        self, request: Request, cancel: CancelToken | None = None
    ) -> Generator[StreamEvent, None, None]:
        settings = self.settings
        url = settings.url(request.path)
        clock = settings.clock
        decoder = decoder_for(request, clock(), settings.max_line_bytes)
        try:
            with waiting_for_headers(cancel):
                response = self._session.post(
                    url,
                    data=request.payload,
                    headers=settings.headers(request.wire),
                    stream=True,
                    timeout=(settings.connect_timeout, settings.read_timeout),
                    allow_redirects=False,
                )
        except requests.RequestException as exc:
            yield failed(decoder, classify(exc), settings, cancel)
            return
        undo = cancel.on_cancel(lambda: shutdown_socket(_socket_of(response))) if cancel else None
        try:
            if response.status_code != 200:
                body = response.raw.read(ERROR_BODY_LIMIT, decode_content=True) or b""
                yield status_event(decoder, _reply(response, body), url, clock())
                return
            chunks = response.iter_content(READ_SIZE)
            yield from pump(decoder, chunks, cancel, clock, (requests.RequestException,))
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            yield failed(decoder, classify(exc), settings, cancel)
        finally:
            if undo is not None:
                undo()
            response.close()


def _reply(response: requests.Response, body: bytes) -> RawReply:
    return RawReply(
        response.status_code, response.reason or "", body, response.headers.get("Location")
    )
