"""Let a cancel from another thread wake a sync transport still waiting for headers.

Ollama sends its response headers only with the first token, so while a model loads
the thread sits in the library's blocking read of the status line, holding a socket
the transport cannot see yet. `waiting_for_headers(token)` publishes the token to
the thread; the hooks below (a urllib3 connection class, an httpcore stream wrapper)
register the socket they block on, so `token.cancel()` shuts it down at once.
Outside that window the hooks cost one thread-local look-up per read.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import urllib3.connection
import urllib3.connectionpool
import urllib3.response

from ollama_tui.transports.cancel import CancelToken, shutdown_socket

_scope = threading.local()


@contextmanager
def waiting_for_headers(token: CancelToken | None) -> Iterator[None]:
    _scope.token = token
    try:
        yield
    finally:
        _scope.token = None


def _watch(sock: socket.socket | None) -> Callable[[], None] | None:
    token: CancelToken | None = getattr(_scope, "token", None)
    if token is None or sock is None:
        return None
    return token.on_cancel(lambda: shutdown_socket(sock))


# requests / urllib3 ------------------------------------------------------------------


class _WakeableResponse:
    """Mixed into urllib3's connections: the wait for the status line can be woken."""

    sock: socket.socket | None

    def getresponse(self) -> urllib3.response.HTTPResponse:
        undo = _watch(self.sock)
        try:
            response: urllib3.response.HTTPResponse = super().getresponse()  # type: ignore[misc]
            return response
        finally:
            if undo is not None:
                undo()


# urllib3 overrides http.client's getresponse with another return type (its own
# "type: ignore[override]"); the mixin keeps urllib3's.
class _HTTPConnection(_WakeableResponse, urllib3.connection.HTTPConnection):  # type: ignore[misc]
    pass


class _HTTPSConnection(_WakeableResponse, urllib3.connection.HTTPSConnection):  # type: ignore[misc]
    pass


class _HTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


# urllib3's documented way for one PoolManager to use its own pool classes.
URLLIB3_POOL_CLASSES = {"http": _HTTPPool, "https": _HTTPSPool}


# httpx (sync) / httpcore -------------------------------------------------------------


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        undo = _watch(self._inner.get_extra_info("socket"))
        try:
            return self._inner.read(max_bytes, timeout)
        finally:
            if undo is not None:
                undo()

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(*args, **kwargs))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class WakeableBackend(httpcore.NetworkBackend):
    """httpcore's sync backend, with streams a cancel can wake."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_tcp(*args, **kwargs))

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(*args, **kwargs))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
