"""`StreamRunner`'s interface, with the streams read in a worker process (`worker.py`).

The compare view times four transports at once while it draws four columns: in the
app's own process the UI thread holds the interpreter lock while it draws, and the
network threads' timestamps wait for it. A worker process has a lock of its own. It
is started on first use (the transports' libraries are imported there, once), and
events come back in batches on a pipe, read by a thread here and handed to each
stream's listener exactly as `StreamRunner` hands them.

A runner whose settings carry a clock of their own (tests fix the clock) cannot send
it across: such settings stay with the in-process runner (`can_run`).
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import itertools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from multiprocessing.connection import Connection
from typing import IO, Any

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.events import ErrorKind, StreamError
from ollama_tui.core.protocol import Request
from ollama_tui.session.runner import TERMINAL, LiveStream, Notify, Runner
from ollama_tui.transports.errors import ApiError

WORKER = [sys.executable, "-m", "ollama_tui.session.worker"]


def can_run(settings: ConnectionSettings) -> bool:
    """Whether these settings can be used across a process: the real clock only."""
    return settings.clock is time.perf_counter


class ProcessRunner(Runner):
    def __init__(self, settings: ConnectionSettings) -> None:
        super().__init__()
        self.settings = settings
        self._process: subprocess.Popen[bytes] | None = None
        self._commands: Connection | None = None
        self._lock = threading.Lock()
        self._streams: dict[int, LiveStream] = {}
        self._calls: dict[int, concurrent.futures.Future[Any]] = {}
        self._call_ids = itertools.count(1)
        self._stderr: collections.deque[str] = collections.deque(maxlen=5)
        self._closing = False

    # ------------------------------------------------------------------ the process

    def open(self) -> None:
        """Start the worker now (it is also started on first use)."""
        with self._lock:
            if self._process is not None:
                return
            commands_in, commands_out = os.pipe()
            events_in, events_out = os.pipe()
            self._process = subprocess.Popen(
                [*WORKER, str(commands_in), str(events_out)],
                pass_fds=(commands_in, events_out),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,  # never onto the app's screen
            )
            os.close(commands_in)
            os.close(events_out)
            self._commands = Connection(commands_out, readable=False)
            self._commands.send(self.settings)
            events = Connection(events_in, writable=False)
            threading.Thread(
                target=self._read, args=(events,), name="ollama-tui-worker-read", daemon=True
            ).start()
            assert self._process.stderr is not None
            threading.Thread(
                target=self._keep_stderr,
                args=(self._process.stderr,),
                name="ollama-tui-worker-stderr",
                daemon=True,
            ).start()

    def _send(self, message: tuple[Any, ...]) -> None:
        with self._lock:
            if self._commands is None:
                return
            try:
                self._commands.send(message)
            except OSError:
                return  # the worker is gone: the reader says so to every stream

    # ------------------------------------------------------------------ streams

    def running(self) -> list[LiveStream]:
        with self._lock:
            return list(self._streams.values())

    def start(
        self,
        transport: str,
        request: Request,
        notify: Notify | None = None,
        *,
        smooth: bool = True,
    ) -> LiveStream:
        self.open()
        stream = LiveStream(transport, request, started=self.settings.clock(), smooth=smooth)
        if notify is not None:
            stream.listen(notify)
        with self._lock:
            self._streams[stream.id] = stream
        if smooth:
            self.on_start()
        stream.token.on_cancel(lambda: self._send(("stop", stream.id)))
        self._send(("start", stream.id, transport, request, smooth))
        return stream

    # ------------------------------------------------------------------ calls

    def call_future(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        transport: str = "httpx-async",
    ) -> concurrent.futures.Future[Any]:
        self.open()
        done: concurrent.futures.Future[Any] = concurrent.futures.Future()
        key = next(self._call_ids)
        with self._lock:
            self._calls[key] = done
        self._send(("call", key, method, path, dict(body) if body else None, transport))
        return done

    # ------------------------------------------------------------------ from the worker

    def _read(self, events: Connection) -> None:
        try:
            while True:
                self._dispatch(events.recv())
        except (EOFError, OSError):
            pass  # closed, or the worker died
        finally:
            events.close()
            self._orphaned()

    def _dispatch(self, message: tuple[Any, ...]) -> None:
        match message:
            case ("events", int(key), list(batch)):
                with self._lock:
                    stream = self._streams.get(key)
                if stream is None:
                    return
                for event in batch:
                    if isinstance(event, TERMINAL):
                        stream.ended = True
                        with self._lock:
                            self._streams.pop(key, None)
                    stream.push(event)
            case ("result", int(key), value):
                self._settle(key, value=value)
            case ("failed", int(key), kind, str(text), status):
                error = ApiError(kind or ErrorKind.INTERNAL, text, status)
                self._settle(key, error=error)

    def _settle(self, key: int, value: Any = None, error: Exception | None = None) -> None:
        with self._lock:
            done = self._calls.pop(key, None)
        if done is None:
            return
        if error is None:
            done.set_result(value)
        else:
            done.set_exception(error)

    def _orphaned(self) -> None:
        """The worker is gone: every stream and call still open ends with an error."""
        with self._lock:
            streams, self._streams = list(self._streams.values()), {}
            calls, self._calls = list(self._calls.values()), {}
        if self._closing:
            return  # every stream was stopped; nobody waits for them any more
        last = f": {self._stderr[-1]}" if self._stderr else ""
        text = f"The stream worker process ended unexpectedly{last}"
        for stream in streams:
            stream.ended = True
            timing = stream.timing
            stream.push(StreamError(ErrorKind.INTERNAL, text, None, timing, timing.sent))
        for done in calls:
            done.set_exception(ApiError(ErrorKind.INTERNAL, text))

    def _keep_stderr(self, stderr: IO[bytes]) -> None:
        with stderr:
            for line in stderr:
                self._stderr.append(line.decode("utf-8", "replace").strip())

    # ------------------------------------------------------------------ closing

    def close(self, timeout: float = 2.0) -> None:
        """Stop every stream and the worker (killed if it does not end in `timeout`)."""
        self._closing = True
        self.stop_all()
        self._send(("close",))
        with self._lock:
            process, self._process = self._process, None
            commands, self._commands = self._commands, None
        if commands is not None:
            commands.close()
        if process is None:
            return
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout)
