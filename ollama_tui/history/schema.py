"""The history database's schema, as a numbered list of forward migrations.

`PRAGMA user_version` holds the version a database is at; `migrate` brings it up to
`LATEST_VERSION`, one version per transaction, so a crash mid-migration leaves the
database at the last version that finished. A released migration is never edited:
later changes are new versions (tests/fixtures/history_v1.sql to history_v4.sql are
frozen versions 1 to 4, and tests check that migrations 1 to 4 still build exactly
those schemas).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from ollama_tui.history.terms import CJK_GLOB, cjk_column

APPLICATION_ID = 0x4F4C5448
"""`PRAGMA application_id` of every history database ("OLTH"), to tell ours from others."""

# Version 1, the first release: conversations and their messages.
#
# A message's id is (conversation id << 32) + its number in the conversation, so the
# messages of one conversation sit together in the table (a load reads one range) and
# search can tell a hit's conversation from its id alone, without a lookup per hit
# (History.search). Conversation ids are AUTOINCREMENT, so neither kind of id is ever
# reused: a reply still streaming into a deleted conversation fails its next update
# instead of writing into a newer message.
V1: tuple[str, ...] = (
    f"PRAGMA application_id = {APPLICATION_ID}",
    """CREATE TABLE conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    model TEXT,
    transport TEXT,
    settings TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
)""",
    # The conversation list: newest first, a page at a time.
    "CREATE INDEX conversations_by_update ON conversations (updated_at, id)",
    """CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
    content TEXT NOT NULL,
    thinking TEXT,
    model TEXT,
    transport TEXT,
    complete INTEGER NOT NULL DEFAULT 1 CHECK (complete IN (0, 1)),
    superseded INTEGER NOT NULL DEFAULT 0 CHECK (superseded IN (0, 1)),
    figures TEXT,
    stats TEXT,
    created_at REAL NOT NULL,
    CHECK (id >> 32 = conversation_id)
)""",
    # The cascade from a deleted conversation, and counting each listed conversation's
    # messages from the index alone (it covers superseded) without the wide rows.
    "CREATE INDEX messages_by_conversation ON messages (conversation_id, superseded)",
)

# Version 2: full-text search over message content and conversation titles.
# External-content FTS5 tables (the text is stored once, in the tables above), kept in
# step by triggers; the WHEN clauses skip re-indexing when only other columns change
# (updated_at every second while a reply streams, superseded, the final "complete").
V2: tuple[str, ...] = (
    """CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
)""",
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END""",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        VALUES ('delete', old.id, old.content);
END""",
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages
WHEN old.content IS NOT new.content BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END""",
    """CREATE VIRTUAL TABLE conversations_fts USING fts5 (
    title, content='conversations', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2'
)""",
    """CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO conversations_fts (rowid, title) VALUES (new.id, new.title);
END""",
    """CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
    INSERT INTO conversations_fts (conversations_fts, rowid, title)
        VALUES ('delete', old.id, old.title);
END""",
    """CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations
WHEN old.title IS NOT new.title BEGIN
    INSERT INTO conversations_fts (conversations_fts, rowid, title)
        VALUES ('delete', old.id, old.title);
    INSERT INTO conversations_fts (rowid, title) VALUES (new.id, new.title);
END""",
    # Backfill: index what version 1 stored.
    "INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')",
    "INSERT INTO conversations_fts (conversations_fts) VALUES ('rebuild')",
)


# Version 3: prefix search and CJK text. The FTS5 tables of version 2 are replaced:
# - a prefix index (prefix='1 2 3 4'): a prefix of 1 to 4 characters ("sock"*) is one
#   entry of the index, read like a word. Without it FTS5 merges the entries of every
#   word the prefix starts, on every query and every probe of one: seconds on a large
#   history. A longer prefix ("socke"*) starts fewer words; search.py reads it in one
#   pass. (4 rather than 3: +20% of index, and 4-letter stems of many common words,
#   "cont", "inte", cost 3 times less.)
# - a second column of each: the CJK chunks of the text, one word per character
#   (terms.cjk_column, computed in Python on every write and in the backfill below),
#   so that a CJK word is found inside text written without spaces.
PREFIX_INDEX = (1, 2, 3, 4)
"""The prefix lengths (in characters) the version 3 full-text index holds."""

