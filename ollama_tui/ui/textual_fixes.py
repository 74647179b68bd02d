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

4. Upstream (Textual 8.2.8, `Compositor._get_renders`): a frame that repaints some rows
renders every widget those rows cross over its whole visible height, and then keeps
only the rows to repaint. A streaming answer changes one row or two per frame, and the
screen, the transcript, its scroll bar and the answer were rendered whole each time
(cached lines, still 150 or so a frame: docs/ui-performance.md, "frames rendered in
their rows only"). Rendered here only in the rows of the repaint; a frame of the whole screen
is rendered as it was. Applied only to the method as 8.2.8 has it (`needs_rows_fix`:
its source, hashed).
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rich.segment import Segment
from textual._compositor import Compositor
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

Divide = Callable[[Strip, Iterable[int]], Sequence[Strip]]

_divide: Divide = Strip.divide
_update_dimensions = DataTable._update_dimensions
_get_renders = Compositor._get_renders
GET_RENDERS_8_2_8 = "8ac93299aa5d3bef"
"""The first 16 hex digits of the SHA-256 of `Compositor._get_renders`' source in 8.2.8."""


def _divide_without_cycle(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    cuts = [cut for cut in cuts if cut <= self.cell_length]
    if cuts == [self.cell_length]:
        return [self]
    return _divide(self, cuts)


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


def _update_dimensions_and_renders(self: DataTable[Any], new_rows: Iterable[RowKey]) -> None:
    _update_dimensions(self, new_rows)
    # Widths and virtual size may have changed: no render or box model cached before holds.
    self._update_count += 1
    self._layout_updates += 1


def _get_renders_in_rows(
    self: Compositor, crop: Region | None = None
) -> Iterable[tuple[Region, Region, list[Strip]]]:
    """Textual's `_get_renders`: (region, clip, lines) of each visible widget the crop
    crosses, front to back; each rendered in the crop's rows only (its clip narrowed to
    them: `_render_chops` places the lines by the clip)."""
    if crop is None:
        yield from _get_renders(self, crop)
        return
    overlaps = crop.overlaps
    for widget, (region, clip) in list(self.visible_widgets.items()):
        if not overlaps(clip):
            continue
        rows = clip.intersection(Region(clip.x, crop.y, clip.width, crop.height))
        x, y, width, height = region.intersection(rows)
        if width and height:
            lines = widget.render_lines(Region(x - region.x, y - region.y, width, height))
            yield region, rows, lines


def needs_rows_fix() -> bool:
    """Whether `Compositor._get_renders` is 8.2.8's, which fix 4 stands in for."""
    try:
        source = inspect.getsource(_get_renders)
    except (OSError, TypeError):  # no source to check: left as it is
        return False
    return hashlib.sha256(source.encode()).hexdigest()[:16] == GET_RENDERS_8_2_8


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
    if Strip.divide is _divide_without_cycle:
        return True
    if not needs_divide_fix(Strip.divide):
        return False
    Strip.divide = _divide_without_cycle  # type: ignore[method-assign]
    return True
