"""A repaint of rows nothing covers, put together without the compositor's whole frame.

Upstream (Textual 8.2.8, `Screen._compositor_refresh` → `Compositor.render_update` →
`render_partial_update` → `_render_chops`): a repaint goes through every visible widget
to find those the repainted regions cross, makes an empty "chop" for every cut of every
row of the screen, divides each rendered row at the cuts and writes the chops in the
repainted spans. For the rows of an answer grown by a word, the live segment's rows
written where they are, that frame around one small render was about half of each of
the 22 paints a second (docs/ui-performance.md).

`direct_update` builds the same update (`ChopsUpdate`: the same chops, spans and ends,
so the same bytes) for the widgets asked to repaint, when nothing else is pending: each
region to repaint lies inside its widget, and no widget in front of it (a toast, a
tooltip, a menu) crosses it. Then only the rows to repaint are rendered and chopped,
each as `_render_chops` does. Anything else (a widget partly covered, another region
pending, a scroll `scroll_ahead` still owes the terminal, another Textual) returns
None, and the compositor paints as always.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

from ollama_tui.ui import scroll_ahead, textual_fixes
from ollama_tui.ui.textual_fixes import row_runs, same_sources

ENABLED = same_sources(
    [
        (Compositor._render_chops, "ca8c3359d7afd017"),
        (textual_fixes._render_partial_update, "888dccc892d8ecc2"),  # (Textual's own)
        (Compositor.update_widgets, "86c02b2f8d6d93dd"),
        (ChopsUpdate.render_segments, "4c1cdb567e0b8354"),
        (Screen._compositor_refresh, "7a40efe563816a06"),
        (scroll_ahead._render_update, "772c6b21953aff0e"),  # (Textual's `render_update`)
        (Widget._exchange_repaint_regions, "a2d797888f08a6a7"),
        (ChopsUpdate.__init__, "f40588bd8fbd6469"),
        (ChopsUpdate.__rich_console__, "c45d5804ef810b78"),
    ]
)
"""Only over the methods as Textual 8.2.8 has them (their sources hashed): the update
made here is theirs, made for fewer rows."""


NO_CHOPS: Mapping[int, Strip | None] = MappingProxyType({})
"""A row not rendered (shared: read only)."""


def _regions(widget: Widget, region: Region, clip: Region) -> list[Region] | None:
    """Where on the screen `widget` asked to be repainted (`update_widgets`' regions),
    without taking them; None if one reaches outside the widget."""
    found = []
    for asked in widget._repaint_regions:
        shown = clip.intersection(asked.translate(region.offset))
        if not shown:
            continue
        if not region.contains_region(shown):
            return None
        found.append(shown)
    return found


def direct_update(screen: Screen[Any], widgets: Iterable[Widget]) -> ChopsUpdate | None:
    """The update the compositor would write for the repaints `widgets` asked for (their
    repaint regions taken), or None (nothing taken) where the compositor must paint."""
    compositor = screen._compositor
    if not ENABLED or compositor._dirty_regions or scroll_ahead.scroll_owed(compositor):
        return None
    visible = compositor.visible_widgets  # front to back
    order = {widget: index for index, widget in enumerate(visible)}
    placed = list(visible.items())
    asked: list[tuple[Widget, Region, Region, list[Region]]] = []
    checked: list[Widget] = []
    for widget in widgets:
        index = order.get(widget)
        if index is None:
            return None
        region, clip = visible[widget]
        regions = _regions(widget, region, clip)
        if regions is None:
            return None
        for dirty in regions:
            for _, (front, front_clip) in placed[:index]:
                if front_clip.intersection(front).overlaps(dirty):
                    return None  # something drawn over it: the compositor decides
        checked.append(widget)
        if regions:
            asked.append((widget, region, clip, regions))
    if not asked:
        return None
    # Rendered front to back, as the compositor does: where two asked widgets share a
    # row, the one in front fills the chops it covers (found by a review).
    asked.sort(key=lambda found: order[found[0]])
    # Taken before rendering, as `update_widgets` takes them: a repaint asked while
    # rendering is for the next frame.
    taken = {widget: widget._exchange_repaint_regions() for widget in checked}
    update = _chops(compositor, asked)
    if update is None:
        for widget, given in taken.items():
            widget._repaint_regions.update(given)  # for the compositor, as they were
    return update


def _chops(
    compositor: Compositor, asked: list[tuple[Widget, Region, Region, list[Region]]]
) -> ChopsUpdate | None:
    """`_render_chops`' update for the rows of `asked`' regions only; None if a widget
    renders fewer rows or cells than asked (the compositor shows what lies behind)."""
    cuts = compositor.cuts
    chops: dict[int, dict[int, Strip | None]] = {}  # the rows rendered
    dirty_regions: list[Region] = []
    for widget, region, clip, regions in asked:
        dirty_regions.extend(regions)
        for run in row_runs(regions):  # (as `_get_renders_in_rows` renders them)
            band = clip.intersection(Region(clip.x, run.start, clip.width, len(run)))
            shown = region.intersection(band)
            x, y, width, height = shown
            if not (width and height):
                continue
            lines = widget.render_lines(Region(x - region.x, y - region.y, width, height))
            if len(lines) != height or any(line.cell_length != width for line in lines):
                return None
            # As `_render_chops` places a render: divided at the row's cuts, each chop
            # the first one's to fill it (front to back).
            first_cut, last_cut = shown.column_span
            for row, strip in zip(shown.line_range, lines, strict=False):
                line = chops.setdefault(row, dict.fromkeys(cuts[row][:-1]))
                final = [cut for cut in cuts[row] if last_cut >= cut >= first_cut]
                pieces = strip.divide([c - x for c in final[1:]])
                for cut, piece in zip(final, pieces, strict=False):  # (the last cut: an end)
                    if line.get(cut) is None:
                        line[cut] = piece
    spans = list(compositor._regions_to_spans(dirty_regions))
    # Every row, as Textual's: those not rendered hold no chop (and are not written).
    rows_chops: list[Mapping[int, Strip | None]] = [NO_CHOPS] * len(cuts)
    ends: list[list[int]] = [[]] * len(cuts)
    for y, line in chops.items():
        rows_chops[y], ends[y] = line, cuts[y][1:]
    return ChopsUpdate(rows_chops, spans, ends)


def paint_directly(screen: Screen[Any], widgets: Iterable[Widget]) -> bool:
    """Write `direct_update`'s update as `_compositor_refresh` writes a frame; False if
    there is none (nothing done)."""
    update = direct_update(screen, widgets)
    if update is None:
        return False
    app = screen.app
    app._display(screen, update)
    screen._dirty_widgets.clear()
    app._update_mouse_over(screen)
    return True
