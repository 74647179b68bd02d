"""Typed events of one streamed reply: the only thing transports hand upwards.

Every stream yields zero or more deltas and ends with exactly one terminal event:
`Done`, `StreamError` or `Stopped`. Each event carries `at`, the
`time.perf_counter()` taken when the bytes behind it arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ollama_tui.core.timing import StreamTiming


class ErrorKind(StrEnum):
    CONNECT = "connect"  # refused, unreachable, DNS failure
    TIMEOUT = "timeout"  # connect or read timeout
    HTTP = "http"  # an error status before the stream started
    SERVER = "server"  # an {"error": ...} line after HTTP 200
    DISCONNECTED = "disconnected"  # the connection was cut mid-reply
    INCOMPLETE = "incomplete"  # the body ended without a done line
    PROTOCOL = "protocol"  # a line that is not what Ollama sends
    INTERNAL = "internal"  # a bug: the code running the stream raised


@dataclass(frozen=True, slots=True)
class ServerStats:
    """The server's own figures from the done line; durations in nanoseconds."""

    total_duration: int | None = None
    load_duration: int | None = None
    prompt_eval_count: int | None = None
    prompt_eval_duration: int | None = None
    eval_count: int | None = None
    eval_duration: int | None = None

    @property
    def eval_rate(self) -> float | None:
        """Tokens per second by the server's clock."""
        if self.eval_count and self.eval_duration:
            return self.eval_count / self.eval_duration * 1e9
        return None


@dataclass(frozen=True, slots=True)
class FirstChunk:
    """The first non-empty line arrived (once per stream)."""

    at: float
    sent: float
    timing: StreamTiming
    """The decoder's figures once this line was read."""

    @property
    def ttfc(self) -> float:
        return self.at - self.sent


@dataclass(frozen=True, slots=True)
class ContentDelta:
    text: str
    at: float
    timing: StreamTiming
    """The decoder's figures once this line was read: what a live display shows."""


@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    text: str
    at: float
    timing: StreamTiming
    """The decoder's figures once this line was read: what a live display shows."""


@dataclass(frozen=True, slots=True)
class Done:
    done_reason: str | None
    stats: ServerStats
    timing: StreamTiming
    at: float


@dataclass(frozen=True, slots=True)
class StreamError:
    kind: ErrorKind
    message: str
    status: int | None
    timing: StreamTiming
    at: float


@dataclass(frozen=True, slots=True)
class Progress:
    """A status line of `/api/pull` (and Ollama's other long operations)."""

    status: str
    at: float
    digest: str | None = None
    total: int | None = None
    completed: int | None = None


@dataclass(frozen=True, slots=True)
class Stopped:
    """The stream was cancelled by the client; the response was closed."""

    timing: StreamTiming
    at: float


def outcome(end: Done | StreamError | Stopped) -> str:
    """How a stream ended, in one word: "done", "stopped" or "error"."""
    return "done" if isinstance(end, Done) else "stopped" if isinstance(end, Stopped) else "error"


StreamEvent = FirstChunk | ContentDelta | ThinkingDelta | Progress | Done | StreamError | Stopped
