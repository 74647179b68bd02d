"""The OpenAI-compatible chat request (`POST {base}/chat/completions`), with no I/O: the
exact bytes every transport sends to llama.cpp's server, vLLM, LM Studio, LocalAI or
Ollama's `/v1`. Replies are decoded by `sse.SseDecoder`; models come from `/models`.
"""

from __future__ import annotations

import base64
import contextlib
import io
from collections.abc import Mapping, Sequence
from typing import Any

from PIL import Image

from ollama_tui.core.images import ACCEPTED
from ollama_tui.core.models import ModelInfo
from ollama_tui.core.protocol import ChatMessage, Request, Think, Verbatim
from ollama_tui.core.sanitize import clean

CHAT_PATH = "/chat/completions"
MODELS_PATH = "/models"

# Ollama's option names → the OpenAI request's (what /v1 servers read).
_OPTIONS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "seed": "seed",
    "stop": "stop",
    "top_k": "top_k",  # not OpenAI's, but vLLM and llama.cpp read it (others ignore it)
    "num_predict": "max_tokens",
    "frequency_penalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
}

SENT_OPTIONS = frozenset(_OPTIONS)
"""The chat settings a /v1 request carries; the others (num_ctx, keep_alive…) it cannot."""

_MEDIA = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "bmp": "image/bmp"}


def _media_type(image: str) -> str:
    """The data URL's type from the image's first bytes (base64 of its magic number)."""
    head = image[:16]
    for prefix, kind in (("iVBOR", "png"), ("/9j/", "jpeg"), ("UklGR", "webp"), ("Qk", "bmp")):
        if head.startswith(prefix):
            return _MEDIA[kind]
    if head.startswith(("SUkq", "TU0A")) and "tiff" in ACCEPTED:
        return "image/tiff"
    return "application/octet-stream"


_DATA_URL_TYPES = {"image/png", "image/jpeg", "image/webp"}
"""What /v1 servers take in a data URL (Ollama's decodeImageURL: jpeg, png, webp)."""


def _as_png(image: str) -> str:
    """A BMP or TIFF, which Ollama's own API decodes but /v1 refuses, as a PNG."""
    out = io.BytesIO()
    with Image.open(io.BytesIO(base64.b64decode(image))) as picture:
        picture.save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode("ascii")


def _wire_message(message: ChatMessage) -> dict[str, Any]:
    if not message.images:
        return {"role": message.role, "content": message.content}
    parts: list[dict[str, Any]] = [{"type": "text", "text": message.content}]
    for image in message.images:
        kind = _media_type(image)
        if kind not in _DATA_URL_TYPES:
            # Not an image Pillow reads: sent as it is, and the server says why.
            with contextlib.suppress(OSError, ValueError):
                image, kind = _as_png(image), "image/png"
        url = Verbatim(f"data:{kind};base64,{image}")
        parts.append({"type": "image_url", "image_url": {"url": url}})
    return {"role": message.role, "content": parts}


def chat_request(
    model: str,
    messages: Sequence[ChatMessage],
    *,
    system: str | None = None,
    options: Mapping[str, Any] | None = None,
    think: Think | None = None,
    stream: bool = True,
) -> Request:
    """A streamed `/chat/completions` request asking for the usage at the end (what
    the server counted, shown beside the client's own figures). Thinking text of
    earlier replies is not sent: the API has no place for it."""
    wire = [m for m in messages if m.role != "system"]
    body: dict[str, Any] = {"model": model, "messages": []}
    if system:
        body["messages"].append({"role": "system", "content": system})
    body["messages"] += [_wire_message(m) for m in wire]
    for name, value in (options or {}).items():
        if name == "num_predict" and (not isinstance(value, int) or value <= 0):
            continue  # Ollama's -1/-2/0 (no limit, fill the context) have no /v1 spelling
        if name in _OPTIONS:
            body[_OPTIONS[name]] = value
    # Ollama's /v1 and llama.cpp read reasoning_effort; "none" turns thinking off.
    if think is False:
        body["reasoning_effort"] = "none"
    elif isinstance(think, str):
        body["reasoning_effort"] = think
    body["stream"] = stream
    if stream:
        body["stream_options"] = {"include_usage": True}
    return Request.of(CHAT_PATH, body, wire="sse")


def parse_models(data: object) -> list[ModelInfo]:
    """`GET /models`: `{"object": "list", "data": [{"id": …}]}` as the models listed."""
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError("not a list of models")
    return [
        ModelInfo(name=clean(entry["id"]))
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"]
    ]
