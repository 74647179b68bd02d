"""OpenAI-compatible streamed replies (`/v1/chat/completions`), with no I/O: Server-Sent
Events bytes in, the same typed events as Ollama's NDJSON out.

llama.cpp's server, vLLM, LM Studio, LocalAI and Ollama's own `/v1` send
`data: {chunk}` events, a blank line after each, and `data: [DONE]` last. Every
transport feeds this decoder exactly as it feeds the NDJSON one (bytes and the
`perf_counter()` of their arrival), so both wire formats are split, decoded, timed and
reported the same way: TTFC is the first data event's arrival, TTFT the first event
with text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ollama_tui.core.connection import DEFAULT_MAX_LINE_BYTES
from ollama_tui.core.events import ServerStats
from ollama_tui.core.ndjson import (
    LineSplitter,
    LineTooLong,
    ParsedLine,
    ProtocolError,
    Splitter,
    StreamDecoder,
)
from ollama_tui.core.protocol import openai_error_message, preview
from ollama_tui.core.sanitize import clean, without_surrogates

DONE = b"[DONE]"


class EventSplitter(LineSplitter):
    """Joins network chunks into SSE events and returns each event's data.

    Lines are split on b"\\n" bytes (a trailing b"\\r" dropped), so UTF-8 stays whole
    across chunks and U+2028 inside JSON never ends a line. Comment lines (`: ping`),
    `id:` and `retry:` are skipped; several `data:` lines of one event are joined with
    b"\\n"; a blank line ends the event. An `error:` field (llama.cpp's) or
    `event: error` makes the event an error, as `{"error": …}`.

    A body that starts with `{` is not a stream of events but one JSON object (a server
    that ignores `"stream": true`): it is kept whole and given as one event at its end.
    """

    __slots__ = ("_cr", "_data", "_error", "_kind", "_whole", "_whole_size")

    def __init__(self, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        super().__init__(max_line_bytes)
        self._data: list[bytes] | None = None
        self._error = False
        self._kind: str | None = None  # "events" or "json", by the first byte not a space
        self._whole: list[bytes] = []  # a JSON body so far
        self._whole_size = 0
        self._cr = False  # the last chunk ended with b"\r": a b"\n" next is its line end

    def feed(self, data: bytes) -> list[bytes]:
        """The data of the events `data` completes."""
        if self._kind is None and (start := (self._buffer + data).lstrip()):
            self._kind = "json" if start.startswith(b"{") else "events"
            if self._kind == "json":
                data, self._buffer = self._buffer + data, b""
        if self._kind == "json":
            self._whole.append(data)
            self._whole_size += len(data)
            if self._whole_size > self.max_line_bytes:
                raise LineTooLong(self._whole_size, self.max_line_bytes)
            return []
        if self._cr and data.startswith(b"\n"):
            data = data[1:]
        self._cr = data.endswith(b"\r")
        if b"\r" in data:  # raw CR cannot be inside JSON: only a line end
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        events: list[bytes] = []
        for line in self._lines(data):
            self._line(line, events)
        return events

    def flush(self) -> bytes | None:
        """The last event's data if the body ended without its blank line (or the whole
        body, if it was one JSON object)."""
        if self._kind == "json":
            body, self._whole = b"".join(self._whole), []
            return body if body.strip() else None
        events: list[bytes] = []
        if self._buffer:
            rest, self._buffer = self._buffer, b""
            self._line(rest, events)
        self._line(b"", events)
        return events[0] if events else None

    def _line(self, line: bytes, events: list[bytes]) -> None:
        if not line:
            if self._data is not None:
                data = b"\n".join(self._data)
                events.append(_as_error(data) if self._error else data)
            self._data, self._error = None, False
            return
        if line.startswith(b":"):
            return  # a comment: servers send them to keep the connection alive
        name, colon, value = line.partition(b":")
        if colon and value.startswith(b" "):
            value = value[1:]
        if name == b"event":
            self._error = value.strip() == b"error"
            return
        if name == b"error":
            # llama.cpp's server streams an error as a field of its own, then [DONE].
            self._error = True
        elif name != b"data":
            return  # id:, retry: name nothing a chat reply needs
        if self._data is None:
            self._data = []
        self._data.append(value)
        if sum(len(d) for d in self._data) > self.max_line_bytes:
            size = sum(len(d) for d in self._data)
            self._data = None
            raise LineTooLong(size, self.max_line_bytes)


def _as_error(data: bytes) -> bytes:
    """An error event's data as the `{"error": …}` object the parser reads."""
    try:
        json.loads(data)
    except ValueError:
        return b'{"error": ' + json.dumps(data.decode("utf-8", "replace")).encode() + b"}"
    return b'{"error": ' + data + b"}"


