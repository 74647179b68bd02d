"""Conversation history: full-text search (FTS5) over titles and messages.

A user's text becomes a safe FTS5 query of quoted words, each a prefix, CJK runs as
phrases of their characters (terms.py); matching conversations are found without one
lookup per hit, since a message id holds its conversation's id in its high bits
(`_first_hits`); each hit in a message gets a one-line excerpt cut in Python from the
first matching message (`excerpt`): FTS5's snippet() re-runs the query for each row,
about 50 ms per page of results on a large history (see docs/history.md).
"""

from __future__ import annotations

import json
import re
import sqlite3

from ollama_tui.history.records import (
    _SEQ_BITS,
    _SEQ_MASK,
    ConversationSummary,
    message_counts,
)
from ollama_tui.history.schema import PREFIX_INDEX
from ollama_tui.history.terms import (
    Term,
    first_match,
    fold,
    fts_query,
    search_terms,
    terms_pattern,
)

__all__ = ["excerpt", "fts_query", "search_conversations"]

Found = list[tuple[int, str, str | None, float, int | None]]
"""Matching conversations: id, title, model, updated_at, first matching message."""

SNIPPET_CHARS = 100
SEARCH_SCAN_LIMIT = 5000
"""Matching messages search reads in one go (newest first); see _first_hits."""
SEARCH_SKIP_BUDGET = 250
"""Seeks the skip scan spends finding older matching conversations (see _walk)."""
WALK_MISS_BUDGET = 32
"""Conversations without a hit the walk may meet before it runs the skip scan."""
SORT_IDS = 500
"""Up to this many matching conversations are looked up and sorted; more, the list is
read in order until the page is full (8,500 of 10,000: 12.8 ms sorted, 1.9 ms read)."""
ONE_PASS_HITS = 30_000
"""Up to about this many hits, reading them all in one pass (~0.7 µs a hit) costs
less than walking the list (a few hundred seeks of 0.05-0.2 ms)."""
INDEXED_PREFIX = max(PREFIX_INDEX)
"""Prefixes up to this many characters have entries of their own in the index."""


def _terms_pattern(words: list[str]) -> re.Pattern[str]:
    """The excerpt's pattern for the typed `words` (terms.terms_pattern)."""
    return terms_pattern(search_terms(" ".join(words)))