_PREFIXES = " ".join(map(str, PREFIX_INDEX))
_FTS_OPTIONS = f"tokenize='unicode61 remove_diacritics 2', prefix='{_PREFIXES}'"
V3_DROP: tuple[str, ...] = (
    "DROP TRIGGER messages_fts_insert",
    "DROP TRIGGER messages_fts_delete",
    "DROP TRIGGER messages_fts_update",
    "DROP TABLE messages_fts",
    "DROP TRIGGER conversations_fts_insert",
    "DROP TRIGGER conversations_fts_delete",
    "DROP TRIGGER conversations_fts_update",
    "DROP TABLE conversations_fts",
    "ALTER TABLE messages ADD COLUMN content_cjk TEXT",
    "ALTER TABLE conversations ADD COLUMN title_cjk TEXT",
)
V3_CREATE: tuple[str, ...] = (
    f"""CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content, content_cjk, content='messages', content_rowid='id', {_FTS_OPTIONS}
)""",
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content, content_cjk)
        VALUES (new.id, new.content, new.content_cjk);
END""",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, content_cjk)
        VALUES ('delete', old.id, old.content, old.content_cjk);
END""",
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, content_cjk ON messages
WHEN old.content IS NOT new.content OR old.content_cjk IS NOT new.content_cjk BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, content_cjk)
        VALUES ('delete', old.id, old.content, old.content_cjk);
    INSERT INTO messages_fts (rowid, content, content_cjk)
        VALUES (new.id, new.content, new.content_cjk);
END""",
    f"""CREATE VIRTUAL TABLE conversations_fts USING fts5 (
    title, title_cjk, content='conversations', content_rowid='id', {_FTS_OPTIONS}
)""",
    """CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO conversations_fts (rowid, title, title_cjk)
        VALUES (new.id, new.title, new.title_cjk);
END""",
    """CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
    INSERT INTO conversations_fts (conversations_fts, rowid, title, title_cjk)
        VALUES ('delete', old.id, old.title, old.title_cjk);
END""",
    """CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title, title_cjk ON conversations
WHEN old.title IS NOT new.title OR old.title_cjk IS NOT new.title_cjk BEGIN
    INSERT INTO conversations_fts (conversations_fts, rowid, title, title_cjk)
        VALUES ('delete', old.id, old.title, old.title_cjk);
    INSERT INTO conversations_fts (rowid, title, title_cjk)
        VALUES (new.id, new.title, new.title_cjk);
