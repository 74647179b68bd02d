"""Idles a painted frame made useless are not asked for (ui/idle_owed.py), and every idle
that still has work is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from textual import events, messages
from textual.app import App, ComposeResult
from textual.message import Message
from textual.message_pump import MessagePump
from textual.pilot import Pilot
from textual.widget import Widget

from ollama_tui.demo import DemoServer
from ollama_tui.demo.numbered import numbered_reply
from ollama_tui.ui import idle_owed as module
from ollama_tui.ui.idle_owed import IdleOwed, owed_idles
from ollama_tui.ui.widgets.live_segment import LiveSegment
from ollama_tui.ui.widgets.status_bar import StatusBar
from tests.uitools import make_app, send, settle, wait_until


class Owed(IdleOwed, Widget):
    DEFAULT_CSS = "Owed { height: 1; }"


class Plain(Widget):
    DEFAULT_CSS = "Plain { height: 1; }"


class OwnIdle(IdleOwed, Widget):
    """Its idle does something of its own: always woken."""

    DEFAULT_CSS = "OwnIdle { height: 1; }"

    def on_idle(self, event: events.Idle) -> None:
        pass


class Host(IdleOwed, App[None]):
    def compose(self) -> ComposeResult:
        yield Owed(id="owed")
        yield Plain(id="plain")
        yield OwnIdle(id="own")


def prompts(pump: MessagePump, seen: list[MessagePump]) -> None:
    """Note each `Prompt` (an idle asked for) posted to `pump`."""
    post = pump.post_message

    def noted(message: Message) -> bool:
        if isinstance(message, messages.Prompt):
            seen.append(pump)
        return post(message)

    pump.post_message = noted  # type: ignore[method-assign]


@asynccontextmanager
async def watched() -> AsyncIterator[tuple[Host, Pilot[None], Widget, list[MessagePump]]]:
    """The host running, and each idle its `IdleOwed` widget asks for noted."""
    app = Host()
    async with app.run_test() as pilot:
        await pilot.pause()
        owed = app.query_one("#owed")
        seen: list[MessagePump] = []
        prompts(owed, seen)
        yield app, pilot, owed, seen


def test_textual_is_the_version_it_was_written_against() -> None:
    assert module.ENABLED


async def test_an_idle_with_its_work_done_is_not_asked_for_and_one_with_work_is() -> None:
    app = Host()
    async with app.run_test() as pilot:
        await pilot.pause()
        owed, plain, own = app.query_one("#owed"), app.query_one("#plain"), app.query_one("#own")
        seen: list[MessagePump] = []
        for pump in (owed, plain, own):
            prompts(pump, seen)
        with owed_idles():
            owed.refresh()
            plain.refresh()  # not an IdleOwed: Textual's at once
            own.refresh()  # an idle handler of its own: at once
            assert seen == [plain, own]
            owed._repaint_required = False  # painted meanwhile (as `paint_now` does)
        assert seen == [plain, own]  # its idle had nothing left to do: not woken
        await pilot.pause()
        seen.clear()
        with owed_idles():
            owed.refresh()  # not painted: its idle must still tell the screen
        assert seen == [owed]


async def test_work_left_wakes_it() -> None:
    async with watched() as (_, pilot, owed, seen):
        for flag in (
            "_layout_required",
            "_scroll_required",
            "_refresh_styles_required",
            "_recompose_required",
        ):
            await pilot.pause()
            seen.clear()
            with owed_idles():
                owed.check_idle()
                setattr(owed, flag, True)
            assert seen == [owed], flag
            await pilot.pause()
            setattr(owed, flag, False)


async def test_an_idle_with_more_than_a_repaint_to_do_is_asked_for_at_once() -> None:
    # Told after the paint, a layout came a frame later than the layout of what was
    # mounted in the same batch: one more layout of the screen at each cut.
    async with watched() as (app, pilot, owed, seen):
        with owed_idles():
            owed.refresh(layout=True)
            assert seen == [owed]
        await pilot.pause()
        seen.clear()
        with owed_idles():
            owed.call_next(lambda: None)
            assert seen == [owed]
        await pilot.pause()
        app_seen: list[MessagePump] = []
        prompts(app, app_seen)
        with owed_idles():
            with app.batch_update():
                pass
            assert app_seen == []  # the end of a batch: the app's idle has nothing to do
            app.call_next(lambda: None)  # the app's callbacks are not kept waiting
            assert app_seen == [app]


async def test_only_the_task_holding_the_scope_is_deferred() -> None:
    async with watched() as (_, _pilot, owed, seen):
        elsewhere = asyncio.Event()

        async def other() -> None:
            owed.refresh()  # another task (a key, a timer): Textual's at once
            elsewhere.set()

        with owed_idles():
            await asyncio.create_task(other())
            assert elsewhere.is_set() and seen == [owed]


async def test_a_streamed_reply_does_not_wake_its_segment_or_the_app_at_each_append(
    server: DemoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.configure(token_rate=200.0, reply=numbered_reply("prose", 400))
    app = make_app(server, transport="requests")
    woken: dict[str, int] = {"segment": 0, "status": 0, "app": 0, "appends": 0}
    check = MessagePump.check_idle

    def counted(self: MessagePump) -> None:
        if self._running and self._message_queue.empty():
            if isinstance(self, LiveSegment):
                woken["segment"] += 1
            elif isinstance(self, StatusBar):
                woken["status"] += 1
            elif isinstance(self, App):
                woken["app"] += 1
        check(self)

    monkeypatch.setattr(MessagePump, "check_idle", counted)
    from ollama_tui.ui.widgets import markdown_feed

    sink = markdown_feed.MarkdownFeed._sink_and_tidy

    async def appended(self: Any, text: str) -> None:
        woken["appends"] += 1
        await sink(self, text)

    monkeypatch.setattr(markdown_feed.MarkdownFeed, "_sink_and_tidy", appended)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await send(pilot, "hello")
        await wait_until(pilot, lambda: app.chat.turn is None)
        await settle(pilot)
    # Textual's way: the segment and the app woke at every append (the status bar at
    # most of them). Here only where the paint left work (a layout: a hand of rows).
    assert woken["appends"] >= 20, woken
    assert woken["segment"] < woken["appends"] / 3, woken
    assert woken["app"] < woken["appends"] / 3, woken
    assert woken["status"] < woken["appends"] / 3, woken
