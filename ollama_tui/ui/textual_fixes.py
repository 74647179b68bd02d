"""A fix to Textual, applied at app start, only where the Textual installed needs it.

Upstream (Textual 8.2.8, `textual/strip.py`): `Strip.divide(cuts)` caches its result in
the strip's `_divide_cache`; when the only cut is the strip's own length the result is
`[self]`, so the strip holds a list holding itself: a reference cycle that only the
cycle collector can free. Textual divides most lines this way on every frame: these
strips and their caches were three quarters of the objects the cycle collector freed
(docs/ui-performance.md), and kept full collections (the app's longest pauses) running
about twice a second while a reply streamed. Returning `[self]` uncached breaks the
cycle; every other division is Textual's own code, cache included.

The fix is applied only if this Textual still behaves so (`needs_fix`): a release
that stops caching `[self]` gets no patch, whatever its version number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from rich.segment import Segment
from textual.strip import Strip

Divide = Callable[[Strip, Iterable[int]], Sequence[Strip]]

_divide: Divide = Strip.divide


def _divide_without_cycle(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    cuts = [cut for cut in cuts if cut <= self.cell_length]
    if cuts == [self.cell_length]:
        return [self]
    return _divide(self, cuts)


def needs_fix(divide: Divide) -> bool:
    """Whether `divide` keeps `[strip]` cached in the strip: the same list, holding the
    strip itself, comes back for the same cut."""
    strip = Strip([Segment("cycle")])
    first = divide(strip, [strip.cell_length])
    return first is divide(strip, [strip.cell_length]) and first[0] is strip


def apply() -> bool:
    """Patch `Strip.divide` if this Textual needs it; True if the fix is in place."""
    if Strip.divide is _divide_without_cycle:
        return True
    if not needs_fix(Strip.divide):
        return False
    Strip.divide = _divide_without_cycle  # type: ignore[method-assign]
    return True
