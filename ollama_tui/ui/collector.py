"""When CPython's cycle collector may pause the app.

A full (generation 2) collection scans every tracked object that is not frozen and
holds the event loop while it does: with CPython 3.11's defaults it ran about twice a
second while a reply streamed, 60-140 ms each, the app's longest stalls
(docs/ui-performance.md has the measurements). So:

- young collections run every 10,000 net allocations instead of 700: the objects of
  one frame (strips, segments) die before a collection sees them, far fewer are
  promoted, and full collections become rare;
- while a reply streams, no full collection starts on its own, nor a middle one
  (generation 1): it scans all that young collections kept since the last one, and took
  45-60 ms twice in a 30-second code reply at 100 tok/s (headless), the reply's longest
  stalls (gaps just over 100 ms between its frames on a terminal). A stream longer than
  `MAX_DEFER` seconds (a stream that never ends must not grow memory for ever) has one
  every `MAX_DEFER` seconds: full, its survivors frozen, if only the chat is open (the
  older objects are frozen: it scans what young collections kept since the last one);
  else a middle one, and a full one every `FULL_EVERY` of those. What such a freeze
  catches alive and dies later (the growing block's widget) stays frozen until a
  compaction, and none runs inside a stream: about 2,000 objects a freeze in a long
  code reply;
- once nothing has streamed and no key, click, scroll or paste came for `SETTLE`
  seconds (at most `MAX_WAIT` after the last stream ended), one runs; if only the chat
  screen is open, what survives it is frozen (the transcript: it lives until the chat
  is cleared), so the next one scans only what later replies made;
- the compare view's runs follow each other with no idle moment: it collects
  between them (`between_streams()`), outside every timed stream;
- frozen objects that become garbage (a cleared transcript, an exchange taken back)
  are never scanned: `compact_soon()` has the next idle moment unfreeze everything,
  collect, and freeze again;
- so are objects alive at a deferred collection that die later in a cycle (pooled
  connections that expire between replies: about 6 objects a reply,
  docs/ui-performance.md; a reply longer than `MAX_DEFER`, its growing blocks frozen at
  each in-stream collection: about 19,000 objects in a 19,000-token code reply, with a
  collection every 20 s; every 10 s now, so up to about twice that). In a
  long chat with no New chat, once the heap has grown
  `COMPACT_GROWTH` times over since the last compaction (or start-up), a deferred
  collection compacts as well. A compaction scans the whole transcript (0.4-0.8 s
  after 200 short replies, 1.9-2.3 s after 200 longer ones), so it runs only at an
  idle moment, never at `MAX_DEFER` inside a stream, and rarely: not before
  `MIN_BETWEEN` deferred collections (one long reply can double the heap, and its
  collection must stay short), and if it frees less than `WORTH_IT` of the heap, the
  next waits for twice the growth.

Python 3.14's collector is incremental (short pauses by design) and has other
thresholds: there the app leaves it alone.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from time import perf_counter

APPLIES = sys.version_info < (3, 14)
YOUNG = 10_000
NEVER = 1_000_000_000
SETTLE = 0.5
"""Seconds with no stream and no input before the deferred collection runs."""
MAX_WAIT = 5.0
"""Seconds after the last stream when it runs even if the person is still typing."""
MAX_DEFER = 10.0
"""Seconds of streaming after which one runs anyway (bounded memory), and every as many
after it while the stream lasts: it scans what young collections kept since the last
one, so the shorter the period, the shorter the pause. At 120 s (full), a
20,000-token reply at 100 tok/s paused 78 ms there (17,000 objects found) and its frames
were up to 110-135 ms apart on a terminal; at 20 s, ten pauses of 5-13 ms, frames up to
78 ms apart, but a 3,000-token code reply's one pause took 24-60 ms (what its first
20 s kept: the lexer's and the rows' objects), its longest. At 10 s the code reply
pauses 17 ms, then 7 ms; the paragraph 14 ms, then 2-4 ms every 10 s
(docs/ui-performance.md, twenty-third session). Each freeze keeps what dies after it
(about 2,000 objects in a code reply) until an idle compaction."""
FULL_EVERY = 12
"""With another screen than the chat open (nothing frozen), every this many collections
inside a stream is a full one, the others middle ones: what is older is scanned whole
only then, every 120 s, as it was before."""
COMPACT_GROWTH = 2.0
"""A deferred collection compacts once the heap (`sys.getallocatedblocks()`: 60 us for
3 million, where `gc.get_freeze_count()` walks every frozen object, 15-30 ms with a long
transcript) is this many times what the last compaction, or start-up, left."""
MIN_BETWEEN = 10
"""Deferred collections since the last compaction before growth may cause another: the
frozen garbage builds up reply by reply (a 20,000-token reply doubled the heap on its
own, and made its deferred collection a compaction: 539 ms instead of about 320)."""
WORTH_IT = 0.01
"""The share of the heap a compaction due to growth must free for the next one to wait
for no more growth than `COMPACT_GROWTH` again."""


class Collector:
    def __init__(
        self,
        busy: Callable[[], bool],
        only_chat_open: Callable[[], bool],
        clock: Callable[[], float] = perf_counter,
    ) -> None:
        """`busy()`: whether a reply streams; `only_chat_open()`: no other screen is up
        (objects of a screen that will close must not be frozen)."""
        self.busy = busy
        self.only_chat_open = only_chat_open
        self.clock = clock
        self._saved = gc.get_threshold()
        self._deferred_since: float | None = None  # older ones off since (or the last)
        self._compact = False
        self._heap = 0  # blocks allocated after the last compaction or at start-up
        self._growth = COMPACT_GROWTH  # that the next compaction waits for
        self._since = 0  # idle collections (replies) since the last compaction
        self._in_stream = 0  # collections inside streams since the last idle one
        self._quiet_since: float | None = None  # no stream and no input since
        self._idle_since: float | None = None  # no stream since
        self.last_pause: float | None = None
        """Seconds the last collection it ran (or compaction) took (for the UI bench)."""
        self.started = False
        """The start-up collection has run (the UI bench waits for it, as a person does)."""
        self.compactions = 0
        """Compactions run (New chat, edits, or the heap's growth; for the soak)."""
        self.frozen_garbage: int | None = None
        """Objects the last compaction due to growth found frozen and freed."""

    def start(self) -> None:
        """After the first frame: what is alive now (modules, CSS, the screen) lives as
        long as the app; collected once, then frozen out of every full scan."""
        self.started = True
        if not APPLIES:
            return
        deferred = self._deferred_since is not None
        older = (NEVER, NEVER) if deferred else self._saved[1:]
        gc.set_threshold(YOUNG, *older)
        gc.collect()
        gc.freeze()
        self._heap = sys.getallocatedblocks()

    def stop(self) -> None:
        if not APPLIES:
            return
        gc.unfreeze()
        gc.set_threshold(*self._saved)

    def stream_started(self) -> None:
        if not APPLIES:
            return
        if self._deferred_since is None:
            gc.set_threshold(YOUNG, NEVER, NEVER)
            self._deferred_since = self.clock()
        self._quiet_since = self._idle_since = None

    def compact_soon(self) -> None:
        """Frozen objects were dropped: collect them at the next idle moment."""
        self._compact = APPLIES

    def input_seen(self) -> None:
        """A key, click, scroll or paste: what is due waits until the input pauses."""
        self._quiet_since = self.clock()

    def tick(self) -> None:
        """Called a few times a second: run what is due if nothing streams."""
        if self._deferred_since is None and not (self._compact and self.only_chat_open()):
            return  # (a compaction waits for the other screens to close)
        now = self.clock()
        if self.busy():
            self._quiet_since = self._idle_since = None
            if self._deferred_since is not None and now - self._deferred_since >= MAX_DEFER:
                self._collect(idle=False)
                self._deferred_since = now  # and still deferred while it streams
            return
        if self._idle_since is None:
            self._idle_since = now
        if self._quiet_since is None:
            self._quiet_since = now
        if now - self._quiet_since < SETTLE and now - self._idle_since < MAX_WAIT:
            return
        self._finish()

    def between_streams(self) -> None:
        """A pause between timed streams (the compare view's runs, which follow each
        other with no idle moment): run what is due now, outside every stream."""
        if self._deferred_since is not None and not self.busy():
            self._finish()  # (a compaction waits for the compare view to close)

    def _finish(self) -> None:
        self._collect(idle=True)  # (tick and between_streams: nothing streams)
        gc.set_threshold(YOUNG, self._saved[1], self._saved[2])
        self._deferred_since = None
        self._quiet_since = self._idle_since = None

    def _collect(self, idle: bool) -> None:
        """`idle`: no reply streams (a compaction may run; never inside a stream)."""
        started = perf_counter()
        freeze = self.only_chat_open()
        self._in_stream = 0 if idle else self._in_stream + 1
        if idle and freeze and self._compact:
            self._compaction()
        else:
            # Inside a stream with another screen open, the generations young collections
            # fill (what they kept since the last one); the older objects wait for a full
            # collection every FULL_EVERY of these. A collection whose survivors are frozen
            # is full: nothing may be frozen unscanned (what a closed screen left, or a
            # middle collection between replies). It costs the same when the last one froze.
            middle = not freeze and self._in_stream % FULL_EVERY
            gc.collect(1 if middle else 2)
            heap = sys.getallocatedblocks()
            self._since += idle  # replies, not the pauses inside a long one (`MAX_DEFER`)
            grown = self._since >= MIN_BETWEEN and heap >= self._growth * self._heap
            if idle and freeze and self.started and grown:
                self.frozen_garbage = self._compaction()  # (the reply's garbage is gone)
                freed = heap - self._heap  # blocks: the frozen garbage's share of the heap
                worth_it = freed >= WORTH_IT * heap
                self._growth = COMPACT_GROWTH if worth_it else 2 * self._growth - 1
            elif freeze:
                gc.freeze()
        self.last_pause = perf_counter() - started

    def _compaction(self) -> int:
        """Unfreeze, collect, freeze: the objects freed."""
        gc.unfreeze()
        found = gc.collect()
        gc.freeze()
        self._compact = False
        self._heap = sys.getallocatedblocks()
        self._since = 0
        self.compactions += 1
        return found
