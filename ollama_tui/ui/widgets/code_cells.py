"""A line of highlighted code made into cells directly, not through Textual's `Content`.

Textual (8.2.8) draws a line of text through `Content.render_strips`: wrapped and
formatted (`_wrap_and_format`), its spans stacked at each of their ends and their styles
combined (`Content.render`), each piece's style made with its offset in its meta
(`_FormattedLine.to_strip`). For the growing fence that was a third of drawing it at
each paint (docs/ui-performance.md). A line of code from `GrowingCode` is simpler: a
span of `$text` over all of it, then its tokens' spans, apart and in order. Such a line,
of printable ASCII (a cell a character) and no wider than its width, is made here as
those methods make it: each piece in the widget's style with `$text` and its token's
style added, in that order; each token style's result kept. The offsets Textual puts in
each piece's meta are left out: the rows that show these lines put their own in
(`render_line`'s `apply_offsets`), which replace them. Anything else is Textual's, and
so is everything if those methods are not the ones this was written against (their
sources hashed).
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.content import Content, Span, _FormattedLine
from textual.strip import Strip
from textual.style import Style
from textual.widget import Widget

from ollama_tui.ui.textual_fixes import same_source

TEXTUAL_8_2_8 = (
    (Content.render_strips, "5595f673f3a2e010"),
    (Content._wrap_and_format, "6bf904d927f5bf29"),
    (Content.render, "65e4e234e1e542cb"),
    (_FormattedLine.to_strip, "5393b649ee150522"),
)
"""The methods a line is drawn by in Textual 8.2.8, with the first 16 hex digits of the
SHA-256 of their source."""

DIRECT = all(same_source(method, digest) for method, digest in TEXTUAL_8_2_8)

BASE = "$text"
"""The style `GrowingCode` puts under a fence's code (Textual's `highlight` does)."""


class CodeCells:
    """Lines of code made into cells, with the styles their tokens were given kept."""

    def __init__(self) -> None:
        # (widget, token style or None) -> the piece's style; None: one with meta (a
        # link, say), left to Textual.
        self._styles: dict[tuple[Widget, str | None], RichStyle | None] = {}

    def forget(self) -> None:
        """The theme or the CSS changed: styles are made again."""
        self._styles.clear()

    def strip(self, widget: Widget, line: Content, width: int) -> Strip | None:
        """`line` as `Content.render_strips(width, None, widget.visual_style, options)`
        draws it for `widget` with no selection, aligned left, without its offsets; None
        if it is not a line drawn here."""
        plain, spans = line.plain, line.spans
        size = len(plain)
        if not (DIRECT and 0 < size <= width and plain.isascii() and plain.isprintable()):
            return None
        if not spans or spans[0] != Span(0, size, BASE):
            return None
        segments: list[Segment] = []
        add = segments.append
        at = 0
        for span in spans[1:]:
            start, end, token = span
            if start < at or end > size or not isinstance(token, str):
                return None  # (overlapping, or a style object: not a lexer's)
            if end == start:
                continue
            if start > at:
                if (between := self._style(widget, None)) is None:
                    return None
                add(Segment(plain[at:start], between))
            if (style := self._style(widget, token)) is None:
                return None
            add(Segment(plain[start:end], style))
            at = end
        if at < size:
            if (rest := self._style(widget, None)) is None:
                return None
            add(Segment(plain[at:], rest))
        return Strip(segments, size)

    def _style(self, widget: Widget, token: str | None) -> RichStyle | None:
        key = (widget, token)
        if key in self._styles:
            return self._styles[key]
        base = widget.visual_style
        get = widget._get_style
        # `Content.render`: the base, then the spans over the piece by their order;
        # `to_strip`: the base again under that.
        combined = Style.combine([base, get(BASE), *([get(token)] if token else [])])
        style: RichStyle | None = (base + combined).rich_style
        if style is not None and style._meta is not None:
            style = None
        self._styles[key] = style
        return style
