"""The segment an answer is streaming into, drawn as lines (see `lines.py`).

One widget, whatever the blocks: each frame Textual arranges and paints it alone, and a
word added repaints only the rows that changed. Finished blocks keep their lines; the
growing one is drawn again at each append. Once the segment is full, or the answer has
ended, it becomes Textual's Markdown again (`AssistantMessage`), so a finished answer
is what it always was.
"""

from __future__ import annotations

from time import monotonic

from textual.containers import ScrollableContainer
from textual.content import Content
from textual.geometry import Region, Size
from textual.selection import Selection
from textual.strip import Strip
from textual.widget import Widget

from ollama_tui.ui.direct_rows import RowsDrawn, placed
from ollama_tui.ui.idle_owed import IdleOwed
from ollama_tui.ui.textual_fixes import RowsKept
from ollama_tui.ui.widgets.blocks import blocks_of
from ollama_tui.ui.widgets.folding import FoldedFence, FoldedParagraphs, FrozenSegment
from ollama_tui.ui.widgets.lines import (
    CannotDraw,
    Drawn,
    below_text,
    cut_classes,
    draw,
    fence_text,
    paragraph_text,
)
from ollama_tui.ui.widgets.probes import Probes

HAND = 8
"""Blank rows a growing segment keeps below its text: a new line lands on one already on
the screen, so the transcript moves (and is repainted whole) once per HAND lines, not
at every line (docs/ui-performance.md, "Rows in hand")."""
FAST_HAND = 2 * HAND
"""Rows in hand while lines come fast (`FAST_ROWS`): a code fence at 500 tok/s grows by
a hand every 60-80 ms, and each growth is a layout of the whole screen. Never more than
half the rows the answer is scrolled in (a short terminal would show only blank rows)."""
FAST_ROWS = 50.0
"""Rows a second, over at least RATE_SPAN, from which a segment keeps FAST_HAND rows in
hand (prose at 500 tok/s grows 30-60 rows a second, code at 100 tok/s about 25)."""
RATE_SPAN = 0.5
"""Seconds of growth before its rate counts: lines bunched after a busy moment (grown at
once, or in two growths close together) are not a rate."""


