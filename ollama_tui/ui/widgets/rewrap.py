"""A growing paragraph wrapped again from its last line only (that starts a word).

Upstream (Textual 8.2.8, `Content.render_strips`): a text is wrapped whole
(`_wrap_and_format`: each source line split where Rich's `divide_line` breaks it), then
each wrapped line made a strip. A paragraph being streamed was wrapped whole at every
append: at 2,000 characters, about half of drawing it again. Rich's wrapping is greedy,
a line broken only before a word that does not fit: the lines above a line that starts a
word depend on nothing after them, and a word that grows still does not fit where it
did not. So when the text only grew (its text before is the same, and so are its styles
there) the lines above the last line that starts a word are kept, and the text from
there is wrapped alone, its lines given their places in the whole (each cell's offset,
`x` and `y`, as a mouse selection reads it). (Not from a line inside a word too long
for a line: Rich folds it with the blanks after it, which may then begin a line, and
such a piece wraps alone differently.) Anything else is wrapped whole, as Textual does.

Used only with the sources of `_wrap_and_format` and `render_strips` as 8.2.8 has them
(their hashes); tests/test_rewrap.py holds the strips, cell by cell with their offsets,
to Textual's wrapping of the whole text at every step of texts grown piece by piece.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import cast

from textual.content import Content, Span, _FormattedLine
from textual.css.types import TextAlign, TextOverflow
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions

from ollama_tui.ui.textual_fixes import same_source

WRAP_8_2_8 = "6bf904d927f5bf29"
RENDER_STRIPS_8_2_8 = "5595f673f3a2e010"

ENABLED = same_source(Content._wrap_and_format, WRAP_8_2_8) and same_source(
    Content.render_strips, RENDER_STRIPS_8_2_8
)


@dataclass(slots=True)
class _Wrapped:
    key: Hashable
    plain: str
    spans: list[Span]
    lines: list[_FormattedLine]
    starts: list[int]
    """Where each wrapped line starts in `plain`."""
    strips: list[Strip]


def _line_starts(plain: str) -> list[int]:
    starts, at = [0], plain.find("\n")
    while at >= 0:
        starts.append(at + 1)
        at = plain.find("\n", at + 1)
    return starts


def _before(spans: list[Span], end: int) -> list[tuple[int, int, object]]:
    return [(s.start, min(s.end, end), s.style) for s in spans if s.start < end]


class Rewrap:
    """The last wrapping of one growing text, to wrap the next from (`render`)."""

    def __init__(self) -> None:
        self._last: _Wrapped | None = None

    def forget(self) -> None:
        self._last = None

    def render(
        self,
        content: Content,
        width: int,
        style: Style,
        options: RenderOptions,
        finish: Callable[[Strip], Strip],
        key: Hashable,
    ) -> list[Strip]:
        """`[finish(s) for s in content.render_strips(width, None, style, options)]`,
        the last wrapping's lines above its last line that starts a word kept if
        `content` grew from its text at the same width (`key`: whatever else the strips
        and `finish` depend on, the same as then)."""
        key = (key, width)
        rules = options.rules.get
        wraps = rules("text_wrap", "wrap") != "nowrap" and rules("line_pad", 0) == 0
        plain = content.plain
        if not ENABLED or not width or options.selection is not None or not wraps:
            self._last = None
            return [finish(line) for line in content.render_strips(width, None, style, options)]
        kept, start, y0, x0 = 0, 0, 0, 0
        last = self._last
        if last is not None and last.key == key and "\t" not in plain:
            kept = self._restart(last, content)
            if kept:
                start = last.starts[kept]
                y0, x0 = last.lines[kept].y, last.lines[kept].x
        tail = content if not kept else _from(content, start)
        lines = tail._wrap_and_format(
            width,
            align=cast("TextAlign", rules("text_align", "left")),
            overflow=cast("TextOverflow", rules("text_overflow", "fold")),
            no_wrap=False,
            line_pad=0,
            tab_size=8,
            selection=None,
            selection_style=None,
            post_style=options.post_style,
            get_style=options.get_style,
        )
        for line in lines:  # their places in the whole text
            if line.y == 0:
                line.x += x0
            line.y += y0
        strips = [finish(Strip(*line.to_strip(style))) for line in lines]
        if last is not None and kept:
            lines, strips = last.lines[:kept] + lines, last.strips[:kept] + strips
        starts = _line_starts(plain)
        places = [starts[line.y] + line.x for line in lines]
        self._last = _Wrapped(key, plain, list(content.spans), lines, places, strips)
        return strips

    @staticmethod
    def _restart(last: _Wrapped, content: Content) -> int:
        """The index of the line to wrap again from (the lines above it kept): the last
        one that starts a word (a source line, or after a blank); 0 if none does, or if
        the text did not grow from the last one's (wrapped whole)."""
        plain = content.plain
        if not plain.startswith(last.plain):
            return 0
        index = len(last.lines) - 1
        while index > 0 and last.lines[index].x:
            start = last.starts[index]
            if plain[start - 1].isspace() and not plain[start].isspace():
                break
            index -= 1
        if index <= 0:
            return 0
        start = last.starts[index]
        if _before(list(content.spans), start) != _before(last.spans, start):
            return 0
        return index


def _from(content: Content, start: int) -> Content:
    """`content[start:]`, its spans that began before `start` beginning at it."""
    spans = [
        Span(max(span.start - start, 0), span.end - start, span.style)
        for span in content.spans
        if span.end > start
    ]
    return Content(content.plain[start:], spans, strip_control_codes=False)
