"""`httpx` (sync): blocking, one `httpx.Client` (and its pool) per transport."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

import httpx

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.decoding import decoder_for
from ollama_tui.core.events import StreamEvent
from ollama_tui.core.protocol import Request
from ollama_tui.transports._httpx import classify, client_options, reply_of, socket_of
from ollama_tui.transports._wakeup import WakeableBackend, waiting_for_headers
from ollama_tui.transports.base import SyncTransport, api_payload
from ollama_tui.transports.cancel import CancelToken, shutdown_socket
from ollama_tui.transports.errors import api_failure, api_result, failed, status_event
from ollama_tui.transports.pump import pump, read_limited


class HttpxSyncTransport(SyncTransport):
    name = "httpx-sync"

    def __init__(self, settings: ConnectionSettings) -> None:
        super().__init__(settings)
        options = client_options(settings)
        transport = httpx.HTTPTransport(limits=options.pop("limits"))
        # httpx has no public way to choose httpcore's network backend; this one lets
        # a cancel wake a read blocked before the headers (see _wakeup). httpx 0.28 keeps
        # an httpcore.ConnectionPool in `_pool`, which keeps its backend in
        # `_network_backend`: if either moved, say so instead of silently not waking.
        pool = getattr(transport, "_pool", None)
        if not hasattr(pool, "_network_backend"):
            raise RuntimeError(
                "httpx.HTTPTransport no longer keeps httpcore's pool and backend where "
                "ollama-tui sets them (_pool._network_backend): cancel before the headers "
                "would not wake. Install the httpx and httpcore versions pyproject.toml names."
            )
        pool._network_backend = WakeableBackend()  # type: ignore[union-attr]
        self._client = httpx.Client(transport=transport, **options)

    def close(self) -> None:
        self._client.close()

    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        settings = self.settings
        try:
            response = self._client.request(
                method, settings.url(path), content=api_payload(body), headers=settings.headers()
            )
        except httpx.HTTPError as exc:
            raise api_failure(classify(exc), settings) from exc
        return api_result(reply_of(response, response.content), settings.base_url)

    def stream(
        self, request: Request, cancel: CancelToken | None = None
    ) -> Generator[StreamEvent, None, None]:
        settings = self.settings
        url = settings.url(request.path)
        clock = settings.clock
        decoder = decoder_for(request, clock(), settings.max_line_bytes)
        try:
            with waiting_for_headers(cancel):
                response = self._client.send(
                    self._client.build_request(
                        "POST", url, content=request.payload, headers=settings.headers(request.wire)
                    ),
                    stream=True,
                )
        except httpx.HTTPError as exc:
            yield failed(decoder, classify(exc), settings, cancel)
            return
        undo = cancel.on_cancel(lambda: shutdown_socket(socket_of(response))) if cancel else None
        try:
            if response.status_code != 200:
                body = read_limited(response.iter_bytes())
                yield status_event(decoder, reply_of(response, body), url, clock())
                return
            yield from pump(decoder, response.iter_bytes(), cancel, clock, (httpx.HTTPError,))
        except httpx.HTTPError as exc:
            yield failed(decoder, classify(exc), settings, cancel)
        finally:
            if undo is not None:
                undo()
            response.close()
