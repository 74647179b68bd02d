"""A vertical scroll bar whose rows are rendered once per look, not at every move.

Upstream (Textual 8.2.8): a scroll bar's position changes at each layout that scrolls
(a streaming answer grows a hand of rows), which repaints it; it renders its whole
height again (`ScrollBarRender.render_bar`, then each row through the styles cache:
about 25 µs a row, 0.7-1.0 ms of a 5 ms layout for the transcript's 33 rows), though
its rows are of a few kinds only: track above the thumb, thumb, track below, and the
two ends drawn with an eighth-block glyph. Here each row's segment, as `render_bar`
makes it for the same position, is the key to the row Textual rendered for it; a row
of a segment not seen in this look (size, colours, filters, theme) is rendered
Textual's way, the whole bar at once, as before.

Applied only over the methods as 8.2.8 has them (their sources hashed).
"""

from __future__ import annotations

from collections.abc import Hashable

from rich.color import Color
from textual.geometry import Region
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip
from textual.widget import Widget

from ollama_tui.ui import textual_fixes
from ollama_tui.ui.textual_fixes import same_sources

TEXTUAL_8_2_8 = (
    (ScrollBarRender.__rich_console__, "39854fc82928d647"),
    (ScrollBar.render, "43a56156a9a6cc05"),
    (Widget.vertical_scrollbar.fget, "6b140a728f0b50e4"),  # type: ignore[attr-defined]
)
"""What a bar's rows are made from, and where a widget makes its vertical bar."""

ENABLED = same_sources(TEXTUAL_8_2_8)


class KeptRowsScrollBar(ScrollBar):
    """Textual's vertical scroll bar, its rendered rows kept by the segment each shows."""

    def __init__(self, *, name: str | None = None, thickness: int = 1) -> None:
        super().__init__(vertical=True, name=name, thickness=thickness)
        self._kept: dict[Hashable, Strip] = {}
        self._look: tuple[object, ...] = ()

    def render_lines(self, crop: Region) -> list[Strip]:
        size = self.size
        renderable = self.render()
        if crop.x or crop.width != size.width or not isinstance(renderable, ScrollBarRender):
            return super().render_lines(crop)
        base, background = self.background_colors
        app, filters = self.app, tuple(self.get_line_filters())
        look: tuple[object, ...] = (size, base, background, filters, self.opacity)
        look += (app.ansi_theme, app.native_ansi_color)
        if look != self._look:
            self._kept.clear()
            self._look = look
        style = renderable.style
        assert not isinstance(style, str)  # (`ScrollBar.render` gives a `Style`)
        # As `ScrollBarRender.__rich_console__` calls it for this size.
        bar = renderable.render_bar(
            size=size.height,
            window_size=renderable.window_size,
            virtual_size=renderable.virtual_size,
            position=renderable.position,
            vertical=True,
            thickness=size.width,
            back_color=style.bgcolor or Color.parse("#555555"),
            bar_color=style.color or Color.parse("bright_magenta"),
        )
        keys = [(segment.text, segment.style) for segment in bar.segments]
        kept = self._kept
        wanted = keys[crop.y : crop.bottom]
        if crop.height == size.height and not app._batch_count and textual_fixes.rows_applied():
            # All of it, as it is now, in a frame that is written (a layout's, which
            # moved it): the repaint its move asked for would paint the same again, a
            # frame of its own after each growth. (A screenshot's render counts too: the
            # bar it shows is the one on screen but for a move made since the last frame.)
            self._repaint_required = False
        if len(keys) != size.height or any(key not in kept for key in wanted):
            # Rendered anew, not from Textual's caches (emptied only when it is told to
            # refresh): what it renders now is kept under what it shows now.
            self._layout_cache.clear()
            self._styles_cache.clear()
            self._dirty_regions.add(size.region)
            strips = super().render_lines(Region(0, 0, size.width, size.height))
            if len(strips) == len(keys):
                kept.update(zip(keys, strips, strict=True))
            return strips[crop.y : crop.bottom]
        return [kept[key] for key in wanted]


def vertical_bar(widget: Widget) -> ScrollBar | None:
    """`widget`'s vertical bar made a `KeptRowsScrollBar`, as `Widget.vertical_scrollbar`
    makes Textual's (None where that is not known: Textual's is made)."""
    if not ENABLED or widget._vertical_scrollbar is not None:
        return None
    bar = KeptRowsScrollBar(name="vertical", thickness=widget.scrollbar_size_vertical)
    widget._vertical_scrollbar = bar
    bar.display = False
    widget.app._start_widget(widget, bar)
    return bar
