"""Code added to an open fence is added to its token without a parse
(`blocks.fence_growth`): only where parsing the whole again would give the same blocks,
the fence's code and lines too."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it.tree import SyntaxTreeNode

from ollama_tui.ui.widgets.blocks import blocks_of, fence_growth
from tests.test_plain_growth import streamed

OPENINGS = ["```python\n", "```\n", "~~~\n", "````\n", "``` py \n", "  ```py\n", "```py"]

PIECES = [
    "def f(x):",
    "    return x",
    "\n",
    "\n\n",
    " ",
    "  ",
    "    ",
    "\t",
    "x",
    "`",
    "``",
    "```",
    "~",
    "~~~",
    "\n```\n",
    "\n   ```",
    "\n    ```",
    "\n````",
    "\r",
    "\r\n",
    "\0",
    "# not a heading",
    "- not an item",
    "> not a quote",
    "[a]: /not-a-definition",
    "caf\u00e9",
    "\u2028",
    "\u00a0",
    "\x1b[31m",  # (what `clean` takes out, as the parser's `clean_text` does)
    "\u202e",
]


def rows(nodes: list[SyntaxTreeNode]) -> list[tuple[object, ...]]:
    return [(n.type, n.map, n.info, n.markup, n.token.content if n.token else None) for n in nodes]


def check(before: str, source: str) -> bool:
    """If `source` only adds code to the fence `before` ends in, the blocks are those of
    `source` parsed whole; whether it did."""
    nodes = blocks_of(before)
    if not fence_growth(source, before, nodes):
        return False
    assert rows(nodes) == rows(blocks_of(source)), (before, source)
    return True


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(["", "Intro.\n\n", "Text\n", "- item\n\n", "# Title\n"]),
    st.sampled_from(OPENINGS),
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=20),
    st.data(),
)
def test_code_added_without_a_parse_is_what_the_parse_makes(
    above: str, opening: str, pieces: list[str], data: st.DataObject
) -> None:
    text = above + opening + "".join(pieces)
    start = len(above + opening)
    ends = [start + len("".join(pieces[: n + 1])) for n in range(len(pieces))]  # (streamed)
    for before, source in streamed(text, ends, data):
        check(before, source)


def test_code_streamed_into_a_fence_needs_no_parse() -> None:
    code = "def f(x):\n    y = x + 1\n\n    return y  # the end\n"
    for above in ("", "Some code:\n\n", "- a list\n\n"):
        before = above + "```python\n"
        for end in range(1, len(code) + 1):
            assert check(before, above + "```python\n" + code[:end]), (above, end)
            before = above + "```python\n" + code[:end]


def test_what_may_close_the_fence_or_change_its_code_is_parsed() -> None:
    for before, added in [
        ("```py\nx\n", "```"),  # its closing line
        ("```py\nx\n``", "`"),  # a closing line completed
        ("```py\nx\n", "  `not a closer`, but its character"),
        ("~~~\nx\n", "~"),
        ("```py\nx\n```", "\nmore"),  # closed: what follows is no code
        ("```py", "thon\n"),  # its opening line
        ("```py\nx", "\r\ny"),  # (markdown-it's normalize)
        ("```py\nx", "\0"),
        ("```py\nx\n", "\x1b[31m"),  # (the parser's `clean_text`)
        ("  ```py\n  x\n", "  y"),  # indented: its lines lose that indent
        ("  ```py\nx\n", "  y"),
        ("- item\n  ```py\n  x\n", "  y"),  # in a list item
        ("> ```py\n> x\n", "> y"),  # in a quote
        ("Text\n", "more"),  # no fence
    ]:
        assert not check(before, before + added), (before, added)
    assert check("```py\nx\n", "```py\nx\n~~~")  # another fence's character: code


def test_a_last_line_of_blanks_is_code_once_it_has_more() -> None:
    # markdown-it's block state counts no unended last line of spaces and tabs.
    for before, added in [
        ("```py\nx\n", "    "),
        ("```py\nx\n  ", "  y"),
        ("```py\nx\n \t", "\n"),
        ("```py\nx\n\n", "\t"),
    ]:
        assert check(before, before + added), (before, added)
