"""A hostile HTTP server on loopback: answers each request with scripted raw bytes.

The built-in server speaks Ollama's API correctly (with a few fault modes); this one
misbehaves at the HTTP level: HTML bodies, odd headers, gzip, Content-Length framing,
silence, resets, lines of megabytes. Each test sets the `script`: a coroutine that gets
the raw socket streams after the request has been read.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import struct
import threading
from collections.abc import Awaitable, Callable
from typing import Any

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def line(obj: Any) -> bytes:
    return json.dumps(obj).encode() + b"\n"


def reply_lines(*texts: str, done: bool = True) -> bytes:
    body = b"".join(
        line({"model": "demo", "message": {"content": t}, "done": False}) for t in texts
    )
    if done:
        body += line({"model": "demo", "message": {"content": ""}, "done": True, "eval_count": 1})
    return body


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def head(status: str = "200 OK", **headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}"] + [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def full(body: bytes, status: str = "200 OK", **headers: str) -> Script:
    """The whole response at once, framed by Content-Length."""

    async def script(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(head(status, Content_Length=str(len(body)), **headers) + body)
        await writer.drain()

    return script


def chunked(*parts: bytes, end: bool = True, then: Script | None = None) -> Script:
    """Chunked NDJSON, one chunk per part; `then` runs after the parts (instead of the end)."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(head(Content_Type="application/x-ndjson", Transfer_Encoding="chunked"))
        for part in parts:
            writer.write(chunk(part))
            await writer.drain()
        if then is not None:
            await then(reader, writer)
        elif end:
            writer.write(b"0\r\n\r\n")
            await writer.drain()

    return script


async def silence(reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
    """Send nothing more; wait until the client goes away."""
    await reader.read()


async def reset(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Abort the connection with a TCP reset (SO_LINGER 0), not a clean close."""
    sock: socket.socket = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def gzipped(body: bytes) -> Script:
    return full(gzip.compress(body), Content_Type="application/x-ndjson", Content_Encoding="gzip")


def endless(step: bytes, limit: int) -> Script:
    """One line that never ends: `step` over and over, up to `limit` bytes (or the client
    giving up)."""

    async def script(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(head(Content_Type="application/x-ndjson", Transfer_Encoding="chunked"))
        sent = 0
        try:
            while sent < limit:
                writer.write(chunk(step))
                await writer.drain()
                sent += len(step)
        except ConnectionError:
            return  # the client gave up on the line, as it should

    return script


class HostileServer:
    def __init__(self) -> None:
        self.script: Script = full(b"")
        self.requests = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        # Connections still open end here, not later in the garbage collector (which
        # reported each unfinished handler as an ignored exception in another test).
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:  # keep-alive: one script per request on this connection
                headers = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for raw in headers.split(b"\r\n"):
                    name, _, value = raw.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                self.requests += 1
                await self.script(reader, writer)
                if writer.is_closing():
                    return
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            return  # the client closed the connection, or the server is stopping
        finally:
            if not writer.is_closing():
                writer.close()
