"""Where a long streamed answer may be cut into blocks (pure functions)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ollama_tui.ui.widgets.cuts import (
    FENCE_LINES,
    PARAGRAPH_CHARS,
    fence_cut,
    paragraph_cut,
)

LONG = "Words go on here. " * (PARAGRAPH_CHARS // 18 + 5)


def test_a_long_paragraph_is_cut_after_a_sentence_before_a_letter() -> None:
    cut = paragraph_cut("", LONG)
    assert cut is not None and cut >= PARAGRAPH_CHARS
    assert LONG[:cut].endswith(". ") and LONG[cut].isalpha()


def test_short_paragraphs_lists_headings_quotes_and_fences_are_never_cut() -> None:
    assert paragraph_cut("", "Short. Text.") is None
    for prefix in ("- ", "1. ", "# ", "> ", "| ", "    "):
        assert paragraph_cut("", prefix + LONG) is None
    assert paragraph_cut("```\n", LONG) is None  # inside a code fence
    assert paragraph_cut("```\ncode\n```\n\n", LONG) is not None  # after one


def test_no_cut_leaves_a_code_span_or_emphasis_open() -> None:
    for opener in ("`", "**", "*", "["):
        text = f"Start {opener}open " + LONG
        cut = paragraph_cut("", text)
        assert cut is None


def test_cjk_text_without_spaces_is_cut_after_a_full_stop() -> None:
    text = "这是一个很长的句子。" * (PARAGRAPH_CHARS // 10 + 10)
    cut = paragraph_cut("", text)
    assert cut is not None and text[:cut].endswith("。")


def test_a_run_on_paragraph_without_sentences_is_cut_at_a_space_later() -> None:
    assert paragraph_cut("", "word " * (PARAGRAPH_CHARS // 5 + 10)) is None
    text = "word " * PARAGRAPH_CHARS
    cut = paragraph_cut("", text)
    assert cut is not None and cut >= PARAGRAPH_CHARS and text[cut - 1] == " "


def test_only_the_new_text_is_cut() -> None:
    cut = paragraph_cut(LONG[:-40], LONG[-40:])
    assert cut is not None and 0 < cut <= 40


@given(st.text(alphabet="ab .`*[]\n#-", max_size=PARAGRAPH_CHARS * 3), st.integers(0, 100))
def test_a_cut_is_always_inside_the_new_text(text: str, split: int) -> None:
    split = min(split, len(text))
    cut = paragraph_cut(text[:split], text[split:])
    if cut is not None:
        assert 0 < cut < len(text) - split + 1
        assert text[split + cut].isalpha()


def test_a_paragraph_that_turns_into_a_list_or_table_is_not_cut() -> None:
    steps = "Here are the steps:\n" + "".join(
        f"{i}. Do the thing number {i} carefully. Then go on.\n" for i in range(1, 80)
    )
    assert len(steps) > PARAGRAPH_CHARS * 1.5
    assert paragraph_cut("", steps) is None
    assert paragraph_cut("", LONG + "\n- a bullet. More words here.") is None
    assert paragraph_cut("", LONG + "\n| a | b |") is None
    assert paragraph_cut("", LONG + "\n---\n") is None


def test_open_markup_gives_up_quickly_instead_of_scanning_everything() -> None:
    text = "Start `open " + "Words go on here. " * 5000
    assert paragraph_cut("", text) is None


def test_a_fence_that_reached_the_limit_at_the_end_of_an_append_is_cut_next_time() -> None:
    source = "```python\n" + "x = 1\n" * FENCE_LINES  # the limit, exactly at the end
    assert fence_cut(source, "") is None
    assert fence_cut(source, "y = 2\n") == (0, "```python")
    # A fence already closed in the source is never cut again.
    closed = source + "```\n\nText after.\n"
    assert fence_cut(closed, "More text.\n") is None


def test_each_fence_is_cut_at_the_limit_for_its_language() -> None:
    asked: list[str] = []

    def limit(language: str) -> int:
        asked.append(language)
        return 3 if language == "python" else 5

    python = "```python \n" + "x = 1\n" * 3
    assert fence_cut(python, "y = 2\n", limit) == (0, "```python ")
    assert asked[0] == "python", "the info string, stripped"
    c = "```c\n" + "x;\n" * 3
    assert fence_cut(c, "y;\n", limit) is None
    assert fence_cut(c + "y;\nz;\n", "w;\n", limit) == (0, "```c")