def excerpt(content: str, pattern: re.Pattern[str], width: int = SNIPPET_CHARS) -> str:
    """One line of about `width` characters of `content` around the first match of
    `pattern` (a `terms_pattern`) where a word starts, with "…" where it was cut; the
    start of `content` if nothing matches.
    Accents are ignored as FTS5 ignores them (`cafe` shows `café`)."""
    found = first_match(pattern, content) or first_match(pattern, fold(content))
    at = found.start() if found else 0
    start = max(0, at - width // 3)
    if start:
        # Start at a word: the first space after the cut, if one is near.
        space = content.find(" ", start, at)
        start = space + 1 if space != -1 else start
    end = min(len(content), start + width)
    if end < len(content):
        space = content.rfind(" ", max(at + 1, end - width // 4), end)
        end = space if space != -1 else end
    text = " ".join(content[start:end].split())
    return ("…" if start else "") + text + ("…" if end < len(content) else "")


def _merges(terms: list[Term]) -> bool:
    """Whether FTS5 answers the query by merging the index entries of every word that
    starts with a prefix, each time it is asked: a prefix longer than the prefix index
    holds. (The prefix is a phrase's last word: `"don't"*` is the prefix `t`; a CJK
    character is a word of its own.)"""
    for term in terms:
        words = re.findall(r"[^\W_]+", term.phrase)
        if words and len(words[-1]) > INDEXED_PREFIX:
            return True
    return False


def search_conversations(
    conn: sqlite3.Connection, query: str, limit: int
) -> list[ConversationSummary]:
    """`History.search`: conversations whose title or one of whose messages contains
    every word of `query`, the most recently written first. Any text is safe to pass."""
    match = fts_query(query)  # None exactly when the query has no words
    if match is None or limit <= 0:
        return []
    terms = search_terms(query)
    titled = {
        cid
        for (cid,) in conn.execute(
            "SELECT rowid FROM conversations_fts WHERE conversations_fts MATCH ?", (match,)
        )
    }
    first, unknown = _first_hits(conn, match, one_pass=_merges(terms), words=len(terms))
    if unknown is None:
        found = _known(conn, first, titled, limit)
    else:
        found = _walk(conn, match, first, titled, unknown, limit)
    counts = message_counts(conn, [r[0] for r in found])
    contents = dict(
        conn.execute(
            "SELECT id, content FROM messages WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps([r[4] for r in found if r[4] is not None]),),
        ).fetchall()
    )
    pattern = terms_pattern(terms)
    return [
        ConversationSummary(
            cid,
            title,
            model,
            updated,
            counts.get(cid, 0),
            None if mid is None else excerpt(contents.get(mid, ""), pattern),
        )
        for cid, title, model, updated, mid in found
    ]


def _first_hits(
    conn: sqlite3.Connection, match: str, one_pass: bool = False, words: int = 1
) -> tuple[dict[int, int], tuple[int, int] | None]:
    """The first matching message of each conversation with one, as far as cheaply
    known, and the range of conversation ids still unknown (None: none is).

    Never one lookup per hit: a hit's conversation is its id >> 32. Up to
    SEARCH_SCAN_LIMIT hits are read newest first, which settles the conversations
    above the last one's (ids grow with creation); the ones below are left to `_walk`,
    unless the word (one word: the cost of several ANDed follows all their hits, not
    the ones they share) seems to have so few hits below that reading them all is
    cheaper (ONE_PASS_HITS).

    With `one_pass` (a query FTS5 answers by merging many words, each time it is
    asked: see `_merges`), every hit is read once, grouped by conversation in SQLite:
    no seeks, each of which would merge all those words again.
    """
    if one_pass:
        return _every_first_hit(conn, match), None
    batch = conn.execute(
        "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
        (match, SEARCH_SCAN_LIMIT + 1),
    ).fetchall()
    first: dict[int, int] = {}
    for (mid,) in batch:
        first[mid >> _SEQ_BITS] = mid  # newest first: the oldest hit is written last
    if len(batch) <= SEARCH_SCAN_LIMIT:
        return first, None
    # The last conversation in the batch may have older hits: it stays unknown.
    high = batch[-1][0] >> _SEQ_BITS
    del first[high]
    # The hits below, if they are as dense as in the conversations the batch spans:
    # few enough, and reading them all costs less than the walk's seeks.
    spanned = (batch[0][0] >> _SEQ_BITS) - high + 1
    if words == 1 and SEARCH_SCAN_LIMIT * high / spanned <= ONE_PASS_HITS:
        return _every_first_hit(conn, match), None
    return first, (0, high)


def _every_first_hit(conn: sqlite3.Connection, match: str) -> dict[int, int]:
    """The first hit of every matching conversation, every hit read once and grouped in
    SQLite: about 0.7 µs a hit."""
    rows = conn.execute(
        "SELECT rowid >> 32, min(rowid) FROM messages_fts WHERE messages_fts MATCH ? GROUP BY 1",
        (match,),
    )
    return dict(rows.fetchall())


def _known(
    conn: sqlite3.Connection,
    first: dict[int, int],
    titled: set[int],
    limit: int,
    upto: tuple[float, int] | None = None,
) -> Found:
    """Up to `limit` of the conversations in `first` and `titled` (every matching one),
    newest first; with `upto` (updated_at, id), from that place in the list down."""
    ids = [*titled, *first]
    below = "" if upto is None else " AND (updated_at, id) <= (?, ?)"
    # Few: look each up and sort them. Many: read the list in its order until the page
    # is full ("+id" keeps SQLite from looking them up by id), no sort of thousands.
    column = "+id" if len(ids) > SORT_IDS else "id"
    rows = conn.execute(
        "SELECT id, title, model, updated_at FROM conversations"
        f" WHERE {column} IN (SELECT value FROM json_each(?)){below}"
        " ORDER BY updated_at DESC, id DESC LIMIT ?",
        (json.dumps(ids), *(upto or ()), limit),
    )
    return [(*row, first.get(row[0])) for row in rows]


def _walk(
    conn: sqlite3.Connection,
    match: str,
    first: dict[int, int],
    titled: set[int],
    unknown: tuple[int, int],
    limit: int,
) -> Found:
    """Up to `limit` matching conversations, newest first, for a word in so many
    messages that `_first_hits` left a range of conversations unknown.

    Walks the list newest first, asking each unknown conversation for its first hit
    (a seek in each index segment; the newest hit, ORDER BY rowid DESC, costs twice
    as much): a word common everywhere fills a page quickly so. One that keeps missing
    (WALK_MISS_BUDGET times: it was common only lately) is then looked for with a
    skip scan, which asks for the next hit past each conversation found, from the
    oldest up: one seek per *matching* conversation, for up to SEARCH_SKIP_BUDGET of
    them, which settles a word in few conversations (even in thousands of their
    messages); the walk goes on with what is left unknown.
    """
    found: Found = []
    misses = 0
    skipped = False
    left: tuple[int, int] | None = unknown
    rows = conn.execute(
        "SELECT id, title, model, updated_at FROM conversations ORDER BY updated_at DESC, id DESC"
    )
    for cid, title, model, updated in rows:
        mid = first.get(cid)
        if mid is None and left is not None and left[0] <= cid <= left[1]:
            if misses >= WALK_MISS_BUDGET and not skipped:
                skipped = True
                left = _skip_scan(conn, match, first, *left)
                if left is None:
                    # Every matching conversation is known now: the rest of the
                    # page in one query, not row by row down the whole list.
                    rows.close()
                    return found + _known(conn, first, titled, limit - len(found), (updated, cid))
                mid = first.get(cid)
            if mid is None and left is not None and left[0] <= cid <= left[1]:
                mid = _next_hit(conn, match, cid, cid)
                misses += mid is None
        if mid is not None or cid in titled:
            found.append((cid, title, model, updated, mid))
            if len(found) == limit:
                break
    rows.close()
    return found


def _next_hit(conn: sqlite3.Connection, match: str, low: int, high: int) -> int | None:
    """The first hit in conversations `low` to `high`."""
    row = conn.execute(
        "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? AND rowid BETWEEN ? AND ?"
        " LIMIT 1",
        (match, low << _SEQ_BITS, (high << _SEQ_BITS) | _SEQ_MASK),
    ).fetchone()
    return None if row is None else int(row[0])


def _skip_scan(
    conn: sqlite3.Connection, match: str, first: dict[int, int], low: int, high: int
) -> tuple[int, int] | None:
    """Settle conversations `low` to `high` from the oldest up, adding their first hits
    to `first`, for up to SEARCH_SKIP_BUDGET matching ones; the range left unknown."""
    for _ in range(SEARCH_SKIP_BUDGET):
        mid = _next_hit(conn, match, low, high)
        if mid is None:
            return None
        cid = mid >> _SEQ_BITS
        first[cid] = mid
        low = cid + 1
    return low, high
