"""The four transports, chosen by name from one registry.

Each transport's module (and its HTTP library) is imported only when a transport of
that kind is made: importing all three libraries up front costs ~0.4 s of start-up.
"""

from __future__ import annotations

import importlib

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.transports.base import AsyncTransport, SyncTransport, Transport
from ollama_tui.transports.cancel import CancelToken

# name → (module, class)
REGISTRY: dict[str, tuple[str, str]] = {
    "requests": ("ollama_tui.transports.requests_transport", "RequestsTransport"),
    "httpx-sync": ("ollama_tui.transports.httpx_sync", "HttpxSyncTransport"),
    "httpx-async": ("ollama_tui.transports.httpx_async", "HttpxAsyncTransport"),
    "aiohttp": ("ollama_tui.transports.aiohttp_transport", "AiohttpTransport"),
}
TRANSPORT_NAMES: tuple[str, ...] = tuple(REGISTRY)


def transport_class(name: str) -> type[SyncTransport] | type[AsyncTransport]:
    try:
        module, cls = REGISTRY[name]
    except KeyError:
        choices = ", ".join(TRANSPORT_NAMES)
        raise ValueError(f"Unknown transport {name!r}; choose one of {choices}") from None
    found: type[SyncTransport] | type[AsyncTransport] = getattr(
        importlib.import_module(module), cls
    )
    return found


def create_transport(name: str, settings: ConnectionSettings) -> Transport:
    return transport_class(name)(settings)


__all__ = [
    "REGISTRY",
    "TRANSPORT_NAMES",
    "AsyncTransport",
    "CancelToken",
    "SyncTransport",
    "Transport",
    "create_transport",
    "transport_class",
]
