"""Repaints of rows nothing covers are put together without the compositor's frame
(ui/direct_paint.py): the same bytes as the compositor writes, and the compositor's own
way wherever anything else is on those rows or pending."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from textual.app import ComposeResult
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

from ollama_tui.demo import DemoServer
from ollama_tui.ui import direct_paint, paint_now, scroll_ahead
from ollama_tui.ui.direct_paint import direct_update
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


class Lines(PaintingApp):
    def compose(self) -> ComposeResult:
        for n in range(HEIGHT):
            yield Line(f"line {n}", id=f"l{n}")


def test_textual_is_the_version_it_was_written_against() -> None:
    assert direct_paint.ENABLED


def compositors_update(screen: Screen[Any], widgets: Sequence[Widget]) -> Any:
    """What the compositor makes for `widgets`' repaints (as `_compositor_refresh`)."""
    compositor = screen._compositor
    compositor.update_widgets(set(widgets))
    return compositor.render_update(screen_stack=screen.app._background_screens)


def both(screen: Screen[Any], widgets: Sequence[Widget]) -> tuple[str | None, Any]:
    """The direct update's bytes, and the compositor's update for the same repaints."""
    asked = {widget: set(widget._repaint_regions) for widget in widgets}
    update = direct_update(screen, widgets)
    ours = None if update is None else str(update.render_segments(screen.app.console))
    for widget, regions in asked.items():
        widget._repaint_regions.update(regions)  # the compositor's turn with the same
    return ours, compositors_update(screen, widgets)


def written(screen: Screen[Any], update: Any) -> str:
    return str(update.render_segments(screen.app.console))


async def test_a_line_changed_is_written_as_the_compositor_writes_it() -> None:
    app = Lines()
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        await pilot.pause()
        first, third = app.query_one("#l1", Line), app.query_one("#l3", Line)
        with app.batch_update():  # (painted by neither until asked here)
            first.text = "changed"
            third.text = "changed too"
            ours, theirs = both(app.screen, [first, third])
        assert ours is not None
        assert "changed too" in ours
        assert ours == written(app.screen, theirs)


def layered(behind: str, front: str) -> Lines:
    """Two lines on one row, in two layers, each with the given rules."""

    class Layered(Lines):
        CSS = f"""
        Screen {{ layers: below above; }}
        #behind {{ layer: below; {behind} }}
        #front {{ layer: above; {front} }}
        """

        def compose(self) -> ComposeResult:
            yield Line("behind", id="behind")
            yield Line("front", id="front")

    return Layered()


SHORT = "width: 10; margin-left: 10;"


async def test_a_row_is_divided_at_the_cuts_of_what_lies_behind_as_the_compositor_does() -> None:
    app = layered(behind=SHORT, front="")  # a short line behind a long one
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        await pilot.pause()
        front = app.query_one("#front", Line)
        assert app.screen._compositor.cuts[0] == [0, 10, 20, WIDTH]
        with app.batch_update():
            front.text = "x" * WIDTH
            ours, theirs = both(app.screen, [front])
        assert ours is not None
        assert ours == written(app.screen, theirs)
        assert ours.count("x") == WIDTH


@pytest.mark.parametrize("front_first", [True, False])
async def test_the_widget_in_front_fills_the_cells_two_asked_widgets_share(
    front_first: bool,
) -> None:
    # The one behind asks for cells beside the one in front (nothing covers them), but
    # renders the whole row: the compositor takes the front one's cells first.
    app = layered(behind="", front=SHORT)
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        await pilot.pause()
        behind, front = app.query_one("#behind", Line), app.query_one("#front", Line)
        with app.batch_update():
            behind.text = "B" * WIDTH
            front.text = "F" * 10
            behind._repaint_regions = {Region(0, 0, WIDTH, 1)}
            widgets = [front, behind] if front_first else [behind, front]
            ours, theirs = both(app.screen, widgets)
        assert ours is None  # the front one covers part of the row behind asked for
        with app.batch_update():
            behind.text, front.text = "b" * WIDTH, "f" * 10
            behind._repaint_regions = {Region(0, 0, 5, 1)}  # beside the front one
            ours, theirs = both(app.screen, widgets)
        assert ours is not None and "f" * 10 in ours
        assert ours == written(app.screen, theirs)


