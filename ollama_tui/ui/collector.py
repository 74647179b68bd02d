"""Keeps Python's full garbage collections from stalling a streaming reply.

A full (generation 2) collection scans every live container object. While a reply
streams, Textual creates and drops widgets, strips and caches fast enough to trigger
about two full collections a second, and with a long transcript each one holds the
event loop for 50–140 ms (measured: docs/ui-performance.md) — the worst stalls of the
stream. So while a stream runs, whatever survives a full collection is frozen
(`gc.freeze`): later full collections scan only newer objects and take a few ms. Frozen
objects that die in a cycle are not freed until released: when no stream has run for
`IDLE_S`, or when more than `LIMIT` objects are frozen, everything is unfrozen and
collected once.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from typing import Any

IDLE_S = 1.0
LIMIT = 1_500_000


class CollectorPolicy:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()  # streams end in worker threads
        self._active = 0
        self._ended = clock()
        self._installed = False
        self._releasing = False
        self.last_release_s: float | None = None
        """How long the last release's full collection took (for the UI benchmark)."""

    def install(self) -> None:
        if not self._installed:
            gc.callbacks.append(self._on_collect)
            self._installed = True

    def uninstall(self) -> None:
        if self._installed:
            gc.callbacks.remove(self._on_collect)
            self._installed = False
        self.release()

    def begin(self) -> None:
        """A stream started."""
        with self._lock:
            self._active += 1

    def end(self) -> None:
        """A stream ended (from any thread)."""
        with self._lock:
            self._active = max(0, self._active - 1)
            self._ended = self._clock()

    @property
    def streaming(self) -> bool:
        return self._active > 0

    def _on_collect(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["generation"] == 2 and self._active and not self._releasing:
            gc.freeze()

    def tick(self) -> None:
        """Call now and then on the event loop: releases when idle or over the limit."""
        frozen = gc.get_freeze_count()
        if not frozen:
            return
        idle = not self._active and self._clock() - self._ended >= IDLE_S
        if idle or frozen > LIMIT:
            self.release()

    def release(self) -> None:
        if gc.get_freeze_count():
            started = time.perf_counter()
            self._releasing = True  # this collection's survivors stay unfrozen
            try:
                gc.unfreeze()
                gc.collect()
            finally:
                self._releasing = False
            self.last_release_s = time.perf_counter() - started
