"""Each transport's TTFC against a raw-socket reading of the same stream.

A byte-level TCP relay on loopback (`ollama_tui.bench.relay.Relay`) sits between the
transport and the built-in server and notes, with the same `perf_counter` clock, when
the request's bytes passed through and when the first body line did. The transport
reads its clock before sending and after receiving, so its readings must lie around
the relay's, however loaded the machine is. How much longer its TTFC is than the
relay's is a figure, not a property: `python -m ollama_tui.bench.relay` prints it.
"""

from __future__ import annotations

import pytest

from ollama_tui.bench.relay import Relay
from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.events import Done
from ollama_tui.core.protocol import ChatMessage, chat_request
from ollama_tui.demo import DemoServer
from ollama_tui.transports import TRANSPORT_NAMES, create_transport
from tests.streaming import close, collect


@pytest.mark.parametrize("name", TRANSPORT_NAMES)
async def test_ttfc_agrees_with_a_raw_socket_reading(server: DemoServer, name: str) -> None:
    server.configure(first_token_delay=0.05, token_rate=500.0, reply="one two three")
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    request = chat_request("demo", [ChatMessage("user", "hi")])
    with Relay((host, int(port))) as relay:
        transport = create_transport(name, ConnectionSettings(base_url=relay.url))
        try:
            # The first request also opens the connection; the others reuse it, as a chat does.
            await collect(transport, request)
            for _ in range(7):
                events = await collect(transport, request)
                done = events[-1]
                assert isinstance(done, Done)
                reading = relay.readings[-1]
                t = done.timing
                assert reading.first_line_at is not None
                assert t.first_chunk is not None and t.ttfc is not None
                # Causality: the transport sent before the relay saw the request, and the
                # relay saw the first line before the transport had it.
                assert t.sent <= reading.request_at
                assert reading.first_line_at <= t.first_chunk
        finally:
            await close(transport)
