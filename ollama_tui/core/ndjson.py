"""Ollama's streamed replies, with no I/O: NDJSON bytes in, typed events out.

Every transport feeds the raw bytes it reads, with the `time.perf_counter()` taken
when they arrived, into one `StreamDecoder`; so all four transports split, decode,
time and report errors in exactly the same way, and this module can be tested
byte by byte without a socket.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ollama_tui.core.connection import DEFAULT_MAX_LINE_BYTES
from ollama_tui.core.events import (
    ContentDelta,
    Done,
    ErrorKind,
    FirstChunk,
    Progress,
    ServerStats,
    Stopped,
    StreamError,
    StreamEvent,
    ThinkingDelta,
)
from ollama_tui.core.protocol import preview
from ollama_tui.core.sanitize import clean, without_surrogates
from ollama_tui.core.timing import StreamTiming

PROGRESS_PATHS = ("/api/pull",)
"""Endpoints whose stream is status lines ending in {"status": "success"}."""


class Splitter(Protocol):
    """Cuts a body's bytes into the units its decoder parses."""

    def feed(self, data: bytes) -> list[bytes]: ...

    def flush(self) -> bytes | None: ...


class LineSplitter:
    """Joins network chunks into NDJSON lines, split on b"\\n" only.

    Splitting bytes (not text) keeps multibyte UTF-8 whole across chunk boundaries,
    and never splits at U+2028, U+0085 and the other characters `str.splitlines`
    treats as line ends, which can appear raw inside a JSON string.
    """

    __slots__ = ("_buffer", "max_line_bytes")

    def __init__(self, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self._buffer = b""
        self.max_line_bytes = max_line_bytes

    def feed(self, data: bytes) -> list[bytes]:
        """The complete, non-blank lines that `data` finishes, without their b"\\n"."""
        return [line for line in self._lines(data) if line.strip()]

    def _lines(self, data: bytes) -> list[bytes]:
        """Every line `data` completes, blank ones too; the rest waits for more."""
        buffer = self._buffer + data if self._buffer else data
        if b"\n" not in data:
            self._buffer = buffer
            self._check()
            return []
        *lines, self._buffer = buffer.split(b"\n")
        self._check()
        return lines

    def flush(self) -> bytes | None:
        """The last line if the body ended without a newline."""
        rest, self._buffer = self._buffer, b""
        return rest if rest.strip() else None

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def _check(self) -> None:
        if len(self._buffer) > self.max_line_bytes:
            size = len(self._buffer)
            self._buffer = b""
            raise LineTooLong(size, self.max_line_bytes)


class ProtocolError(ValueError):
    """A line that is not what Ollama sends; the message is for people."""


class LineTooLong(ProtocolError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"A line of the reply is over {limit:,} bytes ({size:,} so far) without an end; "
            "the stream was stopped to bound memory (the limit is --max-line-mib)."
        )


def _str_field(container: Mapping[str, Any], key: str, surrogates: bool = False) -> str:
    value = container.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ProtocolError(f"The server sent {key!r} as {type(value).__name__}, not text.")
    if surrogates:
        # A lone "\ud83d" would make the text impossible to send back as context.
        return without_surrogates(value)
    return value


def _stats(obj: Mapping[str, Any]) -> ServerStats:
    def number(key: str) -> int | None:
        value = obj.get(key)
        # bool is an int subclass; Ollama never sends one here.
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float):
            return int(value)
        return None

    return ServerStats(
        total_duration=number("total_duration"),
        load_duration=number("load_duration"),
        prompt_eval_count=number("prompt_eval_count"),
        prompt_eval_duration=number("prompt_eval_duration"),
        eval_count=number("eval_count"),
        eval_duration=number("eval_duration"),
    )


@dataclass(frozen=True, slots=True)
class ParsedLine:
    """What one NDJSON line says; pure data, no timing."""

    content: str = ""
    thinking: str = ""
    done: bool = False
    done_reason: str | None = None
    stats: ServerStats | None = None
    error: str | None = None
    status: str | None = None
    """`/api/pull` and the like: "pulling manifest", "downloading …", "success"."""
    digest: str | None = None
    total: int | None = None
    completed: int | None = None


def _int_field(obj: Mapping[str, Any], name: str) -> int | None:
    value = obj.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_line(line: bytes, progress: bool = False) -> ParsedLine:
    """Parse one line of `/api/chat` or `/api/generate` (or, with `progress`, `/api/pull`);
    raises `ProtocolError`."""
    try:
        obj = json.loads(line)
    except UnicodeDecodeError as exc:
        raise ProtocolError("The server sent a line that is not valid UTF-8.") from exc
    except ValueError as exc:
        raise ProtocolError(f"The server sent a line that is not JSON: {preview(line)}") from exc
    if not isinstance(obj, dict):
        raise ProtocolError(f"The server sent a line that is not a JSON object: {preview(line)}")
    if obj.get("error") is not None:
        error = obj["error"]
        # Shown to a person: never let the server's text drive the terminal.
        return ParsedLine(error=clean(error if isinstance(error, str) else json.dumps(error)))
    status = obj.get("status") if progress else None
    if isinstance(status, str):
        digest = obj.get("digest")
        return ParsedLine(
            status=clean(status),
            digest=clean(digest) if isinstance(digest, str) else None,
            total=_int_field(obj, "total"),
            completed=_int_field(obj, "completed"),
            done=status == "success",
            done_reason="success" if status == "success" else None,
        )
    message = obj.get("message")
    if message is not None:
        if not isinstance(message, dict):
            raise ProtocolError("The server sent 'message' that is not a JSON object.")
        source: Mapping[str, Any] = message
    else:
        source = obj
    # Only a JSON escape can produce a surrogate: look for one before paying for it.
    surrogates = b"\\ud" in line or b"\\uD" in line
    content = _str_field(source, "content" if message is not None else "response", surrogates)
    thinking = _str_field(source, "thinking", surrogates)
    if obj.get("done") is True:
        reason = obj.get("done_reason")
        return ParsedLine(
            content=content,
            thinking=thinking,
            done=True,
            done_reason=reason if isinstance(reason, str) else None,
            stats=_stats(obj),
        )
    return ParsedLine(content=content, thinking=thinking)


