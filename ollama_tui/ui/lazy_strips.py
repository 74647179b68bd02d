"""A strip's caches are made when first used, not every time a strip is made.

Upstream (Textual 8.2.8, `Strip.__init__`): each strip makes seven empty `FIFOCache`s
(divide, crop, style, filter, line length, crop-extend, offsets). A row on its way to
the terminal becomes a new strip at most steps (the widget's line, its padding and
background, its filters, the compositor's cuts), and most of them use one cache or
none: making the seven was about three quarters of the time to make a strip, and they
were most of the objects a frame left for the collector. Textual's `Content` already
makes its own divide cache on first use (`content.py`); here a strip does the same for
all seven: `__init__` sets the strip's own fields only, and a cache not set yet is made
by `__getattr__` (Python calls it when an empty slot is read) with Textual's size for
it. Every method of the strip is Textual's own, caching as before.

Applied only to `Strip.__init__` as 8.2.8 has it (its source, hashed), and only where
Strip has no `__getattr__` of its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.segment import Segment
from textual.cache import FIFOCache
from textual.strip import Strip

from ollama_tui.ui.textual_fixes import same_source

INIT_8_2_8 = "ce1d8154dca8cfd7"

CACHES = {
    "_divide_cache": 4,
    "_crop_cache": 16,
    "_style_cache": 16,
    "_filter_cache": 4,
    "_line_length_cache": 4,
    "_crop_extend_cache": 4,
    "_offsets_cache": 4,
}
"""Each cache `Strip.__init__` makes in 8.2.8, and its size."""

_init = Strip.__init__


def _init_without_caches(
    self: Strip, segments: Iterable[Segment], cell_length: int | None = None
) -> None:
    self._segments = list(segments)
    self._cell_length = cell_length
    self._render_cache = None
    self._link_ids = None
    self._cell_count = None


def _cache_on_first_use(self: Strip, name: str) -> FIFOCache[object, object]:
    size = CACHES.get(name)
    if size is None:
        message = f"{type(self).__name__!r} object has no attribute {name!r}"
        raise AttributeError(message, name=name, obj=self)
    cache: FIFOCache[object, object] = FIFOCache(size)
    setattr(self, name, cache)
    return cache


def needs_lazy_caches() -> bool:
    own = vars(Strip).get("__getattr__", _cache_on_first_use)  # (ours, once applied)
    return own is _cache_on_first_use and same_source(_init, INIT_8_2_8)


def apply() -> None:
    if Strip.__init__ is _init and needs_lazy_caches():
        Strip.__init__ = _init_without_caches  # type: ignore[method-assign]
        Strip.__getattr__ = _cache_on_first_use  # type: ignore[attr-defined]


def remove() -> None:
    """Textual's own again (a test compares with it)."""
    Strip.__init__ = _init  # type: ignore[method-assign]
    if vars(Strip).get("__getattr__") is _cache_on_first_use:
        del Strip.__getattr__  # type: ignore[attr-defined]
