"""Timing of one reply, from `time.perf_counter()` readings taken where bytes arrived."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StreamTiming:
    sent: float
    """Just before the request was handed to the HTTP library."""
    first_chunk: float | None = None
    """The first non-empty line arrived."""
    first_token: float | None = None
    """The first line with non-empty content or thinking arrived."""
    last_token: float | None = None
    ended: float | None = None
    """The done line, the error, or the stop."""
    chunks: int = 0
    """Non-empty lines received."""
    tokens: int = 0
    """Lines that carried content or thinking (Ollama sends one token per line)."""

    @property
    def ttfc(self) -> float | None:
        return None if self.first_chunk is None else self.first_chunk - self.sent

    @property
    def ttft(self) -> float | None:
        return None if self.first_token is None else self.first_token - self.sent

    @property
    def total(self) -> float | None:
        return None if self.ended is None else self.ended - self.sent

    @property
    def tokens_per_s(self) -> float | None:
        """Client-side generation rate: tokens after the first over the time they took.

        The first token's wait (model load, prompt evaluation) is left out, as the
        server's own eval rate leaves it out, so the two can be compared.
        """
        if self.tokens < 2 or self.first_token is None or self.last_token is None:
            return None
        span = self.last_token - self.first_token
        return (self.tokens - 1) / span if span > 0 else None

    def figures(self) -> dict[str, float | int | None]:
        """The figures a person reads, as plain values (seconds): for JSON and storage."""
        return {
            "ttfc": self.ttfc,
            "ttft": self.ttft,
            "total": self.total,
            "chunks": self.chunks,
            "tokens": self.tokens,
            "tokens_per_s": self.tokens_per_s,
        }
