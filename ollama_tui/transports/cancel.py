"""Stopping a stream from any thread, even while it waits in a blocking read.

- sync: `CancelToken.cancel()` shuts the socket down, which wakes a blocked read at
  once; the stream then ends with `Stopped` and the response is closed, so the server
  sees the disconnect and stops generating.
- async: cancel the task that iterates (the asyncio way), or call `cancel()` on the
  token from any thread; either closes the response.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class CancelToken:
    """A thread-safe stop request that can also interrupt a blocking read."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], object]] = []

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Run `callback` on cancel (at once if already cancelled); returns an undo."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return lambda: self._forget(callback)
        callback()
        return lambda: None

    def _forget(self, callback: Callable[[], object]) -> None:
        # Already run and removed by `cancel`: nothing left to undo.
        with self._lock, contextlib.suppress(ValueError):
            self._callbacks.remove(callback)


def shutdown_socket(sock: socket.socket | None) -> None:
    """Wake a thread blocked reading `sock`: `close()` alone does not on Linux."""
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        # Already closed or never connected: there is no read to wake.
        return


async def until_cancelled(awaitable: Awaitable[T], cancel: CancelToken | None) -> T | None:
    """Await the request up to its headers; None if `cancel` stopped the wait.

    The token may be cancelled from any thread; cancelling the task that awaits
    here (the asyncio way) still raises as usual.
    """
    if cancel is None:
        return await awaitable
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(awaitable)
    undo = cancel.on_cancel(lambda: loop.call_soon_threadsafe(task.cancel))
    try:
        return await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if cancel.cancelled and current is not None and not current.cancelling():
            return None
        raise
    finally:
        undo()
