"""Feeds streamed text into a Markdown widget without hogging the event loop.

Like Textual's `MarkdownStream`, fragments that arrive while an append runs are
joined into the next one. Unlike it, each append is followed by a rest as long as
the append took: one growing code fence or paragraph is re-parsed (and a fence
re-highlighted) whole on every append, so appends get slower as it grows, and
back-to-back appends would leave no time for keystrokes. Resting in proportion
keeps the loop at most about half busy with Markdown, and batches grow to match.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from time import perf_counter

REST_FACTOR = 0.25


Sink = Callable[[str], Awaitable[None]]
Tidy = Callable[[], Awaitable[None]]
Batch = Callable[[], AbstractContextManager[None]]
Along = Callable[[], object]


async def _nothing() -> None:
    return None


def _consume(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved: an append into removed widgets is expected here


class MarkdownFeed:
    def __init__(
        self,
        sink: Sink,
        tidy: Tidy = _nothing,
        batch: Batch = contextlib.nullcontext,
        paint: Along | None = None,
        frame: Batch = contextlib.nullcontext,
    ) -> None:
        """`sink(text)` appends joined text (to one or, for a long reply, more widgets);
        `tidy()` runs after each append, for work that need not delay the text; both
        run inside `batch()` (the app's `batch_update`: what they change is shown in one
        frame, not one per step they await); `paint()` runs once the batch has ended
        (the app's `paint_for`: that frame is painted then, not at the screen's tick);
        `frame()` is held around both (`idle_owed.owed_idles`: the idles the batch asks
        for wait for the paint, which does their work)."""
        self.sink = sink
        self.tidy = tidy
        self.batch = batch
        self.paint = paint
        self.frame = frame
        self._pending: list[str] = []
        self._along: list[Along] = []
        self._cancelled = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._append: asyncio.Future[None] | None = None

    def write(self, fragment: str, along: Along | None = None) -> None:
        """Append `fragment` soon; `along()` runs in the same batch as its append (a
        status bar's figures change in the frame that shows the text, not one of their
        own)."""
        if along is not None:
            self._along.append(along)
        if not fragment:
            return
        self._pending.append(fragment)
        self._wake.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            text = "".join(self._pending)
            self._pending.clear()
            started = perf_counter()
            # Shielded: a cancel (stop) must not cut an append in half.
            self._append = asyncio.ensure_future(self._sink_and_tidy(text))
            await asyncio.shield(self._append)
            await asyncio.sleep((perf_counter() - started) * REST_FACTOR)

    async def _sink_and_tidy(self, text: str) -> None:
        along, self._along = self._along, []
        with self.frame():
            with self.batch():
                if text:
                    await self.sink(text)
                await self.tidy()
                if not self._cancelled:  # (its widget went meanwhile: New chat, say)
                    for call in along:
                        call()
            if self.paint is not None and not self._cancelled:
                self.paint()

    def cancel(self) -> None:
        """End the feed and drop pending text: its widget is going away (app quit)."""
        self._cancelled = True
        self._pending.clear()
        self._along.clear()
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._append is not None and not self._append.done():
            # An append in flight may fail on widgets already gone: nobody waits for it.
            self._append.add_done_callback(_consume)
        self._append = None

    async def stop(self) -> None:
        """Append whatever is still pending and end the feed."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):  # the cancel just asked for
                await self._task
            self._task = None
        if self._append is not None:
            # An append still running would land after ours and duplicate text.
            await self._append
            self._append = None
        text = "".join(self._pending)
        self._pending.clear()
        await self._sink_and_tidy(text)
