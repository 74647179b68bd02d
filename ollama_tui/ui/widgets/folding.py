"""Finished parts of a reply, folded into few widgets: paragraphs into one Static, a
long fence's finished part into one, and any other segment drawn as it was laid out.

Textual arranges every mounted widget on every frame. A long reply's headings, lists
(each item a bullet, a container and a paragraph) and quotes were hundreds of widgets,
and arranging them was most of each frame's cost on a real terminal (a 1,000-token
reply of sections with lists: 35 ms per frame, docs/ui-performance.md). Once a segment
is complete its lines do not change until the width or the theme does: they are drawn
once, by a compositor of their own, and kept. A new width or theme brings the Markdown
back (`thaw`). Segments with code or tables stay live: they scroll sideways.
"""

from __future__ import annotations

from typing import cast

from textual._compositor import Compositor
from textual.content import Content
from textual.events import Resize
from textual.geometry import Region, Size
from textual.message import Message
from textual.selection import Selection
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Label, Markdown, Static
from textual.widgets.markdown import MarkdownFence

from ollama_tui.ui.direct_rows import RowsDrawn, placed
from ollama_tui.ui.textual_fixes import SizedOnce

# Not exported by textual.widgets.markdown; the public block map names them.
MarkdownParagraph = Markdown.BLOCKS["paragraph_open"]
MarkdownTable = Markdown.BLOCKS["table_open"]


class FoldedParagraphs(Static, SizedOnce):
    """A finished run of paragraphs as one widget, styled as Markdown paragraphs are."""

    class LinkClicked(Message):
        """A link in folded text was clicked (Markdown's own message needs a Markdown)."""

        def __init__(self, href: str) -> None:
            super().__init__()
            self.href = href

    async def action_link(self, href: str) -> None:
        self.post_message(self.LinkClicked(href))

    COMPONENT_CLASSES = {"em", "strong", "s", "code_inline"}
    DEFAULT_CSS = """
    FoldedParagraphs {
        padding: 0;
        margin: 0 0 1 0;
        & > .em { text-style: italic; }
        & > .strong { text-style: bold; }
        & > .s { text-style: strike; }
        &:dark > .code_inline { background: $warning 10%; color: $text-warning 95%; }
        &:light > .code_inline { background: $error 5%; color: $text-error 95%; }
    }
    """


class FoldedFence(Static, SizedOnce):
    """A finished part of a long code block, highlighted as before, without the scroll
    container each `MarkdownFence` is (the compositor arranges every one, every frame)."""

    DEFAULT_CSS = """
    FoldedFence {
        margin: 1 0;
        padding: 1 2;
        color: rgb(210,210,210);
        background: black 10%;
        text-wrap: nowrap;
        text-overflow: clip;
        &:light { background: white 30%; }
    }
    """

    def __init__(
        self,
        content: Content,
        code: str,
        lexer: str,
        classes: str = "",
        rows: list[Strip] | None = None,
        theme: str = "",
    ) -> None:
        """`rows`: the live segment's rows it replaces (drawn in `theme`), its own from
        its top margin on (`live_segment.settled`): shown as they are, not rendered
        again, until its width or its theme changes (a fold's frame rendered its 24-48
        rows of code anew, 4-5 ms, the same as the segment had drawn them)."""
        super().__init__(content, classes=classes)
        self.code = code
        self.lexer = lexer
        self._rows = rows
        self._theme = theme
        self._width: int | None = None
        self._cells: list[int] | None = None  # each line's cells (its text, placed)

    def render_lines(self, crop: Region) -> list[Strip]:
        if self._rows is not None:
            kept = self._kept_rows(self._rows, crop)
            if kept is not None:
                return kept
            self._rows = None  # (not its shape: Textual's from now on)
        return super().render_lines(crop)

    def _kept_rows(self, rows: list[Strip], crop: Region) -> list[Strip] | None:
        """The rows `crop` asks for, from `rows`, each piece of its text placed as
        Textual places it (for a mouse selection); None if they do not fit it."""
        width, height = self.outer_size
        top, padding = self.styles.margin.top, self.styles.padding
        if self._cells is None:
            lines = cast(Content, self.content).split("\n")
            self._cells = [line.expand_tabs(8).cell_length for line in lines]
        cells = self._cells
        if (
            len(rows) < top + height
            or len(cells) != height - padding.top - padding.bottom
            or any(row.cell_length < width for row in rows)
        ):
            return None
        out = []
        for y in range(crop.y, crop.bottom):
            row = rows[top + y].crop(0, width)
            if padding.top <= y < height - padding.bottom:
                # Its text placed, as Textual places a line's (not the fill after it).
                end = padding.left + cells[y - padding.top]
                left, text, right = row.divide([padding.left, end, width])
                row = Strip.join([left, placed(text, y - padding.top), right])
            out.append(row.crop(crop.x, crop.right))
        return out

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self._rows is not None and self.is_mounted and self.app.theme != self._theme:
            self._rows = None  # a new theme: drawn anew

    def on_resize(self, event: Resize) -> None:
        if self._width is None:
            self._width = event.size.width  # its first layout: the rows' width
        elif event.size.width != self._width:
            self._rows = None  # laid out anew at another width: drawn anew

    @classmethod
    def of(cls, fence: MarkdownFence) -> FoldedFence:
        classes = " ".join(c for c in ("continues", "continued") if fence.has_class(c))
        # The fence shows its highlighted code in a Label: take it from there.
        content = cast(Content, fence.query_one(Label).content)  # set from highlight()
        return cls(content, fence.code, fence.lexer, classes)


