"""Live timing of a reply as its events arrive, for displays that update while it streams.

The transport's own `StreamTiming` comes with the terminal event and is exact (it
also counts lines without text); this follows it as closely as events allow.
"""

from __future__ import annotations

from ollama_tui.core.events import ContentDelta, FirstChunk, StreamEvent, ThinkingDelta
from ollama_tui.core.timing import StreamTiming


class TimingTracker:
    __slots__ = ("_first_chunk", "_first_token", "_last_token", "_sent", "_tokens")

    def __init__(self, sent: float) -> None:
        self._sent = sent
        self._first_chunk: float | None = None
        self._first_token: float | None = None
        self._last_token: float | None = None
        self._tokens = 0

    def observe(self, event: StreamEvent) -> None:
        if isinstance(event, FirstChunk):
            self._sent = event.sent
            self._first_chunk = event.at
        elif isinstance(event, ContentDelta | ThinkingDelta):
            # Ollama sends one token per line; a rare line with both thinking and
            # content counts twice here, once in the transport's exact figures.
            self._tokens += 1
            if self._first_token is None:
                self._first_token = event.at
            self._last_token = event.at

    def snapshot(self) -> StreamTiming:
        return StreamTiming(
            sent=self._sent,
            first_chunk=self._first_chunk,
            first_token=self._first_token,
            last_token=self._last_token,
            chunks=self._tokens,
            tokens=self._tokens,
        )
