"""A growing code fence highlighted from its last lines on, not whole at each append.

Textual's `highlight` (textual/highlight.py, 8.2.8) lexes code whole with Pygments, and
the fence a reply streams into is highlighted again at every append: 2.1 ms for 24 lines
of Python, half of a code reply's appends (docs/ui-performance.md). A Pygments
`RegexLexer` is a state machine whose one state is its stack: lexed from a line's start
with the stack it had there, the rest of the text comes out as it does lexed whole.
`GrowingCode` keeps the tokens of the code it highlighted last and, at line starts, the
tokens before and the stack, and lexes again from a line start above the line the code
changed from: the nearest line above it with text (a rule may read on into the next
one, through blank lines), and only where the stack was at its root (a string still
open may become another token once closed).

Python's lexer only, the language this was checked with (tests/test_growing_code.py):
its multi-line strings are states. Other lexers may match a multi-line token in one
rule (a C comment, `/\\*.*?\\*/`), which no line start inside it can resume: they are
highlighted whole, as Textual does. So is everything if Pygments' `RegexLexer` loop or
Python lexer, or Textual's `highlight`, is not the one this copies or was checked with
(`RESUMABLE`, `RESUMED`: their sources, hashed).
"""

from __future__ import annotations

import functools

from pygments.lexer import Lexer, RegexLexer
from pygments.lexers import get_lexer_by_name
from pygments.token import Error, Whitespace, _TokenType
from pygments.util import ClassNotFound
from textual.content import Content, Span, _strip_control_codes
from textual.highlight import HighlightTheme, highlight
from textual.widgets._markdown import MarkdownFence

from ollama_tui.ui.textual_fixes import same_source
from ollama_tui.ui.widgets.cuts import FENCE_LINES
from ollama_tui.ui.widgets.first_chars import FirstChars

RESUMED = {"PythonLexer": "cf8166392deaf023"}
"""The lexers resumed, by class name, with the first 16 hex digits of the SHA-256 of
their source as tests/test_growing_code.py checks it (Pygments 2.21): another version's
rules may read further across lines. (Python's leave no text out of their tokens: their
lengths add up to offsets in the lexer's text, tabs expanded.)"""

LOOP_2_21 = "dda6229f98c72106"
"""The first 16 hex digits of the SHA-256 of `RegexLexer.get_tokens_unprocessed`' source
in Pygments 2.21, the loop `_lex` copies."""
HIGHLIGHT_8_2_8 = "2bc54cead13d024c"
"""The same of Textual 8.2.8's `highlight`, whose options and spans `GrowingCode` keeps."""
FENCE_HIGHLIGHT_8_2_8 = "048f407b8cef45a5"
"""The same of Textual 8.2.8's `MarkdownFence.highlight`: `HighlightTheme` unless the app
uses the terminal's own colours (`ansi`)."""

RESUMABLE = (
    same_source(RegexLexer.get_tokens_unprocessed, LOOP_2_21)
    and same_source(highlight, HIGHLIGHT_8_2_8)
    and same_source(MarkdownFence.highlight, FENCE_HIGHLIGHT_8_2_8)
)

Stack = tuple[str, ...]

FIRST_CHARS = FirstChars()
"""Each lexer state's rules by the character they may start at, shared by every fence
(a state's rules are its lexer class's: made once)."""

FENCE_LINES_RESUMED = 48
"""`cuts.FENCE_LINES` for a fence whose language is lexed here from its last lines: an
append then costs about the same at 48 lines as at 24, and each cut is a new segment,
a layout of the whole screen (10-13 ms; a code reply at 100 tok/s cut every 24 lines
had 0.6 a second): CPU 3-7 % less at 48 (docs/ui-performance.md)."""


@functools.lru_cache(maxsize=64)  # info strings come from the model: not kept for ever
def fence_limit(language: str, ansi: bool = False) -> int:
    """The lines a growing fence of `language` (its info string) holds before it is cut;
    `ansi`: in the terminal's own colours, highlighted whole (`GrowingCode.fence`)."""
    resumed = RESUMABLE and not ansi and _lexer(language) is not None
    return FENCE_LINES_RESUMED if resumed else FENCE_LINES


def warm(language: str) -> int:
    """`fence_limit(language)`, with its lexer loaded and checked and its rules' patterns
    read (`first_chars`): ahead of the first fence, off the main thread (`ProbeHolder`)."""
    limit = fence_limit(language)
    lexer = _lexer(language) if RESUMABLE else None
    if lexer is not None:
        FIRST_CHARS.learn(lexer._tokens.values())  # type: ignore[attr-defined]
    return limit


