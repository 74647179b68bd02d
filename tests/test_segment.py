"""A streamed answer's lists grow in place, and look as Textual draws the whole text."""

from __future__ import annotations

import random

import pytest
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Markdown

from ollama_tui.ui.widgets.segment import Segment, parser, segment

LISTS = """## Section

Intro words here.

- first item with several words that go on and on until the line wraps at the width
- second item
- third item **bold** and `code`

1. one
2. two
3. three

After the lists.

- outer one
  1. inner ordered
  2. inner two
- outer two
  - inner bullet

8. eight
9. nine
10. ten

1. numbered step
   - its sub-bullet
2. next step
   1. its sub-step

- loose one

- loose two

End.
"""


class Pair(App[None]):
    """A segment fed in pieces beside Textual's own Markdown given the whole text."""

    def compose(self) -> ComposeResult:
        yield segment()
        yield Markdown(parser_factory=parser)


Shape = list[tuple[str, tuple[int, int, int, int], str]]


def shape(markdown: Widget) -> Shape:
    """Every widget under `markdown`: its kind, place (margins show), size and text, as
    the screen lays it out."""
    rows = []
    top = markdown.region.offset
    for widget in markdown.walk_children(Widget):
        kind = type(widget).__name__.replace("Growing", "Markdown")
        text = str(getattr(widget, "_content", "") or getattr(widget, "symbol", ""))
        x, y, width, height = widget.region.translate(-top)
        rows.append((kind, (x, y, width, height), text))
    return rows


async def fed_in_pieces(text: str, seed: int) -> tuple[Shape, Shape]:
    app = Pair()
    async with app.run_test(size=(60, 80)) as pilot:
        grown, whole = app.query_one(Segment), app.query(Markdown).last()
        pieces = random.Random(seed)
        start = 0
        while start < len(text):
            end = start + pieces.randint(1, 7)
            await grown.append(text[start:end])
            start = end
            if pieces.random() < 0.5:
                await pilot.pause()  # a frame between some appends, as on screen
        await whole.update(text)
        await pilot.pause()
        return shape(grown), shape(whole)


@pytest.mark.parametrize("seed", [1, 2])
async def test_lists_fed_in_pieces_look_as_the_whole_text_does(seed: int) -> None:
    grown, whole = await fed_in_pieces(LISTS, seed)
    assert grown == whole
    bullets = [(place[2:], text) for kind, place, text in grown if kind == "MarkdownBullet"]
    assert ((5, 1), "  9. ") in bullets  # widened when 9 became 10


async def test_a_growing_list_keeps_its_rows_and_adds_new_ones() -> None:
    app = Pair()
    async with app.run_test(size=(60, 40)) as pilot:
        grown = app.query_one(Segment)
        await grown.append("- one\n- tw")
        await pilot.pause()
        rows = list(grown.query(Horizontal))
        await grown.append("o words\n- three")
        await pilot.pause()
        now = list(grown.query(Horizontal))
        # The same widgets, updated: not removed and mounted again (Textual's way).
        assert now[:2] == rows
        assert len(now) == 3
        texts = [str(p._content) for p in grown.query(Markdown.BLOCKS["paragraph_open"])]
        assert texts == ["one", "two words", "three"]
        # Still the list classes Textual's CSS and queries name.
        assert len(grown.query(Markdown.BLOCKS["bullet_list_open"])) == 1
