"""Words added to a growing paragraph are added to its text without a parse
(`blocks.plain_growth`): only where parsing the whole again would give the same blocks
and, for the paragraph, its text so far with those words after it, unstyled."""

from __future__ import annotations

import itertools
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it.tree import SyntaxTreeNode
from textual.content import Content
from textual.widgets._markdown import MarkdownBlock

from ollama_tui.ui.widgets import blocks
from ollama_tui.ui.widgets.blocks import blocks_of, grow_text, last_paragraph, plain_growth

PIECES = [
    "Some",
    " words",
    " more words.",
    " w00012.",
    " e.g. this",
    "ing",
    " ",
    "  ",
    "\t",
    "\u00a0",
    " caf\u00e9 \u2014 na\u00efve",
    " \u201cquoted\u201d",
    "\n",
    "\n\n",
    "*",
    " **bold",
    "**",
    "_",
    " _under",
    "`",
    " `code",
    "~~",
    "[a]",
    "(x)",
    "]:",
    "[d]:",
    " /url",
    "\\",
    "&amp",
    ";",
    "<",
    "-",
    "- ",
    "1.",
    "2)",
    "#",
    ">",
    "|",
    "---",
    "===",
    " http",
    "://x.io",
    " www.example",
    ".com",
    " ex.it",
    " a@b.co",
    " localhost",
    "    ",
    "\n- ",
    "\n1. ",
    "\n  - ",
    "\n   ",
    "&nbsp;",
    "\u2028",
    "\uff5c",
    " x.com/a\\",
]


def text_of(node: SyntaxTreeNode) -> Content:
    """A paragraph's text as Textual's block holds it (the method reads nothing else)."""
    inline = node.children[0].token
    assert inline is not None
    return MarkdownBlock._token_to_content(cast(MarkdownBlock, None), inline)


def tree(node: SyntaxTreeNode) -> list[tuple[object, ...]]:
    """What is drawn of a block: its nodes, and each paragraph's text and spans."""
    if node.type == "paragraph":
        text = text_of(node)
        return [("paragraph", node.map, text.plain, tuple(text.spans))]
    own = (node.type, node.map, node.tag, node.info, node.markup)
    return [own] + [row for child in node.children for row in tree(child)]


def check(before: str, source: str) -> bool:
    """If words may be added to the paragraph `before` ends in to make `source`, the
    blocks they make are those of `source` parsed whole; whether they were."""
    nodes = blocks_of(before)
    words = plain_growth(source, before, nodes)
    if words is None:
        return False
    paragraph = last_paragraph(nodes[-1])
    assert paragraph is not None
    grow_text(paragraph, words)
    grown = [row for node in nodes for row in tree(node)]
    assert grown == [row for node in blocks_of(source) for row in tree(node)], (before, source)
    return True


def streamed(text: str, ends: list[int], data: st.DataObject) -> list[tuple[str, str]]:
    """(text so far, text after the next append) at cuts drawn where pieces were streamed
    (`ends`) or anywhere, to the whole text."""
    anywhere = st.sampled_from(ends) | st.integers(1, len(text))
    cuts = sorted(set(data.draw(st.lists(anywhere, max_size=10))))
    points = [cuts[0] if cuts else len(text), *cuts[1:], len(text)]
    return [(text[:a], text[:b]) for a, b in itertools.pairwise(points)]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=30), st.data())
def test_words_added_without_a_parse_are_what_the_parse_makes(
    pieces: list[str], data: st.DataObject
) -> None:
    text = "".join(pieces)
    ends = [len("".join(pieces[: n + 1])) for n in range(len(pieces))]  # (as streamed)
    for before, source in streamed(text, ends, data):
        check(before, source)


def test_prose_grows_without_a_parse_word_by_word() -> None:
    # A streamed paragraph: its words (a sentence's end too) need no parse.
    sentence = "Streaming is shown as it comes. Each word, e.g. this one, is added"
    words = sentence.split()
    before = "## Title\n\n" + words[0]
    for word in words[1:]:
        assert check(before, before + " " + word), word
        before += " " + word
    assert check(before + " ", before + " end")  # a space ended the last append


def test_a_list_grows_without_a_parse_word_by_word() -> None:
    for before in ("Intro.\n\n- one\n- two", "1. one\n2. two\n   - nested", "- a\nlazy"):
        for word in ["more", "words.", "then,", "an end"]:
            assert check(before, before + " " + word), (before, word)
            before += " " + word


def test_what_may_change_the_paragraph_is_parsed() -> None:
    for before, added in [
        ("Text *em", "* more"),  # a delimiter
        ("Text *em*", "x"),  # a word touching one ("_em_x" is no emphasis)
        ("Text", " `code`"),
        ("Text", " [a](b)"),
        ("Text", " &amp; more"),
        ("Text", " \\* x"),
        ("See", " www.example.com"),  # linkify
        ("See", " a@b.co"),
        ("Text\n-", " item"),  # a marker alone, then an item: a list
        ("Text\n1.", " step"),
        ("[d]:", " /url"),  # a link definition
        ("Text", " more\nlines"),
        ("Text\n", "more"),
        ("Text", "\tmore"),
        ("Text", " \u202ebidi"),
        ("Text\n---", " x"),  # a heading, no paragraph
        ("- one\n-", " two"),  # an empty item, then not
        ("- one\n\n  ```\n  x", " y"),  # a fence in the item
        ("Text\n\u00a0", " more"),  # a line Python strips, markdown-it doesn't: "Text  more"
        # Found by an adversarial review (fuzzing some 10 million pairs):
        ("Fish&nbsp;", " chips"),  # a blank the parse made: one text with the words
        ("a &#x202E;", " x"),  # (cleaned away after the parse, its blank left)
        ("- \u00a0", " x"),  # an item of a no-break space only
        ("a _b_\u2028", " c"),  # a blank to Python, none to markdown-it: "_" not closing
        ("a **b.**\u2029", "c"),
        ("See x.com/a\\", " b"),  # a backslash linkify took, an escape once followed
        ("localhost", " ex.it\uff5c"),  # the paragraph passes the pretest: "ex.it" a link
        ("Text\r", "1. x"),  # (a carriage return: cleaned before it reaches a paragraph)
    ]:
        assert not check(before, before + added), (before, added)


def test_words_are_parsed_with_a_parser_of_other_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    # `PLAIN` knows what the app's parser reads: another rule might read a plain word.
    before = "Some words"
    assert check(before, before + " more")
    changed = (blocks.RULES[0], (*blocks.RULES[1], "smartquotes"), *blocks.RULES[2:])
    monkeypatch.setattr(blocks, "RULES", changed)
    blocks._known_rules.cache_clear()
    try:
        assert not check(before, before + " more")
    finally:
        monkeypatch.undo()
        blocks._known_rules.cache_clear()
