"""An append's repaints are written as its batch ends (ui/paint_now.py), and only when
nothing but repaints is pending: what the terminal shows is what the app draws."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual import messages
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Static

from ollama_tui.demo import DemoServer
from ollama_tui.transports import TRANSPORT_NAMES
from ollama_tui.ui import paint_now as module
from ollama_tui.ui.paint_now import PaintsNow, paint_for, paint_now
from tests.uitools import (
    Line,
    PaintingApp,
    TextTerminal,
    make_app,
    screen_text,
    send,
    settle,
    wait_until,
)

WIDTH, HEIGHT = PaintingApp.SIZE


class Shown(PaintingApp):
    def compose(self) -> ComposeResult:
        yield Line("first", id="line")
        yield Static("status", id="status")
        yield Line("figures", id="figures")


def test_textual_is_the_version_it_was_written_against() -> None:
    assert module.ENABLED


async def test_a_repaint_is_written_at_once_and_not_again_at_the_tick() -> None:
    app = Shown()
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        await pilot.pause()
        line, figures = app.query_one("#line", Line), app.query_one("#figures", Line)
        assert app.terminal.rows()[:3] == ["first", "status", "figures"]
        line.text = "second"
        figures.text = "1.2 s"
        written = len(app.terminal.updates)
        assert paint_now(app.screen)
        # Both on the terminal now, in one write, before the app has run again.
        assert app.terminal.rows()[:3] == ["second", "status", "1.2 s"]
        assert len(app.terminal.updates) == written + 1
        updates: list[Widget] = []
        post = app.screen.post_message

        def posted(message: Message) -> bool:
            if isinstance(message, messages.Update):
                updates.append(message.widget)
            return post(message)

        app.screen.post_message = posted  # type: ignore[method-assign]
        await pilot.pause()
        await pilot.pause()
        assert updates == []  # nothing asked of the screen for them: they are painted
        assert len(app.terminal.updates) == written + 1
        assert app.terminal.rows()[:3] == ["second", "status", "1.2 s"]


async def test_what_the_screen_was_told_to_repaint_before_is_painted_too() -> None:
    # A widget's idle may have told the screen already (`Update`, handled: the screen
    # holds it among its dirty widgets) when the tick has not come yet.
    app = Shown()
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        await pilot.pause()
        line, figures = app.query_one("#line", Line), app.query_one("#figures", Line)
        figures.text = "told before"
        figures._repaint_required = False  # as its idle does, posting:
        await app.screen._on_update(messages.Update(figures))
        line.text = "asked now"
        assert paint_now(app.screen)
        assert app.terminal.rows()[:3] == ["asked now", "status", "told before"]


def _set(flag: str) -> Callable[[Screen[Any]], object]:
    return lambda screen: setattr(screen, flag, True)


@pytest.mark.parametrize(
    "ask",
    [
        _set("_layout_required"),  # (set as the screen handles `Layout`)
        lambda screen: screen.refresh(),  # all of it
        _set("_scroll_required"),  # (set as the screen handles `UpdateScroll`)
        _set("_recompose_required"),
    ],
    ids=["layout", "repaint", "scroll", "recompose"],
)
async def test_a_screen_with_more_to_do_than_repaints_is_left_to_its_tick(
    ask: Callable[[Screen[Any]], object],
) -> None:
    app = Shown()
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        await pilot.pause()
        app.query_one("#line", Line).text = "second"
        ask(app.screen)
        written = len(app.terminal.updates)
        assert not paint_now(app.screen)
        assert len(app.terminal.updates) == written
        app.screen._recompose_required = False  # (the default screen composes nothing)
        app.screen._layout_required = False  # (no message said which widgets to lay out)
        await pilot.pause()
        assert app.terminal.rows()[0] == "second"


async def test_a_layout_or_a_batch_or_a_screen_on_top_is_left_to_textual() -> None:
    class Dialog(ModalScreen[None]):
        def compose(self) -> ComposeResult:
            yield Static("a dialog")

    app = Shown()
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        await pilot.pause()
        line, status = app.query_one("#line", Line), app.query_one("#status", Static)
        line.text = "second"
        status.update("two\nlines")  # taller: a layout
        assert not paint_now(app.screen)
        assert app.terminal.rows()[:3] == ["first", "status", "figures"]  # not yet
        await pilot.pause()
        assert app.terminal.rows()[:4] == ["second", "two", "lines", "figures"]  # the tick's

        with app.batch_update():
            line.text = "third"
            assert not paint_now(app.screen)
        await pilot.pause()
        assert app.terminal.rows()[0] == "third"

        screen = app.screen
        await app.push_screen(Dialog())
        await pilot.pause()
        line.text = "under it"
        screen._repaint_required = False  # (a covered screen's: it would bail out too)
        assert not paint_now(screen)
        app.pop_screen()
        await pilot.pause()
        assert app.terminal.rows()[0] == "under it"


async def test_a_widget_being_removed_is_not_painted() -> None:
    # Removing a reply detaches its children before their feed is cancelled: an append
    # ending between the two must not paint them (`_closing`, as Textual sets it).
    app = Shown()
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        await pilot.pause()
        line = app.query_one("#line", Line)
        line.text = "going"
        line._closing = True
        written = len(app.terminal.updates)
        assert not paint_now(app.screen)
        assert len(app.terminal.updates) == written
        line._closing = False


async def test_a_widget_on_no_screen_paints_nothing() -> None:
    # A reply removed while its append ran: its feed asks for a paint all the same.
    app = Shown()
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        await pilot.pause()
        line = app.query_one("#line", Line)
        await line.remove()
        written = len(app.terminal.updates)
        assert not paint_for(line)
        assert len(app.terminal.updates) == written


async def test_the_compare_view_paints_its_columns_together_at_its_tick() -> None:
    from ollama_tui.ui.screens.compare import CompareScreen

    assert not issubclass(CompareScreen, PaintsNow)

    class Columns(Shown):
        def get_default_screen(self) -> Screen[Any]:
            return Screen()  # not `PaintsNow`, as the compare view's is not

    app = Columns()
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        await pilot.pause()
        app.query_one("#line", Line).text = "second"
        assert not paint_now(app.screen)
        assert app.terminal.rows()[0] == "first"
        await pilot.pause()
        assert app.terminal.rows()[0] == "second"


async def test_nothing_asked_paints_nothing() -> None:
    app = Shown()
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        await pilot.pause()
        written = len(app.terminal.updates)
        assert not paint_now(app.screen)
        assert len(app.terminal.updates) == written


@pytest.mark.parametrize("transport", TRANSPORT_NAMES)
async def test_a_streamed_reply_is_painted_by_its_appends_as_the_app_draws_it(
    transport: str, server: DemoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ollama_tui.ui.widgets import chat_message

    painted: list[bool] = []

    def counted(widget: Widget) -> bool:
        painted.append(paint_for(widget))
        return painted[-1]

    monkeypatch.setattr(chat_message, "paint_for", counted)
    server.configure(token_rate=400.0)  # a few tokens an append: many appends
    app = make_app(server, transport=transport)
    terminal = TextTerminal(100, 30)
    app._display = lambda screen, renderable: terminal.write(renderable)  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await send(pilot, "hello")
        await wait_until(pilot, lambda: app.chat.turn is None)
        await settle(pilot)
        assert painted.count(True) >= 5, painted
        assert terminal.rows() == [row.rstrip() for row in screen_text(app).split("\n")]
