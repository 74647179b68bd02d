"""When CPython's cycle collector may pause the app.

A full (generation 2) collection scans every tracked object that is not frozen and
holds the event loop while it does: with CPython 3.11's defaults it ran about twice a
second while a reply streamed, 60-140 ms each, the app's longest stalls
(docs/ui-performance.md has the measurements). So:

- young collections run every 10,000 net allocations instead of 700: the objects of
  one frame (strips, segments) die before a collection sees them, far fewer are
  promoted, and full collections become rare;
- while any stream runs, no full collection starts on its own;
- once nothing has streamed and no key was pressed for `SETTLE` seconds (at most
  `MAX_WAIT` after the last stream ended), one runs, and what survives it is
  frozen (the transcript: it lives until the chat is cleared), so the next one scans
  only what later replies made;
- frozen objects that become garbage (a cleared transcript, a closed screen that was
  open at a freeze) are never scanned: `compact_soon()` (and a closed screen) has the
  next idle moment unfreeze everything, collect, and freeze again.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from time import perf_counter

YOUNG = 10_000
NEVER = 1_000_000_000
SETTLE = 0.5
"""Seconds with no stream and no key pressed before the deferred collection runs."""
MAX_WAIT = 5.0
"""Seconds after the last stream when it runs even if the person is still typing."""


class Collector:
    def __init__(
        self,
        busy: Callable[[], bool],
        open_screens: Callable[[], list[object]],
        clock: Callable[[], float] = perf_counter,
    ) -> None:
        """`busy()`: whether a stream runs; `open_screens()`: the app's screen stack."""
        self.busy = busy
        self.open_screens = open_screens
        self.clock = clock
        self._saved = gc.get_threshold()
        self._deferred = False
        self._compact = False
        self._quiet_since: float | None = None  # no stream and no key since
        self._idle_since: float | None = None  # no stream since
        self._frozen_with: list[weakref.ref[object]] = []  # screens open at the last freeze
        self.last_pause: float | None = None
        """Seconds the last deferred collection took (for the UI bench)."""

    def start(self) -> None:
        """After the first frame: what is alive now (modules, CSS, the screen) lives as
        long as the app; freeze it out of every full scan."""
        gc.set_threshold(YOUNG, self._saved[1], NEVER if self._deferred else self._saved[2])
        self._freeze()

    def stop(self) -> None:
        gc.unfreeze()
        gc.set_threshold(*self._saved)

    def stream_started(self) -> None:
        if not self._deferred:
            gc.set_threshold(YOUNG, self._saved[1], NEVER)
            self._deferred = True
        self._quiet_since = None

    def compact_soon(self) -> None:
        """Frozen objects were dropped: collect them at the next idle moment."""
        self._compact = True

    def input_seen(self) -> None:
        """A key was pressed: what is due waits until the typing pauses."""
        self._quiet_since = self.clock()

    def tick(self) -> None:
        """Called a few times a second: run what is due if nothing streams."""
        if self.busy():
            self._quiet_since = self._idle_since = None
            return
        if not self._compact and self._screen_closed():
            self._compact = True
        if not (self._deferred or self._compact):
            return
        now = self.clock()
        if self._idle_since is None:
            self._idle_since = now
        if self._quiet_since is None:
            self._quiet_since = now
        if now - self._quiet_since < SETTLE and now - self._idle_since < MAX_WAIT:
            return
        started = perf_counter()
        if self._compact:
            gc.unfreeze()
        gc.collect()
        self._freeze()
        self.last_pause = perf_counter() - started
        gc.set_threshold(YOUNG, self._saved[1], self._saved[2])
        self._deferred = self._compact = False
        self._quiet_since = self._idle_since = None

    def _screen_closed(self) -> bool:
        """Whether a screen open at the last freeze has closed (it is frozen garbage)."""
        open_now = self.open_screens()
        return any(
            screen is not None and all(screen is not s for s in open_now)
            for screen in (ref() for ref in self._frozen_with)
        )

    def _freeze(self) -> None:
        gc.freeze()
        self._frozen_with = [weakref.ref(s) for s in self.open_screens()]
