"""A part of an answer drawn as lines, exactly as Textual's Markdown widget draws it.

While an answer streams, its live segment is not a tree of Markdown widgets (Textual
lays out and paints every one of them on every frame: about 2 s of the app's CPU per
1,000 tokens on a real terminal, docs/ui-performance.md) but lines: each top-level block
is drawn once with Textual's own pieces (`MarkdownBlock._token_to_content` for the
text, `Visual.to_strips` for wrapping and styles, Textual's highlighting for code,
resumed from a growing fence's last lines: `growing_code`)
and kept; only the growing block is drawn again. The styles come from a hidden Markdown
holding one block of each kind (`Probes`), so the app's CSS and theme apply as they
would to Textual's own blocks, and tests/test_lines.py holds the lines to Textual's
rendering of the same text, cell by cell. Anything else (a quote, a rule, a table, a
fence inside a list item) raises `CannotDraw`, and the segment is Textual's again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode
from rich.style import Style as RichStyle
from textual.content import Content
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.visual import RenderOptions, Visual
from textual.widget import Widget
from textual.widgets import Label, Markdown
from textual.widgets._markdown import MarkdownBlock, MarkdownBullet, MarkdownFence

from ollama_tui.ui.widgets.blocks import grown_blocks, source_lines
from ollama_tui.ui.widgets.growing_code import GrowingCode
from ollama_tui.ui.widgets.rewrap import Rewrap

# Textual (8.2.8, pinned below 9): a paragraph's or heading's text is built by this
# method, which reads nothing from its widget; without it every segment stays Textual's.
CAN_DRAW = callable(getattr(MarkdownBlock, "_token_to_content", None))

PROBE = (
    "# a\n\n## a\n\n### a\n\n#### a\n\n##### a\n\n###### a\n\na\n\na\n\n- a\n\n1. a\n\n"
    "```text\na\n```\n\n```text\na\n```\n\n```text\na\n```\n\n```text\na\n```\n"
)
"""One block of each kind drawn here; the second paragraph and the last three fences
get the classes of blocks cut across segments (chat.tcss: their margins join)."""

_CUT_CLASSES = ("continues", "continued", "continues continued")

LINES_KEPT = 2000
"""Lines of code, and list items, kept drawn (a fence holds at most `fence_limit` lines per
segment): past it they are forgotten and drawn again."""


class CannotDraw(Exception):
    """A block this module does not draw: the segment stays Textual's."""


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
        self.code = GrowingCode()
        """The growing fence's highlighting, lexed again from its last lines only."""
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

    def behind(self, widget: Widget) -> RichStyle:
        """What shows behind a widget's text, as Textual pads its lines with."""
        return RichStyle(bgcolor=self.style(widget).bgcolor)

    def restyle(self) -> None:
        """The theme or the CSS changed: styles are read again."""
        self._styles.clear()
        self._links.clear()
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


@dataclass(frozen=True, slots=True)
class Block:
    """A top-level block drawn: its margins (they collapse, as Textual's do) and lines."""

    top: int
    lines: list[Strip]
    bottom: int


def stack(blocks: list[Block], width: int, background: RichStyle) -> list[Strip]:
    """Blocks one under the other as Textual's stream layout places them: the larger of
    two touching margins between them, the first's top and the last's bottom kept."""
    rows: list[Strip] = []
    blank = Strip.blank(width, background)
    previous: int | None = None
    for block in blocks:
        rows += [blank] * (block.top if previous is None else max(block.top, previous))
        rows += block.lines
        previous = block.bottom
    rows += [blank] * (previous or 0)
    return rows


def _text(
    probes: Probes, probe: Widget, inline: Token, width: int, rewrap: Rewrap | None = None
) -> list[Strip]:
    content = MarkdownBlock._token_to_content(cast(MarkdownBlock, probe), inline)
    behind = probes.behind(probe)
    return probes.strips(
        probe, content, width, lambda line: line.extend_cell_length(width, behind), rewrap
    )


def _inline(node: SyntaxTreeNode) -> Token:
    token = node.children[0].token if node.children else None
    if token is None:
        raise CannotDraw(node.type)
    return token


