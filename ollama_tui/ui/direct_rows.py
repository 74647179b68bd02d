"""Rows of a widget that draws them whole, rendered without Textual's styles cache.

Upstream (Textual 8.2.8, `Widget.render_lines` → `StylesCache.render_widget`): each row a
frame asks of a widget goes through its styles cache, which reads the widget's
background through every ancestor, draws its borders, padding, outline, tint and
opacity around the line its `render_line` gives, keeps the result by row, applies the
app's line filters and crops it. For an answer's growing segment that was more than half
of what each paint cost it: its rows are already whole (every cell of the widget's
width, its margins and backgrounds drawn in), and it has none of those decorations
(docs/ui-performance.md); nor has the status bar, redrawn ten times a second.
`RowsDrawn.render_lines` gives such a widget's rows as the styles cache would make them
of the same lines: the line (padded to the widget's width on its background, as the
cache pads it), the app's line filters on that background, a hovered link's style
(`render_widget`), the crop. A widget with a border, an outline, padding, a tint, a
hatch or opacity below 1, or a Textual whose methods are not those this was written
against (their sources hashed), is rendered the Textual way.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style as RichStyle
from textual._styles_cache import StylesCache
from textual.geometry import Region, Spacing
from textual.strip import Strip
from textual.widget import Widget

from ollama_tui.ui.textual_fixes import same_source, same_sources

TEXTUAL_8_2_8 = (
    (Widget.render_lines, "1f2a11f3d51846d9"),
    (StylesCache.render_widget, "b946353fb1eb72b9"),
    (StylesCache.render, "0945715ef8aede9b"),
    (StylesCache.render_line, "928d7496e850dbf6"),
    (StylesCache.get_inner_outer, "d2509f3e796680df"),
)
"""The methods a row is rendered by in Textual 8.2.8, with the first 16 hex digits of
the SHA-256 of their source."""

DIRECT = same_sources(TEXTUAL_8_2_8)

OFFSETS_8_2_8 = "6713ce1fc8ec81e3"
"""The same of `Strip.apply_offsets` in 8.2.8, which `placed` does."""
PLACING = same_source(Strip.apply_offsets, OFFSETS_8_2_8)

PLACED_KEPT = 10_000
"""Styles with their offsets kept (`placed`); past it they are made again."""

_placed: dict[tuple[RichStyle | None, int, int], RichStyle] = {}

NO_SPACE = Spacing(0, 0, 0, 0)


def undecorated(widget: Widget) -> bool:
    """Whether the styles cache draws nothing around `widget`'s lines nor over them."""
    styles = widget.styles
    return (
        styles.padding == NO_SPACE
        and not any(edge for edge, _ in styles.border)
        and not any(edge for edge, _ in styles.outline)
        and not styles.tint.a
        and styles.text_opacity == 1.0
        and not (styles.has_rule("hatch") and styles.hatch != "none")
        and widget.opacity == 1.0
    )


class RowsDrawn(Widget):
    """A widget whose rows are its `render_line`'s lines: rendered without the styles
    cache when nothing would be drawn around them (`undecorated`)."""

    def rows_from_lines(self) -> bool:
        """Its rows are its lines now (`textual_fixes.RowsKept` keeps them at a new
        height: nothing in the styles cache to keep)."""
        return DIRECT and not self.BLANK and undecorated(self)

    def render_lines(self, crop: Region) -> list[Strip]:
        width = self.size.width
        if not self.rows_from_lines():
            return super().render_lines(crop)
        lines = [self.render_line(y) for y in crop.line_range]
        base_background, background = self.background_colors
        if any(line.cell_length != width for line in lines):
            # Padded (or cut) to its width on its background, as the cache does.
            inner = self._styles_cache.get_inner_outer(base_background, background)[0]
            inner_style = inner.rich_style
            lines = [line.adjust_cell_length(width, inner_style) for line in lines]
        for line_filter in self.get_line_filters():
            lines = [line.apply_filter(line_filter, background) for line in lines]
        if crop.column_span != (0, width):
            x1, x2 = crop.column_span
            lines = [line.crop(x1, x2) for line in lines]
        if self.auto_links:
            hover = self.hover_style
            if hover._link_id and hover._meta and "@click" in hover.meta:
                style = self.link_style_hover
                if style:
                    lines = [line.style_links(hover.link_id, style) for line in lines]
        return lines


def placed(strip: Strip, y: int) -> Strip:
    """`strip.apply_offsets(0, y)`: each piece's style with its place (x, y) in its meta,
    for a mouse selection. A row drawn again is mostly the pieces it had, at the same
    places (the growing line of an answer, a paragraph wrapped again from its last
    line): each (style, x, y)'s result is kept, not made again (a new style, its meta
    pickled, for every piece of every row painted)."""
    if not PLACING:
        return strip.apply_offsets(0, y)
    cache = strip._offsets_cache
    if (found := cache.get((0, y))) is not None:
        return found
    if len(_placed) > PLACED_KEPT:
        _placed.clear()
    segments: list[Segment] = []
    x = 0
    for text, style, _ in strip._segments:
        key = (style, x, y)
        offset_style = _placed.get(key)
        if offset_style is None:
            offset = RichStyle.from_meta({"offset": (x, y)})
            offset_style = _placed[key] = style + offset if style else offset
        segments.append(Segment(text, offset_style))
        x += len(text)
    made = Strip(segments, strip._cell_length)
    made._render_cache = strip._render_cache
    cache[(0, y)] = made
    return made
