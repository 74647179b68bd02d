"""A fix to Textual, applied once at start-up, until upstream has it.

`Strip.divide` caches its result on the strip; when the only cut is the strip's own
length the result is `[self]`, so the strip holds a list holding itself: a reference
cycle that only the cycle collector can free. Textual divides most lines this way
on every frame: these strips and their caches were three quarters of the objects the
cycle collector freed (docs/ui-performance.md), and kept full collections (the app's
longest pauses) running about twice a second while a reply streamed. Returning
`[self]` uncached breaks the cycle; every other division is Textual's own code, cache
included.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from textual.strip import Strip

_divide = Strip.divide


def _divide_without_cycle(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    cuts = [cut for cut in cuts if cut <= self.cell_length]
    if cuts == [self.cell_length]:
        return [self]
    return _divide(self, cuts)


def apply() -> None:
    Strip.divide = _divide_without_cycle  # type: ignore[method-assign]
