"""The paint clock (ui/pacer.py): a stream's updates reach the screen at most once per
interval, together with the other streams', and none is lost."""

from __future__ import annotations

import asyncio

import pytest
from textual import on
from textual.app import App

from ollama_tui.core.events import ContentDelta, StreamEvent
from ollama_tui.core.protocol import chat_request
from ollama_tui.core.timing import StreamTiming
from ollama_tui.session.runner import LiveStream
from ollama_tui.ui.messages import StreamUpdated, tell
from ollama_tui.ui.pacer import Pacer
from tests.uitools import wait_until

INTERVAL = 3600.0  # no deferred update comes back by itself during a test


def stream() -> LiveStream:
    return LiveStream("requests", chat_request("m", []), started=0.0)


def delta(text: str, timing: StreamTiming | None = None) -> ContentDelta:
    return ContentDelta(text, at=0.0, timing=timing or StreamTiming(sent=0.0))


def texts(events: list[StreamEvent]) -> list[str]:
    return [e.text for e in events if isinstance(e, ContentDelta)]


def sent(tokens: int, seconds: float) -> StreamTiming:
    """A stream's timing after `tokens` tokens over `seconds`."""
    return StreamTiming(sent=0.0, first_token=0.0, last_token=seconds, tokens=tokens)


class Screenish(App[None]):
    def __init__(self, hold: bool = False) -> None:
        """`hold`: takes as the chat screen does, holding, its next turn polled."""
        super().__init__()
        self.hold = hold
        self.now = 0.0
        self.pacer = Pacer(self, INTERVAL, clock=lambda: self.now)
        self.shown: list[tuple[int, str]] = []

    @on(StreamUpdated)
    def updated(self, message: StreamUpdated) -> None:
        if self.pacer.due(message.stream):
            events = message.stream.take(hold=self.hold)
            if self.hold:
                self.pacer.taken(message.stream)
            for event in events:
                assert isinstance(event, ContentDelta)
                self.shown.append((message.stream.id, event.text))


async def test_updates_within_an_interval_wait_and_go_out_together() -> None:
    app = Screenish()
    async with app.run_test() as pilot:
        one = stream()
        one.listen(tell(app))
        one.push(delta("a"))
        await wait_until(pilot, lambda: app.shown == [(one.id, "a")])  # the first at once
        one.push(delta("b"))
        one.push(delta("c"))
        await pilot.pause()
        assert app.shown == [(one.id, "a")], "shown before its interval was over"
        assert one in app.pacer._waiting
        app.now += INTERVAL
        app.pacer._again(one)  # what the timer does when the interval is over
        await wait_until(pilot, lambda: len(app.shown) == 3)
        assert app.shown[1:] == [(one.id, "b"), (one.id, "c")], "lost or reordered"


async def test_streams_due_at_the_same_paint_are_shown_together() -> None:
    app = Screenish()
    async with app.run_test() as pilot:
        first, second = stream(), stream()
        for each in (first, second):
            each.listen(tell(app))
        first.push(delta("1"))
        await wait_until(pilot, lambda: len(app.shown) == 1)
        second.push(delta("2"))
        await pilot.pause()
        assert len(app.shown) == 1, "the second stream painted inside the interval"
        first.push(delta("3"))
        await pilot.pause()
        app.now += INTERVAL
        app.pacer._again(second)
        app.pacer._again(first)  # both timers end together: neither waits a new interval
        await wait_until(pilot, lambda: len(app.shown) == 3)
        assert sorted(app.shown[1:]) == sorted([(second.id, "2"), (first.id, "3")])


async def test_a_forgotten_stream_has_no_update_pending() -> None:
    app = Screenish()
    async with app.run_test() as pilot:
        one = stream()
        one.listen(tell(app))
        one.push(delta("a"))
        await wait_until(pilot, lambda: len(app.shown) == 1)
        one.push(delta("b"))
        await pilot.pause()
        assert one in app.pacer._waiting
        app.pacer.forget(one)
        assert one not in app.pacer._waiting


async def test_a_deferred_update_comes_back_by_itself_with_the_end() -> None:
    app = Screenish()
    app.pacer = Pacer(app, 0.05)  # the real clock and timer
    async with app.run_test() as pilot:
        one = stream()
        one.listen(tell(app))
        one.push(delta("a"))
        await wait_until(pilot, lambda: len(app.shown) == 1)
        one.push(delta("b"))
        one.push(delta("end"))
        await wait_until(pilot, lambda: len(app.shown) == 3)
        assert [text for _, text in app.shown] == ["a", "b", "end"]


