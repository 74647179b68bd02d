"""The stream worker process: `StreamRunner` in a process of its own.

`python -m ollama_tui.session.worker FD_IN FD_OUT` is started by `procrunner.py`, which
talks to it over two pipes with `multiprocessing.connection.Connection` (length-framed
pickles between a parent and the child it made; nothing else can write to them).

Why a process: in the app's own process the network threads share the interpreter
lock with the UI thread. While the UI draws, every wake-up of a network thread waits
for the lock (up to the 5 ms switch interval each time), and an async client with many
yield points before its first byte (httpx over anyio) was measured at ~50 ms where it
takes ~4 ms alone. Here the transports' threads and network loop share the lock with
nobody busy, so `perf_counter()` is read when the bytes arrive, whatever the screen
does. CLOCK_MONOTONIC is one clock for every process, so the figures compare with the
parent's.

Messages in: ("start", id, transport, request, smooth), ("stop", id),
("call", id, method, path, body, transport), ("close",).
Messages out: ("events", id, [StreamEvent, ...]) in order per stream,
("result", id, json) or ("failed", id, kind, message, status) for a call.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from multiprocessing.connection import Connection
from typing import Any

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.protocol import Request
from ollama_tui.session.runner import TERMINAL, LiveStream, StreamRunner
from ollama_tui.transports import TRANSPORT_NAMES
from ollama_tui.transports.errors import ApiError


class Worker:
    def __init__(self, settings: ConnectionSettings, out: Connection) -> None:
        self.runner = StreamRunner(settings)
        self.out = out
        self.streams: dict[int, LiveStream] = {}
        self._lock = threading.Lock()  # the sender thread and call callbacks share the pipe
        self._due: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send_due, name="worker-send", daemon=True)
        self._sender.start()
        # Every library is imported (and every pool made) now, not while a run starts
        # its streams back to back.
        for name in TRANSPORT_NAMES:
            self.runner.transport(name)

    def handle(self, message: tuple[Any, ...]) -> bool:
        """Act on one message; False once told to close."""
        match message:
            case ("start", int(key), str(transport), Request() as request, bool(smooth)):
                started = self.runner.start(transport, request, smooth=smooth)
                self.streams[key] = started
                # Heard by the sender thread: what waits goes out as one message.
                started.listen(self._due_later(key))
            case ("stop", int(key)):
                if (running := self.streams.get(key)) is not None:
                    running.stop()
            case ("call", int(key), str(method), str(path), body, str(transport)):
                done = self.runner.call_future(method, path, body, transport)
                done.add_done_callback(self._answer_later(key))
            case ("close",):
                return False
        return True

    def _due_later(self, key: int) -> Callable[[LiveStream], None]:
        return lambda _: self._due.put(key)

    def _answer_later(self, key: int) -> Callable[[Future[Any]], None]:
        return lambda done: self._answer(key, done)

    def _send_due(self) -> None:
        while (key := self._due.get()) is not None:
            stream = self.streams.get(key)
            if stream is None:
                continue
            events = stream.take()
            if events:
                self._send(("events", key, events))
            if any(isinstance(event, TERMINAL) for event in events):
                del self.streams[key]  # nothing follows its end

    def _answer(self, key: int, done: Future[Any]) -> None:
        error = done.exception()
        if error is None:
            self._send(("result", key, done.result()))
        elif isinstance(error, ApiError):
            self._send(("failed", key, error.kind, str(error), error.status))
        else:
            self._send(("failed", key, None, f"Internal error: {error!r}", None))

    def _send(self, message: tuple[Any, ...]) -> None:
        with self._lock:
            self.out.send(message)

    def close(self) -> None:
        self.runner.close()
        self._due.put(None)
        self._sender.join(2.0)


SWITCH_INTERVAL = 0.0005
"""Seconds a thread here may hold the interpreter lock while another waits for it
(Python's default is 0.005). Several streams wake at once in a comparison; each wake-up
waits for the lock, and this process does nothing but read: a short turn keeps every
timestamp within a fraction of a millisecond of its bytes."""


def main(argv: list[str]) -> int:
    sys.setswitchinterval(SWITCH_INTERVAL)
    commands = Connection(int(argv[0]), writable=False)
    out = Connection(int(argv[1]), readable=False)
    settings: ConnectionSettings = commands.recv()
    worker = Worker(settings, out)
    try:
        while worker.handle(commands.recv()):
            pass
    except EOFError:
        pass  # the parent went away: stop everything
    finally:
        worker.close()
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
