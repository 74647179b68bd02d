"""The Ollama wire protocol's requests, with no I/O: the exact bytes every transport sends,
and the sentence a person reads for an HTTP error.

Replies are decoded by `ndjson.StreamDecoder`.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ollama_tui.core.sanitize import clean

ERROR_BODY_LIMIT = 64 * 1024
"""How much of an HTTP error body is read to find Ollama's message."""

Role = Literal["system", "user", "assistant", "tool"]
Wire = Literal["ndjson", "sse"]
Think = bool | Literal["low", "medium", "high"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str
    thinking: str | None = None
    images: tuple[str, ...] = ()

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.thinking:
            wire["thinking"] = self.thinking
        if self.images:
            wire["images"] = list(self.images)
        return wire


class Verbatim(str):
    """Text that needs no JSON escaping (base64, a data URL of it): spliced into a
    request's bytes as it is. `json.dumps` scans every character for escapes: 190 ms
    for a 20 MB image, holding the GIL (so the UI's loop too) all along."""

    __slots__ = ()


_TOKEN = f"ollama-tui-verbatim-{secrets.token_hex(8)}-"
_SPLIT = re.compile(re.escape(_TOKEN).encode() + rb"(\d+)")


def _swap(value: object, found: list[str]) -> object:
    if isinstance(value, Verbatim):
        found.append(value)
        return f"{_TOKEN}{len(found) - 1}"
    if isinstance(value, Mapping):
        return {key: _swap(item, found) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_swap(item, found) for item in value]
    return value


def encode_body(body: Mapping[str, Any]) -> bytes:
    """`json.dumps(body, ensure_ascii=False)` as UTF-8, byte for byte, with `Verbatim`
    text copied in instead of scanned."""
    found: list[str] = []
    skeleton = json.dumps(_swap(body, found), ensure_ascii=False).encode("utf-8")
    if not found:
        return skeleton
    parts = _SPLIT.split(skeleton)
    out = [parts[0]]
    for index in range(1, len(parts), 2):
        out += (found[int(parts[index])].encode("ascii"), parts[index + 1])
    return b"".join(out)


@dataclass(frozen=True)
class Request:
    """One POST to the server: the path and the exact bytes every transport sends."""

    path: str
    body: Mapping[str, Any]
    wire: Wire = "ndjson"
    """How the reply streams: Ollama's NDJSON, or Server-Sent Events (`/v1`)."""

    @classmethod
    def of(cls, path: str, body: dict[str, Any], wire: Wire = "ndjson") -> Request:
        return cls(path, body, wire)

    @functools.cached_property
    def payload(self) -> bytes:
        """The body's bytes, made when first asked: with a 20 MB image, 190 ms of JSON
        that the streams' own threads pay (session.runner asks before the clock starts),
        not the UI's loop."""
        return encode_body(self.body)


def _common(
    body: dict[str, Any],
    options: Mapping[str, Any] | None,
    keep_alive: str | float | None,
    think: Think | None,
    stream: bool,
) -> dict[str, Any]:
    if options:
        body["options"] = dict(options)
    if keep_alive is not None:
        body["keep_alive"] = keep_alive
    if think is not None:
        body["think"] = think
    body["stream"] = stream
    return body


def chat_request(
    model: str,
    messages: Sequence[ChatMessage],
    *,
    system: str | None = None,
    options: Mapping[str, Any] | None = None,
    keep_alive: str | float | None = None,
    think: Think | None = None,
    stream: bool = True,
) -> Request:
    """A `/api/chat` request; `system`, if given, goes first as a system message."""
    wire = [m.to_wire() for m in messages]
    if system:
        wire.insert(0, {"role": "system", "content": system})
    body = _common({"model": model, "messages": wire}, options, keep_alive, think, stream)
    return Request.of("/api/chat", body)


def generate_request(
    model: str,
    prompt: str,
    *,
    system: str | None = None,
    options: Mapping[str, Any] | None = None,
    keep_alive: str | float | None = None,
    think: Think | None = None,
    stream: bool = True,
) -> Request:
    body: dict[str, Any] = {"model": model, "prompt": prompt}
    if system:
        body["system"] = system
    return Request.of("/api/generate", _common(body, options, keep_alive, think, stream))


def pull_request(model: str) -> Request:
    """`/api/pull`: download a model, its progress streamed as status lines."""
    return Request.of("/api/pull", {"model": model, "stream": True})


def preview(data: bytes | str, limit: int = 120) -> str:
    """A short, printable excerpt of untrusted bytes for an error message."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return repr(text if len(text) <= limit else text[:limit] + "…")


_HINTS = {
    401: "; the key is read from OPENAI_API_KEY, or the variable --api-key-env names",
    403: "; the key is read from OPENAI_API_KEY, or the variable --api-key-env names",
    429: "; the server limits how often it is asked: try again in a moment",
}


def http_error_message(status: int, reason: str, body: bytes, url: str, who: str = "Ollama") -> str:
    """The sentence a person sees for an HTTP error status, the server's own words first;
    `who`: how the server is named ("Ollama", or "The server" over /v1)."""
    detail = None
    try:
        obj = json.loads(body)
    except ValueError:
        obj = None
    if isinstance(obj, dict) and isinstance(obj.get("error"), str):
        detail = clean(obj["error"])
    hint = "" if who == "Ollama" else _HINTS.get(status, "")
    if detail:
        return f"{who}: {detail} (HTTP {status}){hint}"
    message = openai_error_message(obj)
    if message:
        return f"The server: {message} (HTTP {status}){_HINTS.get(status, '')}"
    label = f"HTTP {status} {reason}".rstrip()
    if body.strip():
        return f"{label} from {url}: {preview(body)}{hint}"
    return f"{label} from {url}{hint}"


def openai_error_message(obj: object) -> str | None:
    """The message of an OpenAI-compatible error body, cleaned: `{"error": {"message"}}`,
    or older vLLM / FastChat's `{"object": "error", "message"}`; None for anything else."""
    if not isinstance(obj, dict):
        return None
    error = obj.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str) and error["message"]:
        return clean(error["message"])
    if obj.get("object") == "error" and isinstance(obj.get("message"), str) and obj["message"]:
        return clean(obj["message"])
    return None
