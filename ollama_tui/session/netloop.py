"""An asyncio event loop on a thread of its own, for the async transports.

The UI's event loop mounts widgets, lays out and paints; a stream read there has its
bytes timestamped only when the UI lets it run (the compare view measured the async
transports 30-100 ms late while four columns were being drawn). Here the loop does
nothing but network I/O, so `perf_counter()` is read as the bytes arrive, as the sync
transports' own threads read it. Started on first use, stopped with the runner.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

THREAD_NAME = "ollama-tui-network"


class NetworkLoop:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._loop is not None

    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop, started on first use."""
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()
                # A daemon: a read that never wakes must not keep the process alive;
                # `stop()` joins it in every orderly exit.
                thread = threading.Thread(
                    target=self._run, args=(loop, ready), name=THREAD_NAME, daemon=True
                )
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run `coroutine` on the network loop, from any thread."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop())

    def stop(self, timeout: float = 2.0) -> None:
        """Cancel what still runs there, close the loop, join its thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # already closed
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
        finally:
            # Whatever still runs is a stream being torn down: cancel it and let its
            # clean-up (closing responses) run before the loop closes.
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
