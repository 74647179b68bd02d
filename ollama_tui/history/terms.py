"""Conversation history: how text is split for full-text search, on both sides.

FTS5's unicode61 tokenizer splits text at spaces and punctuation, so a run of Chinese
or Japanese (written without spaces) is one long "word" to it, and `汉字` inside
`我喜欢汉字` is not found. So each message (and title) also has a second, searched
column (`cjk_column`): the chunks of its text that hold CJK characters, with every
such character spaced out into a word of its own. A CJK run typed in the search box
becomes the phrase of its characters (`"汉 字"`), found wherever they stand side by
side: a substring search, for any length (the trigram tokenizer needs 3 characters,
and `汉字` has 2).

`fts_query` turns what the user typed into a safe FTS5 query, every word a quoted
phrase (never parsed as FTS5 syntax) and a prefix (`"sock"*` finds "sockets"), which
the prefix index of the version 3 schema answers from one entry for 1 to 4
characters. `terms_pattern` finds the same text again in Python for the excerpt.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

CJK_RANGES = (
    ("\u1100", "\u11ff"),  # Hangul Jamo
    ("\u3005", "\u3007"),  # 々 〆 〇
    ("\u3040", "\u30ff"),  # Hiragana, Katakana
    ("\u3100", "\u312f"),  # Bopomofo
    ("\u3130", "\u318f"),  # Hangul compatibility Jamo
    ("\u31f0", "\u31ff"),  # Katakana phonetic extensions
    ("\u3400", "\u4dbf"),  # CJK Unified Ideographs Extension A
    ("\u4e00", "\u9fff"),  # CJK Unified Ideographs
    ("\uac00", "\ud7af"),  # Hangul syllables
    ("\uf900", "\ufaff"),  # CJK compatibility ideographs
    ("\uff66", "\uff9f"),  # halfwidth Katakana
    ("\U00020000", "\U0002fa1f"),  # Extensions B to F, compatibility supplement
)
"""Characters of scripts written without spaces between words, searched one by one."""

_CJK_CLASS = "".join(f"{low}-{high}" for low, high in CJK_RANGES)
CJK = re.compile(f"[{_CJK_CLASS}]")
CJK_GLOB = f"*[{_CJK_CLASS}]*"
"""A GLOB pattern for text holding a CJK character (SQLite GLOB takes code point ranges)."""

GAP = "\ue000"
"""Stands for the chunks left out of a CJK column, so that the characters on either
side of them are not next to each other there. A private-use character: a word to the
tokenizer, and nothing anyone types (a typed one is not a word to `_words`)."""

_SPACED = re.compile(f"([{_CJK_CLASS}])")
# A character that is part of a word but not CJK: where a word starts or ends.
_LATIN_WORD = re.compile(f"[^\\W_{_CJK_CLASS}]")
_PARTS = re.compile(f"[{_CJK_CLASS}]|{_LATIN_WORD.pattern}+")


def _spaced(chunk: str) -> str:
    """`chunk` with each CJK character a word of its own."""
    return " ".join(_SPACED.sub(r" \1 ", chunk).split())


def cjk_column(text: str) -> str | None:
    """The CJK column of `text`: its whitespace-separated chunks that hold a CJK
    character, spaced out, in order, with GAP where other chunks were left out; None
    if there is no CJK character. Part of the version 3 schema: a change here needs
    a migration that recomputes the column."""
    if CJK.search(text) is None:
        return None
    parts: list[str] = []
    for chunk in text.split():
        if CJK.search(chunk):
            parts.append(_spaced(chunk))
        elif parts and parts[-1] != GAP:
            parts.append(GAP)
    if parts[-1] == GAP:
        parts.pop()
    return " ".join(parts)


@dataclass(frozen=True)
class Term:
    """One typed word, matched as a prefix: `text` as typed, and the `phrase` FTS5 is
    given, CJK characters spaced out."""

    text: str
    phrase: str


def _words(text: str) -> list[str]:
    # NUL ends the query text for FTS5 (an unterminated string); GAP is ours.
    text = text.replace("\x00", " ").replace(GAP, " ")
    return [w for w in text.split() if any(ch.isalnum() for ch in w)]


def search_terms(text: str) -> list[Term]:
    """The words of a user's search text (whitespace-separated, with a letter or digit),
    each a prefix: the last one is still being typed, and the earlier ones as well
    (`sock prog` finds "socket programming"). Measured, that costs what whole words
    cost, but for a long prefix that many common words share (docs/history.md)."""
    return [Term(w, _spaced(w) if CJK.search(w) else w) for w in _words(text)]


def fts_query(text: str) -> str | None:
    """A user's raw search text as a safe FTS5 query, or None if it has no words.

    Each word becomes a quoted phrase (quotes doubled; CJK characters spaced out) and a
    prefix: `"sock"*`, `"汉 字"*`. So FTS5 operators (AND, OR, NOT, NEAR, *, -, ^, :,
    parentheses) are searched as text, never parsed; the words are ANDed.
    """
    terms = search_terms(text)
    if not terms:
        return None
    return " ".join(_phrase(t) for t in terms)


def _phrase(term: Term) -> str:
    return '"' + term.phrase.replace('"', '""') + '"*'


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch.isascii():
        return ch
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    return base if len(base) == 1 else ch


def fold(text: str) -> str:
    """`text` with accents removed, one character for each character (so a position in
    one is the same in the other), as unicode61 remove_diacritics sees it, nearly."""
    return text if text.isascii() else "".join(map(_fold_char, text))


def terms_pattern(terms: list[Term]) -> re.Pattern[str]:
    """The words of `terms` in a text, any case, for the excerpt: each as FTS5 matched
    it, its parts (`don't`, `用Python写`) with anything but letters and digits between
    them. It matches inside words too: `first_match` keeps the matches where a word
    starts. (No character class in it: one holding the CJK ranges takes sre 3-10 ms to
    compile, and every keystroke is a new pattern.)"""
    alternatives = []
    for term in sorted(terms, key=lambda t: len(t.text), reverse=True):
        parts = _PARTS.findall(fold(term.phrase))
        if parts:
            alternatives.append("(?i:" + r"[\W_]*".join(re.escape(p) for p in parts) + ")")
    # An impossible pattern if no word can be found (the excerpt then starts at 0).
    return re.compile("|".join(alternatives) or r"(?!)")


def first_match(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The first match of a `terms_pattern` in `text` where a word starts: at a CJK
    character, or not just after a letter or digit (or just after a CJK character, as
    the CJK column sees `用Python`)."""
    for found in pattern.finditer(text):
        at = found.start()
        if at == 0 or not _LATIN_WORD.match(text, at) or not _LATIN_WORD.match(text, at - 1):
            return found
    return None