class LiveSegment(IdleOwed, RowsDrawn, RowsKept):
    DEFAULT_CSS = "LiveSegment { height: auto; }"

    def __init__(
        self, phase: int = 0, hand: int = HAND, grown: list[tuple[float, int]] | None = None
    ) -> None:
        """`phase`: the rows of the answer above it (its rows in hand make the answer's
        height, not its own, a multiple of `hand`: a segment that follows a full one
        starts with the rows in hand the full one lets go, its hand, and the answer's
        last growths, `grown`)."""
        super().__init__(classes="answer")
        self.source = ""
        self.continued = False  # its first block goes on from the last segment's
        self.continues = False  # its last block goes on in the next segment
        self.probes: Probes | None = None
        self.block_count = 0
        self.undrawable = False
        self.marks_drawn = True  # its lines show its marks (`mark`)
        self._strips: list[Strip] = []
        self._drawn = Drawn()
        self._width = 0
        self.phase = phase
        self.hand = hand
        self._unmarked = 0  # rows its lines lose once drawn with its mark (`will_continue`)
        # (when, the answer's rows) at its last growths: its rate (`_hand_now`)
        self._grown = grown or []
        self._rows = self._held(0)  # its height: its lines and the rows in hand

    async def append(self, text: str) -> None:
        """Add `text` and draw what changed; then `undrawable` if a block is not drawn
        here (the source is whole all the same, for Textual to take over)."""
        self.source += text
        self.redraw()

    def mark(self, *, continued: bool | None = None, continues: bool | None = None) -> None:
        """Its first or last block is cut across segments (their margins join)."""
        if continued is not None:
            self.continued = continued
        if continues is not None:
            self.continues = continues
        self.redraw()

    def will_continue(self) -> None:
        """Its last block goes on in the next segment: the segment is full, and put away
        in the frame it is cut in (folded, or Textual's Markdown, both marked by class).
        Drawn with the mark only if its lines are kept (`settled`): drawing a long fence
        or paragraph again for nothing was most of a fence's roll-over (8 of 11 ms). Its
        rows count the mark already (`let_go` hands on the rest)."""
        nodes = self._drawn.nodes
        if self.continues or not nodes or self.probes is None:
            self.mark(continues=True)
            return
        first = self.continued and len(nodes) == 1
        unmarked = cut_classes(continues=False, continued=first)
        marked = cut_classes(continues=True, continued=first)
        below = below_text(nodes[-1], self.probes, unmarked)
        self._unmarked = below - below_text(nodes[-1], self.probes, marked)
        self.continues = True
        self.marks_drawn = False

    def cut(self, *, first: bool, last: bool) -> str:
        """The classes of a block cut across segments, for its first or last block."""
        return cut_classes(continues=self.continues and last, continued=self.continued and first)

    def redraw(self) -> None:
        """Draw what changed. A block not drawn here (`CannotDraw`), or a failure to draw
        one, leaves the lines as they were and the segment `undrawable`: its message puts
        Textual's Markdown in its place at the next append, or when it ends."""
        width = self.size.width or (
            self.parent.size.width if isinstance(self.parent, Widget) else 0
        )
        if self.probes is None or width <= 0 or self.undrawable:
            return
        try:
            strips, self.block_count = draw(
                self.source,
                width,
                self.probes,
                continued=self.continued,
                continues=self.continues,
                drawn=self._drawn,
            )
        except CannotDraw:
            self.undrawable = True
            return
        except Exception as error:  # a bug here must not cost the answer: Textual has it
            self.log.error("an answer's lines could not be drawn:", error)
            self.undrawable = True
            return
        self.marks_drawn, self._unmarked = True, 0
        self._show(strips, width)

    def let_go(self) -> LiveSegment:
        """No rows in hand from now on: the segment is full. The segment to grow below
        it, holding the rows it let go."""
        hand, self.hand = self.hand, 1
        self._show(self._strips, self._width)
        return LiveSegment(self.phase + len(self._strips) - self._unmarked, hand, self._grown)

    def _held(self, lines: int) -> int:
        """Its height for `lines` lines: to the next multiple of its hand, counted from
        the answer's top."""
        if self.hand == 1:
            return lines
        return -(-(self.phase + lines) // self.hand) * self.hand - self.phase

    def _hand_now(self, rows: int) -> int:
        """Its hand at a growth to `rows`: FAST_HAND while the answer grows at FAST_ROWS
        or more (over RATE_SPAN at least, up to now), else HAND; the hand it has until
        the growth has lasted that long. At most half its view's rows."""
        now, total = monotonic(), self.phase + rows
        older = [(t, r) for t, r in self._grown if now - t >= RATE_SPAN]
        newer = [(t, r) for t, r in self._grown if now - t < RATE_SPAN]
        self._grown = [*older[-1:], *newer, (now, total)]
        hand = self.hand
        if older:
            since, then = older[-1]
            hand = FAST_HAND if total - then >= FAST_ROWS * (now - since) else HAND
        view = self._view_rows()  # 0: not laid out yet (a compare column just made)
        # Two at least: a hand of 1 is a full segment's (`let_go`).
        return max(2, min(hand, view // 2)) if view else hand

    def _view_rows(self) -> int:
        """The rows of the view the answer scrolls in; 0 if none (yet)."""
        for node in self.ancestors:
            if isinstance(node, ScrollableContainer):
                return node.scrollable_content_region.height
        return 0

    def _show(self, strips: list[Strip], width: int) -> None:
        old, self._strips = self._strips, strips
        rows = self._held(len(strips))
        if width != self._width:
            self._rows, self._width = rows, width
            self.refresh(layout=True)
            return
        blank = Strip.blank(width)
        changed = [
            y
            for y in range(max(len(old), len(strips)))
            if (a := old[y] if y < len(old) else blank)
            is not (b := strips[y] if y < len(strips) else blank)
            and a != b
        ]
        # Only the rows that changed are rendered again, at a new height too (its
        # other rows are kept: `RowsKept`).
        regions = [Region(0, changed[0], width, changed[-1] - changed[0] + 1)] if changed else []
        if rows > self._rows and self.hand != 1:
            self.hand = self._hand_now(rows)
            rows = self._held(len(strips))
        if rows != self._rows:
            self._rows = rows
            self.refresh(*regions, layout=True)
        elif regions:
            self.refresh(*regions)

    def on_resize(self) -> None:
        if self.size.width != self._width:
            self.redraw()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._restyle()
        if self.is_mounted:
            # After the frame: the hidden blocks whose styles it takes are updated too.
            self.call_after_refresh(self._restyle, redraw=True)

    def _restyle(self, redraw: bool = False) -> None:
        """A new theme: colours change; drawn again after the frame (`redraw`)."""
        self._drawn.forget_styles()
        if self.probes is not None:
            self.probes.restyle()
        if redraw:
            self.redraw()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self._rows

    def render_line(self, y: int) -> Strip:
        if 0 <= y < len(self._strips):
            # Each cell's offset is its place in `text` (a block's own are from its top):
            # a mouse selection reads them (kept by the strip, per row).
            return placed(self._strips[y], y)
        # A row in hand: blank, on the answer's background as its margins are.
        behind = self.probes.behind(self.probes.root) if self.probes is not None else None
        return Strip.blank(self.size.width, behind)

    @property
    def text(self) -> str:
        return "\n".join(strip.text.rstrip() for strip in self._strips)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        return selection.extract(self.text), "\n"

    async def action_link(self, href: str) -> None:
        self.post_message(FoldedParagraphs.LinkClicked(href))


def settled(live: LiveSegment) -> Widget | None:
    """What a full segment becomes, as `folding.fold` and `folding.freeze` make it of
    Textual's Markdown, without mounting one: its paragraphs as one widget, its one
    code block as one, or else its lines kept. None for a segment with code among other
    blocks (it stays Textual's, to scroll sideways) or not drawn yet."""
    probes = live.probes
    if probes is None or not live.source or not live._strips or live.undrawable:
        return None
    nodes = blocks_of(live.source)
    kinds = {node.type for node in nodes}
    cut = live.cut(first=True, last=True)
    if kinds == {"paragraph"}:
        joined = Content("\n\n").join(paragraph_text(probes, node) for node in nodes)
        return FoldedParagraphs(joined, classes="continues" if live.continues else "")
    if len(nodes) == 1 and kinds <= {"fence", "code_block"}:
        content, code, lexer = fence_text(probes, nodes[0])
        return FoldedFence(content, code, lexer, cut, list(live._strips), live.app.theme)
    if kinds & {"fence", "code_block"}:
        return None
    if not live.marks_drawn:
        live.redraw()  # its lines are kept: with their marks
        if live.undrawable:
            return None
    frozen = FrozenSegment(live.source, list(live._strips), live._width, live.app.theme)
    return frozen