class Narrow(Line):
    """Renders fewer cells than its width (the compositor shows what lies behind)."""

    def render_lines(self, crop: Region) -> list[Strip]:
        return [Strip.blank(max(0, crop.width - 5)) for _ in crop.line_range]


class Renews(Line):
    """Asks for another repaint while it renders (as an animation would)."""

    def render_lines(self, crop: Region) -> list[Strip]:
        if self.text == "new":
            self.refresh(Region(0, 0, 3, 1))
        return super().render_lines(crop)


class Odd(Lines):
    def compose(self) -> ComposeResult:
        yield Narrow("narrow", id="narrow")
        yield Renews("renews", id="renews")


async def test_a_narrow_render_is_left_to_the_compositor_and_a_repaint_asked_meanwhile_kept() -> (
    None
):
    app = Odd()
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        await pilot.pause()
        narrow, renews = app.query_one("#narrow", Narrow), app.query_one("#renews", Renews)
        with app.batch_update():
            narrow.text = "changed"
            asked = set(narrow._repaint_regions)
            assert direct_update(app.screen, [narrow]) is None
            assert narrow._repaint_regions == asked  # given back for the compositor
            narrow._repaint_regions.clear()
            renews.text = "new"
            assert direct_update(app.screen, [renews]) is not None
            assert renews._repaint_regions == {Region(0, 0, 3, 1)}  # for the next frame


async def test_anything_in_front_or_pending_is_left_to_the_compositor() -> None:
    app = Lines()
    async with app.run_test(size=(WIDTH, HEIGHT), notifications=True) as pilot:
        await pilot.pause()
        screen = app.screen
        under = app.query_one("#l5", Line)
        app.notify("a toast", timeout=30)  # over rows 4 to 6, on the right
        await wait_until(pilot, lambda: len(app.query("Toast")) == 1)
        await pilot.pause()
        with app.batch_update():
            under.text = "under the toast"
            assert direct_update(screen, [under]) is None
            assert under._repaint_regions, "taken though not painted"
            top = app.query_one("#l0", Line)
            top.text = "free"
            # Another region pending, a scroll owed, a region outside its widget: not here.
            screen._compositor._dirty_regions.add(Region(0, 2, 5, 1))
            assert direct_update(screen, [top]) is None
            screen._compositor._dirty_regions.clear()
            scroll_ahead._state(screen._compositor).scroll = (0, 4, 1)
            assert direct_update(screen, [top]) is None
            scroll_ahead._state(screen._compositor).scroll = None
            top._repaint_regions.add(Region(0, 0, WIDTH, 2))
            assert direct_update(screen, [top]) is None
            top._repaint_regions = {Region(0, 0, WIDTH, 1)}
            assert direct_update(screen, [top]) is not None
            assert not top._repaint_regions


async def test_a_streamed_reply_and_keys_are_written_as_the_compositor_would(
    server: DemoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every direct paint of a real reply (prose, a list, a code fence) and of keys typed
    meanwhile: the bytes the compositor would have written for the same repaints."""
    compared: list[bool] = []

    def checked(screen: Screen[Any], widgets: Any) -> bool:
        ours, theirs = both(screen, list(widgets))
        if ours is not None:
            compared.append(ours == written(screen, theirs))
        # The compositor's update is what is written (made already, for the comparison).
        screen.app._display(screen, theirs)
        screen._dirty_widgets.clear()
        return True

    monkeypatch.setattr(paint_now, "paint_directly", checked)
    server.configure(
        token_rate=300.0,
        reply="## A heading\n\nSome *words* and `code`.\n\n- one\n- two\n\n"
        + "```python\n"
        + "".join(f"def f{n}(x):\n    return x + {n}  # {n}\n" for n in range(30))
        + "```\n\nThe end.",
    )
    app = make_app(server)
    terminal = TextTerminal(100, 30)

    app._display = lambda screen, renderable: terminal.write(renderable)  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await send(pilot, "hello")
        for key in "typing":
            await pilot.press(key)
        await wait_until(pilot, lambda: app.chat.turn is None)
        await settle(pilot)
        assert len(compared) >= 10, compared
        assert all(compared), compared
        assert terminal.rows() == [row.rstrip() for row in screen_text(app).split("\n")]
