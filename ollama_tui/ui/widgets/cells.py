"""A line of styled text made into cells directly, not through Textual's `Content`.

Textual (8.2.8) draws a line of text through `Content.render_strips`: wrapped and
formatted (`_wrap_and_format`), its spans stacked at each of their ends and their styles
combined (`Content.render`), each piece's style made with its offset in its meta
(`_FormattedLine.to_strip`). For the growing fence that was a third of drawing it at
each paint, for the status bar most of its ten redraws a second (docs/ui-performance.md).
A line whose spans do not overlap, of printable text no wider than its width, is made
here as those methods make it: a piece for each run between span ends, in the widget's
style with its spans' styles added in their order (`$text` then a token's, for code),
the result kept by those styles. The offsets Textual puts in each piece's meta (for a
mouse selection) are left out: the rows that show lines of code put their own in
(`direct_rows.placed`), which replace them, and the status bar puts them in the same way.
Anything else is Textual's, and so is everything if those methods are not the ones this
was written against (their sources hashed).
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.content import Content, Span, _FormattedLine
from textual.strip import Strip
from textual.style import Style
from textual.visual import Visual
from textual.widget import Widget

from ollama_tui.ui.textual_fixes import same_sources

TEXTUAL_8_2_8 = (
    (Content.render_strips, "5595f673f3a2e010"),
    (Content._wrap_and_format, "6bf904d927f5bf29"),
    (Content.render, "65e4e234e1e542cb"),
    (_FormattedLine.to_strip, "5393b649ee150522"),
    (Style.rich_style_with_offset, "b9f1c5abcf7aa5c0"),
    (Visual.to_strips, "237262d432caa6c4"),
    (Widget._render_content, "50c545576ca20403"),
    (Widget.render_line, "36df21323c2e9fea"),
)
"""The methods a line is drawn by in Textual 8.2.8 (a widget's content to its lines, a
line's pieces and their styles), with the first 16 hex digits of the SHA-256 of their
source."""

DIRECT = same_sources(TEXTUAL_8_2_8)

BASE = "$text"
"""The style `GrowingCode` puts under a fence's code (Textual's `highlight` does)."""

STYLES_KEPT = 1_000
"""Styles kept (a theme's token styles are a few dozen); past it they are made again."""

Piece = tuple[str, tuple[str, ...]]
"""Text, and the styles of the spans over it, in their order in the content."""


def plain_line(widget: Widget) -> bool:
    """Whether `widget` draws a line of its content as one line of its text, left
    aligned, with no selection (what `Cells.line` makes)."""
    rules = widget.styles
    return (
        widget.text_selection is None
        and rules.content_align == ("left", "top")
        and rules.get("text_align", "left") in ("left", "start")
        and not rules.get("line_pad", 0)
    )


class Cells:
    """Lines made into cells, with the style of each stack of span styles kept."""

    def __init__(self) -> None:
        # (widget, its style, span styles) -> the piece's style; None: one with meta (a
        # click action, say), left to Textual. By the widget's style too: an inline style
        # or a transition changes it without a style update.
        self._styles: dict[tuple[Widget, Style, tuple[str, ...]], RichStyle | None] = {}

    def forget(self) -> None:
        """The theme or the CSS changed: styles are made again."""
        self._styles.clear()

    def line(self, widget: Widget, pieces: Iterable[Piece], width: int) -> Strip | None:
        """The pieces as `Content.render_strips(width, None, widget.visual_style,
        options)` draws their content for `widget` (`plain_line`), without offsets;
        None if it is not a line drawn here."""
        if not DIRECT:
            return None
        segments: list[Segment] = []
        size = 0
        base = widget.visual_style
        for text, spans in pieces:
            if not text:
                continue
            style = self._style(widget, base, spans)
            if style is None or not text.isprintable():
                return None
            segments.append(Segment(text, style))
            size += cell_len(text)
        if not segments or size > width:
            return None
        return Strip(segments, size)

    def code(self, widget: Widget, line: Content, width: int) -> Strip | None:
        """A line of code from `GrowingCode` (a span of `$text` over it all, then its
        tokens' spans, apart and in order) as `line` does; only printable ASCII (a cell
        a character)."""
        plain, spans = line.plain, line.spans
        size = len(plain)
        if not (plain.isascii() and spans and spans[0] == Span(0, size, BASE)):
            return None
        pieces: list[Piece] = []
        at = 0
        for start, end, token in spans[1:]:
            if start < at or end < start or end > size or not isinstance(token, str):
                return None  # (overlapping, or a style object: not a lexer's)
            pieces.append((plain[at:start], (BASE,)))
            pieces.append((plain[start:end], (BASE, token)))
            at = end
        pieces.append((plain[at:], (BASE,)))
        return self.line(widget, pieces, width)

    def _style(self, widget: Widget, base: Style, spans: tuple[str, ...]) -> RichStyle | None:
        """The style of a piece under `spans` in `widget`, whose style is `base`."""
        key = (widget, base, spans)
        if key in self._styles:
            return self._styles[key]
        if len(self._styles) > STYLES_KEPT:
            self._styles.clear()
        get = widget._get_style
        # `Content.render`: the base, then the spans over the piece by their order;
        # `to_strip`: the base again under that.
        combined = Style.combine([base, *(get(span) for span in spans)])
        made = (base + combined).rich_style
        style = None if made._meta is not None else made
        self._styles[key] = style
        return style
