"""The feed that appends streamed text: what runs along with an append, and when not."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from ollama_tui.ui.widgets.markdown_feed import MarkdownFeed


def recording(done: list[str], gate: asyncio.Event | None = None) -> MarkdownFeed:
    async def sink(text: str) -> None:
        if gate is not None:
            await gate.wait()
        done.append(f"sink {text}")

    @contextlib.contextmanager
    def batch() -> Iterator[None]:
        done.append("batch")
        yield
        done.append("end batch")

    return MarkdownFeed(sink, batch=batch, paint=lambda: done.append("paint"))


async def test_a_call_along_with_text_runs_in_the_batch_that_appends_it() -> None:
    done: list[str] = []
    feed = recording(done)
    feed.write("words", lambda: done.append("figures"))
    await feed.stop()
    # Painted once the batch has ended (ui/paint_now.py: nothing is painted inside one).
    assert done == ["batch", "sink words", "figures", "end batch", "paint"]


async def test_a_feed_cancelled_during_an_append_runs_nothing_along_with_it() -> None:
    # New chat while an append runs: the old reply's figures must not reach the bar.
    done: list[str] = []
    gate = asyncio.Event()
    feed = recording(done, gate)
    feed.write("words", lambda: done.append("figures"))
    while "batch" not in done:  # the append has started, and waits at the gate
        await asyncio.sleep(0)
    feed.cancel()
    gate.set()
    while "end batch" not in done:
        await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert "figures" not in done and "sink words" in done
    assert "paint" not in done  # (its widgets are going: nothing of theirs is painted)
