"""Runs streams where nothing else runs, and hands their events over in batches.

Every stream, whatever its transport, is started the same way: `StreamRunner.start`
returns a `LiveStream` at once. Sync transports read on threads of the runner's own
pool; async ones on the runner's network loop (`netloop.py`), never on the caller's
loop. Each transport reads `perf_counter()` right where its library hands bytes over,
on a thread that does nothing but that, so a busy UI cannot bend the figures.

Events queue up in the `LiveStream`; its listener is told once that some are waiting
(`notify(stream)`, from the network thread: it must not block) and takes all of them
with `take()` when it is ready. A busy consumer gets bigger batches, never a growing
queue of notifications, and the reading thread never waits for it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from contextlib import aclosing, closing
from dataclasses import dataclass, field
from typing import Any

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.events import (
    ContentDelta,
    Done,
    ErrorKind,
    FirstChunk,
    Stopped,
    StreamError,
    StreamEvent,
    ThinkingDelta,
)
from ollama_tui.core.protocol import Request
from ollama_tui.core.timing import StreamTiming
from ollama_tui.debuglog import LOGGER
from ollama_tui.session.netloop import NetworkLoop
from ollama_tui.transports import AsyncTransport, CancelToken, Transport, create_transport

STREAM_THREADS = 32
"""Sync streams hold a thread each for a whole reply; the compare view runs up to
four at once, the bench more. Threads are made only as streams need them."""

TERMINAL = (Done, StreamError, Stopped)
TIMED = (*TERMINAL, FirstChunk, ContentDelta, ThinkingDelta)
"""Events that carry the decoder's figures."""
End = Done | StreamError | Stopped
Notify = Callable[["LiveStream"], object]
TransportFactory = Callable[[str, ConnectionSettings], Transport]

_ids = itertools.count(1)


@dataclass(eq=False)
class LiveStream:
    """One request in flight, shared by the thread that reads it and its listener."""

    transport: str
    request: Request
    started: float
    smooth: bool = True
    """A reply on screen (not a pull's progress): the UI keeps pauses away while it runs."""
    id: int = field(default_factory=lambda: next(_ids))
    token: CancelToken = field(default_factory=CancelToken)
    ended: bool = False
    """Its end event was delivered (the body may still be drained after it)."""
    _notify: Notify | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _pending: list[StreamEvent] = field(default_factory=list, repr=False)
    _notified: bool = field(default=False, repr=False)
    _last_timing: StreamTiming | None = field(default=None, repr=False)

    def listen(self, notify: Notify) -> None:
        """Call `notify(self)` whenever events wait and the last batch was taken;
        at once if some already wait."""
        with self._lock:
            self._notify = notify
            # Events waiting: this listener hears of them even if an earlier one did.
            due = bool(self._pending)
            self._notified = self._notified or due
        if due:
            notify(self)

    def push(self, event: StreamEvent) -> None:
        if isinstance(event, TIMED):
            self._last_timing = event.timing
        with self._lock:
            self._pending.append(event)
            if self._notified or self._notify is None:
                return
            self._notified = True
            notify = self._notify
        notify(self)

    def take(self, hold: bool = False) -> list[StreamEvent]:
        """Everything that arrived since the last call, in order.

        `hold`: if anything was taken, the listener is not told of what comes next: its
        taker comes back by itself (a paint clock polls) until it takes nothing. At 100
        tokens a second that spares a wake-up of its loop and a message for every paint.
        """
        with self._lock:
            events, self._pending = self._pending, []
            self._notified = hold and bool(events)
        return events

    @property
    def held(self) -> bool:
        """Whether new events go untold: the last `take(hold=True)` took something (or
        the listener was told and has not taken yet)."""
        with self._lock:
            return self._notified

    @property
    def timing(self) -> StreamTiming:
        """The figures of the last event read (the decoder's), or only the start."""
        return self._last_timing or StreamTiming(sent=self.started)

    def stop(self) -> None:
        """Cancel from any thread: the response is closed, the stream ends `Stopped`."""
        self.token.cancel()


def crash_event(stream: LiveStream, error: BaseException) -> StreamError:
    """A bug in the code that ran the stream, shown as the stream's error."""
    return StreamError(
        kind=ErrorKind.INTERNAL,
        message=f"Internal error: {error!r}",
        status=None,
        timing=stream.timing,
        at=stream.timing.ended or stream.started,
    )


def _log_end(stream: LiveStream, end: End) -> None:
    # Figures and kinds only: the server's wording may quote the conversation.
    t = end.timing
    outcome = end.kind.value if isinstance(end, StreamError) else type(end).__name__.lower()
    LOGGER.debug(
        "stream %d end %s ttfc=%s total=%s chunks=%d tokens=%d",
        stream.id,
        outcome,
        None if t.ttfc is None else f"{t.ttfc:.4f}",
        None if t.total is None else f"{t.total:.4f}",
        t.chunks,
        t.tokens,
    )