def _content_of(paragraph: Widget) -> Content:
    """A paragraph block's text: blocks are Statics holding their `Content`."""
    assert isinstance(paragraph, Static) and isinstance(paragraph.content, Content)
    return paragraph.content


async def fold(markdown: Markdown) -> bool:
    """Replace a finished run of plain paragraphs with one widget holding their text.

    Textual lays out every mounted widget on every frame, so a long reply of hundreds
    of paragraph widgets slows the whole screen; one widget per segment does not.
    Segments with anything but paragraphs (code, tables, lists) stay as they are.
    """
    blocks = list(markdown.children)
    folded: Widget
    if len(blocks) == 1 and type(blocks[0]) is MarkdownFence:
        folded = FoldedFence.of(blocks[0])
    elif blocks and all(type(b) is MarkdownParagraph for b in blocks):
        joined = Content("\n\n").join(_content_of(b) for b in blocks)
        # A paragraph cut in two (see `cuts.paragraph_cut`) keeps its parts' margins joined.
        continues = blocks[-1].has_class("continues")
        folded = FoldedParagraphs(joined, classes="continues" if continues else "")
    else:
        return False  # frozen once laid out, if it can be (`freeze`)
    await swap(markdown, folded)
    return True


async def swap(old: Widget, new: Widget) -> None:
    """`new` in place of `old`, in one frame: as tall as it, so only its rows are painted
    again (two frames would lay out and paint everything below it twice)."""
    with old.app.batch_update():
        await old.parent.mount(new, before=old)  # type: ignore[union-attr]
        await old.remove()


class FrozenSegment(RowsDrawn, SizedOnce):
    DEFAULT_CSS = "FrozenSegment { height: auto; }"

    class Thawed(Message):
        """The width or the theme changed: the segment needs its Markdown back."""

        def __init__(self, frozen: FrozenSegment) -> None:
            super().__init__()
            self.frozen = frozen

    def __init__(self, source: str, strips: list[Strip], width: int, theme: str) -> None:
        super().__init__()
        self.source = source
        self.strips = strips
        self.frozen_width = width
        self.theme = theme
        self.text = "\n".join(strip.text.rstrip() for strip in strips)
        self.thawing = False

    def notify_style_update(self) -> None:
        # Not a watch on the app's theme: the app would keep every segment ever frozen
        # among its watchers (Textual drops closed ones only when the theme changes).
        super().notify_style_update()
        if self.is_mounted and self.app.theme != self.theme:
            self._thaw()

    def on_resize(self) -> None:
        if self.size.width and self.size.width != self.frozen_width:
            self._thaw()

    def _thaw(self) -> None:
        if not self.thawing:
            self.thawing = True
            self.post_message(self.Thawed(self))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.strips)

    def render_line(self, y: int) -> Strip:
        if 0 <= y < len(self.strips):
            return placed(self.strips[y], y)  # its place in `text` (LiveSegment)
        return Strip.blank(self.size.width)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        return selection.extract(self.text), "\n"

    async def action_link(self, href: str) -> None:
        self.post_message(FoldedParagraphs.LinkClicked(href))


# Textual's own compositor (private, 8.2.8: `reflow(root, size)` then `render_strips()`,
# what a screen does to draw itself); without those two, segments stay live.
CAN_DRAW = all(callable(getattr(Compositor, name, None)) for name in ("reflow", "render_strips"))


def can_freeze(segment: Markdown) -> bool:
    """A segment with no code or table (they scroll sideways); see `laid_out`."""
    if not CAN_DRAW or not segment.children or not segment.is_mounted:
        return False
    return not segment.query(MarkdownFence) and not segment.query(MarkdownTable)


def laid_out(segment: Markdown) -> bool:
    """Whether the screen has laid the segment out: frozen before, it would be blank."""
    return bool(segment.size.width) and all(block.size.width for block in segment.children)


def freeze(segment: Markdown) -> FrozenSegment:
    """Its lines as the screen would draw them now (call once it is laid out)."""
    compositor = Compositor()
    width = segment.outer_size.width - segment.styles.margin.width
    gutter = segment.styles.gutter
    # Its height from its blocks now, not its last layout (an append may be newer).
    height = gutter.height + segment.get_content_height(
        segment.container_size, segment.app.size, width - gutter.width
    )
    size = Size(width, height)
    compositor.reflow(segment, size)
    frozen = FrozenSegment(
        segment.source, compositor.render_strips(), size.width, segment.app.theme
    )
    frozen.styles.margin = segment.styles.margin
    return frozen
