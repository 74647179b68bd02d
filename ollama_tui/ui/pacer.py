"""Paces a stream's updates to the screen: at most one every PAINT_INTERVAL (every
FAST_INTERVAL for a stream of FAST_RATE tokens a second or more).

Every update costs a frame (Textual re-arranges and repaints on each), and a frame
costs about the same for one token as for five: on a real terminal at 100 tok/s,
showing each token as it came cost 5-7 s of CPU per 1,000 tokens
(docs/ui-performance.md). Text that arrives within an interval waits for the next one
and goes out with it, so the frame rate follows what eyes need, not the token rate.
The first update of a reply goes out at once (its first words, its TTFT).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from time import perf_counter

from textual.message_pump import MessagePump

from ollama_tui.session.reply import Reply, ReplyUpdate
from ollama_tui.session.runner import LiveStream
from ollama_tui.ui.messages import StreamUpdated

PAINT_INTERVAL = 0.045
"""Seconds between two updates of one stream on screen (22 a second). A token waits for
the next paint, so the lag's 95th percentile on the pty is this interval and 2-4 ms:
at 40 ms it was 41.7-42.3 ms at 100 tok/s, at 45 ms 46.3-46.8 ms (the 50 ms target
holds), for 5-7 % less CPU (`python -m ollama_tui.bench.paired`, docs/ui-performance.md,
sixteenth session). Text read 22 times a second moves as smoothly to the eye."""
FAST_INTERVAL = 0.025
"""The same for a stream at FAST_RATE or more (40 a second): a token waits for the next
paint, up to an interval, and at 500 tok/s a paint carries 20 tokens and its frame is
dearer (a layout every few paints). At 40 ms (the longer interval then) the lag's 95th
percentile was 56-60 ms on the pty there, at 25 ms 42-45 ms; CPU per 1,000 tokens
0.79-0.82 → 0.94-0.97 s in that A/B, about the same in later runs
(docs/ui-performance.md). At 100 tok/s the longer interval is kept: it meets the lag
there and costs less."""
FAST_RATE = 150.0
"""Tokens a second (the stream's own rate so far) from which FAST_INTERVAL applies."""
RATE_AFTER = 0.5
"""Seconds of tokens before a stream's rate is trusted: tokens bunched in one read (the
first few, or a network hiccup) make a short span's rate mean nothing."""


Show = Callable[[LiveStream], bool]
"""Shows a stream whose turn came, at once; False if it must be told by message."""


class Pacer:
    """One paint clock for a screen's streams: the compare view's columns are shown
    together, 22 times a second in all, not 22 times each."""

    def __init__(
        self,
        target: MessagePump,
        interval: float = PAINT_INTERVAL,
        clock: Callable[[], float] = perf_counter,
        fast: float = FAST_INTERVAL,
        show: Show | None = None,
    ) -> None:
        """`target` gets the deferred `StreamUpdated` again when its turn comes, unless
        `show(stream)` shows it then and there; a stream at FAST_RATE or more is shown
        every `fast` seconds, others every `interval`."""
        self.target = target
        self.clock = clock
        self.interval = interval
        self.fast = fast
        # Called from the clock's timer: the message it spares is a step of the
        # target's loop (Textual's dispatch, its idle) at every paint.
        self.show = show
        self._last = -interval
        # Plain loop timers: a Textual `Timer` is a task of its own (three steps of the
        # loop for one call), and one is set at most paints.
        self._waiting: dict[LiveStream, asyncio.TimerHandle] = {}
        # Weak: a stream dropped while its turn was pending (New chat) is not kept here.
        self._granted: weakref.WeakSet[LiveStream] = weakref.WeakSet()

    def due(self, stream: LiveStream) -> bool:
        """Whether `stream`'s waiting events may be shown now; if not, they are asked
        for again at the next paint (nothing is taken meanwhile, so nothing is lost:
        the stream keeps batching)."""
        now = self.clock()
        if stream in self._granted:  # its turn came: shown with the others due now
            self._granted.discard(stream)
            return True
        wait = self._last + self.interval_for(stream) - now
        if wait <= 0:
            self._last = now
            return True
        if stream not in self._waiting:
            loop = asyncio.get_running_loop()
            self._waiting[stream] = loop.call_later(wait, self._again, stream)
        return False

    def take(self, reply: Reply) -> ReplyUpdate:
        """What `reply` holds now, taken at a paint: `taken` asks for its next turn."""
        update = reply.take(hold=True)
        if update.end is None:
            self.taken(reply.stream)
        return update

    def taken(self, stream: LiveStream) -> None:
        """`stream` was just taken with `hold=True`: while it holds (it took something),
        its next turn comes by itself at the next paint, polled rather than told: no
        wake-up from the network's thread and no early `StreamUpdated` for each paint.
        A turn that takes nothing releases it: the next event tells again."""
        if stream.held and stream not in self._waiting:
            wait = max(0.0, self._last + self.interval_for(stream) - self.clock())
            loop = asyncio.get_running_loop()
            self._waiting[stream] = loop.call_later(wait, self._again, stream)

    def interval_for(self, stream: LiveStream) -> float:
        """`fast` for a stream at FAST_RATE or more so far, else `interval`."""
        timing = stream.timing
        first, last = timing.first_token, timing.last_token
        span = last - first if first is not None and last is not None else 0.0
        rate = timing.tokens_per_s if span >= RATE_AFTER else None
        return min(self.fast, self.interval) if rate and rate >= FAST_RATE else self.interval

    def _again(self, stream: LiveStream) -> None:
        self._waiting.pop(stream, None)
        self._last = max(self._last, self.clock())
        self._granted.add(stream)
        try:
            shown = self.show is not None and self.show(stream)
        except Exception as error:  # reported as a handler's would be
            # Not left to the loop's logger: the app ends with it, as Textual does.
            self.target.app._handle_exception(error)
            return
        if not shown:
            self.target.post_message(StreamUpdated(stream))

    def forget(self, stream: LiveStream) -> None:
        """The stream ended: drop what is pending for it (a deferred update may still
        come: it finds nothing to take, or a stream no longer shown)."""
        self._granted.discard(stream)
        timer = self._waiting.pop(stream, None)
        if timer is not None:
            timer.cancel()
        if not self._waiting:
            self._last = -self.interval  # the next reply's first words go out at once
