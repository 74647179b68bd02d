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

from dataclasses import dataclass
from typing import cast

from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode
from rich.style import Style as RichStyle
from textual.content import Content
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownBlock, MarkdownFence

from ollama_tui.ui.widgets.blocks import (
    fence_growth,
    grow_text,
    grown_blocks,
    last_paragraph,
    plain_growth,
    source_lines,
)
from ollama_tui.ui.widgets.probes import Probes
from ollama_tui.ui.widgets.rewrap import Rewrap

# Textual (8.2.8, pinned below 9): a paragraph's or heading's text is built by this
# method, which reads nothing from its widget; without it every segment stays Textual's.
CAN_DRAW = callable(getattr(MarkdownBlock, "_token_to_content", None))

LINES_KEPT = 2000
"""Lines of code, and list items, kept drawn (a fence holds at most `fence_limit` lines per
segment): past it they are forgotten and drawn again."""


class CannotDraw(Exception):
    """A block this module does not draw: the segment stays Textual's."""


@dataclass(frozen=True, slots=True)
class Block:
    """A top-level block drawn: its margins (they collapse, as Textual's do) and lines."""

    top: int
    lines: list[Strip]
    bottom: int
    text: Content | None = None  # a paragraph's, as Textual's block holds it


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
    return _rows(probes, probe, content, width, rewrap)


def _rows(
    probes: Probes, probe: Widget, content: Content, width: int, rewrap: Rewrap | None = None
) -> list[Strip]:
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
    node: SyntaxTreeNode, width: int, probes: Probes, cut: str = "", growing: Drawn | None = None
) -> Block:
    """One top-level block; `cut`: its classes if it is cut across segments; `growing`:
    the segment's last drawing if it is the block growing (`Drawn.rewrap`, `.fence`)."""
    rewrap = growing.rewrap if growing else None
    if node.type == "paragraph":
        return _paragraph(probes, cut, paragraph_text(probes, node), width, rewrap)
    if node.type == "heading":
        probe: Widget = probes.headings[node.tag[1:]]
    elif node.type in ("bullet_list", "ordered_list"):
        probe = probes.ordered_list if node.type == "ordered_list" else probes.bullet_list
        margin = probe.styles.margin
        return Block(margin.top, _list(node, width, probes, 0), margin.bottom)
    elif node.type in ("fence", "code_block"):
        fence = probes.fences[cut]
        margin = fence.styles.margin
        rows = _fence(node, width, fence, probes, growing.fence if growing else None)
        return Block(margin.top, rows, margin.bottom)
    else:
        raise CannotDraw(node.type)
    margin = probe.styles.margin
    return Block(margin.top, _text(probes, probe, _inline(node), width, rewrap), margin.bottom)


def _paragraph(
    probes: Probes, cut: str, content: Content, width: int, rewrap: Rewrap | None
) -> Block:
    probe = probes.paragraph_cut(cut)
    margin = probe.styles.margin
    return Block(margin.top, _rows(probes, probe, content, width, rewrap), margin.bottom, content)


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


class FenceRows:
    """A growing fence's rows by its lines of code, as `_fence` drew them last: a line
    given again (the same `Content`: `GrowingCode` keeps the lines it did not lex
    again) keeps its rows, unless its width or styles changed (`key`)."""

    def __init__(self) -> None:
        self.key: tuple[object, ...] = ()
        self.lines: list[Content] = []
        self.rows: list[list[Strip]] = []


def _fence(
    node: SyntaxTreeNode,
    width: int,
    fence: MarkdownFence,
    probes: Probes,
    last: FenceRows | None = None,
) -> list[Strip]:
    """Code as Textual's fence draws it: highlighted, padded, never wrapped (clipped).
    `last`: its rows drawn last, updated (the fence is the block growing)."""
    label = probes.label(fence)
    # Tabs as Textual's wrapping expands them (stops every 8 cells), before measuring.
    code_lines = [line.expand_tabs(8) for line in fence_lines(probes, node)]
    padding = label.styles.padding
    inner = max((line.cell_length for line in code_lines), default=0)
    fill, around = probes.behind(label), probes.behind(fence)
    key = (inner, width, label, fill, around)
    kept, kept_rows = (last.lines, last.rows) if last and last.key == key else ([], [])
    sides = Strip.blank(padding.left, fill), Strip.blank(padding.right, fill)
    drawn = probes.code_lines
    if len(drawn) > LINES_KEPT:
        drawn.clear()
    body: list[list[Strip]] = []
    for index, code_line in enumerate(code_lines):
        if index < len(kept) and kept[index] is code_line:
            body.append(kept_rows[index])
            continue
        found = (code_line.plain, tuple(code_line.spans), inner, label)
        lines = drawn.get(found)
        if lines is None:
            strips = probes.code_strips(label, code_line, inner)
            lines = drawn[found] = [
                Strip.join([sides[0], line.extend_cell_length(inner, fill), sides[1]])
                for line in strips
            ]
        body.append([line.crop_extend(0, width, around) for line in lines])
    if last is not None:
        last.key, last.lines, last.rows = key, code_lines, body
    blank = Strip.blank(inner + padding.left + padding.right, fill).crop_extend(0, width, around)
    return [blank] * padding.top + [row for rows in body for row in rows] + [blank] * padding.bottom


def below_text(node: SyntaxTreeNode, probes: Probes, cut: str) -> int:
    """Rows a block cut so draws below its text: its bottom margin, and a fence's bottom
    padding (a paragraph's or a fence's `continues` takes them away, chat.tcss; other
    blocks are not cut across segments and are drawn the same whatever `cut`)."""
    if node.type in ("fence", "code_block"):
        fence = probes.fences[cut]
        return fence.styles.margin.bottom + probes.label(fence).styles.padding.bottom
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
        self.fence = FenceRows()  # the last block's rows (a fence's)
        self.last: Block | None = None  # the last block drawn

    def forget_styles(self) -> None:
        """A new theme: blocks are drawn again (their parse holds)."""
        self.blocks.clear()
        self.last = None
        self.rewrap.forget()
        self.fence = FenceRows()


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
    # Words added to a paragraph (or a list's last item) are added to its text, not
    # parsed (`plain_growth`); a paragraph's text drawn is kept (`Block.text`). Code
    # added to an open fence is added to its code (`fence_growth`).
    words = plain_growth(source, drawn.source, drawn.nodes)
    if words is None and fence_growth(source, drawn.source, drawn.nodes):
        nodes = drawn.nodes  # code added to an open fence: its token updated
    elif words is None:
        nodes = grown_blocks(source, drawn.source, drawn.nodes)
    else:
        nodes = drawn.nodes
        grow_text(cast(SyntaxTreeNode, last_paragraph(nodes[-1])), words)
    text = drawn.last.text if drawn.last is not None and words is not None else None
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
        block = kept.get(key)
        if block is None and last and text is not None and node.type == "paragraph":
            block = _paragraph(probes, cut, text + cast(str, words), width, drawn.rewrap)
        elif block is None:
            block = draw_block(node, width, probes, cut, drawn if last else None)
        now[key] = block
        blocks.append(block)
    drawn.blocks, drawn.last = now, blocks[-1] if blocks else None
    return stack(blocks, width, probes.behind(probes.root)), len(nodes)
