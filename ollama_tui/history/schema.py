"""The history database's schema, as a numbered list of forward migrations.

`PRAGMA user_version` holds the version a database is at; `migrate` brings it up to
`LATEST_VERSION`, one version per transaction, so a crash mid-migration leaves the
database at the last version that finished. A released migration is never edited:
later changes are new versions (tests/fixtures/history_v1.sql is the frozen version 1,
and a test checks that migration 1 still builds exactly that schema).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

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


def _statements(statements: tuple[str, ...]) -> Callable[[sqlite3.Connection], None]:
    def apply(conn: sqlite3.Connection) -> None:
        for statement in statements:
            conn.execute(statement)

    return apply


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _statements(V1),
    2: _statements(V2),
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