async def test_a_fast_stream_is_shown_at_the_shorter_interval() -> None:
    app = Screenish()
    # Long intervals: a deferred update never comes back by itself during the test.
    app.pacer = Pacer(app, 1000.0, clock=lambda: app.now, fast=100.0)
    cases = {
        "500 tok/s for a second": (sent(501, 1.0), True),
        "100 tok/s for a second": (sent(101, 1.0), False),
        "20 tokens bunched in 10 ms": (sent(20, 0.01), False),
    }
    async with app.run_test() as pilot:
        for name, (timing, fast) in cases.items():
            each = stream()
            each.listen(tell(app))
            each.push(delta("first", timing))
            first = (each.id, "first")
            await wait_until(pilot, lambda: first in app.shown)  # noqa: B023 (awaited here)
            app.now += 500.0  # more than the fast interval, less than the other
            each.push(delta("second", timing))
            await pilot.pause()
            await pilot.pause()
            shown = (each.id, "second") in app.shown
            assert shown == fast, f"{name}: shown early: {shown}"
            app.pacer.forget(each)
            app.now += 5000.0


def test_a_stream_taken_and_held_does_not_tell_its_listener_until_a_take_finds_nothing() -> None:
    told: list[int] = []
    one = stream()
    one.listen(lambda s: told.append(s.id))
    one.push(delta("a"))
    assert told == [one.id]
    assert texts(one.take(hold=True)) == ["a"]
    one.push(delta("b"))
    one.push(delta("c"))
    assert told == [one.id], "told while held: its taker polls"
    assert one.held
    assert texts(one.take(hold=True)) == ["b", "c"]
    assert one.take(hold=True) == []  # nothing came: released
    assert not one.held
    one.push(delta("d"))
    assert told == [one.id, one.id], "not told again after a take that found nothing"


async def test_a_held_stream_is_polled_at_each_paint_and_released_when_it_dries_up() -> None:
    app = Screenish(hold=True)
    async with app.run_test() as pilot:
        one = stream()
        one.listen(tell(app))
        one.push(delta("a"))
        await wait_until(pilot, lambda: app.shown == [(one.id, "a")])
        assert one in app.pacer._waiting, "no poll at the next paint for a held stream"
        one.push(delta("b"))
        app.now += INTERVAL
        app.pacer._again(one)  # the poll, when its timer fires
        await wait_until(pilot, lambda: len(app.shown) == 2)
        assert app.shown[1] == (one.id, "b")
        assert one in app.pacer._waiting, "a poll that took something is not followed by one"
        app.now += INTERVAL
        app.pacer._again(one)  # nothing came since
        await wait_until(pilot, lambda: not one.held)
        assert one not in app.pacer._waiting, "polled on after a turn that took nothing"
        assert not one.held
        app.now += INTERVAL
        one.push(delta("c"))  # tells again, due at once
        await wait_until(pilot, lambda: len(app.shown) == 3)
        assert app.shown[2] == (one.id, "c")


async def test_a_held_stream_on_the_real_clock_shows_every_event_in_order() -> None:
    app = Screenish(hold=True)
    app.pacer = Pacer(app, 0.02)  # the real clock and timer
    async with app.run_test() as pilot:
        one = stream()
        one.listen(tell(app))
        texts = [str(i) for i in range(30)]
        for text in texts:
            one.push(delta(text))
            await asyncio.sleep(0.005)  # a stream's pace, not a wait for a result
        await wait_until(pilot, lambda: len(app.shown) == len(texts))
        assert [text for _, text in app.shown] == texts


async def test_a_turn_shown_at_once_posts_no_message_and_one_not_shown_does() -> None:
    app = Screenish()
    answers: list[bool] = []
    shown_at_once: list[LiveStream] = []

    def show(stream: LiveStream) -> bool:
        shown_at_once.append(stream)
        return answers.pop(0)

    app.pacer = Pacer(app, INTERVAL, clock=lambda: app.now, show=show)
    async with app.run_test() as pilot:
        one = stream()
        one.push(delta("a"))
        answers.append(True)
        app.pacer._again(one)  # its turn came: shown by `show`
        await pilot.pause()
        assert shown_at_once == [one]
        assert app.shown == [], "told by message as well"
        answers.append(False)
        app.pacer._again(one)  # `show` could not: the screen is told
        await wait_until(pilot, lambda: app.shown == [(one.id, "a")])


async def test_an_error_in_a_turn_shown_at_once_ends_the_app_with_it() -> None:
    def show(stream: LiveStream) -> bool:
        raise ValueError("a bug in show")

    app = Screenish()
    app.pacer = Pacer(app, INTERVAL, clock=lambda: app.now, show=show)
    with pytest.raises(ValueError, match="a bug in show"):
        async with app.run_test() as pilot:
            app.pacer._again(stream())
            await pilot.pause()
            await pilot.pause()
    assert app.return_code == 1
