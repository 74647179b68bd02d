"""The hidden blocks an answer's lines are drawn with the styles of (`lines.py`).

A hidden Markdown holds one block of each kind (`PROBE`); `Probes` reads the styles a
block of each kind is drawn with from it, so the app's CSS and theme apply as they would
to Textual's own blocks, and keeps what it read until the theme or the CSS changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from rich.style import Style as RichStyle
from textual.content import Content
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.visual import RenderOptions, Visual
from textual.widget import Widget
from textual.widgets import Label, Markdown
from textual.widgets._markdown import MarkdownBullet, MarkdownFence

from ollama_tui.ui.widgets.cells import Cells, plain_line
from ollama_tui.ui.widgets.growing_code import GrowingCode
from ollama_tui.ui.widgets.rewrap import Rewrap

PROBE = (
    "# a\n\n## a\n\n### a\n\n#### a\n\n##### a\n\n###### a\n\na\n\na\n\n- a\n\n1. a\n\n"
    "```text\na\n```\n\n```text\na\n```\n\n```text\na\n```\n\n```text\na\n```\n"
)
"""One block of each kind drawn here; the second paragraph and the last three fences
get the classes of blocks cut across segments (chat.tcss: their margins join)."""

_CUT_CLASSES = ("continues", "continued", "continues continued")


class Probes:
    """The widgets whose styles a block of each kind is drawn with."""

    def __init__(self, probe: Markdown) -> None:
        blocks = [b for b in probe.children if isinstance(b, Widget)]
        fences = [b for b in blocks if isinstance(b, MarkdownFence)]
        paragraphs = [b for b in blocks if type(b).__name__ == "MarkdownParagraph"]
        self.root = probe
        self.paragraph, self.paragraph_continues = paragraphs[0], paragraphs[1]
        self.fences = {"": fences[0]} | dict(zip(_CUT_CLASSES, fences[1:], strict=True))
        self.headings = {type(b).__name__[-1]: b for b in blocks if "MarkdownH" in type(b).__name__}
        lists = [b for b in blocks if "List" in type(b).__name__]
        self.bullet_list, self.ordered_list = lists[0], lists[1]
        self.item_paragraph = _paragraphs(lists[0])[0]
        self.bullet = lists[0].query_one(MarkdownBullet)
        self._styles: dict[Widget, RichStyle] = {}
        self._links: dict[Widget, RichStyle] = {}
        self._labels: dict[Widget, Label] = {}
        self.code = GrowingCode()
        """The growing fence's highlighting, lexed again from its last lines only."""
        self.cells = Cells()
        """Lines of code made into cells, not through Textual's `Content` (`code_strips`)."""
        self.code_lines: dict[tuple[object, ...], list[Strip]] = {}
        """Lines of code drawn, by their text, spans and width: only the lines whose
        highlighting changed are drawn again."""
        self.item_lines: dict[tuple[object, ...], list[Strip]] = {}
        """A list item's paragraph drawn, by its text and width, and a bullet or number,
        by its symbol: a growing list is drawn again at each append, its items whose
        text did not change are not."""

    def paragraph_cut(self, cut: str) -> Widget:
        """The paragraph drawn with `cut`'s classes (only `continues` changes it)."""
        return self.paragraph_continues if "continues" in cut else self.paragraph

    def style(self, widget: Widget) -> RichStyle:
        """`widget.rich_style`, kept until `restyle` (Textual computes it through every
        ancestor at each call: a fifth of the drawing's time, read per line)."""
        style = self._styles.get(widget)
        if style is None:
            style = self._styles[widget] = widget.rich_style
        return style

    def label(self, fence: Widget) -> Label:
        """The label a fence probe shows its code in (a query once)."""
        label = self._labels.get(fence)
        if label is None:
            label = self._labels[fence] = fence.query_one(Label)
        return label

    def link_style(self, widget: Widget) -> RichStyle:
        """`widget.link_style`, kept until `restyle` (Textual reads its background
        through every ancestor at each call: a fifth of the time of drawing a line)."""
        style = self._links.get(widget)
        if style is None:
            style = self._links[widget] = widget.link_style
        return style

    def strips(
        self,
        widget: Widget,
        content: Content,
        width: int,
        finish: Callable[[Strip], Strip] | None = None,
        rewrap: Rewrap | None = None,
    ) -> list[Strip]:
        """`Visual.to_strips(widget, content, width, None, widget.visual_style)`: for a
        probe with no selection, aligned left (all of them, unless the CSS changes), what
        it does in 8.2.8 (the content's lines, link styles applied), with the probe's
        link style kept (`link_style`); each line then `finish`ed. `rewrap`: the text's
        last wrapping, its lines kept if the text grew from it (`Rewrap`)."""
        style = widget.visual_style
        if widget.text_selection is not None or widget.styles.content_align != ("left", "top"):
            lines = Visual.to_strips(widget, content, width, None, style)
            return [finish(line) for line in lines] if finish else lines
        rules = cast("RulesMap", widget.styles)  # (what `to_strips` passes: a mapping)
        options = RenderOptions(widget._get_style, rules)
        links: RichStyle | None = None
        if widget.auto_links and not widget.is_container and not widget.screen._selecting:
            links = self.link_style(widget)

        def done(line: Strip) -> Strip:
            line = line if links is None else line._apply_link_style(links)
            return line if finish is None else finish(line)

        if rewrap is not None:
            return rewrap.render(content, width, style, options, done, (widget, style, links))
        return [done(line) for line in content.render_strips(width, None, style, options)]

    def code_strips(self, widget: Widget, line: Content, width: int) -> list[Strip]:
        """`strips(widget, line, width)` for a line of highlighted code: made into cells
        directly (`cells.Cells.code`) where Textual would draw it as one line."""
        if plain_line(widget) and (strip := self.cells.code(widget, line, width)) is not None:
            return [strip]
        return self.strips(widget, line, width)

    def behind(self, widget: Widget) -> RichStyle:
        """What shows behind a widget's text, as Textual pads its lines with."""
        return RichStyle(bgcolor=self.style(widget).bgcolor)

    def restyle(self) -> None:
        """The theme or the CSS changed: styles are read again."""
        self._styles.clear()
        self._links.clear()
        self.cells.forget()
        self.code_lines.clear()
        self.item_lines.clear()

    @staticmethod
    def mark(probe: Markdown) -> None:
        """Give the probe's cut blocks their classes (once its blocks are mounted)."""
        blocks = list(probe.children)
        paragraphs = [b for b in blocks if type(b).__name__ == "MarkdownParagraph"]
        paragraphs[1].add_class("continues")
        fences = [b for b in blocks if isinstance(b, MarkdownFence)]
        for fence, classes in zip(fences[1:], _CUT_CLASSES, strict=True):
            fence.add_class(*classes.split())


def _paragraphs(widget: Widget) -> list[Widget]:
    return [w for w in widget.walk_children(Widget) if type(w).__name__ == "MarkdownParagraph"]
