"""The Markdown widget an answer streams into, made cheap to grow.

Textual's `Markdown.append` updates a growing paragraph, fence or table in place, but a
list that gains a word is removed and mounted again, every item, bullet and paragraph
of it, and the whole list is painted again. Here a growing list is updated in place
(docs/ui-performance.md: on a real terminal, a reply of sections with lists went from
about 7 s to about 6 s of the app's CPU per 1,000 tokens).
"""

from __future__ import annotations

import functools

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from textual.containers import Horizontal, Vertical
from textual.widgets import Markdown
from textual.widgets._markdown import (
    MarkdownBlock,
    MarkdownBullet,
    MarkdownBulletList,
    MarkdownListItem,
    MarkdownOrderedList,
    MarkdownParagraph,
)

from ollama_tui.core.sanitize import clean
from ollama_tui.ui.widgets import link_pretest

# Textual (8.2.8, pinned below 9) builds a list's rows in `compose` from these private
# parts; the in-place update below builds them the same way. It is used only while these
# classes have the methods it calls (otherwise a list is mounted again, as Textual does);
# the attributes it reads off parsed blocks (`_blocks`, `_content`, `bullet`) are set in
# their constructors, and tests/test_segment.py fails if they go.
IN_PLACE = all(
    hasattr(cls, name)
    for cls, name in (
        (MarkdownBlock, "_update_from_block"),
        (MarkdownParagraph, "set_content"),
        (MarkdownBullet, "symbol"),
    )
)


@functools.cache
def parser() -> MarkdownIt:
    """One parser for every append: Textual asks for one per append, and building it
    costs more than parsing a fragment (and leaves a reference cycle to collect)."""
    # "html": False shows HTML in a reply as text instead of dropping it silently.
    made = MarkdownIt("gfm-like", {"html": False})
    made.core.ruler.push("clean_text", _clean_tokens)
    link_pretest.install(made)  # a growing paragraph's text searched where it grew
    # Each ruler's rules made now, while one thread holds the parser: markdown-it-py
    # makes them at first use, and a second thread parsing meanwhile (Textual's
    # `Markdown.update` on its worker) found none ("none of the block rules matched").
    for ruler in (made.core.ruler, made.block.ruler, made.inline.ruler, made.inline.ruler2):
        ruler.getRules("")
    return made


def _clean_tokens(state: StateCore) -> None:
    """Entities (`&#x202E;`, `&#27;`) decode after the source was cleaned: clean again."""
    for token in state.tokens:
        token.content = clean(token.content)
        for child in token.children or ():
            child.content = clean(child.content)


def _items(block: MarkdownBlock) -> list[MarkdownListItem] | None:
    """A parsed (not mounted) list's items, if it holds nothing but items of paragraphs."""
    items = list(block._blocks)
    if not all(isinstance(i, MarkdownListItem) for i in items):
        return None
    for item in items:
        if not all(type(b) is MarkdownParagraph for b in item._blocks):
            return None
    return items  # type: ignore[return-value]


def _symbols(block: MarkdownBlock, items: list[MarkdownListItem]) -> list[str]:
    """The bullets Textual's own `compose` gives these items (same arithmetic)."""
    if not isinstance(block, MarkdownOrderedList):
        return [item.bullet for item in items]
    try:
        start = int(items[0].bullet) if items else 1
    except ValueError:
        start = 1
    numbers = [f"{n}. " for n in range(start, start + len(items))]
    width = max((len(n) for n in numbers), default=0)
    return [n.rjust(width + 1) for n in numbers]


async def update_list(old: MarkdownBlock, new: MarkdownBlock) -> bool:
    """Bring a mounted list up to a newly parsed one in place: changed paragraphs get
    their new text, new items are mounted after the others. False (nothing done) if it
    is not the same kind of list grown at its end, or holds more than paragraphs."""
    if not IN_PLACE:
        return False
    items = _items(new)
    rows = list(old.children)
    if type(new) is not type(old) or items is None or len(items) < len(rows):
        return False
    symbols = _symbols(new, items)
    pairs: list[tuple[MarkdownParagraph, MarkdownParagraph]] = []
    for row, item, symbol in zip(rows, items, symbols, strict=False):
        if not isinstance(row, Horizontal) or len(row.children) != 2:
            return False
        bullet, body = row.children
        if not isinstance(bullet, MarkdownBullet) or bullet.symbol != symbol:
            return False  # renumbered (9 to 10 items widens every number): remount
        shown = [p for p in body.children if type(p) is MarkdownParagraph]
        if len(shown) != len(body.children) or len(shown) != len(item._blocks):
            return False
        pairs += zip(shown, item._blocks, strict=True)  # type: ignore[arg-type]
    for mounted, parsed in pairs:
        now, then = mounted._content, parsed._content
        if now.plain != then.plain or now.spans != then.spans:
            await mounted._update_from_block(parsed)
    fresh = []
    for item, symbol in zip(items[len(rows) :], symbols[len(rows) :], strict=True):
        bullet = MarkdownBullet()
        bullet.symbol = symbol
        fresh.append(Horizontal(bullet, Vertical(*item._blocks)))
    if fresh:
        await old.mount_all(fresh)
    return True


# Subclasses of the list classes themselves (a mixin first would make Textual take the
# mixin's bases for their CSS type: their rows lost `height: auto`, and a query for
# MarkdownBulletList found none).
class GrowingBulletList(MarkdownBulletList):
    """A bullet list that gains words and items without being mounted again."""

    async def _update_from_block(self, block: MarkdownBlock) -> None:
        if not await update_list(self, block):
            await super()._update_from_block(block)


class GrowingOrderedList(MarkdownOrderedList):
    """An ordered list that gains words and items without being mounted again."""

    async def _update_from_block(self, block: MarkdownBlock) -> None:
        if not await update_list(self, block):
            await super()._update_from_block(block)


class Segment(Markdown):
    """Part of an answer, its lists updated in place as they grow."""

    BLOCKS = {
        **Markdown.BLOCKS,
        "bullet_list_open": GrowingBulletList,
        "ordered_list_open": GrowingOrderedList,
    }


def segment() -> Segment:
    """A new part of an answer."""
    return Segment(classes="answer", parser_factory=parser, open_links=False)
