"""When full garbage collections may run (ui/collector.py)."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator

import pytest

from ollama_tui.core.protocol import ChatMessage, chat_request, pull_request
from ollama_tui.demo import DemoServer
from ollama_tui.session.reply import ReplyUpdate
from ollama_tui.ui import collector as collector_module
from ollama_tui.ui.collector import MAX_DEFER, MAX_WAIT, NEVER, SETTLE, YOUNG, Collector
from ollama_tui.ui.widgets.chat_message import AssistantMessage
from ollama_tui.ui.widgets.markdown_feed import Along
from tests.uitools import make_app, replies, send, send_and_wait, wait_until


class Node:
    """Something that can sit in a reference cycle and be watched by a weak reference."""

    def __init__(self) -> None:
        self.me = self


def a_cycle() -> weakref.ref[Node]:
    return weakref.ref(Node())


class Fake:
    def __init__(self) -> None:
        self.busy = False
        self.now = 0.0
        self.only_chat = True

    def collector(self) -> Collector:
        return Collector(lambda: self.busy, lambda: self.only_chat, lambda: self.now)

    def settle(self, collector: Collector) -> None:
        """Two ticks SETTLE apart with nothing streaming."""
        collector.tick()
        self.now += SETTLE + 0.01
        collector.tick()

    def reply(self, collector: Collector, times: int = 1) -> None:
        for _ in range(times):
            collector.stream_started()
            self.settle(collector)


@pytest.fixture
def fake() -> Iterator[Fake]:
    saved = gc.get_threshold()
    yield Fake()
    gc.unfreeze()
    gc.set_threshold(*saved)


def test_start_freezes_and_raises_the_young_threshold(fake: Fake) -> None:
    collector = fake.collector()
    collector.start()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == YOUNG
    collector.stop()
    assert gc.get_freeze_count() == 0


def test_no_full_collection_while_streaming_and_one_after(fake: Fake) -> None:
    collector = fake.collector()
    collector.start()
    collector.stream_started()
    fake.busy = True
    assert gc.get_threshold()[1:] == (NEVER, NEVER), "no middle or full collection"
    garbage = a_cycle()
    fake.now += MAX_DEFER / 2
    collector.tick()
    assert garbage() is not None and collector.last_pause is None
    fake.busy = False
    collector.tick()  # quiet from now on
    fake.now += SETTLE / 2
    collector.tick()
    assert garbage() is not None, "collected before the app had settled"
    fake.now += SETTLE
    collector.tick()
    assert garbage() is None
    assert collector.last_pause is not None
    assert NEVER not in gc.get_threshold()


def test_typing_puts_the_collection_off_for_at_most_max_wait(fake: Fake) -> None:
    collector = fake.collector()
    collector.start()
    collector.stream_started()
    garbage = a_cycle()
    collector.tick()  # the stream has ended
    while fake.now < MAX_WAIT - 0.25:
        fake.now += 0.25
        collector.input_seen()
        collector.tick()
        assert garbage() is not None, f"collected while typing, {fake.now} s after the stream"
    fake.now += 0.5
    collector.input_seen()
    collector.tick()
    assert garbage() is None, "typing put it off for longer than MAX_WAIT"


def test_a_pause_in_typing_lets_it_run(fake: Fake) -> None:
    collector = fake.collector()
    collector.start()
    collector.stream_started()
    garbage = a_cycle()
    collector.input_seen()
    collector.tick()
    fake.now += SETTLE + 0.01
    collector.tick()
    assert garbage() is None


def test_a_stream_starting_before_the_first_frame_stays_deferred(fake: Fake) -> None:
    collector = fake.collector()
    collector.stream_started()
    collector.start()
    assert gc.get_threshold()[1:] == (NEVER, NEVER)


def test_frozen_garbage_is_collected_after_compact_soon(fake: Fake) -> None:
    collector = fake.collector()
    node = Node()
    garbage = weakref.ref(node)
    collector.start()  # frozen while alive, as a transcript's widgets are
    del node
    gc.collect()
    assert garbage() is not None, "frozen objects are not scanned"
    fake.settle(collector)
    assert garbage() is not None, "nothing was due"
    collector.compact_soon()
    fake.settle(collector)
    assert garbage() is None
    assert gc.get_freeze_count() > 0, "the survivors are frozen again"


def test_nothing_is_frozen_while_another_screen_is_open(fake: Fake) -> None:
    """Its widgets would be frozen garbage once it closes."""
    collector = fake.collector()
    collector.start()
    frozen = gc.get_freeze_count()
    fake.only_chat = False
    collector.stream_started()
    keep = [Node() for _ in range(100)]
    fake.settle(collector)
    assert collector.last_pause is not None, "collected all the same"
    assert gc.get_freeze_count() == frozen
    fake.only_chat = True
    fake.reply(collector)
    assert gc.get_freeze_count() >= frozen + len(keep)


def test_a_compaction_waits_for_other_screens_to_close(fake: Fake) -> None:
    collector = fake.collector()
    node = Node()
    garbage = weakref.ref(node)
    collector.start()
    del node
    collector.compact_soon()
    fake.only_chat = False
    fake.settle(collector)
    fake.settle(collector)
    assert collector.last_pause is None, "no collection while it cannot compact"
    fake.only_chat = True
    fake.settle(collector)
    assert garbage() is None


def frozen_then_dropped(fake: Fake, collector: Collector) -> weakref.ref[Node]:
    """Alive at a deferred collection (so frozen), dead later: an expired connection."""
    nodes = [Node()]
    fake.reply(collector)
    return weakref.ref(nodes.pop())


def old_garbage() -> weakref.ref[Node]:
    """A cycle that survived a middle collection, then was dropped: garbage in the oldest
    generation, not frozen (only a full collection finds it)."""
    kept = [Node()]
    old = weakref.ref(kept[0])
    gc.collect(1)
    return old


def heap_to(factor: float, base: int) -> list[list[int]]:
    """Kept objects (a transcript) taking the heap to `factor` times `base` blocks."""
    return [[] for _ in range(max(0, int(base * factor) - sys.getallocatedblocks() + 999))]


@pytest.fixture
def lax(monkeypatch: pytest.MonkeyPatch) -> None:
    """Growth may compact at any deferred collection; 1.25 times is growth enough."""
    monkeypatch.setattr(collector_module, "MIN_BETWEEN", 1)
    monkeypatch.setattr(collector_module, "COMPACT_GROWTH", 1.25)


def test_a_long_chat_compacts_once_the_heap_has_grown(fake: Fake, lax: None) -> None:
    collector = fake.collector()
    collector.start()
    base = sys.getallocatedblocks()
    garbage = frozen_then_dropped(fake, collector)
    transcript = heap_to(1.2, base)
    fake.reply(collector)
    assert garbage() is not None and collector.compactions == 0, "compacted too soon"
    transcript += heap_to(1.25, base)
    fake.reply(collector)
    assert garbage() is None and collector.compactions == 1, "frozen garbage stays"
    assert gc.get_freeze_count() >= len(transcript), "the survivors are frozen again"


def grown_after_replies(
    fake: Fake, replies: int
) -> tuple[Collector, weakref.ref[Node], list[list[int]]]:
    """A started collector, garbage frozen, the heap grown to `COMPACT_GROWTH` times (its
    transcript, returned to keep), then `replies` replies."""
    collector = fake.collector()
    collector.start()
    garbage = frozen_then_dropped(fake, collector)
    transcript = heap_to(collector_module.COMPACT_GROWTH, sys.getallocatedblocks())
    fake.reply(collector, replies)
    return collector, garbage, transcript


def test_one_long_reply_doubling_the_heap_gets_an_ordinary_collection(fake: Fake) -> None:
    collector, garbage, _transcript = grown_after_replies(fake, collector_module.MIN_BETWEEN - 2)
    assert garbage() is not None and collector.compactions == 0, "compacted too soon"
    fake.reply(collector)
    assert garbage() is None and collector.compactions == 1


def test_a_long_stream_collects_every_max_defer_and_counts_as_one_reply(fake: Fake) -> None:
    collector, frozen, _transcript = grown_after_replies(fake, collector_module.MIN_BETWEEN - 3)
    collector.stream_started()
    fake.busy = True
    for period in range(collector_module.MIN_BETWEEN):
        garbage = a_cycle()
        fake.now += MAX_DEFER + 0.01
        collector.tick()
        assert garbage() is None, f"period {period} of the stream collected nothing"
    fake.busy = False
    fake.settle(collector)
    assert frozen() is not None and collector.compactions == 0, "its pauses counted as replies"
    fake.reply(collector)
    assert frozen() is None and collector.compactions == 1


def test_with_another_screen_open_a_long_stream_scans_the_old_objects_every_full_every(
    fake: Fake,
) -> None:
    collector = fake.collector()
    collector.start()
    fake.only_chat = False  # nothing is frozen: the old objects are scanned only by a full one
    old = old_garbage()
    collector.stream_started()
    fake.busy = True
    for period in range(1, collector_module.FULL_EVERY + 1):
        young = a_cycle()
        fake.now += MAX_DEFER + 0.01
        collector.tick()
        assert young() is None, f"period {period}: the young garbage stayed"
        full = period == collector_module.FULL_EVERY
        assert (old() is None) == full, f"period {period}: a full collection is every FULL_EVERY-th"


def test_a_stream_freezes_nothing_unscanned(fake: Fake) -> None:
    """The chat alone: an in-stream collection freezes its survivors, so it scans all that is
    not frozen (a middle collection between replies, a screen since closed, put objects in
    the oldest generation unfrozen)."""
    collector = fake.collector()
    collector.start()
    old = old_garbage()
    collector.stream_started()
    fake.busy = True
    fake.now += MAX_DEFER + 0.01
    collector.tick()
    assert old() is None, "frozen unscanned: it stays until a compaction"


def test_the_collection_after_a_stream_is_a_full_one(fake: Fake) -> None:
    collector = fake.collector()
    collector.start()
    fake.only_chat = False  # nothing frozen: the old garbage is found by a full one only
    old = old_garbage()
    fake.reply(collector)
    assert old() is None, "the idle collection did not scan the oldest generation"


def test_a_long_stream_collects_once_a_period_not_at_every_tick(fake: Fake) -> None:
    collector = fake.collector()
    collector.start()
    collector.stream_started()
    fake.busy = True
    fake.now += MAX_DEFER + 0.01
    collector.tick()
    garbage = a_cycle()
    fake.now += 0.25
    collector.tick()
    assert garbage() is not None, "collected again a tick after the period's collection"


def test_a_compaction_that_frees_little_doubles_the_growth_the_next_waits_for(
    fake: Fake, lax: None
) -> None:
    collector = fake.collector()
    collector.start()
    transcript = heap_to(1.25, sys.getallocatedblocks())
    fake.reply(collector)
    assert collector.compactions == 1, "it frees next to nothing"
    base = sys.getallocatedblocks()
    garbage = frozen_then_dropped(fake, collector)
    transcript += heap_to(1.25 * 1.1, base)
    fake.reply(collector)
    assert collector.compactions == 1, "compacted again at the growth that freed nothing"
    transcript += heap_to(1.5, base)
    fake.reply(collector)
    assert collector.compactions == 2 and garbage() is None, "twice the growth: compacted"


def test_a_compaction_that_frees_much_keeps_the_growth_the_next_waits_for(
    fake: Fake, lax: None
) -> None:
    collector = fake.collector()
    collector.start()
    base = sys.getallocatedblocks()
    nodes = [Node() for _ in range(int(base * collector_module.WORTH_IT * 3))]
    garbage = weakref.ref(nodes[0])
    fake.reply(collector)  # frozen alive
    nodes.clear()
    transcript = heap_to(1.25, base)
    fake.reply(collector)
    assert collector.compactions == 1 and garbage() is None
    transcript += heap_to(1.25 * 1.05, sys.getallocatedblocks())
    fake.reply(collector)
    assert collector.compactions == 2, "the growth it waits for stayed COMPACT_GROWTH"


def test_a_compaction_never_runs_inside_a_stream_even_at_max_defer(fake: Fake) -> None:
    collector = fake.collector()
    collector.start()
    garbage = frozen_then_dropped(fake, collector)
    collector.compact_soon()
    collector.stream_started()
    fake.busy = True
    fake.now += MAX_DEFER + 1
    collector.tick()
    assert collector.last_pause is not None, "the MAX_DEFER collection ran"
    assert garbage() is not None, "but it did not unfreeze the transcript"
    fake.busy = False
    fake.settle(collector)
    assert garbage() is None and collector.compactions == 1


def test_a_stream_that_never_ends_gets_a_collection_after_max_defer(fake: Fake) -> None:
    collector = fake.collector()
    collector.start()
    collector.stream_started()
    fake.busy = True
    garbage = a_cycle()
    fake.now += MAX_DEFER - 1
    collector.tick()
    assert garbage() is not None
    fake.now += 2
    collector.tick()
    assert garbage() is None
    assert gc.get_threshold()[1:] == (NEVER, NEVER), "still deferred while it streams"


def test_between_streams_collects_what_is_due_but_not_during_one(fake: Fake) -> None:
    collector = fake.collector()
    collector.start()
    collector.stream_started()
    garbage = a_cycle()
    fake.busy = True
    collector.between_streams()
    assert garbage() is not None
    fake.busy = False
    collector.between_streams()
    assert garbage() is None


def test_a_stream_restarts_the_wait_for_typing_to_pause(fake: Fake) -> None:
    collector = fake.collector()
    collector.start()
    collector.stream_started()
    collector.tick()  # the first stream has ended; typing goes on
    while fake.now < MAX_WAIT - 0.5:
        fake.now += 0.25
        collector.input_seen()
        collector.tick()
    collector.stream_started()  # a request that fails at once
    garbage = a_cycle()
    collector.tick()
    for _ in range(8):
        fake.now += 0.25
        collector.input_seen()
        collector.tick()
        assert garbage() is not None, "collected while typing, soon after a stream"


async def test_the_app_defers_full_collections_while_a_reply_streams(
    server: DemoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.configure(reply="word " * 150, token_rate=100)
    saved = gc.get_threshold()
    app = make_app(server)
    full: list[int] = []
    while_streaming: set[tuple[int, ...]] = set()

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and app.chat.turn is not None and info["generation"] > 0:
            full.append(info["generation"])

    shown = AssistantMessage.show

    def show(self: AssistantMessage, update: ReplyUpdate, along: Along | None = None) -> None:
        # At each update of the reply on screen, its last (with the end) too: not at the
        # test's pauses, which a busy machine may space wider than the whole reply.
        while_streaming.add(gc.get_threshold()[1:])
        shown(self, update, along)

    monkeypatch.setattr(AssistantMessage, "show", show)

    def ended() -> bool:
        return bool(app.session.conversation.messages) and app.chat.turn is None

    async with app.run_test() as pilot:
        gc.callbacks.append(count)
        try:
            await send(pilot, "hi")
            await wait_until(pilot, ended)
        finally:
            gc.callbacks.remove(count)
        assert while_streaming == {(NEVER, NEVER)}
        assert full == []
        await wait_until(pilot, lambda: app.collector.last_pause is not None)
        assert NEVER not in gc.get_threshold()
    assert gc.get_freeze_count() == 0, "the app unfreezes what it froze"
    assert gc.get_threshold() == saved, "and puts the thresholds back"


async def test_a_reply_holds_collections_off_until_its_end_and_a_pull_does_not(
    server: DemoServer,
) -> None:
    server.configure(reply="word " * 40, token_rate=40, pull_duration=3.0)
    app = make_app(server)
    async with app.run_test() as pilot:
        pull = app.runner.start("httpx-async", pull_request("demo"), smooth=False)
        await wait_until(pilot, lambda: any(r.path == "/api/pull" for r in server.log))
        assert not app.runner.busy, "a pull is not a reply on screen"
        pull.stop()
        question = [ChatMessage("user", "hi")]
        reply = app.runner.start("httpx-async", chat_request("demo", question))
        assert app.runner.busy
        # Busy until the end event is delivered, not until the body has been drained.
        await wait_until(pilot, lambda: reply.ended)
        assert not app.runner.busy


async def test_new_chat_frees_the_cleared_transcript_at_its_compaction(
    server: DemoServer,
) -> None:
    """Textual's layout caches kept the cleared transcript (ui/textual_fixes.py)."""
    server.configure(reply="Some *Markdown* and `code`.", token_rate=0)
    app = make_app(server)
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: app.collector.started)
        for text in ("one", "two"):
            app.collector.last_pause = None
            await send_and_wait(pilot, app, text)
            await wait_until(pilot, lambda: app.collector.last_pause is not None)
        shown = weakref.ref(replies(app)[0])  # frozen by the collections above
        compactions = app.collector.compactions
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: app.collector.compactions > compactions)
        assert shown() is None, "the cleared transcript outlived its compaction"