class StreamDecoder:
    """Turns the bytes of one streamed reply into events, timing each where it arrived.

    A transport calls `feed` for each network read, then exactly one of `finish`
    (the body ended), `fail` (its library raised) or `stop` (cancelled). After a
    done line or an error, `finished` is true and the transport closes the response.
    """

    __slots__ = (
        "_chunks",
        "_done_at",
        "_first_chunk",
        "_first_token",
        "_last_token",
        "_progress",
        "_sent",
        "_splitter",
        "_tokens",
        "finished",
    )

    ENDED_EARLY = "The reply ended before Ollama said it was done; the text may be cut short."
    SERVER = "Ollama"
    """Who an error line is from, as the person reads it."""

    def __init__(
        self, sent: float, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES, progress: bool = False
    ) -> None:
        """`progress`: the body is status lines (`/api/pull`), not a reply."""
        self._progress = progress
        self._sent = sent
        self._splitter: Splitter = self._make_splitter(max_line_bytes)
        self._first_chunk: float | None = None
        self._first_token: float | None = None
        self._last_token: float | None = None
        self._done_at: float | None = None
        self._chunks = 0
        self._tokens = 0
        self.finished = False

    def _make_splitter(self, max_line_bytes: int) -> Splitter:
        return LineSplitter(max_line_bytes)

    def _parse(self, line: bytes) -> ParsedLine:
        """What one unit of the body says (a line here; an event for SSE)."""
        return parse_line(line, self._progress)

    def _at_end(self) -> ParsedLine | None:
        """What the body's clean end means when no done line came: here, nothing."""
        return None

    @property
    def received_any(self) -> bool:
        return self._chunks > 0

    def timing(self) -> StreamTiming:
        return StreamTiming(
            sent=self._sent,
            first_chunk=self._first_chunk,
            first_token=self._first_token,
            last_token=self._last_token,
            ended=self._done_at,
            chunks=self._chunks,
            tokens=self._tokens,
        )

    def feed(self, data: bytes, at: float) -> list[StreamEvent]:
        if self.finished:
            return []
        try:
            lines = self._splitter.feed(data)
        except ProtocolError as exc:
            return [self._error(ErrorKind.PROTOCOL, str(exc), at)]
        events: list[StreamEvent] = []
        for line in lines:
            self._line(line, at, events)
            if self.finished:
                break
        return events

    def finish(self, at: float) -> list[StreamEvent]:
        """The body ended cleanly (as far as HTTP goes)."""
        if self.finished:
            return []
        events: list[StreamEvent] = []
        last = self._splitter.flush()
        if last is not None:
            self._line(last, at, events)
        ending = None if self.finished else self._at_end()
        if ending is not None:
            self._apply(ending, at, events)
        if not self.finished:
            events.append(self._error(ErrorKind.INCOMPLETE, self.ENDED_EARLY, at))
        return events

    def fail(
        self, kind: ErrorKind, message: str, at: float, status: int | None = None
    ) -> StreamError:
        return self._error(kind, message, at, status)

    def stop(self, at: float) -> Stopped:
        """The client cancelled; what arrived so far stands."""
        self.finished = True
        self._done_at = at
        return Stopped(timing=self.timing(), at=at)

    def _line(self, line: bytes, at: float, events: list[StreamEvent]) -> None:
        self._chunks += 1
        if self._first_chunk is None:
            self._first_chunk = at
            events.append(FirstChunk(at=at, sent=self._sent, timing=self.timing()))
        try:
            parsed = self._parse(line)
        except ProtocolError as exc:
            events.append(self._error(ErrorKind.PROTOCOL, str(exc), at))
            return
        self._apply(parsed, at, events)

    def _apply(self, parsed: ParsedLine, at: float, events: list[StreamEvent]) -> None:
        if parsed.error is not None:
            events.append(self._error(ErrorKind.SERVER, f"{self.SERVER}: {parsed.error}", at))
            return
        if parsed.thinking or parsed.content:
            self._tokens += 1
            if self._first_token is None:
                self._first_token = at
            self._last_token = at
            timing = self.timing()
            if parsed.thinking:
                events.append(ThinkingDelta(parsed.thinking, at, timing))
            if parsed.content:
                events.append(ContentDelta(parsed.content, at, timing))
        if parsed.status is not None and not parsed.done:
            events.append(
                Progress(parsed.status, at, parsed.digest, parsed.total, parsed.completed)
            )
        if parsed.done:
            self.finished = True
            self._done_at = at
            events.append(
                Done(
                    done_reason=parsed.done_reason,
                    stats=parsed.stats or ServerStats(),
                    timing=self.timing(),
                    at=at,
                )
            )

    def _error(
        self, kind: ErrorKind, message: str, at: float, status: int | None = None
    ) -> StreamError:
        self.finished = True
        self._done_at = at
        return StreamError(kind=kind, message=message, status=status, timing=self.timing(), at=at)
