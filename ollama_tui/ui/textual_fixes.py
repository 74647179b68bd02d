"""Fixes to Textual, applied once at start-up, until upstream has them.

`Strip.divide` caches its result on the strip; when the only cut is the strip's own
length the result is `[self]`, so the strip holds a list holding itself: a reference
cycle that only the cycle collector can free. Textual divides most lines this way
on every frame: these strips and their caches were three quarters of the objects the
cycle collector freed (docs/ui-performance.md), and kept full collections (the app's
longest pauses) running about twice a second while a reply streamed. Returning
`[self]` uncached breaks the cycle; every other division is Textual's own code, cache
included.

A container keeps its last children after they are removed, in caches that only its
next layout replaces: its node list's displayed children, its arrangements, a stream
layout's placements. Emptied (New chat), it is never laid out again with children
until the next reply, so the cleared transcript outlived the compaction meant to free
it and stayed as frozen garbage (ui/collector.py) until the next one. A node list
drops its displayed-children caches when it changes (they were stale from then on),
and a container left empty drops its arrangements.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from textual._node_list import NodeList
from textual.layouts.stream import StreamLayout
from textual.strip import Strip
from textual.widget import Widget

_divide = Strip.divide
_updated = NodeList.updated


def _divide_without_cycle(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    cuts = [cut for cut in cuts if cut <= self.cell_length]
    if cuts == [self.cell_length]:
        return [self]
    return _divide(self, cuts)


def _updated_dropping_stale_children(self: NodeList) -> None:
    _updated(self)
    self._displayed_nodes = self._displayed_visible_nodes = (-1, [])
    parent = None if self._nodes or self._parent is None else self._parent()
    if isinstance(parent, Widget):
        parent._clear_arrangement_cache()
        layout = parent.styles.layout
        if isinstance(layout, StreamLayout):
            layout._cached_placements = None


def apply() -> None:
    Strip.divide = _divide_without_cycle  # type: ignore[method-assign]
    NodeList.updated = _updated_dropping_stale_children  # type: ignore[method-assign]
