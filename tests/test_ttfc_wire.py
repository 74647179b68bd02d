"""Each transport's TTFC against a raw-socket reading of the same stream.

A byte-level TCP relay on loopback sits between the transport and the built-in
server and notes, with the same `perf_counter` clock, when the request's bytes
passed through and when the first body line did. The transport's own TTFC can only
be longer (its clock reads come after the relay's) and, on loopback, must be close.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from dataclasses import dataclass

import pytest

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.events import Done
from ollama_tui.core.protocol import ChatMessage, chat_request
from ollama_tui.demo import DemoServer
from ollama_tui.transports import TRANSPORT_NAMES, create_transport
from tests.streaming import close, collect


@dataclass
class Reading:
    request_at: float
    first_line_at: float | None = None


class Relay:
    """Relays connections to `target`, noting when each request's first bytes came
    through and when its response's first body line did (keep-alive aware)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.readings: list[Reading] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(self.target)
            # As Go's net/http (Ollama) and aiohttp do: no Nagle delay on small writes.
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            readings: list[Reading] = []
            threading.Thread(
                target=self._up, args=(client, upstream, readings), daemon=True
            ).start()
            threading.Thread(
                target=self._down, args=(upstream, client, readings), daemon=True
            ).start()

    def _up(self, client: socket.socket, upstream: socket.socket, mine: list[Reading]) -> None:
        with client, upstream:
            while data := client.recv(65536):
                if data.startswith((b"POST ", b"GET ")):
                    reading = Reading(time.perf_counter())
                    mine.append(reading)
                    self.readings.append(reading)
                upstream.sendall(data)

    @staticmethod
    def _down(upstream: socket.socket, client: socket.socket, mine: list[Reading]) -> None:
        seen = b""
        try:
            while data := upstream.recv(65536):
                now = time.perf_counter()
                seen += data
                waiting = [r for r in mine if r.first_line_at is None]
                _, sep, body = seen.partition(b"\r\n\r\n")
                if waiting and sep and b"{" in body:
                    waiting[0].first_line_at = now
                if seen.endswith(b"\r\n0\r\n\r\n"):
                    seen = b""  # the response ended; the next bytes answer the next request
                client.sendall(data)
        except OSError:
            pass  # the client went away

    def close(self) -> None:
        self.listener.close()


@pytest.mark.parametrize("name", TRANSPORT_NAMES)
async def test_ttfc_agrees_with_a_raw_socket_reading(server: DemoServer, name: str) -> None:
    server.configure(first_token_delay=0.05, token_rate=500.0, reply="one two three")
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    relay = Relay((host, int(port)))
    request = chat_request("demo", [ChatMessage("user", "hi")])
    gaps = []
    transport = create_transport(
        name, ConnectionSettings(base_url=f"http://127.0.0.1:{relay.port}")
    )
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
            gaps.append(t.ttfc - (reading.first_line_at - reading.request_at))
    finally:
        await close(transport)
        relay.close()
    # Always longer, and within 2 ms on loopback (median: the machine is shared).
    assert min(gaps) >= 0
    assert statistics.median(gaps) < 0.002, [f"{g * 1000:.2f} ms" for g in gaps]
