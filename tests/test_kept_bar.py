"""The transcript's scroll bar keeps its rows by what each shows (ui/kept_bar.py): every
row as Textual's own bar draws it, at every place and in every look, and a move within
one look renders nothing again."""

from __future__ import annotations

from typing import Any

import pytest
from textual import messages
from textual.app import App, ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.geometry import Region
from textual.message import Message
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widgets import Static

from ollama_tui.demo import DemoServer
from ollama_tui.ui import kept_bar
from ollama_tui.ui.kept_bar import KeptRowsScrollBar
from ollama_tui.ui.widgets.transcript import Transcript
from tests.uitools import make_app, send, wait_until

pytestmark = pytest.mark.skipif(not kept_bar.ENABLED, reason="another Textual: its own bar")


class Kept(VerticalScroll):
    @property
    def vertical_scrollbar(self) -> ScrollBar:
        return kept_bar.vertical_bar(self) or super().vertical_scrollbar


class Pair(App[None]):
    CSS = "VerticalScroll { width: 1fr; height: 33; }"

    def compose(self) -> ComposeResult:
        text = "\n".join(f"line {i}" for i in range(300))
        with Horizontal():
            with Kept(id="kept"):
                yield Static(text, id="kept-text")
            with VerticalScroll(id="plain"):
                yield Static(text, id="plain-text")


def rows(bar: ScrollBar) -> list[Strip]:
    return bar.render_lines(Region(0, 0, bar.size.width, bar.size.height))


def same(a: list[Strip], b: list[Strip]) -> bool:
    return [list(strip) for strip in a] == [list(strip) for strip in b]


async def test_every_row_is_textuals_at_every_place_and_look() -> None:
    app = Pair()
    async with app.run_test(size=(80, 40)) as pilot:
        kept, plain = app.query_one("#kept"), app.query_one("#plain")
        assert isinstance(kept.vertical_scrollbar, KeptRowsScrollBar)
        assert type(plain.vertical_scrollbar) is ScrollBar
        texts = [app.query_one("#kept-text", Static), app.query_one("#plain-text", Static)]
        compared = 0
        for lines in (300, 120, 40):  # the thumb's length: long, short, none to scroll
            for text in texts:
                text.update("\n".join(f"line {i}" for i in range(lines)))
            await pilot.pause()
            for y in range(0, lines, 7):  # its ends at every eighth of a row
                kept.scroll_to(y=y, animate=False)
                plain.scroll_to(y=y, animate=False)
                await pilot.pause()
                for hovered in (False, True):  # another colour: another look
                    kept.vertical_scrollbar.mouse_over = hovered
                    plain.vertical_scrollbar.mouse_over = hovered
                    assert same(rows(kept.vertical_scrollbar), rows(plain.vertical_scrollbar))
                    compared += 1
        assert compared > 50


async def test_a_move_within_one_look_renders_no_row_again(monkeypatch: pytest.MonkeyPatch) -> None:
    app = Pair()
    async with app.run_test(size=(80, 40)) as pilot:
        kept = app.query_one("#kept")
        bar = kept.vertical_scrollbar
        places = range(0, int(kept.max_scroll_y) + 1, 2)
        for y in places:  # every kind of row seen once
            kept.scroll_to(y=y, animate=False)
            await pilot.pause()
            rows(bar)
        rendered: list[Any] = []
        textuals = ScrollBar.render_lines

        def counted(self: ScrollBar, crop: Region) -> list[Strip]:
            if self is bar:  # (not the other container's)
                rendered.append(crop)
            return textuals(self, crop)

        monkeypatch.setattr(ScrollBar, "render_lines", counted)
        for y in reversed(places):
            kept.scroll_to(y=y, animate=False)
            await pilot.pause()
            assert len(rows(bar)) == 33
        assert rendered == []


async def test_the_chats_transcript_keeps_its_bars_rows(server: DemoServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 30)):
        assert isinstance(app.chat.query_one(Transcript).vertical_scrollbar, KeptRowsScrollBar)


async def test_a_growth_that_moves_the_thumb_paints_it_in_the_layouts_frame_only(
    server: DemoServer,
) -> None:
    # Its move asks for a repaint as the layout renders it: painted again in a frame
    # after each growth, it was the same rows once more.
    lines = "\n\n".join(f"Line {i} of a long answer." for i in range(60))
    server.configure(token_rate=300.0, reply=lines)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.chat
        bar = screen.query_one(Transcript).vertical_scrollbar
        places: list[float] = []
        asked: list[float] = []
        refresh_layout, post = screen._refresh_layout, screen.post_message

        def counted_layout(*args: Any, **kwargs: Any) -> None:
            places.append(bar.position)
            refresh_layout(*args, **kwargs)

        def noted(message: Message) -> bool:
            if isinstance(message, messages.Update) and message.widget is bar:
                asked.append(bar.position)
            return post(message)

        screen._refresh_layout = counted_layout  # type: ignore[method-assign]
        screen.post_message = noted  # type: ignore[method-assign]
        await send(pilot, "hi")
        await wait_until(pilot, lambda: app.chat.turn is None)
        assert len(set(places)) >= 5, "the thumb did not move"
        assert len(asked) <= 1


async def test_a_row_of_a_new_kind_is_kept_as_textual_renders_it_now() -> None:
    # Textual's render comes from caches emptied only when the bar is told to refresh:
    # a change of what it shows without one (the screen's scroll bar colour made
    # transparent: all track) kept the old rows under the new kinds, for good.
    app = Pair()
    async with app.run_test(size=(80, 40)) as pilot:
        kept, plain = app.query_one("#kept"), app.query_one("#plain")
        for container in (kept, plain):
            container.scroll_to(y=40, animate=False)
        await pilot.pause()
        rows(kept.vertical_scrollbar)
        app.screen.styles.scrollbar_color = "transparent"
        rows(kept.vertical_scrollbar)  # rendered before it is told (Textual's: stale)
        for container in (kept, plain):
            container.vertical_scrollbar.refresh()
        await pilot.pause()
        assert same(rows(kept.vertical_scrollbar), rows(plain.vertical_scrollbar))
