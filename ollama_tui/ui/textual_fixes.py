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
    self._update_count += 1  # the widths may have changed: no render cached before holds


def apply() -> None:
    Strip.divide = _divide_without_cycle  # type: ignore[method-assign]
    DataTable._update_dimensions = _update_dimensions_and_renders  # type: ignore[method-assign]
