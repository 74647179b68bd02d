"""Running the demo server: :class:`DemoServer` serves it on a thread with its own event
loop (tests, the TUI's ``--demo``, benchmarks); :func:`run_standalone` serves it until
SIGINT/SIGTERM (``ollama-tui serve-demo``).

Both start the same :class:`~.app.DemoApp` with aiohttp's ``handler_cancellation``, so a
client that goes away cancels its handler, and both stop the same way: running requests
are cancelled (outcome "stopped") before the listeners close.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from .app import DemoApp
from .config import DemoConfig, RequestRecord

# DemoConfig is frozen, so one shared default is safe (the constructor's default).
_DEFAULT_CONFIG = DemoConfig()


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def _start_site(app: DemoApp, host: str, port: int) -> tuple[web.AppRunner, int]:
    # handler_cancellation: a client disconnect cancels its handler, even while it sleeps.
    runner = web.AppRunner(
        app.build(), handler_cancellation=True, access_log=None, shutdown_timeout=1.0
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, runner.addresses[0][1]


async def _shut_down(app: DemoApp, runner: web.AppRunner) -> None:
    """Cancel running requests (outcome "stopped"), then close the listeners."""
    await app.cancel_active("stopped")
    await runner.cleanup()


class DemoServer:
    """The demo server on a thread with its own event loop, for tests and the TUI's --demo."""

    def __init__(
        self,
        config: DemoConfig = _DEFAULT_CONFIG,
        host: str = "127.0.0.1",
        port: int = 0,
        keep_log: bool = True,
    ) -> None:
        """`keep_log`: record every request in `log` (tests); off for `--demo`, where a long
        chat would keep every request body in memory."""
        self.config = config
        self.keep_log = keep_log
        self.host = host
        self.port = port
        self.url = ""
        self.log: list[RequestRecord] = []
        self._initial_config = config
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._app: DemoApp | None = None
        self._runner: web.AppRunner | None = None

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> DemoServer:
        """Start serving on a background thread; returns once the socket is listening."""
        if self._thread is not None:
            raise RuntimeError("DemoServer already started")
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, failure), name="ollama-tui-demo-server", daemon=True
        )
        self._thread.start()
        if not ready.wait(10):
            raise TimeoutError("demo server did not start within 10 s")
        if failure:
            self._thread.join(5)
            self._thread = None
            raise failure[0]
        return self

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            self._app = DemoApp(lambda: self.config, self._append if self.keep_log else None)
            self._runner, self.port = loop.run_until_complete(
                _start_site(self._app, self.host, self.port)
            )
        except BaseException as exc:  # handed to start(), which re-raises it
            failure.append(exc)
            ready.set()
            loop.close()
            return
        self.url = _url(self.host, self.port)
        self._loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    def _call(self, factory: Callable[[], Awaitable[None]], timeout: float = 5.0) -> None:
        """Run a coroutine on the server's loop from another thread and wait for it."""
        if self._loop is None or not self._loop.is_running():
            return

        async def wrapper() -> None:
            await factory()

        asyncio.run_coroutine_threadsafe(wrapper(), self._loop).result(timeout)

    def stop(self) -> None:
        """Close open streams and listeners, then join the thread (bounded)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            assert self._app is not None and self._runner is not None
            await _shut_down(self._app, self._runner)

        try:
            self._call(shutdown)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            self._loop = self._thread = None

    def configure(self, **changes: Any) -> None:
        """Change the config for the following requests (a TypeError for unknown fields)."""
        with self._cond:
            self.config = dataclasses.replace(self.config, **changes)

    def reset(self) -> None:
        """Back to the constructor's config and the default models; cancel running
        requests (outcome "stopped") and clear the log."""
        with self._cond:
            self.config = self._initial_config

        async def reset_app() -> None:
            assert self._app is not None
            await self._app.cancel_active("stopped")
            self._app.store.reset()

        self._call(reset_app)
        with self._cond:
            self.log.clear()

    def _append(self, record: RequestRecord) -> None:
        with self._cond:
            self.log.append(record)
            self._cond.notify_all()

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RequestRecord]:
        """Block until at least n requests have arrived; returns a copy of the log."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.log) >= n, timeout):
                raise TimeoutError(f"{len(self.log)} of {n} requests arrived within {timeout} s")
            return list(self.log)


async def _serve_until_signalled(host: str, port: int, config: DemoConfig) -> None:
    app = DemoApp(lambda: config)  # no request log: it would grow without bound
    runner, real_port = await _start_site(app, host, port)
    print(f"ollama-tui demo server listening on {_url(host, real_port)}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not available on Windows; Ctrl+C then arrives as KeyboardInterrupt instead.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await _shut_down(app, runner)


def run_standalone(host: str, port: int, config: DemoConfig) -> None:
    """Serve until SIGINT/SIGTERM, after printing the one line with the real URL."""
    # Only where signal handlers are unavailable: Ctrl+C is the normal way to stop.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_until_signalled(host, port, config))
