"""A streamed append is painted as it ends, not at the screen's next timer tick.

Upstream (Textual 8.2.8): a widget's `refresh()` marks it; when its queue is idle it
posts `Update` to its screen; the screen, idle in turn, resumes its update timer, whose
task wakes and renders what changed (`Screen._on_timer_update`). For an append that
only changes rows (most of a reply's 22 paints a second) that is two messages, two idle
rounds and a task's wake-up around one small render.

`paint_now(screen)`, called as an append's batch ends, does what that tick would do
for repaints: the visible widgets that asked for one are rendered and written now,
through the same compositor (`update_widgets`, `_compositor_refresh`), and their
`Update` is not posted. Anything else pending (a layout, a scroll, styles, a
recompose, a repaint of the whole screen), another screen on top, an inline app, a
batch still open: nothing is done here, and Textual's tick paints as always.
"""

from __future__ import annotations

from typing import Any

from textual.geometry import Region
from textual.screen import Screen
from textual.widget import Widget

from ollama_tui.ui.direct_paint import paint_directly
from ollama_tui.ui.textual_fixes import same_source

ON_TIMER_UPDATE_8_2_8 = "421401660de142c5"
"""What a tick does (`Screen._on_timer_update`, 8.2.8), done here for repaints only."""
CHECK_REFRESH_8_2_8 = "ad1c8196be9747bf"
"""Where a widget's idle posts `Update` for `_repaint_required` (`Widget._check_refresh`)."""

ENABLED = same_source(Screen._on_timer_update, ON_TIMER_UPDATE_8_2_8) and same_source(
    Widget._check_refresh, CHECK_REFRESH_8_2_8
)
"""Only over the methods as 8.2.8 has them; elsewhere every paint is Textual's."""
SET_DIRTY_8_2_8 = "9c280366b8986cc8"
"""How a widget's whole repaint is asked (`Widget._set_dirty`): its outer region."""
INSIDE_BORDER = same_source(Widget._set_dirty, SET_DIRTY_8_2_8)


class PaintsNow:
    """A screen whose answers' appends are painted as they end: one stream at a time
    (the chat). The compare view's columns append apart and are painted together, at
    its tick: painted here, each would be a frame of its own."""


def _more_than_a_repaint(widget: Widget) -> bool:
    return bool(
        widget._layout_required
        or widget._scroll_required
        or widget._refresh_styles_required
        or widget._recompose_required
    )


def asked_for_repaint(screen: Screen[Any]) -> set[Widget]:
    """The visible widgets that asked for a repaint, as a widget's idle tells the screen
    (`_check_refresh`): attached, and displayed, which a widget being removed (closing,
    pruned) is not."""
    return {
        widget
        for widget in screen._compositor.visible_widgets
        if widget._repaint_required and widget._parent is not None and widget.display
    }


def paint_now(screen: Screen[Any]) -> bool:
    """Render and write the repaints the visible widgets asked for; False (nothing done)
    where Textual's own tick must paint."""
    app = screen.app
    if (
        not ENABLED
        or not isinstance(screen, PaintsNow)
        or app._batch_count
        or app.is_inline
        or app.screen is not screen
        or screen._layout_required
        or screen._scroll_required
        or screen._repaint_required
        or screen._recompose_required
    ):
        return False
    compositor = screen._compositor
    asked = asked_for_repaint(screen)
    # One of them to be laid out too (the answer grown): the tick lays out and paints.
    if not asked or any(_more_than_a_repaint(widget) for widget in asked):
        return False
    for widget in asked:
        widget._repaint_required = False  # painted here: its idle posts no `Update`
    # Rows nothing covers, with nothing else pending: only they are rendered and written
    # (`direct_paint`); else the compositor's frame.
    if not screen._dirty_widgets and paint_directly(screen, asked):
        return True
    compositor.update_widgets(screen._dirty_widgets | asked)
    screen._compositor_refresh()  # (renders, writes, and clears `_dirty_widgets`)
    return True


def paint_for(widget: Widget) -> bool:
    """`paint_now` on the screen `widget` is on; False if it is on none (being removed)."""
    return widget.is_attached and paint_now(widget.screen)


def inside_border(widget: Widget) -> None:
    """A repaint of all of `widget` asked for (by a change of its text only) narrowed to
    the rows inside its border: the border's rows are on the terminal as they were, and
    rendering them again was half of a key's echo in the prompt box. Not when anything
    more than a repaint is pending (a new size, new styles: the border may change)."""
    outer = widget.outer_size.region
    if not INSIDE_BORDER or _more_than_a_repaint(widget) or widget._repaint_regions != {outer}:
        return
    styles = widget.styles
    top = 1 if styles.border_top[0] else 0
    bottom = 1 if styles.border_bottom[0] else 0
    if outer.height > top + bottom:
        widget._repaint_regions = {Region(0, top, outer.width, outer.height - top - bottom)}
