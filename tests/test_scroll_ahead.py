"""A layout that only scrolls the transcript is written as a terminal scroll
(ui/scroll_ahead.py): what a terminal shows after the app's bytes is what the app drew."""

from __future__ import annotations

import statistics
from typing import Any

import pytest
from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.geometry import Region, Size
from textual.screen import Screen
from textual.strip import Strip
from textual.widgets import Static

from ollama_tui.ui import scroll_ahead, textual_fixes
from ollama_tui.ui.scroll_ahead import ScrolledUpdate, ScrollsAhead
from ollama_tui.ui.textual_fixes import RowsKept, SizedOnce
from tests.uitools import TextTerminal

WIDTH, HEIGHT = 40, 12


class Feed(VerticalScroll, SizedOnce, ScrollsAhead):
    """As the transcript is (its virtual size set without another layout: fix 3)."""

    DEFAULT_CSS = "Feed { height: 1fr; padding: 0 1; scrollbar-gutter: stable; }"


class Growing(RowsKept):
    """Lines added at its end, each drawn once, as the live answer's are."""

    DEFAULT_CSS = "Growing { height: auto; padding-bottom: 1; }"

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def add(self, lines: list[str]) -> None:
        """The last line grows (its row repainted) and `lines` go below it."""
        start = len(self.lines)
        if self.lines:
            self.lines[-1] += "."
            self.refresh(Region(0, start - 1, self.size.width, 1))
        self.lines += lines
        self.refresh(Region(0, start, self.size.width, len(lines)), layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines)

    def render_line(self, y: int) -> Strip:
        text = self.lines[y] if y < len(self.lines) else ""
        return Strip([Segment(text.ljust(self.size.width))])


def drawn(screen: Screen[Any]) -> list[str]:
    """The screen as the app composes it now (not through the terminal)."""
    compositor = screen._compositor
    chops = compositor._render_chops(compositor.size.region, lambda y: True)
    return ["".join(s.text for s in Strip.join(chop.values())).rstrip() for chop in chops]


class Chat(App[None]):
    CSS = """
    Screen { layers: base above; }
    #overlay { layer: above; offset: 8 5; width: 14; height: 2; display: none; }
    """

    def __init__(self, terminal: TextTerminal) -> None:
        super().__init__()
        self.terminal = terminal

    def compose(self) -> ComposeResult:
        with Feed():
            for n in range(4):
                yield Static(f"message {n}")
            yield Growing()
        yield Static("status", id="status")
        yield Static("over the feed", id="overlay")  # a toast, a menu

    def on_mount(self) -> None:
        self.query_one(Feed).anchor()

    def _display(self, screen: Screen[Any], renderable: Any) -> None:
        self.terminal.write(renderable)


def cells_written(update: Any) -> int:
    return sum(x2 - x1 for _, x1, x2 in update.spans)


@pytest.mark.parametrize("fixed", [True, False])
async def test_a_growing_answer_scrolls_the_terminal_and_it_shows_what_the_app_drew(
    fixed: bool,
) -> None:
    assert scroll_ahead.needs_scroll_fix()
    textual_fixes.apply()
    terminal = TextTerminal(WIDTH, HEIGHT)
    app = Chat(terminal)
    if fixed:
        scroll_ahead.apply()
    else:
        scroll_ahead.remove()
    try:
        async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
            growing, feed = app.query_one(Growing), app.query_one(Feed)
            lines: list[str] = []
            for n in range(40):
                new = [f"line {len(lines) + i} " + "x" * (n % 7) for i in range(1 + n % 3)]
                if lines:
                    lines[-1] += "."
                lines += new
                growing.add(new)
                if n % 9 == 4:
                    app.query_one("#status", Static).update(f"status {n}")
                if n == 12:  # a widget put in above: what is below it moves further
                    await feed.mount(Static(f"inserted at {n}"), before=growing)
                if n in (20, 25):  # over the feed: its rows cannot be scrolled meanwhile
                    overlay = app.query_one("#overlay")
                    overlay.display = not overlay.display
                await pilot.pause()
                assert terminal.rows() == drawn(app.screen), f"after step {n}"
            # The last line, above its padding and the status:
            assert terminal.rows()[-3].split()[:3] == lines[-1].split()
            scrolled = [u for u in terminal.updates if isinstance(u, ScrolledUpdate)]
            # Each growth is a layout that scrolls the feed: written as a scroll and the
            # rows it brings (and the columns beside it), not the whole feed again.
            assert bool(scrolled) is fixed
            if fixed:
                written = [cells_written(u) for u in scrolled]
                area = app.query_one(Feed).region.area  # Textual's own way writes it all
                assert statistics.median(written) < area / 2, written
    finally:
        scroll_ahead.apply()


async def test_a_screen_pushed_and_popped_is_not_kept_alive_by_what_it_last_drew() -> None:
    import gc
    import weakref

    from textual.screen import ModalScreen

    class Dialog(ModalScreen[None]):
        def compose(self) -> ComposeResult:
            yield Static("a dialog")

    textual_fixes.apply()
    scroll_ahead.apply()
    app = Chat(TextTerminal(WIDTH, HEIGHT))
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        gone = []
        for _ in range(3):
            dialog = Dialog()
            gone.append(weakref.ref(dialog))
            await app.push_screen(dialog)
            await pilot.pause()
            app.pop_screen()
            await pilot.pause()
            del dialog
        await pilot.pause()
        gc.collect()
        assert [ref() for ref in gone] == [None] * 3


async def test_a_resized_answer_still_repaints_what_it_asked_before() -> None:
    # The layout that resizes it may come before the screen collects its repaints (the
    # screen's timer runs apart from its queue): they must not be dropped.
    textual_fixes.apply()
    app = Chat(TextTerminal(WIDTH, HEIGHT))
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        growing = app.query_one(Growing)
        growing.add([f"line {n}" for n in range(4)])
        await pilot.pause()
        growing.refresh(Region(0, 1, growing.size.width, 1))
        asked = set(growing._repaint_regions)
        assert asked
        size = growing.size
        growing._size_updated(Size(size.width, size.height + 3), size, size)
        assert asked <= growing._repaint_regions