def draw_block(
    node: SyntaxTreeNode, width: int, probes: Probes, cut: str = "", rewrap: Rewrap | None = None
) -> Block:
    """One top-level block; `cut`: its classes if it is cut across segments; `rewrap`:
    its last wrapping if it is the growing block."""
    if node.type == "paragraph":
        probe: Widget = probes.paragraph_cut(cut)
    elif node.type == "heading":
        probe = probes.headings[node.tag[1:]]
    elif node.type in ("bullet_list", "ordered_list"):
        probe = probes.ordered_list if node.type == "ordered_list" else probes.bullet_list
        margin = probe.styles.margin
        return Block(margin.top, _list(node, width, probes, 0), margin.bottom)
    elif node.type in ("fence", "code_block"):
        fence = probes.fences[cut]
        margin = fence.styles.margin
        return Block(margin.top, _fence(node, width, fence, probes), margin.bottom)
    else:
        raise CannotDraw(node.type)
    margin = probe.styles.margin
    return Block(margin.top, _text(probes, probe, _inline(node), width, rewrap), margin.bottom)


def _list(node: SyntaxTreeNode, width: int, probes: Probes, depth: int) -> list[Strip]:
    """A list as Textual draws it: a row per item of its bullet and a column of its
    blocks (paragraphs and lists only), bullets by depth, numbers right-aligned."""
    items = [child for child in node.children if child.type == "list_item"]
    ordered = node.type == "ordered_list"
    if ordered:
        info = items[0].info if items else ""
        start = int(info) if info.isdigit() else 1
        size = max(len(f"{n}. ") for n in range(start, start + len(items)))
        symbols = [f"{n}. ".rjust(size + 1) for n in range(start, start + len(items))]
    else:
        symbols = [Markdown.BULLETS[depth % len(Markdown.BULLETS)]] * len(items)
    bullet = probes.bullet
    behind = probes.behind(probes.ordered_list if ordered else probes.bullet_list)
    bullet_style = probes.style(bullet)
    under_bullet = RichStyle(color=bullet_style.color, bgcolor=bullet_style.bgcolor)
    rows: list[Strip] = []
    kept = probes.item_lines
    if len(kept) > LINES_KEPT:
        kept.clear()
    for symbol, item in zip(symbols, items, strict=True):
        inner = width - len(symbol)
        column: list[Block] = []
        for child in item.children:
            if child.type == "paragraph":
                inline = _inline(child)
                # (Not kept if it may hold a reference link: its target is elsewhere.)
                key = (inline.content, inner) if "[" not in inline.content else None
                paragraph = kept.get(key) if key else None
                if paragraph is None:
                    paragraph = _text(probes, probes.item_paragraph, inline, inner)
                    if key:
                        kept[key] = paragraph
                column.append(Block(0, paragraph, 0))
            elif child.type in ("bullet_list", "ordered_list"):
                nested = _list(child, inner, probes, depth + (0 if ordered else 1))
                column.append(Block(0, nested, 0))
            else:
                raise CannotDraw(child.type)
        mark = kept.get((symbol,))
        if mark is None:
            drawn = Visual.to_strips(
                bullet, Content(symbol), len(symbol), None, bullet.visual_style
            )
            fill = probes.behind(bullet)
            mark = kept[(symbol,)] = [line.extend_cell_length(len(symbol), fill) for line in drawn]
        if not column:  # an empty item ("- " as it arrives): Textual gives it no row
            continue
        body = stack(column, inner, behind)
        for index, line in enumerate(body):
            left = mark[index] if index < len(mark) else Strip.blank(len(symbol), under_bullet)
            rows.append(Strip.join([left, line]))
    return rows


def paragraph_text(probes: Probes, node: SyntaxTreeNode) -> Content:
    """A paragraph's text and spans, as Textual's paragraph block holds them."""
    return MarkdownBlock._token_to_content(cast(MarkdownBlock, probes.paragraph), _inline(node))


def _code(probes: Probes, node: SyntaxTreeNode) -> tuple[str, str, bool, bool]:
    """A code block's code and language, and the app's colours (ansi, dark)."""
    token = node.token
    if token is None:
        raise CannotDraw(node.type)
    app = probes.root.app
    return token.content.rstrip(), token.info, app.native_ansi_color, app.current_theme.dark


def fence_text(probes: Probes, node: SyntaxTreeNode) -> tuple[Content, str, str]:
    """A code block's highlighted text, its code and its language, as Textual's fence
    holds them."""
    code, language, ansi, dark = _code(probes, node)
    return probes.code.fence(code, language, ansi, dark), code, language