def _text(delta: Mapping[str, Any], key: str, surrogates: bool) -> str:
    value = delta.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ProtocolError(f"The server sent {key!r} as {type(value).__name__}, not text.")
    return without_surrogates(value) if surrogates else value


def _count(table: Mapping[str, Any], key: str, scale: float = 1.0) -> int | None:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value * scale)


def server_stats(usage: object, timings: object) -> ServerStats | None:
    """`usage` (token counts) and llama.cpp's `timings` (milliseconds) as the server's
    figures; durations stay absent where the server sends none."""
    used = usage if isinstance(usage, dict) else {}
    timed = timings if isinstance(timings, dict) else {}
    if not used and not timed:
        return None
    prompt_ms = _count(timed, "prompt_ms", 1e6)
    predicted_ms = _count(timed, "predicted_ms", 1e6)
    total = prompt_ms + predicted_ms if prompt_ms is not None and predicted_ms is not None else None
    return ServerStats(
        total_duration=total,
        prompt_eval_count=_count(used, "prompt_tokens") or _count(timed, "prompt_n"),
        prompt_eval_duration=prompt_ms,
        eval_count=_count(used, "completion_tokens") or _count(timed, "predicted_n"),
        eval_duration=predicted_ms,
    )


def error_text(error: object) -> str:
    """An OpenAI error object (`{"message", "type", "code"}`) as one sentence's text."""
    if isinstance(error, dict):
        message = error.get("message")
        if isinstance(message, str) and message:
            return clean(message)
    if isinstance(error, str):
        return clean(error)
    return clean(json.dumps(error))


class SseDecoder(StreamDecoder):
    """`StreamDecoder` for `/v1/chat/completions`: `finish_reason` and `usage` come in
    the last chunks before `data: [DONE]`, which ends the reply (a body that ends after
    a `finish_reason` without it ends the reply too: some servers never send it)."""

    __slots__ = ("_reason", "_stats")

    ENDED_EARLY = (
        "The reply ended before the server said it was done ([DONE]); the text may be cut short."
    )
    SERVER = "The server"

    def __init__(self, sent: float, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        super().__init__(sent, max_line_bytes)
        self._reason: str | None = None
        self._stats: ServerStats | None = None

    def _make_splitter(self, max_line_bytes: int) -> Splitter:
        return EventSplitter(max_line_bytes)

    def _at_end(self) -> ParsedLine | None:
        if self._reason is None:
            return None
        return ParsedLine(done=True, done_reason=self._reason, stats=self._stats)

    def _parse(self, line: bytes) -> ParsedLine:
        if line.strip() == DONE:
            return ParsedLine(done=True, done_reason=self._reason, stats=self._stats)
        try:
            obj = json.loads(line)
        except UnicodeDecodeError as exc:
            raise ProtocolError("The server sent an event that is not valid UTF-8.") from exc
        except ValueError as exc:
            raise ProtocolError(
                f"The server sent an event that is not JSON: {preview(line)}"
            ) from exc
        if not isinstance(obj, dict):
            raise ProtocolError(
                f"The server sent an event that is not a JSON object: {preview(line)}"
            )
        if obj.get("error") is not None:
            return ParsedLine(error=error_text(obj["error"]))
        older = openai_error_message(obj)  # vLLM's and FastChat's {"object": "error"}
        if older is not None:
            return ParsedLine(error=older)
        stats = server_stats(obj.get("usage"), obj.get("timings"))
        if stats is not None:
            self._stats = stats
        choices = obj.get("choices")
        if not isinstance(choices, list) or not choices:
            return ParsedLine()  # a usage chunk, or a keep-alive of another shape
        choice = choices[0]
        if not isinstance(choice, dict):
            raise ProtocolError("The server sent a choice that is not a JSON object.")
        reason = choice.get("finish_reason")
        if isinstance(reason, str):
            self._reason = reason
        # A whole reply (a server that did not stream) holds its text as `message`.
        delta = choice.get("delta", choice.get("message"))
        if delta is None:
            return ParsedLine()
        if not isinstance(delta, dict):
            raise ProtocolError("The server sent a 'delta' that is not a JSON object.")
        surrogates = b"\\ud" in line or b"\\uD" in line
        # llama.cpp and DeepSeek say reasoning_content; vLLM and Ollama's /v1 say reasoning.
        thinking = _text(delta, "reasoning_content", surrogates) or _text(
            delta, "reasoning", surrogates
        )
        return ParsedLine(content=_text(delta, "content", surrogates), thinking=thinking)
