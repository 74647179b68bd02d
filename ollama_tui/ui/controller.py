"""Runs streams for the UI and turns their events into Textual messages.

Sync transports run in Textual thread workers, async ones as async workers on the
loop. Both push events into a `LiveStream` and post `StreamUpdated` only when the
UI has taken the previous batch: the reading thread never waits for the UI (no
`call_from_thread` per token), and a busy UI gets bigger batches instead of a
growing queue of messages.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from contextlib import aclosing, closing
from dataclasses import dataclass, field

from textual.message import Message
from textual.message_pump import MessagePump
from textual.widget import Widget

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.events import (
    ContentDelta,
    Done,
    FirstChunk,
    Stopped,
    StreamError,
    StreamEvent,
    ThinkingDelta,
)
from ollama_tui.core.protocol import Request
from ollama_tui.core.thinking import ThinkTagSplitter
from ollama_tui.debuglog import LOGGER
from ollama_tui.tracker import TimingTracker
from ollama_tui.transports import (
    AsyncTransport,
    CancelToken,
    SyncTransport,
    Transport,
    create_transport,
)

_ids = itertools.count(1)


def _nothing() -> None:
    return None


@dataclass(eq=False)
class LiveStream:
    """One request in flight, shared by its worker and the UI."""

    transport: str
    request: Request
    started: float
    id: int = field(default_factory=lambda: next(_ids))
    token: CancelToken = field(default_factory=CancelToken)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _pending: list[StreamEvent] = field(default_factory=list, repr=False)
    _notified: bool = False
    smooth: bool = True
    """A reply on screen: the app keeps full garbage collections off while it streams."""
    ended: bool = False
    """Its end event was delivered (the body may still be drained after it)."""

    def push(self, event: StreamEvent) -> bool:
        """Queue `event`; true if the UI must be told (nothing already on its way)."""
        with self._lock:
            self._pending.append(event)
            if self._notified:
                return False
            self._notified = True
            return True

    def take(self) -> list[StreamEvent]:
        """Everything that arrived since the last call."""
        with self._lock:
            events, self._pending = self._pending, []
            self._notified = False
        return events

    def stop(self) -> None:
        self.token.cancel()


class StreamUpdated(Message):
    """New events are waiting in `stream`; call `stream.take()`."""

    def __init__(self, stream: LiveStream) -> None:
        super().__init__()
        self.stream = stream


class StreamCrashed(Message):
    """The worker raised instead of ending with an event (a bug, shown as an error)."""

    def __init__(self, stream: LiveStream, error: BaseException) -> None:
        super().__init__()
        self.stream = stream
        self.error = error


TERMINAL = (Done, StreamError, Stopped)


@dataclass(frozen=True, slots=True)
class Batch:
    """One `take()` of a stream as a reply widget needs it: text joined, once."""

    thinking: str
    content: str
    first_chunk: bool
    end: Done | Stopped | StreamError | None


def read_batch(
    events: list[StreamEvent], tracker: TimingTracker, splitter: ThinkTagSplitter
) -> Batch:
    """Route `events` (inline `<think>` tags to thinking), feeding `tracker` as they go."""
    thinking: list[str] = []
    content: list[str] = []
    first_chunk = False
    end: Done | Stopped | StreamError | None = None
    for event in events:
        tracker.observe(event)
        if isinstance(event, ContentDelta):
            routed = splitter.feed(event.text)
            thinking.append(routed.thinking)
            content.append(routed.content)
        elif isinstance(event, ThinkingDelta):
            thinking.append(event.text)
        elif isinstance(event, FirstChunk):
            first_chunk = True
        elif isinstance(event, TERMINAL):
            end = event
            break
    return Batch("".join(thinking), "".join(content), first_chunk, end)


def _log_end(live: LiveStream, end: Done | Stopped | StreamError) -> None:
    # Figures and kinds only: the server's wording may quote the conversation.
    t = end.timing
    outcome = end.kind.value if isinstance(end, StreamError) else type(end).__name__.lower()
    LOGGER.debug(
        "stream %d end %s ttfc=%s total=%s chunks=%d tokens=%d",
        live.id,
        outcome,
        None if t.ttfc is None else f"{t.ttfc:.4f}",
        None if t.total is None else f"{t.total:.4f}",
        t.chunks,
        t.tokens,
    )


class StreamController:
    """Owns one transport per name (each with its pool) and runs streams on them."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self._transports: dict[str, Transport] = {}
        self._running: set[LiveStream] = set()
        self._running_lock = threading.Lock()  # worker threads remove their streams
        self.on_start: Callable[[], None] = _nothing
        """Called (on the loop) as each stream starts: the app defers full collections."""

    @property
    def busy(self) -> bool:
        """Whether a reply is still streaming (drains after the end and pulls aside)."""
        with self._running_lock:
            return any(live.smooth and not live.ended for live in self._running)

    def transport(self, name: str) -> Transport:
        if name not in self._transports:
            self._transports[name] = create_transport(name, self.settings)
        return self._transports[name]

    def start(
        self, owner: Widget, transport: str, request: Request, smooth: bool = True
    ) -> LiveStream:
        """Start streaming `request`; `owner` receives the messages and owns the worker.
        `smooth`: a reply shown as it streams (not a pull's progress)."""
        live = LiveStream(transport, request, started=self.settings.clock(), smooth=smooth)
        LOGGER.debug(
            "stream %d start %s via %s model=%s",
            live.id,
            request.path,
            transport,
            request.body.get("model"),
        )
        with self._running_lock:
            self._running.add(live)
        if smooth:
            self.on_start()
        chosen = self.transport(transport)
        name = f"stream-{live.id}"
        if isinstance(chosen, AsyncTransport):
            owner.run_worker(
                self._run_async(chosen, live, owner),
                name=name,
                group="streams",
                exit_on_error=False,
            )
        else:
            owner.run_worker(
                lambda: self._run_sync(chosen, live, owner),
                name=name,
                group="streams",
                thread=True,
                exit_on_error=False,
            )
        return live

    def _run_sync(self, transport: SyncTransport, live: LiveStream, owner: MessagePump) -> None:
        try:
            # Iterated to the end, past the terminal event: the transport then reads the
            # end of the body, and the connection goes back to the pool.
            with closing(transport.stream(live.request, live.token)) as events:  # type: ignore[type-var]
                for event in events:
                    self._deliver(live, event, owner)
        except Exception as exc:  # a bug must reach the screen, not kill the app
            owner.post_message(StreamCrashed(live, exc))
        finally:
            self._forget(live)

    async def _run_async(
        self, transport: AsyncTransport, live: LiveStream, owner: MessagePump
    ) -> None:
        try:
            async with aclosing(transport.astream(live.request, live.token)) as events:
                async for event in events:
                    self._deliver(live, event, owner)
        except Exception as exc:  # a bug must reach the screen, not kill the app
            owner.post_message(StreamCrashed(live, exc))
        finally:
            self._forget(live)

    @staticmethod
    def _deliver(live: LiveStream, event: StreamEvent, owner: MessagePump) -> None:
        if isinstance(event, TERMINAL):
            live.ended = True
            if LOGGER.isEnabledFor(logging.DEBUG):
                _log_end(live, event)
        if live.push(event):
            owner.post_message(StreamUpdated(live))

    def _forget(self, live: LiveStream) -> None:
        with self._running_lock:
            self._running.discard(live)

    def stop_all(self) -> None:
        """Cancel every stream still running (replies, and drains after them)."""
        with self._running_lock:
            running = list(self._running)
        for live in running:
            live.stop()

    async def aclose(self) -> None:
        self.stop_all()
        transports, self._transports = self._transports, {}
        for transport in transports.values():
            if isinstance(transport, AsyncTransport):
                await transport.aclose()
            else:
                transport.close()
