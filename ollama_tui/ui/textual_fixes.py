"""Fixes to Textual, applied at app start, each only where the Textual installed needs it.

1. Upstream (Textual 8.2.8, `textual/strip.py`): `Strip.divide(cuts)` caches its result
in the strip's `_divide_cache`; when the only cut is the strip's own length the result is
`[self]`, so the strip holds a list holding itself: a reference cycle that only the
cycle collector can free. Textual divides most lines this way on every frame: these
strips and their caches were three quarters of the objects the cycle collector freed
(docs/ui-performance.md), and kept full collections (the app's longest pauses) running
about twice a second while a reply streamed. Returning `[self]` uncached breaks the
cycle; every other division is Textual's own code, cache included. Applied only if this
Textual still caches `[self]` (`needs_divide_fix`), whatever its version number.

2. Upstream (Textual 8.2.8, `textual/widgets/_data_table.py`): `DataTable` caches the
rows, cells and lines it renders under keys that hold its `_update_count`, not its
column widths. The widths of added rows are measured later, on the table's idle
(`_update_dimensions`), which does not bump the count: a frame drawn between `add_row`
and that idle (the screen's refresh timer can come first on a busy machine) keeps the
rows cut to the header's widths until the cursor moves ("demo" for "demo:latest" in the
models list). Measuring also sets the table's virtual size, which is its height when
that is `auto`, and asks for a layout; but `Widget.refresh(layout=True)` bumps
`_layout_updates` (part of the box model's cache key) only if no layout was asked for
yet. A table shown and filled at once (the compare view's summary) asked already; a
frame drawn before it measured laid it out 0 rows high, and that box model stayed
cached: no summary, ever. Bumping both counts once the widths are measured makes the
next frame measure and draw the table anew. Applied only while DataTable still has
the three private names it relies on (`needs_table_fix`).

3. Upstream (Textual 8.2.8, `Widget._size_updated`): a widget whose size changes in a
layout sets its `virtual_size`, a reactive that asks for another layout: every growth of
the answer, and every part put in at a fold, was laid out twice, a frame's layout more
each time. `SizedOnce` sets it without asking, as Textual does when it scrolls, for
widgets that do not scroll by their virtual size (and the transcript, whose scroll bars
are updated in the same step). Applied only where `_size_updated` takes `layout`.

4. Upstream (Textual 8.2.8, `Compositor._get_renders`): a frame that repaints some rows
renders every widget those rows cross over its whole visible height, and then keeps
only the rows to repaint. A streaming answer changes one row or two per frame, and the
screen, the transcript, its scroll bar and the answer were rendered whole each time
(cached lines, still 150 or so a frame: docs/ui-performance.md, "frames rendered in
their rows only"). Rendered here only in the rows of the repaint; a frame of the whole screen
is rendered as it was. And a widget is not rendered at all where one in front of it
covers all of it the repaint holds: `_render_chops` takes each cell from the front-most
widget, so the screen, the transcript and the answer rendered under a row of the
answer's text were thrown away (a front widget covers only if each of its lines came
back as wide as it is). And a repaint of rows far apart (a row of the answer and the
status bar's) renders those rows only, not the band between them (the prompt box under
the answer was rendered at each paint that changed the status bar too, and thrown
away). Applied only to the methods as 8.2.8 has them (`needs_rows_fix`: their sources,
hashed).

5. Upstream (Textual 8.2.8, `Widget._size_updated` and `refresh`): a widget whose size
changes has every row it rendered thrown away (`_set_dirty()` clears its styles cache),
and so does `refresh(layout=True)`. A streaming answer grows by 8 rows at a time, and
all of its visible rows and its container's were rendered again at each such layout.
`RowsKept` keeps the rows above its bottom gutter when only the height changed, for
widgets whose rows do not depend on their height (the answer and its live segment),
and asks for no repaint of them at the next frame (the layout repainted them).
Applied only while the styles cache keeps rows as 8.2.8 does (`ROWS_KEPT`).

6. Upstream (Textual 8.2.8, `TextArea.render_lines`): the theme's styles are read from
the widget's CSS (`TextAreaTheme.apply_css`, a dozen style lookups) at every render, so
each key typed while a reply streams paid for it again: 14 % of the time of the frames
that paint the prompt. `ThemedOnce` reads them when its styles change. Applied only to
the method as 8.2.8 has it (`THEMED_ONCE`: its source, hashed).

7. Upstream (Textual 8.2.8, `DOMNode.add_class`): a class added restyles the node and
every node under it. `add_class_alone` restyles the node only, for a class that no rule
reads below it (public API only: no guard).

8. Upstream (Textual 8.2.8, `Widget.watch_has_focus`): a widget that takes or loses the
focus restyles itself and every node under it. The transcript holds the whole
conversation: with 20 long replies mounted, clicking into it or going back to the prompt
took about 1.2 s (every code block highlighted again, three layouts). `FocusedAlone`
restyles the widget alone, where no rule reads its focus below it. Applied only to the
watcher as 8.2.8 has it (`FOCUSED_ALONE`: its source, hashed).
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rich.segment import Segment
from textual._compositor import ChopsUpdate, Compositor
from textual._styles_cache import StylesCache
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable, TextArea
from textual.widgets.data_table import RowKey

Divide = Callable[[Strip, Iterable[int]], Sequence[Strip]]

_divide: Divide = Strip.divide
_update_dimensions = DataTable._update_dimensions
_get_renders = Compositor._get_renders
_render_partial_update = Compositor.render_partial_update
GET_RENDERS_8_2_8 = "8ac93299aa5d3bef"
"""The first 16 hex digits of the SHA-256 of `Compositor._get_renders`' source in 8.2.8."""
RENDER_PARTIAL_UPDATE_8_2_8 = "888dccc892d8ecc2"
"""The same for `Compositor.render_partial_update`."""
_repainting: dict[Compositor, list[Region]] = {}
"""While a compositor's partial update renders: the regions it repaints. Taken by its
`_get_renders_in_rows` before any widget renders: a widget's render
may render a compositor whole (a modal's background is the screen below, rendered through
that screen's compositor), and must not find them."""


