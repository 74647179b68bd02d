"""The four transports, chosen by name from one registry."""

from __future__ import annotations

from ollama_tui.connection import ConnectionSettings
from ollama_tui.transports.aiohttp_transport import AiohttpTransport
from ollama_tui.transports.base import AsyncTransport, CancelToken, SyncTransport, Transport
from ollama_tui.transports.httpx_async import HttpxAsyncTransport
from ollama_tui.transports.httpx_sync import HttpxSyncTransport
from ollama_tui.transports.requests_transport import RequestsTransport

REGISTRY: dict[str, type[SyncTransport] | type[AsyncTransport]] = {
    cls.name: cls
    for cls in (RequestsTransport, HttpxSyncTransport, HttpxAsyncTransport, AiohttpTransport)
}
TRANSPORT_NAMES: tuple[str, ...] = tuple(REGISTRY)


def create_transport(name: str, settings: ConnectionSettings) -> Transport:
    try:
        cls = REGISTRY[name]
    except KeyError:
        choices = ", ".join(TRANSPORT_NAMES)
        raise ValueError(f"Unknown transport {name!r}; choose one of {choices}") from None
    return cls(settings)


__all__ = [
    "REGISTRY",
    "TRANSPORT_NAMES",
    "AsyncTransport",
    "CancelToken",
    "SyncTransport",
    "Transport",
    "create_transport",
]
