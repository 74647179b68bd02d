"""A growing fence's code highlighted from its last lines on (`growing_code`): the same
text and spans as Textual's `highlight` of the whole code, wherever it was cut as it
arrived."""

from __future__ import annotations

from typing import Any

import pygments
import pytest
import textual
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.content import Content
from textual.highlight import HighlightTheme, highlight

from ollama_tui.ui import textual_fixes
from ollama_tui.ui.widgets import growing_code
from ollama_tui.ui.widgets.cuts import FENCE_LINES
from ollama_tui.ui.widgets.growing_code import GrowingCode

PIECES = [
    "def f(x):",
    "\n",
    "\n\n",
    "    return x",
    "    ",
    "\t",
    '"""',
    "'''",
    '"',
    "'",
    'f"',
    "{x!r:>3}",
    "{",
    "}",
    "# a comment",
    "@decorator",
    "\\",
    "match point:",
    "case _:",
    "case",
    "match",
    " _",
    "_",
    "class A(B):",
    "value = compute(1, 'x')",
    "r'\\d+'",
    "b'\\x00'",
    "0x1f + 3.5e-2j",
    "lambda: None",
    "\x07",
    "import os",
    "from x import (y",
    " as z",
    ", w",
    "print('é', \"日本\")",
    "\r\n",
    " ",
    "x",
]


def same(a: Content, b: Content) -> bool:
    return a.plain == b.plain and a.spans == b.spans


def grown_as_whole(start: str, added: str) -> bool:
    """`start` highlighted, then `start + added`: as Textual highlights the whole."""
    growing = GrowingCode()
    growing.highlight(start, "python", HighlightTheme)
    code = start + added
    return same(
        growing.highlight(code, "python", HighlightTheme), highlight(code, language="python")
    )


def split_as_whole(lines: list[Content], code: str) -> bool:
    """`lines` are Textual's highlighting of `code`, split at line ends."""
    expected = highlight(code, language="python").split("\n")
    return [(line.plain, line.spans) for line in lines] == [
        (line.plain, line.spans) for line in expected
    ]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=40), st.data())
def test_growing_code_is_highlighted_as_the_whole(pieces: list[str], data: st.DataObject) -> None:
    code = "".join(pieces)
    cuts = sorted(data.draw(st.lists(st.integers(1, len(code)), max_size=12)))
    growing, lines = GrowingCode(), GrowingCode()
    for end in [*cuts, len(code)]:
        part = code[:end]
        expected = highlight(part, language="python", theme=HighlightTheme)
        assert same(growing.highlight(part, "python", HighlightTheme), expected), repr(part)
        split = lines.fence_lines(part, "python", ansi=False, dark=True)
        assert [(line.plain, line.spans) for line in split] == [
            (line.plain, line.spans) for line in expected.split("\n")
        ], repr(part)


def test_a_growing_fence_is_lexed_from_its_last_lines() -> None:
    lines = [f"value_{i} = compute({i}, 'x')  # step" for i in range(30)]
    growing = GrowingCode()
    growing.highlight("\n".join(lines[:29]), "python", HighlightTheme)
    lexed: list[int] = []
    lex = growing._lex

    def counted(lexer, text, pos, stack, styles):  # type: ignore[no-untyped-def]
        lexed.append(len(text) - pos)
        lex(lexer, text, pos, stack, styles)

    growing._lex = counted  # type: ignore[method-assign]
    code = "\n".join(lines)
    assert same(
        growing.highlight(code, "python", HighlightTheme), highlight(code, language="python")
    )
    assert lexed and lexed[0] <= len(lines[27]) + len(lines[28]) + len(lines[29]) + 3


def test_a_growing_fences_lines_above_those_lexed_again_are_kept() -> None:
    growing = GrowingCode()
    code = "\n".join(f"value_{i} = compute({i}, 'x')" for i in range(10))
    first = growing.fence_lines(code, "python", ansi=False, dark=True)
    grown = growing.fence_lines(code + " + 1", "python", ansi=False, dark=True)
    assert grown[:8] == first[:8] and all(a is b for a, b in zip(grown[:8], first[:8], strict=True))
    assert split_as_whole(grown, code + " + 1")