def fence_lines(probes: Probes, node: SyntaxTreeNode) -> list[Content]:
    """A code block's highlighted lines: `fence_text`'s, split at line ends."""
    return probes.code.fence_lines(*_code(probes, node))


def _fence(node: SyntaxTreeNode, width: int, fence: MarkdownFence, probes: Probes) -> list[Strip]:
    """Code as Textual's fence draws it: highlighted, padded, never wrapped (clipped)."""
    label = fence.query_one(Label)
    # Tabs as Textual's wrapping expands them (stops every 8 cells), before measuring.
    code_lines = [line.expand_tabs(8) for line in fence_lines(probes, node)]
    padding = label.styles.padding
    inner = max((line.cell_length for line in code_lines), default=0)
    fill = probes.behind(label)
    rows = [Strip.blank(inner + padding.left + padding.right, fill)] * padding.top
    sides = Strip.blank(padding.left, fill), Strip.blank(padding.right, fill)
    drawn = probes.code_lines
    if len(drawn) > LINES_KEPT:
        drawn.clear()
    for code_line in code_lines:
        key = (code_line.plain, tuple(code_line.spans), inner, label)
        lines = drawn.get(key)
        if lines is None:
            strips = probes.strips(label, code_line, inner)
            lines = drawn[key] = [
                Strip.join([sides[0], line.extend_cell_length(inner, fill), sides[1]])
                for line in strips
            ]
        rows += lines
    rows += [Strip.blank(inner + padding.left + padding.right, fill)] * padding.bottom
    around = probes.behind(fence)
    return [row.crop_extend(0, width, around) for row in rows]


def below_text(node: SyntaxTreeNode, probes: Probes, cut: str) -> int:
    """Rows a block cut so draws below its text: its bottom margin, and a fence's bottom
    padding (a paragraph's or a fence's `continues` takes them away, chat.tcss; other
    blocks are not cut across segments and are drawn the same whatever `cut`)."""
    if node.type in ("fence", "code_block"):
        fence = probes.fences[cut]
        return fence.styles.margin.bottom + fence.query_one(Label).styles.padding.bottom
    if node.type == "paragraph":
        return probes.paragraph_cut(cut).styles.margin.bottom
    return 0


def cut_classes(*, continues: bool, continued: bool) -> str:
    """The classes of a block cut across segments (chat.tcss joins their margins)."""
    return " ".join(
        name for name, yes in (("continues", continues), ("continued", continued)) if yes
    )


class Drawn:
    """What a segment's last drawing made, to draw the next from: the source and its
    blocks parsed, and the blocks drawn, by their source lines, cut classes and width."""

    def __init__(self) -> None:
        self.source = ""
        self.nodes: list[SyntaxTreeNode] = []
        self.blocks: dict[tuple[str, str, int], Block] = {}
        self.rewrap = Rewrap()  # the last block's last wrapping (a paragraph's, a heading's)

    def forget_styles(self) -> None:
        """A new theme: blocks are drawn again (their parse holds)."""
        self.blocks.clear()
        self.rewrap.forget()


def draw(
    source: str,
    width: int,
    probes: Probes,
    *,
    continued: bool = False,
    continues: bool = False,
    drawn: Drawn | None = None,
) -> tuple[list[Strip], int]:
    """`source` as Textual's Markdown draws it at `width`: its lines and its number of
    top-level blocks. `drawn`, kept from the last call, is updated: only the text after
    the last block's start is parsed again, and only changed blocks drawn again.
    `continued`/`continues`: its first/last block is cut across segments."""
    drawn = drawn or Drawn()
    nodes = grown_blocks(source, drawn.source, drawn.nodes)
    drawn.source, drawn.nodes = source, nodes
    lines = source_lines(source)
    kept = drawn.blocks
    now: dict[tuple[str, str, int], Block] = {}
    blocks: list[Block] = []
    for index, node in enumerate(nodes):
        start, end = node.map or (0, len(lines))
        last = index == len(nodes) - 1
        cut = cut_classes(continues=continues and last, continued=continued and index == 0)
        key = ("".join(lines[start:end]), cut, width)
        growing = drawn.rewrap if last else None
        block = kept.get(key) or draw_block(node, width, probes, cut, growing)
        now[key] = block
        blocks.append(block)
    drawn.blocks = now
    return stack(blocks, width, probes.behind(probes.root)), len(nodes)