def _divide_without_cycle(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    cuts = [cut for cut in cuts if cut <= self.cell_length]
    if cuts == [self.cell_length]:
        return [self]
    return _divide(self, cuts)


def restyle_alone(widget: Widget) -> None:
    """Apply the CSS to `widget` (and its scroll bars) but to nothing under it."""
    widget.app.stylesheet.update_nodes([widget], animate=True)


def add_class_alone(widget: Widget, name: str) -> None:
    """`widget.add_class(name)`, restyling `widget` alone (fix 7): a finished reply's
    state, under which are all the parts of its answer (35 ms after 20,000 tokens)."""
    widget.add_class(name, update=False)
    restyle_alone(widget)


SIZED_ONCE = "layout" in inspect.signature(Widget._size_updated).parameters


class SizedOnce(Widget):
    """A widget laid out once when its size changes, not twice (fix 3). Listed after a
    widget's Textual base (`class T(VerticalScroll, SizedOnce)`): Textual takes a
    widget's CSS from its first base's line only."""

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        if not SIZED_ONCE:  # a Textual whose `_size_updated` takes no `layout`
            return super()._size_updated(size, virtual_size, container_size)
        return super()._size_updated(size, virtual_size, container_size, layout=False)


def _rows_kept_applies() -> bool:
    """Whether Textual keeps a widget's rendered rows as fix 5 expects: in its styles
    cache's `_cache` (by row) and `_dirty_lines`, as 8.2.8 does."""
    cache = StylesCache()
    return isinstance(getattr(cache, "_cache", None), dict) and isinstance(
        getattr(cache, "_dirty_lines", None), set
    )


ROWS_KEPT = _rows_kept_applies()


class RowsKept(SizedOnce):
    """A widget whose rows do not depend on its height (drawn from the top, nothing
    drawn at its bottom edge but its gutter): when only its height changes, the rows it
    had rendered are kept (fix 5). Textual clears a resized widget's rendered rows:
    every row of a growing answer, and of its container, was rendered again at each
    layout (one per 8 new lines while it streams)."""

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        old, cache = self._size, self._styles_cache
        kept: dict[int, Strip] = {}
        keep = False
        if ROWS_KEPT and size.width == old.width and size.height != old.height:
            below = min(old.height, size.height) - self.rows_below()
            dirty = cache._dirty_lines
            kept = {y: row for y, row in cache._cache.items() if y < below and y not in dirty}
            keep = bool(kept) or self.rows_from_lines()
        # Asked before, not yet collected by the screen: still to repaint after.
        asked, dirty_asked = set(self._repaint_regions), set(self._dirty_regions)
        resized = super()._size_updated(size, virtual_size, container_size, layout)
        if keep:
            cache._cache.update(kept)
            cache._dirty_lines.difference_update(kept)
            # Textual also asks for the whole widget to be repainted at the next frame:
            # the layout that resized it repaints it already (or, scrolled by the
            # terminal, the rows from its old bottom: scroll_ahead). Rows kept are not.
            rows = Region(0, below, size.width, size.height - below)
            self._repaint_regions, self._dirty_regions = asked | {rows}, dirty_asked | {rows}
        return resized

    def rows_from_lines(self) -> bool:
        """Whether its rows are made from its lines at each render, not kept by its
        styles cache (`direct_rows.RowsDrawn`): all of them above its bottom hold."""
        return False

    def rows_below(self) -> int:
        """The rows at its bottom edge that are not its text: its gutter and outline."""
        return self.styles.gutter.bottom + (1 if self.styles.outline_bottom[0] else 0)


TEXT_AREA_RENDER_LINES_8_2_8 = "5a3931b3e86abfaf"
"""The first 16 hex digits of the SHA-256 of `TextArea.render_lines`' source in 8.2.8."""


def same_source(method: Callable[..., object], digest: str) -> bool:
    """Whether `method`'s source hashes to `digest` (the first 16 hex digits of its
    SHA-256): the code a fix or a copy was written against."""
    try:
        source = inspect.getsource(method)
    except (OSError, TypeError):  # no source to check: left as it is
        return False
    return hashlib.sha256(source.encode()).hexdigest()[:16] == digest


def same_sources(methods: Iterable[tuple[Callable[..., object], str]]) -> bool:
    """Whether every method hashes to its digest (`same_source`)."""
    return all(same_source(method, digest) for method, digest in methods)


THEMED_ONCE = same_source(TextArea.render_lines, TEXT_AREA_RENDER_LINES_8_2_8)

WATCH_HAS_FOCUS_8_2_8 = "387d9eae398b4747"
"""What a focus change does (`Widget.watch_has_focus`, 8.2.8), done here for one widget."""
FOCUSED_ALONE = same_source(Widget.watch_has_focus, WATCH_HAS_FOCUS_8_2_8)


class FocusedAlone(Widget):
    """A container restyled alone when it takes or loses the focus (fix 8). Listed after
    its Textual base, as `SizedOnce`."""

    def watch_has_focus(self, _has_focus: bool) -> None:
        if FOCUSED_ALONE:
            restyle_alone(self)
        else:
            super().watch_has_focus(_has_focus)


class ThemedOnce(TextArea):
    """A TextArea that reads its theme's styles when they may have changed (fix 6), not
    at every render. Listed before TextArea (`class T(ThemedOnce, TextArea)` or as its
    only Textual base)."""

    _themed: object = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._themed = None  # new styles (a theme, focus): read again at the next render

    def render_lines(self, crop: Region) -> list[Strip]:
        if not THEMED_ONCE:
            return super().render_lines(crop)
        theme = self._theme
        # Its own style too: an inline or animated background (its own or an ancestor's)
        # changes it without a style update.
        themed = (theme, self.rich_style)
        if theme and self._themed != themed:
            theme.apply_css(self)
            self._themed = themed
        return super(TextArea, self).render_lines(crop)  # what TextArea's own goes on to


def _update_dimensions_and_renders(self: DataTable[Any], new_rows: Iterable[RowKey]) -> None:
    _update_dimensions(self, new_rows)
    # Widths and virtual size may have changed: no render or box model cached before holds.
    self._update_count += 1
    self._layout_updates += 1


def _get_renders_in_rows(
    self: Compositor, crop: Region | None = None
) -> Iterable[tuple[Region, Region, list[Strip]]]:
    """Textual's `_get_renders`: (region, clip, lines) of each visible widget the crop
    crosses, front to back; each rendered in the crop's rows only, or in a partial
    update in the runs of rows of the regions to repaint that cross it (its clip
    narrowed to them: `_render_chops` places the lines by the clip; a widget that
    crosses none is not rendered: what is written of a chop crosses a region to
    repaint, and a chop lies under the same widgets all across), and not at all where a
    widget in front
    covers all of it the regions to repaint hold (`_render_chops` takes each cell from
    the front-most widget: what is behind was rendered and thrown away; a row of text
    repainted rendered the screen, the transcript and the answer under it, for the
    columns beside the text, which are not written)."""
    if crop is None:
        yield from _get_renders(self, crop)
        return
    overlaps = crop.overlaps
    covering: list[Region] = []
    repainting = _repainting.pop(self, None) or [crop]
    for widget, (region, clip) in list(self.visible_widgets.items()):
        if not overlaps(clip):
            continue
        seen_at = clip.intersection(region)
        for run in row_runs(r for r in repainting if r.overlaps(seen_at)):
            rows = clip.intersection(Region(clip.x, run.start, clip.width, len(run)))
            shown = region.intersection(rows)
            x, y, width, height = shown
            if not (width and height):
                continue
            # What is written of it: the regions to repaint it is under (the cells of a
            # partial update outside them are not written, `ChopsUpdate`).
            seen = [r.intersection(shown) for r in repainting if r.overlaps(shown)]
            if seen and all(any(f.contains_region(part) for f in covering) for part in seen):
                continue
            lines = widget.render_lines(Region(x - region.x, y - region.y, width, height))
            if len(lines) == height and all(line.cell_length == width for line in lines):
                covering.append(shown)  # every cell of it drawn: nothing behind it shows
            yield region, rows, lines


def row_runs(regions: Iterable[Region]) -> list[range]:
    """The runs of consecutive rows `regions` cover."""
    runs: list[range] = []
    for y in sorted({y for region in regions for y in region.line_range}):
        if runs and runs[-1].stop == y:
            runs[-1] = range(runs[-1].start, y + 1)
        else:
            runs.append(range(y, y + 1))
    return runs


def _render_partial_update_in_rows(self: Compositor) -> ChopsUpdate | None:
    """Textual's `render_partial_update`, which renders the band that holds every region
    to repaint (its crop) and writes only their rows: the renders are asked for in the
    rows of the regions each widget is under (`_get_renders_in_rows`)."""
    _repainting[self] = list(self._dirty_regions)
    try:
        return _render_partial_update(self)
    finally:
        _repainting.pop(self, None)


def needs_rows_fix() -> bool:
    """Whether `Compositor._get_renders` and `render_partial_update` are 8.2.8's, which
    fix 4 stands in for and wraps."""
    return same_source(_get_renders, GET_RENDERS_8_2_8) and same_source(
        _render_partial_update, RENDER_PARTIAL_UPDATE_8_2_8
    )


def rows_applied() -> bool:
    """Whether fix 4 is in place: a widget rendered whole in a frame is written whole
    (Textual's own renders every widget in a frame's box and writes only its cells)."""
    return Compositor._get_renders is _get_renders_in_rows


def needs_divide_fix(divide: Divide) -> bool:
    """Whether `divide` keeps `[strip]` cached in the strip: the same list, holding the
    strip itself, comes back for the same cut."""
    strip = Strip([Segment("cycle")])
    first = divide(strip, [strip.cell_length])
    return first is divide(strip, [strip.cell_length]) and first[0] is strip


def needs_table_fix() -> bool:
    """Whether DataTable still measures in `_update_dimensions` and caches by the counts
    the fix bumps (a release that reworked them gets no patch)."""
    table: DataTable[Any] = DataTable()
    return all(hasattr(table, name) for name in ("_update_count", "_layout_updates")) and (
        callable(getattr(DataTable, "_update_dimensions", None))
    )


def apply() -> bool:
    """Patch what this Textual needs; True if the `Strip.divide` fix is in place."""
    if DataTable._update_dimensions is not _update_dimensions_and_renders and needs_table_fix():
        DataTable._update_dimensions = _update_dimensions_and_renders  # type: ignore[method-assign]
    if Compositor._get_renders is _get_renders and needs_rows_fix():
        Compositor._get_renders = _get_renders_in_rows  # type: ignore[method-assign]
        Compositor.render_partial_update = _render_partial_update_in_rows  # type: ignore[method-assign]
    if Strip.divide is _divide_without_cycle:
        return True
    if not needs_divide_fix(Strip.divide):
        return False
    Strip.divide = _divide_without_cycle  # type: ignore[method-assign]
    return True
