"""Bare-library baselines: the shortest loop each library allows, for reference rows.

Each sends the same bytes with the same headers and pool size as the project's
transport, reads lines with the library's own line iterator and parses each with
`json.loads`. TTFC is the `perf_counter()` when the first non-empty line arrives minus
the one read just before the request; TTFT the same for the first line with content or
thinking text.

Server-Sent Events (`/v1/chat/completions`) go through the same line iterator: each
`data:` line is one event, tallied like an NDJSON line (a chunk; a token when its delta
has text), and `data: [DONE]` is the done line. That is the shortest loop, and exact for
the servers the app talks to, which send one `data:` line per event; the project's
decoder also joins multi-line events and skips comments, which the bare loop never sees
here.
"""

from __future__ import annotations

import json
from time import perf_counter
from typing import Any

import aiohttp
import httpx
import requests
from requests.adapters import HTTPAdapter

from ollama_tui.bench.spec import StreamSample
from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.protocol import Request
from ollama_tui.transports._httpx import client_options  # same limits as the project's

_DONE = (b"[DONE]", "[DONE]")


class Tally:
    """Per-stream counters; one method call per line is all it adds to the bare loop."""

    __slots__ = ("chunks", "done_at", "first", "first_token", "sent", "tokens")

    def __init__(self) -> None:
        self.chunks = 0
        self.tokens = 0
        self.first: float | None = None
        self.first_token: float | None = None
        self.done_at: float | None = None
        self.sent = perf_counter()

    def line(self, obj: dict[str, Any], at: float) -> None:
        self.chunks += 1
        if self.first is None:
            self.first = at
        # Reasoning counts as tokens, as in the project's StreamTiming: a thinking model
        # (qwen3) may spend all of --max-tokens on it, and TTFT must not then be missing.
        source = obj.get("message") or obj
        text = source.get("content") or source.get("response") or source.get("thinking")
        if text:
            self.tokens += 1
            if self.first_token is None:
                self.first_token = at
        if obj.get("done"):
            self.done_at = at

    def event(self, data: bytes | str, at: float) -> None:
        """One SSE event's data: a chunk, a token when its delta has text, or [DONE]."""
        self.chunks += 1
        if self.first is None:
            self.first = at
        if data in _DONE:
            self.done_at = at
            return
        choices = json.loads(data).get("choices")
        delta = choices[0].get("delta") if choices else None
        if delta and (
            delta.get("content") or delta.get("reasoning_content") or delta.get("reasoning")
        ):
            self.tokens += 1
            if self.first_token is None:
                self.first_token = at

    def sse_bytes(self, line: bytes, at: float) -> None:
        """One line of an SSE body, as bytes: only `data:` lines are events."""
        if line.startswith(b"data:"):
            self.event(line[5:].strip(), at)

    def sse_text(self, line: str, at: float) -> None:
        """The same for httpx, whose line iterator decodes."""
        if line.startswith("data:"):
            self.event(line[5:].strip(), at)

    def sample(self, error: str | None = None) -> StreamSample:
        def since(at: float | None) -> float | None:
            return None if at is None else at - self.sent

        if error is None and self.done_at is None:
            error = "the body ended without a done line"
        return StreamSample(
            ok=error is None,
            ttfc=since(self.first),
            ttft=since(self.first_token),
            total=since(self.done_at),
            chunks=self.chunks,
            tokens=self.tokens,
            error=error,
        )


class BareRequests:
    def __init__(self, settings: ConnectionSettings) -> None:
        self.session = requests.Session()
        self.session.trust_env = False
        adapter = HTTPAdapter(pool_maxsize=settings.max_connections, pool_block=True)
        self.session.mount("http://", adapter)
        self.timeout = (settings.connect_timeout, settings.read_timeout)
        self.settings = settings

    def one(self, request: Request) -> StreamSample:
        url = self.settings.url(request.path)
        tally = Tally()
        try:
            with self.session.post(
                url,
                data=request.payload,
                headers=self.settings.headers(request.wire),
                stream=True,
                timeout=self.timeout,
            ) as response:
                if response.status_code != 200:
                    return tally.sample(f"HTTP {response.status_code}")
                if request.wire == "sse":
                    for line in response.iter_lines():
                        tally.sse_bytes(line, perf_counter())
                else:
                    for line in response.iter_lines():
                        if line:
                            tally.line(json.loads(line), perf_counter())
        except (requests.RequestException, ValueError) as exc:
            return tally.sample(repr(exc))
        return tally.sample()

    def close(self) -> None:
        self.session.close()


class BareHttpxSync:
    def __init__(self, settings: ConnectionSettings) -> None:
        self.client = httpx.Client(**client_options(settings))
        self.settings = settings

    def one(self, request: Request) -> StreamSample:
        url = self.settings.url(request.path)
        tally = Tally()
        try:
            with self.client.stream(
                "POST", url, content=request.payload, headers=self.settings.headers(request.wire)
            ) as response:
                if response.status_code != 200:
                    return tally.sample(f"HTTP {response.status_code}")
                if request.wire == "sse":
                    for line in response.iter_lines():
                        tally.sse_text(line, perf_counter())
                else:
                    for line in response.iter_lines():
                        if line:
                            tally.line(json.loads(line), perf_counter())
        except (httpx.HTTPError, ValueError) as exc:
            return tally.sample(repr(exc))
        return tally.sample()

    def close(self) -> None:
        self.client.close()


class BareHttpxAsync:
    def __init__(self, settings: ConnectionSettings) -> None:
        self.client = httpx.AsyncClient(**client_options(settings))
        self.settings = settings

    async def one(self, request: Request) -> StreamSample:
        url = self.settings.url(request.path)
        tally = Tally()
        try:
            async with self.client.stream(
                "POST", url, content=request.payload, headers=self.settings.headers(request.wire)
            ) as response:
                if response.status_code != 200:
                    return tally.sample(f"HTTP {response.status_code}")
                if request.wire == "sse":
                    async for line in response.aiter_lines():
                        tally.sse_text(line, perf_counter())
                else:
                    async for line in response.aiter_lines():
                        if line:
                            tally.line(json.loads(line), perf_counter())
        except (httpx.HTTPError, ValueError) as exc:
            return tally.sample(repr(exc))
        return tally.sample()

    async def aclose(self) -> None:
        await self.client.aclose()


class BareAiohttp:
    def __init__(self, settings: ConnectionSettings) -> None:
        # Made inside the running loop (the worker builds async clients there).
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=settings.max_connections),
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=settings.connect_timeout, sock_read=settings.read_timeout
            ),
            trust_env=False,
        )
        self.settings = settings

    async def one(self, request: Request) -> StreamSample:
        url = self.settings.url(request.path)
        tally = Tally()
        try:
            async with self.session.post(
                url, data=request.payload, headers=self.settings.headers(request.wire)
            ) as response:
                if response.status != 200:
                    return tally.sample(f"HTTP {response.status}")
                if request.wire == "sse":
                    async for line in response.content:
                        tally.sse_bytes(line, perf_counter())
                else:
                    async for line in response.content:
                        if line.strip():
                            tally.line(json.loads(line), perf_counter())
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return tally.sample(repr(exc))
        return tally.sample()

    async def aclose(self) -> None:
        await self.session.close()


SYNC_BASELINES: dict[str, type[BareRequests] | type[BareHttpxSync]] = {
    "requests": BareRequests,
    "httpx-sync": BareHttpxSync,
}
ASYNC_BASELINES: dict[str, type[BareHttpxAsync] | type[BareAiohttp]] = {
    "httpx-async": BareHttpxAsync,
    "aiohttp": BareAiohttp,
}
