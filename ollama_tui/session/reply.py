"""One reply as it arrives: text routed, cleaned and kept, figures live.

What every front end (the chat, the compare view, `--plain`) needs from a stream,
computed once: thinking apart from the answer (a `<think>` block inlined in the
content included), both cleaned of anything a terminal would act on, and the live
figures, which are the decoder's own readings carried by the events.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from ollama_tui.core.events import ContentDelta, FirstChunk, ThinkingDelta
from ollama_tui.core.sanitize import clean
from ollama_tui.core.thinking import ThinkTagSplitter
from ollama_tui.core.timing import StreamTiming
from ollama_tui.session.runner import TERMINAL, End, LiveStream


@dataclass(frozen=True, slots=True)
class ReplyUpdate:
    """What arrived since the last update."""

    thinking: str
    content: str
    first_chunk: bool
    """The first line of the reply is among these events."""
    timing: StreamTiming
    end: End | None
    """The reply's end, with its exact figures; nothing follows it."""


class Reply:
    def __init__(self, stream: LiveStream, model: str) -> None:
        self.stream = stream
        self.model = model
        self.text = ""
        self.thinking = ""
        self.end: End | None = None
        self._splitter = ThinkTagSplitter()

    @property
    def transport(self) -> str:
        return self.stream.transport

    @property
    def timing(self) -> StreamTiming:
        """The figures so far (exact once it ended)."""
        return self.end.timing if self.end is not None else self.stream.timing

    @property
    def arrived(self) -> bool:
        return bool(self.text or self.thinking)

    def take(self, hold: bool = False) -> ReplyUpdate:
        """Everything that arrived since the last call, as one update (`hold`: as
        `LiveStream.take`'s)."""
        thinking: list[str] = []
        content: list[str] = []
        first_chunk = False
        for event in self.stream.take(hold) if self.end is None else ():
            if isinstance(event, ContentDelta):
                routed = self._splitter.feed(event.text)
                thinking.append(routed.thinking)
                content.append(routed.content)
            elif isinstance(event, ThinkingDelta):
                thinking.append(event.text)
            elif isinstance(event, FirstChunk):
                first_chunk = True
            elif isinstance(event, TERMINAL):
                rest = self._splitter.flush()
                thinking.append(rest.thinking)
                content.append(rest.content)
                self.end = event
                break
        new_thinking = clean("".join(thinking))
        new_content = clean("".join(content))
        self.thinking += new_thinking
        self.text += new_content
        return ReplyUpdate(new_thinking, new_content, first_chunk, self.timing, self.end)

    def stop(self) -> None:
        self.stream.stop()

    async def updates(self) -> AsyncIterator[ReplyUpdate]:
        """The updates, on the caller's event loop, up to and with the end."""
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        self.stream.listen(lambda _: loop.call_soon_threadsafe(ready.set))
        while self.end is None:
            await ready.wait()
            ready.clear()
            yield self.take()

    def follow(self) -> Iterator[ReplyUpdate]:
        """The updates for a blocking consumer, up to and with the end. An interrupt
        while it waits (Ctrl+C) leaves it; following again picks up where it was."""
        ready = threading.Event()
        self.stream.listen(lambda _: ready.set())
        while self.end is None:
            ready.wait()
            ready.clear()
            yield self.take()
