"""A layout that only scrolls the transcript is written as a terminal scroll.

Upstream (Textual 8.2.8, `Compositor.reflow` and `render_update`): when a scrolling
container's content moves, every widget in it has a new place, so the layout marks all
of the container's rows dirty and the frame renders and writes each of them again. A
streaming answer grows by a hand of rows at a time and the transcript, anchored to its
end, scrolls by as much: each such layout rendered and wrote the whole transcript, the
costliest frames of a reply (docs/ui-performance.md: 56 % of a layout's time rendering,
10 % writing, at 8-13 ms each; one to three a second at 100 tok/s).

Here, after Textual's reflow of the top screen, if a `ScrollsAhead` container kept its
place and scrolled down by `k` rows, and everything drawn in its rows either is a widget
inside it that moved up by exactly `k` (or, a `RowsKept` widget, also grew at its
bottom) or lies beside it, the terminal is told to scroll those rows up by `k` (a
scrolling region and `k` line feeds at its bottom, which every VT100-style terminal
does), and only what the scroll cannot bring is repainted: the `k` new rows, the
columns beside the container (its scroll bar), the rows of a widget that changed
otherwise, and what was to be repainted anyway (moved with the scroll). Anything else
in those rows (an overlay, a toast, a picture), a full repaint, a modal or inline screen, or a
reflow before the scroll was written: Textual's own way. What the terminal shows is the
last frame rendered (`State.shown`, kept at each render), so the scroll starts from it.

Applied only to the methods as 8.2.8 has them (their sources hashed).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region, Size
from textual.widget import Widget

from ollama_tui.ui import thumbnails
from ollama_tui.ui.textual_fixes import RowsKept, same_source

if TYPE_CHECKING:
    from textual._compositor import ReflowResult

REFLOW_8_2_8 = "a08580a81a779473"
RENDER_UPDATE_8_2_8 = "772c6b21953aff0e"

_reflow = Compositor.reflow
_render_update = Compositor.render_update


class ScrollsAhead:
    """A scrolling container that draws nothing of its own but its background (its
    children carry all its content): its rows can be scrolled by the terminal."""


@dataclass(frozen=True, slots=True)
class Shown:
    """What the last frame rendered: the visible widgets' (region, clip), the
    `ScrollsAhead` containers' scroll, and the screen's size."""

    visible: dict[Widget, tuple[Region, Region]]
    scrolls: dict[Widget, float]
    size: Size


@dataclass(slots=True)
class State:
    """A compositor's: what it last rendered, and the scroll its next frame writes first."""

    shown: Shown | None = None
    scroll: tuple[int, int, int] | None = None  # rows top to bottom (exclusive), by k


STATE = "_ollama_tui_scroll_ahead"


def _state(compositor: Compositor) -> State:
    # Kept on the compositor, so it goes with its screen (in a dictionary keyed by the
    # compositor, the widgets it holds would keep their screen, and so the key, alive).
    found: State | None = vars(compositor).get(STATE)
    if found is None:
        found = vars(compositor)[STATE] = State()
    return found


def scroll_owed(compositor: Compositor) -> bool:
    """Whether a layout's scroll is still to be written by the next frame."""
    return _state(compositor).scroll is not None


class ScrolledUpdate(ChopsUpdate):
    """Textual's partial update, after rows `top` to `bottom` (exclusive) are scrolled up
    by `rows`: a scrolling region, line feeds at its bottom row, the region reset."""

    def __init__(self, update: ChopsUpdate, top: int, bottom: int, rows: int) -> None:
        super().__init__(update.chops, update.spans, update.chop_ends)
        self.scroll = f"\x1b[{top + 1};{bottom}r\x1b[{bottom};1H" + "\n" * rows + "\x1b[r"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Segment(self.scroll)
        yield from super().__rich_console__(console, options)

    def render_segments(self, console: Console) -> str:
        return self.scroll + super().render_segments(console)


def _inside(widget: Widget, container: Widget) -> bool:
    node = widget.parent
    while node is not None:
        if node is container:
            return True
        node = node.parent
    return False


def _outside_rows(region: Region, top: int, bottom: int) -> Iterator[Region]:
    """The parts of `region` above row `top` and from row `bottom` down."""
    if region.y < top:
        yield Region(region.x, region.y, region.width, min(region.bottom, top) - region.y)
    if region.bottom > bottom:
        start = max(region.y, bottom)
        yield Region(region.x, start, region.width, region.bottom - start)


def _scroll_area(container: Widget) -> Region:
    """The container's rows that scroll, with its left padding (its own blank
    background); not its scroll bar (Textual draws it inside the right padding)."""
    inner = container.scrollable_content_region
    left = container.styles.padding.left
    return Region(inner.x - left, inner.y, inner.width + left, inner.height)


