"""Conversation history: the records the store returns, and how they sit in rows.

Pure code and one counting query, shared by the store (store.py), search (search.py)
and opening (opening.py): the dataclasses and how a message row becomes one, the
error, titles and the figures/stats dicts of a reply, the message id layout, the JSON
columns, and the wire API of rows written before it was kept.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from ollama_tui.core.events import ServerStats
from ollama_tui.core.timing import StreamTiming
from ollama_tui.history.images import KeptImage

ROLES = ("user", "assistant", "system")
TITLE_LENGTH = 60

DEFAULT_API = "ollama"
"""The wire API of a row whose `api` is NULL: written before schema version 5, when
Ollama's own (/api/chat) was the only one."""

_SEQ_BITS = 32
_SEQ_MASK = (1 << _SEQ_BITS) - 1


def _id_range(conversation_id: int) -> tuple[int, int]:
    """The lowest and highest message id a conversation can have (see schema.V1)."""
    low = conversation_id << _SEQ_BITS
    return low, low | _SEQ_MASK


@dataclass(frozen=True)
class MessageRecord:
    id: int
    conversation_id: int
    role: str
    """"user", "assistant" or "system"."""
    content: str
    thinking: str | None
    model: str | None
    transport: str | None
    complete: bool
    """False while a reply streams, and for ever if it was cut off (stop, error, crash)."""
    figures: dict[str, Any] | None
    """Client timing in seconds: ttfc, ttft, total, chunks, tokens, tokens_per_s."""
    stats: dict[str, Any] | None
    """The server's done-line figures (eval_count, eval_duration, ...; nanoseconds)."""
    created_at: float
    superseded: bool
    """Replaced by a regenerated reply or an edited prompt; kept, shown as earlier."""
    images: tuple[KeptImage, ...] = ()
    """The images sent with it, in the order they were attached."""
    api: str = DEFAULT_API
    """The wire API it went over: "ollama" (/api/chat, NDJSON) or "openai"
    (/v1/chat/completions, SSE); "ollama" if it was kept before the API was."""


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    title: str
    model: str | None
    updated_at: float
    message_count: int
    """Messages that are not superseded."""
    snippet: str | None
    """For a search hit in a message: a one-line excerpt, without markup, around the
    first match in the first message that matches (None for a hit in the title only)."""


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    model: str | None
    transport: str | None
    settings: dict[str, Any]
    """Per-conversation settings: system prompt, options, keep_alive, think."""
    created_at: float
    updated_at: float
    """The last message written (added, updated or superseded)."""
    messages: list[MessageRecord]
    """In the order written, superseded ones included."""
    api: str = DEFAULT_API
    """The wire API the conversation goes on over, with its model and transport (the
    API of the last message asked); "ollama" if it was kept before the API was."""


def api_of(stored: str | None) -> str:
    """The wire API of a row, from its `api` column (NULL: `DEFAULT_API`)."""
    return DEFAULT_API if stored is None else stored


MESSAGE_COLUMNS = (
    "id, conversation_id, role, content, thinking, model, transport, complete, figures,"
    " stats, created_at, superseded, api"
)
"""The columns of a message row that `message_record` reads, in its order."""


def message_record(row: tuple[Any, ...], images: tuple[KeptImage, ...] = ()) -> MessageRecord:
    """The `MessageRecord` of a row of `MESSAGE_COLUMNS`, with its `images`."""
    (mid, cid, role, content, thinking, model, transport, complete, figures, stats, created,
     superseded, api) = row  # fmt: skip
    return MessageRecord(
        id=mid,
        conversation_id=cid,
        role=role,
        content=content,
        thinking=thinking,
        model=model,
        transport=transport,
        complete=bool(complete),
        figures=_loads(figures),
        stats=_loads(stats),
        created_at=created,
        superseded=bool(superseded),
        images=images,
        api=api_of(api),
    )


class HistoryError(Exception):
    """A history database that cannot be read (`History.open_existing` and export only:
    `History.open` uses a fresh database instead)."""


def timing_figures(timing: StreamTiming) -> dict[str, Any]:
    """The `figures` of a reply, from its `StreamTiming`."""
    return timing.figures()


def server_stats(stats: ServerStats) -> dict[str, Any]:
    """The `stats` of a reply, from the server's `ServerStats`."""
    return dataclasses.asdict(stats)


def default_title(first_prompt: str) -> str:
    """A conversation's title from its first prompt: the first non-blank line, about
    `TITLE_LENGTH` characters at most, cut at a word boundary."""
    line = next((ln for ln in first_prompt.splitlines() if ln.strip()), "")
    # Control characters (escape sequences from pasted text) have no place in a title.
    line = "".join(ch for ch in line if ch.isprintable() or ch.isspace())
    line = " ".join(line.split())
    if not line:
        return "New chat"
    if len(line) <= TITLE_LENGTH:
        return line
    cut = line.rfind(" ", 0, TITLE_LENGTH + 1)
    # No space in a sensible place (a URL, Chinese text): cut mid-word.
    head = line[:cut] if cut >= TITLE_LENGTH // 2 else line[:TITLE_LENGTH]
    return head.rstrip(" ,.;:-") + "…"


def _dumps(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _loads(text: str | None) -> dict[str, Any] | None:
    return None if text is None else json.loads(text)


def message_counts(conn: sqlite3.Connection, ids: list[int]) -> dict[int, int]:
    """The `message_count` of each of the conversations `ids` that has messages."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = conn.execute(
        "SELECT conversation_id, count(*) FROM messages"
        f" WHERE conversation_id IN ({marks}) AND superseded = 0 GROUP BY conversation_id",
        ids,
    )
    return dict(rows.fetchall())
