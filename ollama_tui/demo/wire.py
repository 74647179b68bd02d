"""Ollama's wire format as the demo server writes and reads it.

Go-style JSON (compact, raw UTF-8, ``<>&`` escaped, as Go's encoding/json writes it), JSON
and error responses, request bodies and the fields Ollama validates (``model``,
``keep_alive``, ``think``), NDJSON streams written one chunk per line, the shape of one
streamed chunk and of pull progress, and the clock the lines are paced on.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

from aiohttp import web

from .catalog import CatalogModel, rfc3339
from .config import RequestRecord

NDJSON = "application/x-ndjson"
DEFAULT_KEEP_ALIVE = 300.0  # seconds, Ollama's 5m

_GO_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def go_json(obj: object) -> bytes:
    """JSON as Go's encoding/json writes it: compact, raw UTF-8, ``<>&`` escaped."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    # '<', '>' and '&' can only occur inside JSON strings, so escaping them is always valid.
    return text.translate(_GO_ESCAPES).encode("utf-8", "replace")


def json_response(obj: object, status: int = 200) -> web.Response:
    return web.Response(
        body=go_json(obj), status=status, content_type="application/json", charset="utf-8"
    )


def error_response(message: str, status: int) -> web.Response:
    return json_response({"error": message}, status)


class BadRequest(Exception):
    """A request Ollama would refuse; carries the status and the error text."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class ClientGone(Exception):
    """A write failed because the client closed the connection."""


# ------------------------------------------------------------------------ request fields


def parse_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise BadRequest("missing request body")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"invalid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise BadRequest(f"json: cannot unmarshal {type(body).__name__} into a request object")
    return body


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (the scheme in any case)."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def model_name(body: dict[str, Any]) -> str:
    name = body.get("model") or body.get("name")  # Ollama still accepts the old "name"
    if not name:
        raise BadRequest("model is required")
    if not isinstance(name, str):
        raise BadRequest("model must be a string")
    return name


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def parse_keep_alive(value: object) -> float:
    """keep_alive as Ollama reads it: a number of seconds or a Go duration ("5m", "1h30m")."""
    if value is None:
        return DEFAULT_KEEP_ALIVE
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        sign = -1.0 if text.startswith("-") else 1.0
        text = text.lstrip("+-")
        if text == "0":
            return 0.0
        parts = _DURATION_PART.findall(text)
        if parts and "".join(n + u for n, u in parts) == text:
            return sign * sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    raise BadRequest(f"time: invalid duration {json.dumps(value)}")


def parse_think(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if value in ("low", "medium", "high"):
        return True
    raise BadRequest(
        f"invalid think value: {json.dumps(value)} "
        '(must be "high", "medium", "low", true, or false)'
    )


# ------------------------------------------------------------------------ response lines


def chunk_line(kind: str, name: str, field_name: str, text: str) -> dict[str, Any]:
    """One streamed object: a token of the reply ("content") or of the reasoning."""
    created_at = rfc3339(time.time())
    if kind == "chat":
        message = {"role": "assistant", "content": ""}
        message[field_name] = text
        return {"model": name, "created_at": created_at, "message": message, "done": False}
    chunk: dict[str, Any] = {"model": name, "created_at": created_at, "response": ""}
    if field_name == "thinking":
        chunk["thinking"] = text
    else:
        chunk["response"] = text
    chunk["done"] = False
    return chunk


def pull_progress(model: CatalogModel) -> list[dict[str, Any]]:
    """Per-layer progress lines: a first line without "completed" (Go omits a zero), then
    updates; the weights blob gets several, the small blobs one each."""
    steps: list[dict[str, Any]] = []
    for digest, total in model.layers():
        base = {"status": f"pulling {digest[:12]}", "digest": f"sha256:{digest}", "total": total}
        steps.append(dict(base))
        parts = 8 if total > 1_000_000 else 1
        steps += [base | {"completed": total * k // parts} for k in range(1, parts + 1)]
    return steps


class LineWriter:
    """Writes a stream one chunk per line (NDJSON) or per event (SSE: the caller frames
    it as bytes), starting the response on the first."""

    def __init__(
        self, request: web.Request, record: RequestRecord, content_type: str = NDJSON
    ) -> None:
        self.request = request
        self.record = record
        self.response = web.StreamResponse(status=200)
        self.response.content_type = content_type
        self.response.enable_chunked_encoding()

    async def send(self, line: dict[str, Any] | bytes) -> None:
        data = line if isinstance(line, bytes) else go_json(line) + b"\n"
        try:
            # Headers go out with the first line, as in Ollama (model load happens first).
            if not self.response.prepared:
                self.record.status = 200
                await self.response.prepare(self.request)
            if self.record.first_line_at is None:
                self.record.first_line_at = time.perf_counter()
            await self.response.write(data)
        except ConnectionError as exc:  # includes aiohttp's ClientConnectionResetError
            raise ClientGone from exc
        self.record.lines_sent += 1


async def sleep_until(deadline: float) -> None:
    """Sleep until an absolute perf_counter() time, so pacing never drifts.

    Always yields once, so a fast stream does not starve other requests. The loop guards
    against waking early where the loop's clock is coarse (Windows: ~16 ms)."""
    await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
    while (remaining := deadline - time.perf_counter()) > 0:
        await asyncio.sleep(remaining)
