"""A growing segment is parsed again only from the first line of its block before the
last (`blocks.grown_blocks`, as Textual's `append` does), or of its last block if that one
is set apart: the blocks must be those of the whole text parsed at once, wherever the
text was cut as it arrived."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it.tree import SyntaxTreeNode

from ollama_tui.ui.widgets.blocks import blocks_of, grown_blocks, source_lines

PIECES = [
    "Some words",
    " and **bold",
    "** more `code` text",
    "\n",
    "\n\n",
    "- item",
    "1. step",
    "10. step",
    "  - nested",
    "    indented",
    "```",
    "```python",
    "# Heading",
    "## Two",
    "---",
    "===",
    "> quoted",
    "| a | b |",
    "|---|---|",
    "  ",
    "\t",
    "***",
    "[d]: http://a.b",
    "see [d] here",
    "2",
    ". ",
    "-",
]


def shape(nodes: list[SyntaxTreeNode]) -> list[tuple[object, ...]]:
    """Each block's type, lines and tree, and every token under it as drawn: a tight list
    and a loose one, or two fences' languages, differ (`pretty` shows neither)."""
    return [
        (node.type, node.map, node.pretty(indent=1, show_text=True), _tokens(node))
        for node in nodes
    ]


def _tokens(node: SyntaxTreeNode) -> list[tuple[object, ...]]:
    tokens = [
        token
        for each in node.walk()
        for token in ([each.token] if each.token else list(each.nester_tokens or ()))
    ]
    return [(t.type, t.tag, t.content, t.attrs, t.hidden, t.info, t.markup) for t in tokens]


def grown_as_whole(before: str, added: str) -> list[SyntaxTreeNode]:
    """`before` parsed, then grown by `added`: the blocks of the whole text parsed."""
    source = before + added
    grown = grown_blocks(source, before, blocks_of(before))
    assert shape(grown) == shape(blocks_of(source))
    return grown


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=40),
    st.data(),
)
def test_growing_parse_is_the_whole_parse(pieces: list[str], data: st.DataObject) -> None:
    text = "".join(pieces)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=12)))
    before = ""
    nodes: list[SyntaxTreeNode] = []
    for end in [*cuts, len(text)]:
        source = text[:end]
        nodes = grown_blocks(source, before, nodes)
        assert shape(nodes) == shape(blocks_of(source)), repr(source)
        before = source


def test_lines_are_counted_as_markdown_it_counts_them() -> None:
    # A form feed or a line separator is no line end for markdown-it.
    source = "a\x0cb\u2028c\nd\n\ne"
    assert source_lines(source) == ["a\x0cb\u2028c\n", "d\n", "\n", "e"]
    assert [node.map for node in blocks_of(source)] == [(0, 2), (3, 4)]


def test_a_rule_that_becomes_a_lazy_line_joins_the_paragraph_before_it() -> None:
    # A paragraph, a paragraph, a rule: "***more" is a lazy line of "Words".
    grown = grown_as_whole("Intro.\n\nWords\n***", "more")
    assert [node.type for node in grown] == ["paragraph", "paragraph"]


@pytest.mark.parametrize(
    ("before", "added"),
    [
        ("> [d]: http://a.b\n\nsee", " [d]"),
        ("x\n\n- [d]: http://a.b\n\nsee", " [d]"),
        ("x\n\nsee [d] here\n\nnext", "\n\n> [d]: http://a.b\n"),
        ("x\n\nsee [a\\]b] here\n\nnext", "\n\n[a\\]b]: http://a.b\n"),
    ],
)
def test_a_link_defined_in_a_quote_a_list_or_with_a_bracket_is_found(
    before: str, added: str
) -> None:
    # A reference link's definition applies to the whole text: one inside a quote or a
    # list item, or whose label holds "\]", has the text parsed whole too.
    grown = grown_as_whole(before, added)
    assert any(t[0] == "link_open" for node in grown for t in _tokens(node))


def test_a_last_block_set_apart_is_parsed_again_alone() -> None:
    # Prose: paragraphs with blank lines between; the one before the last is kept.
    before = "One.\n\nTwo words.\n\nThree"
    nodes = blocks_of(before)
    grown = grown_blocks(before + " more words", before, nodes)
    assert shape(grown) == shape(blocks_of(before + " more words"))
    assert grown[-2] is nodes[-2]


def test_a_growing_first_line_may_join_the_block_above_it() -> None:
    # "2" becomes "2.": an item of the list above, which turns loose (the line was
    # not ended, so the last block was not set apart).
    grown = grown_as_whole("Intro.\n\n1. a\n\n2", ". b")
    assert [node.type for node in grown] == ["paragraph", "ordered_list"]


def test_a_last_block_with_no_blank_line_above_may_join_it() -> None:
    # A table's delimiter row that stops being one: its header row goes back to the
    # paragraph above it (no blank line between them).
    grown = grown_as_whole("Intro.\n\nWords\n| a |\n|---|", "x")
    assert [node.type for node in grown] == ["paragraph", "paragraph"]
