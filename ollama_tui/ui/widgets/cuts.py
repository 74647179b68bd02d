"""Where a streamed answer may be cut into segments: at a blank line between blocks, in a
long code fence, or after a sentence of a long paragraph (pure functions of its text)."""

from __future__ import annotations

import re
from collections.abc import Callable


def boundary(text: str, room: int) -> int | None:
    """Where the `room`-th blank line of `text` ends, if it has that many."""
    end = 0
    for _ in range(room):
        found = text.find("\n\n", end)
        if found < 0:
            return None
        end = found + 2
    return end


FENCE_LINES = 24
"""A growing code block whose language is highlighted whole at every append (Textual's
way): past this many lines, it continues as a new block in a new segment, so each
append's cost stays bounded (fence lag p95, docs/ui-performance.md: 80 lines 48 ms, 40
lines 34-40, 24 lines 26-32). The lexer restarts at each cut."""

_FENCE = re.compile(r"^```([^`\n]*)$", re.MULTILINE)


def fence_cut(
    source: str, text: str, limit: Callable[[str], int] = lambda language: FENCE_LINES
) -> tuple[int, str] | None:
    """Where in `text` a fence passes its limit of lines (just after a line end), and the
    fence's opening line; None if no fence in `text` is that long. `limit(info)`: the
    lines a fence with that info string (its language) may hold.

    Only fences of three backticks at the start of a line are counted; anything else is
    left whole.
    """
    whole = source + text
    fences = list(_FENCE.finditer(whole))
    for index in range(0, len(fences), 2):
        opener = fences[index]
        end = fences[index + 1].start() if index + 1 < len(fences) else len(whole)
        position, lines = opener.end(), limit(opener.group(1).strip())
        for _ in range(lines + 1):  # the opening line's end, then the code lines
            position = whole.find("\n", position, end) + 1
            if position == 0:
                break
        else:
            # Only a fence that goes on into the new text; if it passed the limit at the
            # very end of the last append (or before), it is cut where the new text starts.
            if position < end and end > len(source):
                return max(position - len(source), 0), opener.group(0)
    return None


PARAGRAPH_CHARS = 2000
"""A growing paragraph is re-parsed and re-wrapped whole on every append: past this many
characters, it continues as a new paragraph in a new segment, margins joined."""

_SENTENCE_ENDS = (". ", "! ", "? ", "。", "！", "？")
# A line that starts another block (list item, heading, quote, table, fence, setext
# underline): such a block is not one plain paragraph, and must not be cut.
_BLOCK_LINE = re.compile(r"\n {0,3}([-*+]\s|\d{1,9}[.)]\s|#|>|\||```|~~~|(-{3,}|={3,})\s*$)", re.M)
_MAX_TRIES = 64  # candidates examined per call: open markup can make them all fail
_NOT_PARAGRAPH = tuple("#`>|-*+ \t") + tuple("0123456789")


def paragraph_cut(source: str, text: str) -> int | None:
    """Where in `text` a long trailing paragraph may be cut, if it is longer than
    PARAGRAPH_CHARS: after a sentence end (or, past 1.5× the size, any space), before a
    letter, with no code span, emphasis or link left open. None if it may not be cut.
    """
    whole = source + text
    start = whole.rfind("\n\n") + 2 if "\n\n" in whole else 0
    block = whole[start:]
    if len(block) < PARAGRAPH_CHARS or block.startswith(_NOT_PARAGRAPH):
        return None
    if not between_blocks(whole[:start] or "\n\n"):
        return None  # inside a code fence
    if _BLOCK_LINE.search(block):
        return None  # a list, table or quote continues it: not a plain paragraph
    first = max(PARAGRAPH_CHARS, len(source) - start)
    for patient in (True, False):
        if not patient and len(block) < PARAGRAPH_CHARS * 1.5:
            return None
        tries = 0
        for index in range(first, len(block)):
            if not block[index].isalpha():
                continue
            if not block.endswith(_SENTENCE_ENDS if patient else " ", 0, index):
                continue
            tries += 1
            if tries > _MAX_TRIES:
                break
            head = block[:index]
            if head.count("`") % 2 or head.count("*") % 2 or head.count("**") % 2:
                continue
            if head.count("[") != head.count("]"):
                continue
            return start + index - len(source)
    return None


def between_blocks(source: str) -> bool:
    """Whether `source` ends between two top-level blocks (not inside a code fence)."""
    fences = source.count("\n```") + source.startswith("```")
    return source.endswith("\n\n") and fences % 2 == 0