END""",
    # Backfill: index what versions 1 and 2 stored (the CJK columns are filled first).
    "INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')",
    "INSERT INTO conversations_fts (conversations_fts) VALUES ('rebuild')",
)


def _v3(conn: sqlite3.Connection) -> None:
    _statements(V3_DROP)(conn)
    for table, column, source in (
        ("messages", "content_cjk", "content"),
        ("conversations", "title_cjk", "title"),
    ):
        # GLOB, in SQLite, skips the rows without a CJK character at C speed.
        rows = conn.execute(
            f"SELECT id, {source} FROM {table} WHERE {source} GLOB ?", (CJK_GLOB,)
        ).fetchall()
        conn.executemany(
            f"UPDATE {table} SET {column} = ? WHERE id = ?",
            ((cjk_column(text), rowid) for rowid, text in rows),
        )
    _statements(V3_CREATE)(conn)


# Version 4: images attached to messages. An image is kept once however many messages
# carry it: its bytes in a file named by their sha256 beside the database (images.py),
# its facts in `images`; `message_images` lists each message's images in the order they
# were attached, under the name the person gave each. Deleting a conversation cascades
# to its messages and from them to their links; images.py then drops the images no
# link uses any more, rows and files.
V4: tuple[str, ...] = (
    """CREATE TABLE images (
    digest TEXT PRIMARY KEY CHECK (length(digest) = 64),
    format TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL
) WITHOUT ROWID""",
    # Keyed by message id first, so a conversation's links are one range (as messages).
    """CREATE TABLE message_images (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    digest TEXT NOT NULL REFERENCES images (digest),
    name TEXT NOT NULL,
    PRIMARY KEY (message_id, position)
) WITHOUT ROWID""",
    # Whether any message still uses an image, once a conversation is deleted.
    "CREATE INDEX message_images_by_digest ON message_images (digest)",
)

# Version 5: the wire API a message came over, "ollama" (Ollama's /api/chat, NDJSON)
# or "openai" (/v1/chat/completions, SSE), and the API a conversation goes on over,
# beside its model and transport (a model's name means something on one server's API:
# a reopened conversation must know which). NULL is a row written before this version,
# when Ollama's API was the only one: "ollama" (records.api_of). Nothing to backfill;
# ADD COLUMN without a default does not rewrite the tables.
V5: tuple[str, ...] = (
    "ALTER TABLE messages ADD COLUMN api TEXT",
    "ALTER TABLE conversations ADD COLUMN api TEXT",
)


# Version 6: a reply being written is kept out of the full-text index until it ends.
# It is saved every second as it streams, and each save re-indexed the whole text (the
# old words deleted, the new ones added, each with its four prefixes): 1.06 s of the
# 1.16 s its 200 saves took for a 20,000-token reply, growing with the square of its
# length (docs/ui-performance.md). `streaming` marks such a row: the triggers index a
# message when it stops being one, unindex it when it becomes one, and follow its
# text otherwise; so a row is in the index exactly while `streaming` is 0, as written.
# A row left streaming (the app was killed) is indexed when the history is next opened
# (`opening._index_interrupted`). FTS5's 'rebuild' would index every row, streaming ones
# too: it is run only by migrations. Every row stored so far is not streaming: nothing to backfill.
V6: tuple[str, ...] = (
    "ALTER TABLE messages ADD COLUMN streaming INTEGER NOT NULL DEFAULT 0"
    " CHECK (streaming IN (0, 1))",
    # The rows left streaming, found at each opening without reading every message.
    "CREATE INDEX messages_streaming ON messages (id) WHERE streaming",
    "DROP TRIGGER messages_fts_insert",
    "DROP TRIGGER messages_fts_delete",
    "DROP TRIGGER messages_fts_update",
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN NOT new.streaming
BEGIN
    INSERT INTO messages_fts (rowid, content, content_cjk)
        VALUES (new.id, new.content, new.content_cjk);
END""",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN NOT old.streaming
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, content_cjk)
        VALUES ('delete', old.id, old.content, old.content_cjk);
END""",
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, content_cjk, streaming
ON messages WHEN old.streaming IS NOT new.streaming OR old.content IS NOT new.content
    OR old.content_cjk IS NOT new.content_cjk
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, content_cjk)
        SELECT 'delete', old.id, old.content, old.content_cjk WHERE NOT old.streaming;
    INSERT INTO messages_fts (rowid, content, content_cjk)
        SELECT new.id, new.content, new.content_cjk WHERE NOT new.streaming;
END""",
)


def _statements(statements: tuple[str, ...]) -> Callable[[sqlite3.Connection], None]:
    def apply(conn: sqlite3.Connection) -> None:
        for statement in statements:
            conn.execute(statement)

    return apply


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _statements(V1),
    2: _statements(V2),
    3: _v3,
    4: _statements(V4),
    5: _statements(V5),
    6: _statements(V6),
}
"""Version → the step that brings a database from the version before up to it."""

LATEST_VERSION = max(MIGRATIONS)


class SchemaError(Exception):
    """The database is not one this version of ollama-tui can use."""


def version_of(conn: sqlite3.Connection) -> int:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version


def check(conn: sqlite3.Connection) -> int:
    """The database's schema version; `SchemaError` if it is not ours or is too new.

    Reads the header and the schema, so a file that is not a database fails here.
    """
    version = version_of(conn)
    if version > LATEST_VERSION:
        raise SchemaError(
            f"it was written by a newer version of ollama-tui (schema version {version}; "
            f"this version knows up to {LATEST_VERSION})"
        )
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    # A database at version 0 with tables (or another application id) was not made
    # here; migrating it would write our tables into someone else's file.
    if (version == 0 and tables) or (version > 0 and app_id != APPLICATION_ID):
        raise SchemaError("it is not an ollama-tui history database")
    return version


def migrate(conn: sqlite3.Connection, target: int = LATEST_VERSION) -> tuple[int, int]:
    """Apply the migrations after the database's version up to `target`.

    Returns (version before, version after). `conn` must be in autocommit mode
    (isolation_level=None): each step runs in its own BEGIN IMMEDIATE transaction.
    """
    before = check(conn)
    version = before
    while version < target:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read inside the write lock: another instance may have migrated since.
            version = version_of(conn)
            if version < target:
                version += 1
                MIGRATIONS[version](conn)
                conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return before, version
