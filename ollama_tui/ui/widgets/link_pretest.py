"""Linkify's quick test of a growing text, run over what it gained only.

Upstream (markdown-it-py's `linkify` rule, with linkify-it-py 2.2.0, as Textual's
Markdown parses): each paragraph's whole text is first searched with linkify-it's
`pretest`, one regular expression, and only where it matches are links looked for. A
paragraph being streamed is parsed again at every append: at 2,000 characters that
search was most of the parse (about 250 µs an append). Every match of that expression is
short (at most `SPAN` characters: a separator and a scheme, `www.`, `localhost`, a dot
and a top-level domain, `@`), so in a text that grew from one where it found nothing, a
match can only end past the old text: within its last `SPAN` characters and what was
added. Only those are searched. The slice's start can match `^` where the whole text's
does not: a "maybe" that the pretest may answer (the rule then tests each piece of
text exactly); no match is missed.

Used only with the expression linkify-it-py 2.2.0 builds for the app's parser (its
hash); tests/test_link_pretest.py checks `SPAN` against its widest match.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable

from markdown_it import MarkdownIt

PRETEST_2_2_0 = "5aae6c8e947dec7a"
SPAN = 80
"""At least the widest match of the pretest expression (65 characters in 2.2.0)."""
KEPT = 32
"""Texts kept in which nothing was found: a parse pretests each paragraph it holds, and a
growing list's items are paragraphs each (a parse of one of 12 items pretests 12)."""


class GrowingPretest:
    """`pretest(text)`, searching only the end of a text that grew from one kept."""

    def __init__(self, pretest: Callable[[str], bool]) -> None:
        self._pretest = pretest
        self._clear: deque[str] = deque(maxlen=KEPT)

    def __call__(self, text: str) -> bool:
        # A copy first: Textual's `Markdown.update` parses on a worker thread with the
        # same parser (the copy is made holding the GIL; an `append` is atomic).
        kept = tuple(self._clear)
        grew_from = max((t for t in kept if text.startswith(t)), key=len, default="")
        found = self._pretest(text[max(0, len(grew_from) - SPAN) :])
        if not found and grew_from != text:
            self._clear.append(text)
        return found


def install(parser: MarkdownIt) -> bool:
    """Give `parser`'s linkify a `GrowingPretest`, if its expression is the one known."""
    linkify = getattr(parser, "linkify", None)
    expression = getattr(linkify, "re", {}).get("pretest", "")
    if hashlib.sha256(expression.encode()).hexdigest()[:16] != PRETEST_2_2_0:
        return False
    linkify.pretest = GrowingPretest(linkify.pretest)  # type: ignore[union-attr]
    return True
