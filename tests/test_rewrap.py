"""A growing text wrapped again from its last line (ui/widgets/rewrap.py) is, at every
step, what Textual's wrapping of the whole text makes: every segment's text and style,
with each cell's offset (a mouse selection reads them)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import cast

import pytest
from rich.segment import Segment
from textual.content import Content, Span
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions

from ollama_tui.ui.widgets import rewrap as rewrap_module
from ollama_tui.ui.widgets.rewrap import Rewrap

BOLD, LINK = Style(bold=True), Style(underline=True, link="http://a.b")
PARSE = cast("Callable[[str | Style], Style]", Style.parse)
WORDS = ["a", "to", "word", "longer", "sentence.", "ends,", "漢字の", "emoji🙂", "x" * 50, "y" * 20]


def grown_text(rng: random.Random, count: int) -> list[tuple[str, Style | None]]:
    """Runs of a few words, some styled (across lines, often); line ends now and then
    (a hard break)."""
    runs: list[tuple[str, Style | None]] = []
    for _ in range(count):
        gaps = [" ", " ", " ", "  ", "\n", " " * 12]
        words = [rng.choice(WORDS) + rng.choice(gaps) for _ in range(6)]
        style = rng.choice([None, None, BOLD, LINK])
        runs.append(("".join(words[: rng.randint(1, 6)]), style))
    return runs


def content_of(runs: list[tuple[str, Style | None]], end: int, styled_whole: bool) -> Content:
    """The first `end` characters of the runs; a styled run is styled only once it is
    whole if `styled_whole` (as emphasis is, once closed)."""
    plain, spans, at = "", [], 0
    for text, style in runs:
        if at >= end:
            break
        piece = text[: end - at]
        if style is not None and (len(piece) == len(text) or not styled_whole):
            spans.append(Span(at, at + len(piece), style))
        plain += piece
        at += len(piece)
    return Content(plain, spans)


def segments(strips: list[Strip]) -> list[list[Segment]]:
    return [list(strip) for strip in strips]


def finish(line: Strip) -> Strip:
    return line


@pytest.mark.parametrize("seed", range(24))
def test_a_text_rewrapped_as_it_grows_is_the_text_wrapped_whole(seed: int) -> None:
    rng = random.Random(seed)
    width = rng.choice([1, 2, 3, 5, 7, 10, 20, 33, 80])
    # (Narrow: fewer words, or each step wraps thousands of lines.)
    runs = grown_text(rng, rng.randint(10, 60) if width >= 20 else rng.randint(3, 8))
    total = sum(len(text) for text, _ in runs)
    options = RenderOptions(PARSE, {})
    style = Style()
    growing = Rewrap()
    end, kept = 0, 0
    previous: list[Strip] = []
    while end < total:
        end = min(total, end + rng.randint(1, 12))
        content = content_of(runs, end, styled_whole=seed % 2 == 0)
        ours = growing.render(content, width, style, options, finish, "k")
        theirs = content.render_strips(width, None, style, options)
        assert segments(ours) == segments(theirs), (seed, end)
        kept += sum(a is b for a, b in zip(ours, previous, strict=False))
        previous = ours
    assert kept  # lines were kept: it did not wrap the whole text each time


@pytest.mark.parametrize(
    ("steps", "width"),
    [
        # A word too long for a line, folded: its last piece fills a line, and the blank
        # after it begins the next line (Rich folds the word with its blanks).
        (["x" * 15, "x" * 20 + " yy", "x" * 20 + " yy zz ww"], 10),
        (["x" * 19, "x" * 19 + "  yy"], 10),
        (["x" * 11, "x" * 11 + " " * 15 + "yy"], 10),
        (["xxxxx", "xxxxxx xx"], 2),
    ],
)
def test_a_folded_word_is_wrapped_as_in_the_whole(steps: list[str], width: int) -> None:
    options, style = RenderOptions(PARSE, {}), Style()
    growing = Rewrap()
    for text in steps:
        ours = growing.render(Content(text), width, style, options, finish, "k")
        theirs = Content(text).render_strips(width, None, style, options)
        assert segments(ours) == segments(theirs), text


def test_a_text_that_did_not_grow_from_the_last_is_wrapped_whole() -> None:
    options, style = RenderOptions(PARSE, {}), Style()
    first = Content("one two three four five six seven eight nine ten " * 3)
    for changed in (
        Content("One two" + first.plain[7:] + "more"),  # the text before changed
        Content(first.plain + "more", [Span(0, 3, BOLD)]),  # its styles did
    ):
        growing = Rewrap()
        growing.render(first, 20, style, options, finish, "k")
        ours = growing.render(changed, 20, style, options, finish, "k")
        assert segments(ours) == segments(changed.render_strips(20, None, style, options))


def test_lines_are_kept_only_for_the_same_key_and_width(monkeypatch: pytest.MonkeyPatch) -> None:
    options, style = RenderOptions(PARSE, {}), Style()
    text = Content("one two three four five six seven eight nine ten " * 3)
    calls: list[str] = []
    wrap = Content._wrap_and_format

    def counted(self: Content, *args: object, **kwargs: object) -> object:
        calls.append(self.plain)
        return wrap(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Content, "_wrap_and_format", counted)
    growing = Rewrap()
    growing.render(text, 20, style, options, finish, "k")
    grown = Content(text.plain + "eleven")
    growing.render(grown, 20, style, options, finish, "k")
    assert len(calls[-1]) < 30  # from its last line only
    # A styled word growing across the last line's start: its style before it is the same.
    bold = Content(grown.plain + "twelve", [Span(10, len(grown.plain) + 6, BOLD)])
    growing.render(bold, 20, style, options, finish, "k")
    bolder = Content(bold.plain + "teen", [Span(10, len(bold.plain) + 4, BOLD)])
    ours = growing.render(bolder, 20, style, options, finish, "k")
    assert len(calls[-1]) < 30
    assert segments(ours) == segments(bolder.render_strips(20, None, style, options))
    for width, key in ((21, "k"), (20, "other")):
        growing.render(Content(grown.plain + "x"), width, style, options, finish, key)
        assert calls[-1] == grown.plain + "x"  # whole


def test_rewrapping_is_off_for_another_textual(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rewrap_module, "ENABLED", False)
    options, style = RenderOptions(PARSE, {}), Style()
    growing = Rewrap()
    text = "one two three four five six seven eight nine ten " * 3
    growing.render(Content(text), 20, style, options, finish, "k")
    grown = Content(text + "eleven")
    ours = growing.render(grown, 20, style, options, finish, "k")
    assert segments(ours) == segments(grown.render_strips(20, None, style, options))
    assert growing._last is None