@functools.cache
def _resumed(lexer_class: type) -> bool:
    """Whether `lexer_class` is a lexer resumed here: its source as checked (reading it
    takes 15-30 ms, once)."""
    return same_source(lexer_class, RESUMED.get(lexer_class.__name__, ""))


def _lexer(language: str) -> RegexLexer | None:
    """The lexer Textual's `highlight` uses for `language`, if it is one resumed here."""
    try:
        lexer: Lexer = get_lexer_by_name(language, stripnl=False, ensurenl=True, tabsize=8)
    except ClassNotFound:
        return None
    if not _resumed(type(lexer)) or lexer.filters:
        return None
    if type(lexer).get_tokens_unprocessed is not RegexLexer.get_tokens_unprocessed:
        return None
    if not all(hasattr(lexer, name) for name in ("_preprocess_lexer_input", "_tokens")):
        return None
    return lexer if isinstance(lexer, RegexLexer) else None


def _line_above(text: str, line: int) -> int:
    """The start of the nearest line above the one at `line` with more than blanks in
    it: a rule that matches there may read on into the next line, through blank lines
    first (Python's soft keywords: `case`, blank lines, then a line with `_` in it)."""
    end = line
    while end > 0:
        start = text.rfind("\n", 0, end - 1) + 1
        if text[start:end].strip():
            return start
        end = start
    return 0


