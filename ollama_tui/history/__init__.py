"""Conversation history: a SQLite store (store.py) with its records (records.py),
full-text search (search.py; how text is split for it: terms.py), the images kept with
messages (images.py) and safe opening of the file (opening.py), its schema and
migrations (schema.py), an asyncio front on one worker thread (aio.py) and export
(export.py)."""

from ollama_tui.history.store import (
    DEFAULT_API,
    Conversation,
    ConversationSummary,
    History,
    HistoryError,
    ImageUnavailable,
    KeptImage,
    MessageRecord,
    default_title,
    server_stats,
    timing_figures,
)

__all__ = [
    "DEFAULT_API",
    "Conversation",
    "ConversationSummary",
    "History",
    "HistoryError",
    "ImageUnavailable",
    "KeptImage",
    "MessageRecord",
    "default_title",
    "server_stats",
    "timing_figures",
]
