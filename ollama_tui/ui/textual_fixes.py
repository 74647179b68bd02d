"""Fixes to Textual, applied once at start-up, until upstream has them.

`Strip.divide` caches its result on the strip; when the only cut is the strip's own
length the result is `[self]`, so the strip holds a list holding itself: a reference
cycle that only the cycle collector can free. Textual divides most lines this way
on every frame: these strips and their caches were three quarters of the objects the
cycle collector freed (docs/ui-performance.md), and kept full collections (the app's
longest pauses) running about twice a second while a reply streamed. Returning
`[self]` uncached breaks the cycle; every other division is Textual's own code, cache
included.

`DataTable` caches the rows, cells and lines it renders under keys that hold its
`_update_count`, not its column widths. The widths of added rows are measured later, on
the table's idle (`_update_dimensions`), which does not bump the count: a frame drawn
between `add_row` and that idle (the screen's refresh timer can come first on a busy
machine) keeps the rows cut to the header's widths until the cursor moves ("demo" for
"demo:latest" in the models list; the models snapshot showed it under load). Bumping the
count once the widths are measured makes the next frame draw the rows anew.

Measuring also sets the table's virtual size, which is its height when that is `auto`,
and asks for a layout; but `Widget.refresh(layout=True)` bumps `_layout_updates` (part of
the box model's cache key) only if no layout was asked for yet. A table shown and filled
at once (the compare view's summary) asked already; a frame drawn before it measured
laid it out 0 rows high, and that box model stayed cached: no summary, ever (the compare
snapshot showed it under load). Bumping `_layout_updates` with the count lets the
layout that follows measure the table again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

_divide = Strip.divide
_update_dimensions = DataTable._update_dimensions


def _divide_without_cycle(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    cuts = [cut for cut in cuts if cut <= self.cell_length]
    if cuts == [self.cell_length]:
        return [self]
    return _divide(self, cuts)


def _update_dimensions_and_renders(self: DataTable[Any], new_rows: Iterable[RowKey]) -> None:
    _update_dimensions(self, new_rows)
    # Widths and virtual size may have changed: no render or box model cached before holds.
    self._update_count += 1
    self._layout_updates += 1


def apply() -> None:
    Strip.divide = _divide_without_cycle  # type: ignore[method-assign]
    DataTable._update_dimensions = _update_dimensions_and_renders  # type: ignore[method-assign]
