"""Non-streamed calls (`/api/tags`, `/api/show`, `/api/delete`) on every transport."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.events import ErrorKind
from ollama_tui.demo import DemoServer
from ollama_tui.transports import TRANSPORT_NAMES, Transport, create_transport
from ollama_tui.transports.errors import ApiError
from tests.streaming import call, close


@pytest.fixture(params=TRANSPORT_NAMES)
async def transport(request: pytest.FixtureRequest, server: DemoServer) -> AsyncIterator[Transport]:
    made = create_transport(request.param, ConnectionSettings(base_url=server.url))
    yield made
    await close(made)


async def test_tags_show_and_delete(transport: Transport) -> None:
    tags = await call(transport, "GET", "/api/tags")
    names = [m["name"] for m in tags["models"]]
    assert "demo:latest" in names and "demo-think:latest" in names
    shown = await call(transport, "POST", "/api/show", {"model": "demo-think"})
    assert "thinking" in shown["capabilities"]
    assert await call(transport, "DELETE", "/api/delete", {"model": "demo"}) is None
    tags = await call(transport, "GET", "/api/tags")
    assert "demo:latest" not in [m["name"] for m in tags["models"]]


async def test_errors_are_api_errors_with_the_servers_words(transport: Transport) -> None:
    with pytest.raises(ApiError) as caught:
        await call(transport, "POST", "/api/show", {"model": "nope"})
    assert caught.value.kind is ErrorKind.HTTP and caught.value.status == 404
    assert str(caught.value) == "Ollama: model 'nope' not found (HTTP 404)"


@pytest.mark.parametrize("name", TRANSPORT_NAMES)
async def test_server_down(name: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    transport = create_transport(name, ConnectionSettings(base_url=url))
    try:
        with pytest.raises(ApiError) as caught:
            await call(transport, "GET", "/api/tags")
    finally:
        await close(transport)
    assert str(caught.value) == f"Cannot reach Ollama at {url} — is `ollama serve` running?"