def _repaints(
    shown: Shown, now: dict[Widget, tuple[Region, Region]], container: Widget, area: Region, k: int
) -> list[Region] | None:
    """What a scroll of `area` by `k` rows cannot bring (None: it cannot be scrolled)."""
    band = Region(0, area.y, shown.size.width, area.height)
    dirty: list[Region] = []
    for widget in shown.visible.keys() | now.keys():
        if widget is container or _inside(container, widget):
            continue  # (the screen and the container's parents: hidden behind it there)
        before, after = shown.visible.get(widget), now.get(widget)
        was = before[1].intersection(before[0]) if before else Region()
        ours = after[1].intersection(after[0]) if after else Region()
        if not (band.overlaps(was) or band.overlaps(ours)):
            continue
        if not _inside(widget, container):
            if area.overlaps(was) or area.overlaps(ours):
                return None  # an overlay, a toast: drawn over the rows that would move
            continue
        if thumbnails.is_picture(widget):
            return None  # pixels (sixel, kitty): not every terminal scrolls them with text
        if before and after and before[1] == after[1]:
            old, new = before[0], after[0]
            if new == Region(old.x, old.y - k, old.width, old.height):
                continue  # moved with the scroll: the terminal brings it
            grown = (new.x, new.width, new.y) == (old.x, old.width, old.y - k)
            if grown and new.height > old.height and isinstance(widget, RowsKept):
                # Its rows above its old bottom gutter are kept (fix 5): only below.
                top = old.bottom - k - widget.rows_below()
                dirty.append(Region(new.x, top, new.width, new.bottom - top))
                continue
        dirty.append(ours)
        dirty.append(Region(was.x, was.y - k, was.width, was.height))
    return [area.intersection(r) for r in dirty] + [
        Region(area.x, area.bottom - k, area.width, k),  # the rows scrolled in
        Region(band.x, band.y, area.x - band.x, band.height),  # beside: scrolled too
        Region(area.right, band.y, band.right - area.right, band.height),
    ]


def _reflow_scrolled(self: Compositor, parent: Widget, size: Size) -> ReflowResult:
    """Textual's `reflow`; then, if the layout only scrolled a `ScrollsAhead` container,
    its rows are marked to be scrolled by the terminal and only the rest is repainted."""
    state = _state(self)
    if state.scroll is not None:
        # Laid out again before the scroll was written: repaint all, as Textual would.
        state.scroll = None
        self._dirty_regions.add(size.region)
    before = set(self._dirty_regions)
    result = _reflow(self, parent, size)
    shown = state.shown
    app = parent.app
    if (
        shown is None
        or shown.size != size
        or app.screen is not parent
        or app.is_inline
        or app._background_screens
        or size.region in self._dirty_regions
    ):
        return result
    now = self.visible_widgets
    for container, scroll in shown.scrolls.items():
        place = now.get(container)
        k = container.scroll_y - scroll
        if place != shown.visible.get(container) or k != int(k):
            continue
        area = _scroll_area(container)
        if not 0 < k < area.height:
            continue
        repaints = _repaints(shown, now, container, area, int(k))
        if repaints is None:
            return result
        top, bottom, rows = area.y, area.bottom, int(k)
        dirty: list[Region] = []
        for region in before:  # asked before the layout: where it is after the scroll
            dirty.extend(_outside_rows(region, top, bottom))
            inside = region.intersection(Region(region.x, top, region.width, bottom - top))
            if inside:
                dirty.append(area.intersection(inside.translate((0, -rows))))
        for region in self._dirty_regions - before:  # the layout's: all but the scroll's
            dirty.extend(_outside_rows(region, top, bottom))
        self._dirty_regions.clear()
        self._dirty_regions.update(region for region in dirty + repaints if region)
        state.scroll = (top, bottom, rows)
        return result
    return result


def _render_update_scrolled(
    self: Compositor, full: bool = False, screen_stack: Any = None, simplify: bool = False
) -> Any:
    """Textual's `render_update`, written after the scroll a layout asked for; what it
    rendered is kept as what the terminal shows (not for a screenshot: `full`)."""
    if full:
        return _render_update(self, full, screen_stack, simplify)
    state = _state(self)
    scroll, state.scroll = state.scroll, None
    update = _render_update(self, full, screen_stack, simplify)
    if self.root is not None and self.root.app._batch_count:
        state.shown = None  # this frame is not written (`App._display`): unknown now
    else:
        visible = dict(self.visible_widgets)
        scrolls: dict[Widget, float] = {
            w: w.scroll_y for w in visible if isinstance(w, ScrollsAhead)
        }
        state.shown = Shown(visible, scrolls, self.size)
    if scroll is not None and type(update) is ChopsUpdate:
        return ScrolledUpdate(update, *scroll)
    return update


def needs_scroll_fix() -> bool:
    return same_source(_reflow, REFLOW_8_2_8) and same_source(_render_update, RENDER_UPDATE_8_2_8)


def apply() -> None:
    if Compositor.reflow is _reflow and needs_scroll_fix():
        Compositor.reflow = _reflow_scrolled  # type: ignore[method-assign]
        Compositor.render_update = _render_update_scrolled  # type: ignore[method-assign]


def remove() -> None:
    """Textual's own methods again (a test compares with them)."""
    Compositor.reflow = _reflow  # type: ignore[method-assign]
    Compositor.render_update = _render_update  # type: ignore[method-assign]