class GrowingCode:
    """The highlighting of the code given last, to go on from when more is added."""

    def __init__(self) -> None:
        self._key: tuple[str, type[HighlightTheme]] | None = None
        self._text = ""
        self._spans: list[Span | None] = []  # per token: its span, if styled
        self._ends: list[int] = []  # per token: where it ends in the code
        self._starts: list[tuple[int, int, Stack]] = []  # (line start, tokens before, stack)
        self._lexers: dict[str, RegexLexer | None] = {}
        # This call's lexing, if lexed here: from where, the tokens kept, the text before.
        self._lexed: tuple[int, int, str] | None = None
        self._lines: list[Content] = []  # `fence_lines`' last, of the text `_lines_of`
        self._lines_of: str | None = None

    def fence(self, code: str, language: str, ansi: bool, dark: bool) -> Content:
        """`MarkdownFence.highlight(code, language, ansi, dark)`, Textual's."""
        if ansi:
            return MarkdownFence.highlight(code, language, ansi=ansi, dark=dark)
        return self.highlight(code, language, HighlightTheme)

    def fence_lines(self, code: str, language: str, ansi: bool, dark: bool) -> list[Content]:
        """`self.fence(...).split("\\n")`; the lines above those lexed again are the
        last call's (splitting every line's spans again was a third of a fence's append)."""
        kept_of, self._lines_of = self._lines_of, None
        plain = None if ansi else self._lexed_code(code, language, HighlightTheme)
        if (
            plain is None
            or self._lexed is None
            or self._text not in (plain, plain + "\n")
            or _strip_control_codes(plain) != plain
        ):
            # Not lexed here, or the code has tabs or a BOM (spans are at the lexer's
            # offsets, not the code's), or characters `Content` drops (its spans then
            # fall after them as they were): split whole.
            return self.fence(code, language, ansi, dark).split("\n")
        pos, count, before = self._lexed
        line = plain.count("\n", 0, pos)
        if kept_of != before or line > len(self._lines):
            pos, count, line = 0, 0, 0  # (the kept lines are of other code)
        spans = [Span(s.start - pos, s.end - pos, s.style) for s in self._spans[count:] if s]
        tail = Content(plain[pos:], spans=spans).stylize_before("$text").split("\n")
        self._lines = self._lines[:line] + tail
        self._lines_of = self._text
        return list(self._lines)

    def highlight(self, code: str, language: str, theme: type[HighlightTheme]) -> Content:
        """`highlight(code, language=language, theme=theme)`, Textual's, only faster."""
        plain = self._lexed_code(code, language, theme)
        if plain is None:
            return highlight(code, language=language or None, theme=theme)
        spans = [span for span in self._spans if span is not None]
        return Content(plain, spans=spans).stylize_before("$text")

    def _lexed_code(self, code: str, language: str, theme: type[HighlightTheme]) -> str | None:
        """Lex `code` (from where the last code's lexing may go on) into `_spans`; the
        code as `highlight` holds it. None if its lexer is not one resumed here."""
        if language not in self._lexers:
            self._lexers[language] = _lexer(language) if RESUMABLE and language else None
        lexer = self._lexers[language]
        self._lexed = None
        if lexer is None:
            return None
        code = "\n".join(code.splitlines())
        # What `get_tokens` does first (newlines, tabs, a last newline): resumed only where
        # the old text is the start of the new one, whatever this does.
        text: str = lexer._preprocess_lexer_input(code)  # type: ignore[attr-defined]
        pos, count, stack = self._resume_at(text, (language, theme))
        del self._spans[count:], self._ends[count:]
        self._starts = [start for start in self._starts if start[0] <= pos]
        self._lex(lexer, text, pos, stack, theme.STYLES)
        self._lexed = (pos, count, self._text)
        self._text, self._key = text, (language, theme)
        return code

    def _resume_at(
        self, text: str, key: tuple[str, type[HighlightTheme]]
    ) -> tuple[int, int, Stack]:
        """Where to lex `text` from: (position, tokens kept, stack there)."""
        whole = (0, 0, ("root",))
        old = self._text[:-1] if self._text.endswith("\n") else self._text  # (`ensurenl`)
        if key != self._key or not old or not text.startswith(old):
            return whole
        above = _line_above(text, text.rfind("\n", 0, len(old)) + 1)
        for start in reversed(self._starts):
            if start[0] <= above and start[2] == ("root",):
                return start
        return whole

    def _lex(
        self,
        lexer: RegexLexer,
        text: str,
        pos: int,
        stack: Stack,
        styles: dict[tuple[str, ...], str],
    ) -> None:
        """Pygments' `RegexLexer.get_tokens_unprocessed` (2.21), from `pos` with
        `stack`, keeping each token's span as Textual's `highlight` makes it and the
        stack at each line start; at each position only the rules that may match its
        character are tried (`first_chars`: half the time, the same tokens)."""
        tokendefs = lexer._tokens  # type: ignore[attr-defined]  # (the compiled `tokens`)
        statestack = list(stack)
        statetokens = tokendefs[statestack[-1]]
        first = FIRST_CHARS
        by_char = first.rules(statetokens)
        size = len(text)
        end = self._ends[-1] if self._ends else 0
        spans, ends, starts = self._spans, self._ends, self._starts

        def add(token_type: _TokenType, value: str) -> None:
            nonlocal end
            start, end = end, end + len(value)
            found: _TokenType | None = token_type
            style = ""
            while found is not None and not (style := styles.get(found, "")):
                found = found.parent
            spans.append(Span(start, end, style) if style else None)
            ends.append(end)

        while True:
            # Only the rules that may match at this character, in their order (the
            # first that matches is the same: `first_chars`); all of them at the end.
            if pos < size:
                c = text[pos]
                rules = by_char.get(c)
                if rules is None:
                    rules = first.pick(statetokens, by_char, c)
            else:
                rules = statetokens
            for rexmatch, action, new_state in rules:
                m = rexmatch(text, pos)
                if m:
                    if action is not None:
                        if type(action) is _TokenType:
                            add(action, m.group())
                        else:
                            for _, token_type, value in action(lexer, m):
                                add(token_type, value)
                    pos = m.end()
                    if new_state is not None:
                        if isinstance(new_state, tuple):
                            for state in new_state:
                                if state == "#pop":
                                    if len(statestack) > 1:
                                        statestack.pop()
                                elif state == "#push":
                                    statestack.append(statestack[-1])
                                else:
                                    statestack.append(state)
                        elif isinstance(new_state, int):
                            if abs(new_state) >= len(statestack):
                                del statestack[1:]
                            else:
                                del statestack[new_state:]
                        elif new_state == "#push":
                            statestack.append(statestack[-1])
                        else:
                            raise AssertionError(f"wrong state def: {new_state!r}")
                        statetokens = tokendefs[statestack[-1]]
                        by_char = first.rules(statetokens)
                    break
            else:
                if pos >= len(text):
                    break
                if text[pos] == "\n":
                    statestack = ["root"]
                    statetokens = tokendefs["root"]
                    by_char = first.rules(statetokens)
                    add(Whitespace, "\n")
                else:
                    add(Error, text[pos])
                pos += 1
            if pos and text[pos - 1] == "\n" and (not starts or starts[-1][0] < pos):
                starts.append((pos, len(spans), tuple(statestack)))
