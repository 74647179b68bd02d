"""Each transport's TTFC against a raw-socket reading of the same stream:
`python -m ollama_tui.bench.relay`.

A byte-level TCP relay on loopback sits between the transport and the server and
notes, with the same `perf_counter` clock, when each request's bytes came through and
when its response's first body line did. The transport's TTFC minus the relay's (first
line seen − request seen) is what the transport and its library add to the wire: never
negative, since the transport reads the clock before sending and after receiving
(`tests/test_ttfc_wire.py` checks that causality for every transport), and small on
loopback, by how much depends on the machine and its load. So the figure is printed
here, per transport, as the median and p95 over many streams, and asserted nowhere.

The server is the built-in one in a process of its own (or `--host`), so its CPU is
not this process's; the relay's threads are. The gap also holds the relay's own hop
(waking up to read the request, forwarding the first line after reading it): an upper
bound of what the transport adds.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Sequence
from contextlib import aclosing
from dataclasses import dataclass
from types import TracebackType

from ollama_tui.bench.stats import percentile
from ollama_tui.core.connection import ConnectionSettings, parse_host
from ollama_tui.core.events import Done, StreamEvent
from ollama_tui.core.protocol import ChatMessage, Request, chat_request
from ollama_tui.transports import TRANSPORT_NAMES, AsyncTransport, Transport, create_transport


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
        self.url = f"http://127.0.0.1:{self.port}"
        self.readings: list[Reading] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def __enter__(self) -> Relay:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

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


@dataclass(frozen=True, slots=True)
class Gaps:
    """One transport's streams: TTFC − the relay's reading, in seconds."""

    transport: str
    gaps: list[float]
    uncausal: int
    """Streams whose clock reads were not around the relay's (a bug, never load)."""


def gap(done: Done, reading: Reading) -> tuple[float, bool]:
    """The transport's TTFC minus the relay's, and whether the reads were causal."""
    t = done.timing
    assert reading.first_line_at is not None and t.first_chunk is not None
    assert t.ttfc is not None
    causal = t.sent <= reading.request_at and reading.first_line_at <= t.first_chunk
    return t.ttfc - (reading.first_line_at - reading.request_at), causal


async def _stream(transport: Transport, request: Request) -> list[StreamEvent]:
    """All events of one stream, the body read to its end (the connection is reused)."""
    if isinstance(transport, AsyncTransport):
        async with aclosing(transport.astream(request)) as events:
            return [event async for event in events]
    return await asyncio.to_thread(lambda: list(transport.stream(request)))


async def measure(name: str, relay: Relay, request: Request, streams: int) -> Gaps:
    """`streams` requests on one connection, after one that opens it (as a chat does)."""
    transport = create_transport(name, ConnectionSettings(base_url=relay.url))
    gaps: list[float] = []
    uncausal = 0
    try:
        await _stream(transport, request)
        for _ in range(streams):
            events = await _stream(transport, request)
            done = events[-1] if events else None
            if not isinstance(done, Done):
                raise RuntimeError(f"{name}: the stream ended without a done line: {done}")
            value, causal = gap(done, relay.readings[-1])
            gaps.append(value)
            uncausal += not causal
    finally:
        if isinstance(transport, AsyncTransport):
            await transport.aclose()
        else:
            transport.close()
    return Gaps(name, gaps, uncausal)


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.3f}"


def report(results: Sequence[Gaps]) -> str:
    lines = [
        f"{'transport':<12} {'streams':>7} {'median ms':>10} {'p95 ms':>10} {'max ms':>10}",
    ]
    for r in results:
        lines.append(
            f"{r.transport:<12} {len(r.gaps):>7} {_ms(percentile(r.gaps, 50)):>10} "
            f"{_ms(percentile(r.gaps, 95)):>10} {_ms(max(r.gaps, default=None)):>10}"
        )
    bad = [r for r in results if r.uncausal]
    for r in bad:
        lines.append(f"{r.transport}: {r.uncausal} streams read the clock out of order (a bug)")
    return "\n".join(lines)


def _target(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


async def run(args: argparse.Namespace, url: str) -> list[Gaps]:
    request = chat_request(
        args.model, [ChatMessage("user", "hi")], options={"num_predict": args.max_tokens}
    )
    results = []
    with Relay(_target(url)) as relay:
        for name in args.transports:
            results.append(await measure(name, relay, request, args.streams))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ollama_tui.bench.relay",
        description="Each transport's TTFC minus a raw-socket relay's reading of the same "
        "stream on loopback: what the transport and its library add to the wire.",
    )
    parser.add_argument("--streams", type=int, default=50, help="per transport (default 50)")
    parser.add_argument(
        "--transports",
        type=lambda text: text.split(","),
        default=list(TRANSPORT_NAMES),
        metavar="LIST",
        help=f"comma list (default {','.join(TRANSPORT_NAMES)})",
    )
    parser.add_argument(
        "--first-token-delay",
        type=float,
        default=0.05,
        metavar="S",
        help="built-in server: seconds before the first line, so the transport waits in a "
        "read, as for a model (default 0.05)",
    )
    parser.add_argument(
        "--token-rate", type=float, default=500.0, help="built-in server (default 500)"
    )
    parser.add_argument("--max-tokens", type=int, default=3, help="per reply (default 3)")
    parser.add_argument("--host", metavar="URL", help="a running Ollama instead of the demo")
    parser.add_argument("--model", default="demo", help="default demo")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.transports) - set(TRANSPORT_NAMES))
    if unknown:
        parser.error(f"unknown transports: {', '.join(unknown)}")
    if args.host:
        results = asyncio.run(run(args, parse_host(args.host)))
        where = args.host
    else:
        from ollama_tui.bench.server import DemoProcess

        with DemoProcess(args.token_rate, args.first_token_delay) as server:
            results = asyncio.run(run(args, server.url))
        where = f"built-in server, first line after {args.first_token_delay:g} s"
    print(
        f"TTFC − relay reading, {args.streams} streams per transport after one that "
        f"opens the connection ({where}, model {args.model})"
    )
    print(report(results))
    return 1 if any(r.uncausal for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
