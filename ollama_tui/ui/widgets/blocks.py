"""The top-level blocks of a segment's Markdown, parsed as it grows.

Parsed as Textual's `Markdown.update` parses (its parser, `segment.parser`); a growing
segment is parsed again from its last blocks only (`grown_blocks`), as Textual's
`append` does.
"""

from __future__ import annotations

import functools
import re

from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode

from ollama_tui.core.sanitize import clean
from ollama_tui.ui.widgets.segment import parser


def blocks_of(source: str) -> list[SyntaxTreeNode]:
    """The top-level blocks of `source`, parsed whole as Textual's `update` parses it."""
    return list(SyntaxTreeNode(parser().parse(source)).children)


def source_lines(source: str) -> list[str]:
    """`source`'s lines as markdown-it counts them (`node.map`): split at newlines only."""
    lines = source.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


DEFINITION = re.compile(
    r"^[ \t>]*(?:(?:[-+*]|\d{1,9}[.)])[ \t>]*)*\[(?:[^\]\\]|\\.)*\]:", re.MULTILINE
)
"""What may define a reference link (`[label]: url`): at a line's start, or inside a
quote or a list item, its label on more than one line or with `\\]` in it. (Found
where there is none, the text is parsed whole: slower, never wrong.)"""


def grown_blocks(source: str, before: str, nodes: list[SyntaxTreeNode]) -> list[SyntaxTreeNode]:
    """The top-level blocks of `source`, which is `before` (parsed into `nodes`) and more:
    only the text from the first line of the block before the last is parsed again.
    Text added grows, ends or follows the last block, or joins it to the one before (a
    rule that becomes a paragraph's lazy line: "***" then "***x"); nothing further up
    changes (Textual's `append` parses from the last block, and draws such a line apart
    until the answer ends). A last block set apart (`_apart`) is parsed again alone. A
    reference link's definition applies to the whole text: text that has one is parsed
    whole."""
    if len(nodes) < 2 or not source.startswith(before) or DEFINITION.search(source):
        return blocks_of(source)
    lines, last = source_lines(before), nodes[-1].map
    again = 1 if last is not None and _apart(lines, last[0]) else 2
    start = nodes[-again].map
    if start is None or again == len(nodes):  # (from the top: parsed whole)
        return blocks_of(source)
    first = start[0]
    # The lines above `first` are `before`'s, ended: the text from there is `source`'s.
    tail = blocks_of(source[sum(map(len, lines[:first])) :])
    for node in tail:
        for token in (node.token, node.nester_tokens.opening if node.nester_tokens else None):
            if token is not None and token.map is not None:
                token.map = [token.map[0] + first, token.map[1] + first]
    return nodes[:-again] + tail


LIST_STARTS = frozenset("-+*0123456789")
"""What a list item's marker starts with ("-", "+", "*", or the digits of "1." or "1)")."""


def _apart(lines: list[str], start: int) -> bool:
    """Whether the block that starts at line `start` of `lines` is set apart for good
    from the blocks above it, whatever is added: a blank line above it, and its first
    line ended or starting with what no list item starts with. After a blank line, a
    line goes on with the block above it only as its list's next item ("2" becoming
    "2.") or by its indent (a list item's text, indented code), which is read from its
    start (prose's paragraphs, a line each: their appends parse one paragraph, not two).
    (A reference link's definition reaches further: text that may hold one is parsed
    whole, `DEFINITION`.)"""
    if not 0 < start < len(lines) or lines[start - 1].strip(" \t\n"):
        return False
    line = lines[start]
    head = line.lstrip(" ")[:1]
    return line.endswith("\n") or (head != "" and head not in LIST_STARTS)


def may_link(text: str) -> bool:
    """Whether linkify may find a link in a paragraph whose text is `text`: its pretest,
    which the core rule runs over a paragraph's whole text before looking at any part."""
    linkify = getattr(parser(), "linkify", None)
    return linkify is not None and bool(linkify.pretest(text))


RULES = (
    (
        "text",
        "linkify",
        "newline",
        "escape",
        "backticks",
        "strikethrough",
        "emphasis",
        "link",
        "image",
        "autolink",
        "html_inline",
        "entity",
    ),
    ("balance_pairs", "strikethrough", "emphasis", "fragments_join"),
    ("normalize", "block", "inline", "linkify", "text_join", "clean_text"),
    (
        "table",
        "code",
        "fence",
        "blockquote",
        "hr",
        "list",
        "reference",
        "html_block",
        "heading",
        "lheading",
        "paragraph",
    ),
)
"""The parser's rules `PLAIN` was written against (markdown-it-py 3's gfm-like preset,
HTML and typographer off, and the app's `clean_text`): with any other, every append is
parsed (`plain_growth` finds no plain words)."""


@functools.cache
def _known_rules() -> bool:
    made = parser()
    rulers = (made.inline.ruler, made.inline.ruler2, made.core.ruler, made.block.ruler)
    rules = tuple(tuple(ruler.get_active_rules()) for ruler in rulers)
    return rules == RULES and not made.options["html"] and not made.options["typographer"]


PLAIN = re.compile(r"(?:[^\s\\`*_\[\]()<>&!~|#=+\-:;@{}$%^]| )*")
"""Text with nothing Markdown reads in it: no character any inline rule or block marker
starts with (the gfm-like preset, HTML off), and no whitespace but spaces."""

