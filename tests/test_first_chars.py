"""A lexer state's rules picked by the character at the position (`first_chars`): a rule
left out can never match there, so the tokens are Pygments' own, tried fewer times."""

from __future__ import annotations

import inspect
import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pygments.lexer import RegexLexer
from pygments.lexers import get_lexer_by_name
from textual.highlight import HighlightTheme, highlight

import ollama_tui.ui.widgets.growing_code as growing_code_module
from ollama_tui.ui.widgets.first_chars import CHARS_KEPT, FirstChars, admits
from ollama_tui.ui.widgets.growing_code import GrowingCode

LANGUAGES = ("python", "javascript", "c", "rust", "bash", "css", "sql", "go", "yaml", "html")


def patterns(language: str) -> list[re.Pattern[str]]:
    """Every rule's pattern of `language`'s Pygments lexer, every state."""
    lexer = get_lexer_by_name(language)
    assert isinstance(lexer, RegexLexer)
    found = []
    for rules in type(lexer)._tokens.values():  # type: ignore[attr-defined]
        for rule in rules:
            pattern = getattr(rule[0], "__self__", None)
            if isinstance(pattern, re.Pattern):
                found.append(pattern)
    return found


ALL_PATTERNS = [p for language in LANGUAGES for p in patterns(language)]
SAMPLES = [
    Path(inspect.getfile(textwrap)).read_text(encoding="utf-8")[:6000],
    Path(growing_code_module.__file__).read_text(encoding="utf-8"),
    'int main(void) { printf("%d\\n", 0x1F); /* c */ return 0; }\n',
    'fn main() { let x: u8 = b\'a\'; println!("{x:?}"); } // r#"raw"#\n',
    "const f = async (a) => `t ${a}` ?? /re+g/i; # $HOME ${x:-y} <a href='x'>é</a>\n",
    'SELECT "a", 1.5e3 FROM t WHERE x <> -2; {"k": [true, null]}\n- key: value\n',
    "\t\r\n\x0b\x0c\u00a0\u2028日本語 K k \u212a ſ s İ i\n",
]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_rule_is_kept_wherever_it_matches(language: str) -> None:
    """At every position of every sample, a pattern that matches there is admitted for
    the character there (a rule wrongly left out would change the tokens)."""
    tests = [(p, admits(p)) for p in patterns(language)]
    for text in SAMPLES:
        for pos in range(len(text)):
            c = text[pos]
            for pattern, admitted in tests:
                if pattern.match(text, pos) is not None:
                    assert admitted(c), (pattern.pattern, text[pos : pos + 20])


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(ALL_PATTERNS), st.text(min_size=1, max_size=12))
def test_a_rule_is_kept_wherever_it_matches_any_text(pattern: re.Pattern[str], text: str) -> None:
    if pattern.match(text) is not None:
        assert admits(pattern)(text[0]), (pattern.pattern, text)


def test_rules_that_cannot_start_at_a_character_are_left_out() -> None:
    lexer = get_lexer_by_name("python")
    root = type(lexer)._tokens["root"]  # type: ignore[attr-defined]
    first = FirstChars()
    by_char = first.rules(root)
    at_digit = first.pick(root, by_char, "7")
    at_letter = first.pick(root, by_char, "d")
    assert len(at_digit) < len(root) / 2
    assert len(at_letter) < len(root)
    # The order kept: a subsequence of the state's rules.
    assert [rule for rule in root if rule in at_letter] == list(at_letter)
    assert by_char["7"] is at_digit


def test_a_pattern_that_may_match_nothing_is_kept_everywhere() -> None:
    assert admits(re.compile(r"\s*"))("x")
    assert admits(re.compile(r"(?=a)"))("b")  # look-ahead alone: empty match
    assert admits(re.compile(r"(?i)k"))("\u212a")  # KELVIN SIGN matches k, ignoring case
    assert not admits(re.compile(r"^\s*#"))("x")
    assert not admits(re.compile(r"(?<!\.)\bself\b"))("x")
    assert admits(re.compile(r"(a|)b"))("b")


@pytest.mark.parametrize("sample", range(len(SAMPLES)))
def test_whole_sources_are_highlighted_as_pygments_does(sample: int) -> None:
    code = SAMPLES[sample]
    ours = GrowingCode().highlight(code, "python", HighlightTheme)
    theirs = highlight(code, language="python", theme=HighlightTheme)
    assert ours.plain == theirs.plain
    assert ours.spans == theirs.spans


def test_a_state_keeps_the_rules_of_a_bounded_number_of_characters() -> None:
    lexer = get_lexer_by_name("python")
    root = type(lexer)._tokens["root"]  # type: ignore[attr-defined]
    first = FirstChars()
    by_char = first.rules(root)
    for code in range(0x4E00, 0x4E00 + 3 * CHARS_KEPT):  # a model's text: any characters
        first.pick(root, by_char, chr(code))
    assert 0 < len(by_char) <= CHARS_KEPT