@pytest.mark.parametrize(
    ("code", "added"),
    [
        # Pygments lexes the code with its tabs expanded: Textual's spans are at those
        # offsets, not the code's, and a line is not cut from the code at them.
        ("def f(x):\t\t\ny = 1\nz = 2\n", "w = 3"),
        # `Content` drops a bell (and backspace, form feed…) and keeps its spans where
        # they were: the lines after it are Textual's as it splits the whole.
        ("a = '\x07'\nb = 1\nc = 2\nd", " = 3"),
        # A string open at the code's end runs on into the lexer's last newline; the
        # whole split cuts the last line's spans at its end.
        ('def f(x):\n# a comment\n"', '""'),
    ],
    ids=["a tab", "a character Content drops", "a string open at the end"],
)
def test_code_grown_is_split_as_the_whole(code: str, added: str) -> None:
    growing = GrowingCode()
    growing.fence_lines(code, "python", ansi=False, dark=True)
    lines = growing.fence_lines(code + added, "python", ansi=False, dark=True)
    assert split_as_whole(lines, code + added)


def test_lines_kept_are_of_the_code_before() -> None:
    # Other code highlighted meanwhile (a full segment's fence, drawn whole): the lines
    # kept are not those of the code the fence grew from.
    growing = GrowingCode()
    growing.fence_lines("a = 1\nb = 2\nc = 3", "python", ansi=False, dark=True)
    growing.highlight("x = 'other'\ny = 4\nz = 5\n", "python", HighlightTheme)
    code = "x = 'other'\ny = 4\nz = 5\nw = 6"
    lines = growing.fence_lines(code, "python", ansi=False, dark=True)
    assert split_as_whole(lines, code)


def test_a_string_still_open_is_lexed_again_from_before_it() -> None:
    # Closed, a docstring is one token from its first line (one rule spanning lines);
    # open, its lines are lexed in a string's state: no line start inside it can go on.
    assert grown_as_whole('x = 1\n"""def f(x):\n\nmore words\nand more\n', '"""\ny = 2')


def test_a_rule_reading_on_through_blank_lines_is_lexed_again() -> None:
    # `case` is a soft keyword if its line, or the next one with text, has a `_`.
    assert grown_as_whole("x = 1\ncase\n\n\n  x ", "_")


def test_other_languages_are_highlighted_whole_by_textual() -> None:
    growing = GrowingCode()
    code = "/* a\ncomment */ int x;"
    for end in range(1, len(code) + 1):
        part = code[:end]
        assert same(growing.highlight(part, "c", HighlightTheme), highlight(part, language="c"))
    assert growing._lexers["c"] is None


def test_the_pygments_this_was_checked_with_is_resumed() -> None:
    # With another Pygments or Textual everything is highlighted whole (the tests above
    # hold either way); with these, the loop, the lexer and `highlight` must be the ones
    # copied and checked, or a change went unnoticed.
    if pygments.__version__ != "2.21.0" or textual.__version__ != "8.2.8":
        pytest.skip("hashed for Pygments 2.21.0 and Textual 8.2.8")
    assert growing_code.RESUMABLE
    assert growing_code._lexer("python") is not None


def test_a_fence_lexed_from_its_last_lines_holds_more_lines_before_it_is_cut() -> None:
    if not growing_code.RESUMABLE:
        pytest.skip("nothing is lexed from its last lines with this Pygments or Textual")
    fence_limit = growing_code.fence_limit
    assert fence_limit("python") == growing_code.FENCE_LINES_RESUMED > FENCE_LINES
    # Highlighted whole at each append: the shorter limit keeps an append's cost bounded.
    assert fence_limit("c") == fence_limit("") == fence_limit("no-such-language") == FENCE_LINES
    assert fence_limit("python", ansi=True) == FENCE_LINES


def test_a_lexers_source_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Reading a lexer class's source takes 15-30 ms: once per class, not per fence.
    checked: list[type] = []
    same_source = textual_fixes.same_source

    def counted(method: Any, digest: str) -> bool:
        checked.append(method)
        return same_source(method, digest)

    monkeypatch.setattr(growing_code, "same_source", counted)
    growing_code._resumed.cache_clear()
    try:
        for _ in range(3):
            growing_code._lexer("python")
        assert len(checked) == 1
    finally:
        growing_code._resumed.cache_clear()