class Runner(ABC):
    """What runs streams: `StreamRunner` here, `procrunner.ProcessRunner` in a worker
    process. Streams are started and cancelled from any thread; listeners are called
    on the thread that read the events."""

    def __init__(self) -> None:
        self.on_start: Callable[[], None] = lambda: None
        """Called as each reply starts, on the caller's thread (the UI defers pauses)."""

    @abstractmethod
    def running(self) -> list[LiveStream]:
        """The streams still running (a reply's body may be drained after its end)."""

    @property
    def busy(self) -> bool:
        """Whether a reply is still streaming (pulls, and drains after the end, aside)."""
        return any(s.smooth and not s.ended for s in self.running())

    def open(self) -> None:  # noqa: B027 (a hook: nothing to start ahead by default)
        """Start what can be started ahead (else it starts on first use)."""

    @abstractmethod
    def start(
        self, transport: str, request: Request, notify: Notify | None = None, *, smooth: bool = True
    ) -> LiveStream:
        """Send `request` on `transport` and return at once; `notify` (or a listener
        added later) hears of its events. `smooth`: a reply on screen, not a pull."""

    @abstractmethod
    def call_future(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        transport: str = "httpx-async",
    ) -> concurrent.futures.Future[Any]:
        """A non-streamed request (`/api/tags`, `/api/show`…) off the caller's thread:
        its JSON, or `ApiError`, in a future."""

    async def call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        transport: str = "httpx-async",
    ) -> Any:
        """`call_future`, awaited on the caller's loop."""
        return await asyncio.wrap_future(self.call_future(method, path, body, transport))

    def stop_all(self) -> None:
        """Cancel every stream still running."""
        for stream in self.running():
            stream.stop()

    @abstractmethod
    def close(self, timeout: float = 2.0) -> None:
        """Stop every stream and release what runs them."""


class StreamRunner(Runner):
    """Owns one transport per name (each with its connection pool) and runs streams
    and calls on them, off the caller's thread."""

    def __init__(
        self, settings: ConnectionSettings, make: TransportFactory = create_transport
    ) -> None:
        super().__init__()
        self.settings = settings
        self._make = make
        self._transports: dict[str, Transport] = {}
        self._lock = threading.Lock()
        self._running: set[LiveStream] = set()
        self._net = NetworkLoop()
        self._threads = concurrent.futures.ThreadPoolExecutor(
            STREAM_THREADS, thread_name_prefix="ollama-tui-stream"
        )

    # ------------------------------------------------------------------ state

    def running(self) -> list[LiveStream]:
        with self._lock:
            return list(self._running)

    def transport(self, name: str) -> Transport:
        with self._lock:
            if name not in self._transports:
                self._transports[name] = self._make(name, self.settings)
            return self._transports[name]

    # ------------------------------------------------------------------ streams

    def start(
        self,
        transport: str,
        request: Request,
        notify: Notify | None = None,
        *,
        smooth: bool = True,
    ) -> LiveStream:
        stream = LiveStream(transport, request, started=self.settings.clock(), smooth=smooth)
        if notify is not None:
            stream.listen(notify)
        LOGGER.debug(
            "stream %d start %s via %s model=%s",
            stream.id,
            request.path,
            transport,
            request.body.get("model"),
        )
        chosen = self.transport(transport)
        with self._lock:
            self._running.add(stream)
        if smooth:
            self.on_start()
        if isinstance(chosen, AsyncTransport):
            self._net.submit(self._read_async(chosen, stream))
        else:
            self._threads.submit(self._read_sync, chosen, stream)
        return stream

    def _read_sync(self, transport: Transport, stream: LiveStream) -> None:
        assert not isinstance(transport, AsyncTransport)
        try:
            stream.request.payload  # noqa: B018 - made before the transport's clock starts
            # Iterated past the end event: the transport then reads the end of the body,
            # and the connection goes back to the pool.
            with closing(transport.stream(stream.request, stream.token)) as events:
                for event in events:
                    self._deliver(stream, event)
        except Exception as error:  # a bug must reach the screen, not vanish in a thread
            self._crashed(stream, error)
        finally:
            self._forget(stream)

    async def _read_async(self, transport: AsyncTransport, stream: LiveStream) -> None:
        try:
            # Made before the transport starts its clock: a large body's JSON is not
            # the network's time. On a thread: the network loop runs other streams.
            await asyncio.to_thread(lambda: stream.request.payload)
            async with aclosing(transport.astream(stream.request, stream.token)) as events:
                async for event in events:
                    self._deliver(stream, event)
        except Exception as error:  # a bug must reach the screen, not vanish in a task
            self._crashed(stream, error)
        finally:
            self._forget(stream)

    def _deliver(self, stream: LiveStream, event: StreamEvent) -> None:
        if isinstance(event, TERMINAL):
            stream.ended = True
            if LOGGER.isEnabledFor(logging.DEBUG):
                _log_end(stream, event)
        stream.push(event)

    def _crashed(self, stream: LiveStream, error: Exception) -> None:
        LOGGER.debug("stream %d crashed: %s", stream.id, type(error).__name__)
        if not stream.ended:  # after its end (while draining) nobody needs to hear it
            self._deliver(stream, crash_event(stream, error))

    def _forget(self, stream: LiveStream) -> None:
        with self._lock:
            self._running.discard(stream)

    # ------------------------------------------------------------------ calls

    def call_future(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        transport: str = "httpx-async",
    ) -> concurrent.futures.Future[Any]:
        chosen = self.transport(transport)
        if isinstance(chosen, AsyncTransport):
            return self._net.submit(chosen.acall(method, path, body))
        return self._threads.submit(chosen.call, method, path, body)

    # ------------------------------------------------------------------ closing

    def close(self, timeout: float = 2.0) -> None:
        """Stop every stream, close every pool, end the network loop and the threads.

        Blocking, and quick: a cancel wakes every read at once.
        """
        self.stop_all()
        with self._lock:
            transports, self._transports = self._transports, {}
        for transport in transports.values():
            if isinstance(transport, AsyncTransport):
                if self._net.running:
                    done = self._net.submit(transport.aclose())
                    try:
                        done.result(timeout)
                    except Exception as error:  # closing must go on with the others
                        LOGGER.debug("closing %s failed: %r", transport.name, error)
            else:
                transport.close()
        self._net.stop(timeout)
        self._threads.shutdown(wait=False, cancel_futures=True)
