"""The decoder for a request's reply: Ollama's NDJSON or `/v1`'s Server-Sent Events."""

from __future__ import annotations

from ollama_tui.core.ndjson import PROGRESS_PATHS, StreamDecoder
from ollama_tui.core.protocol import Request
from ollama_tui.core.sse import SseDecoder


def decoder_for(request: Request, sent: float, max_line_bytes: int) -> StreamDecoder:
    """The decoder for `request`'s stream: a reply (either wire format), or progress."""
    if request.wire == "sse":
        return SseDecoder(sent, max_line_bytes)
    return StreamDecoder(sent, max_line_bytes, progress=request.path in PROGRESS_PATHS)