EMPTY_ITEM = re.compile(r"[ \t]*(?:[-+*]|\d{1,9}[.)])[ \t]*")
"""A line that is a list marker alone: an empty item cannot interrupt a paragraph, but
the same line with text after it can."""


def last_paragraph(node: SyntaxTreeNode) -> SyntaxTreeNode | None:
    """The paragraph a block's text ends in: the block, or its last item's (a list's,
    at any depth); None if it ends in anything else."""
    while node.type in ("bullet_list", "ordered_list"):
        item = node.children[-1] if node.children else None
        if item is None or not item.children:
            return None
        node = item.children[-1]
    return node if node.type == "paragraph" else None


def plain_growth(source: str, before: str, nodes: list[SyntaxTreeNode]) -> str | None:
    """What `source` adds to the text of the paragraph `before` ends in (parsed into
    `nodes`: the last block, or its list's last item's), if parsing the whole again
    could only add those words to its text, unstyled. The text added is plain (`PLAIN`,
    printable), on the last line, after a space or a tab or starting with one (so no
    delimiter or word before reads differently: other blanks are not markdown-it's).
    The text before does not end in another blank, nor its paragraph's text in a blank
    (an entity's: Textual makes runs of blanks one space within a piece of text, the
    words would be another). Linkify's pretest finds nothing in the paragraph's whole
    text (a link may end otherwise once followed: "x.com/a\\" then " b"). Whitespace
    is what Textual's paragraph makes of it: runs made one space, none at the end.
    `None`: parse."""
    paragraph = last_paragraph(nodes[-1]) if nodes else None
    if paragraph is None or not before or before.endswith("\n") or not _known_rules():
        return None
    added = source[len(before) :]
    if not source.startswith(before) or "\n" in added or not PLAIN.fullmatch(added):
        return None
    if not added.isprintable() or not (added.startswith(" ") or before[-1] in " \t"):
        return None
    text = before.rstrip(" \t")
    spaces = before[len(text) :]
    line = text[text.rfind("\n") + 1 :]
    # A blank that Python strips and markdown-it reads as none (U+2028) ends the text
    # as far as the parse went; followed by more, a delimiter before it reads otherwise.
    if text != text.rstrip():
        return None
    if EMPTY_ITEM.fullmatch(line):
        return None
    last = nodes[-1].map
    # (The last line is the paragraph's: the block's last, not blank, nothing after it.)
    if last is None or last[1] != before.count("\n") + 1 or DEFINITION.search(source):
        return None
    inline = paragraph.children[0].token if paragraph.children else None
    pieces = (inline.children if inline is not None else None) or []
    if not pieces or (pieces[-1].type == "text" and pieces[-1].content[-1:].isspace()):
        return None
    grown = (spaces + added).rstrip()
    if inline is None or may_link(inline.content + grown):
        return None
    return re.sub(r"\s+", " ", grown)


def grow_text(paragraph: SyntaxTreeNode, words: str) -> None:
    """Add `words` (from `plain_growth`) to a parsed paragraph, as a parse of the whole
    text would have it: its inline token's text, and one text token more."""
    inline = paragraph.children[0].token if paragraph.children else None
    if inline is None or not words:
        return
    inline.content += words
    inline.children = [*(inline.children or []), Token("text", "", 0, content=words)]


def fence_growth(source: str, before: str, nodes: list[SyntaxTreeNode]) -> bool:
    """Whether `source`, which is `before` (parsed into `nodes`) and more, only adds to
    the code of its last block, a fence still open at the top level, with its opening
    line at the line's start; if so its token is updated as a parse of the whole would
    make it: its code (`content`: every line after the opening one, as they are) and
    its lines (`map`). The fence's character is not in the text added nor in the
    line it goes on (no line there can close it), nor a carriage return or a NUL
    (markdown-it's `normalize` changes those), nor anything `clean` takes out (the
    parser's `clean_text` rule does). A last line of only spaces and tabs is
    no line to markdown-it's block state: left out of the code until it has more."""
    node = nodes[-1] if nodes else None
    token = node.token if node is not None else None
    if token is None or token.type != "fence" or token.map is None or not token.markup:
        return False
    if not source.startswith(before) or not _known_rules():
        return False
    added = source[len(before) :]
    going_on = before[before.rfind("\n") + 1 :] + added
    if token.markup[0] in going_on or "\r" in added or "\0" in added or clean(added) != added:
        return False
    dropped = _blank_tail(before)
    # Still open: its code is all the text after its opening line (a closing line is
    # not in it), and that line is the block's first, at the line's start.
    opening_end = len(before) - len(token.content) - len(dropped)
    if opening_end <= 0 or before[opening_end - 1] != "\n":
        return False
    opening = before.rfind("\n", 0, opening_end - 1) + 1
    if not before.startswith(token.markup, opening) or not before.endswith(token.content + dropped):
        return False
    start, end = token.map
    if before.count("\n", 0, opening) != start or end != _line_count(before):
        return False
    code = token.content + dropped + added
    token.content = code[: len(code) - len(_blank_tail(source))]
    token.map = [start, _line_count(source)]
    return True


def _blank_tail(text: str) -> str:
    """`text`'s last line if it is unended and only spaces and tabs (markdown-it's
    block state counts no such line), else ''."""
    tail = text[text.rfind("\n") + 1 :]
    return tail if not tail.strip(" \t") else ""


def _line_count(text: str) -> int:
    """The lines markdown-it's block state counts in `text` (`_blank_tail`)."""
    return text.count("\n") + (1 if text[text.rfind("\n") + 1 :].strip(" \t") else 0)
