"""Conversation history in SQLite: the synchronous store.

One `History` owns one connection and must be used from the thread that opened it
(`AsyncHistory` in aio.py runs it on a worker thread of its own). Every write is one
short transaction, committed before the method returns: with WAL and
synchronous=NORMAL a committed write survives the process being killed, and at worst
the last writes before a power loss are rolled back (see docs/history.md).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ollama_tui.core.images import Attachment
from ollama_tui.history.images import ImageStore, ImageUnavailable, KeptImage, directory_for
from ollama_tui.history.opening import (
    DB_NAME,
    OPEN_BUSY_TIMEOUT,
    open_database,
    open_existing_database,
)
from ollama_tui.history.records import (
    _SEQ_BITS,
    DEFAULT_API,
    MESSAGE_COLUMNS,
    ROLES,
    Conversation,
    ConversationSummary,
    HistoryError,
    MessageRecord,
    _dumps,
    _id_range,
    api_of,
    default_title,
    message_counts,
    message_record,
    server_stats,
    timing_figures,
)
from ollama_tui.history.search import excerpt, fts_query, search_conversations
from ollama_tui.history.terms import cjk_column

__all__ = [
    "DB_NAME",
    "DEFAULT_API",
    "OPEN_BUSY_TIMEOUT",
    "Conversation",
    "ConversationSummary",
    "History",
    "HistoryError",
    "ImageUnavailable",
    "KeptImage",
    "MessageRecord",
    "default_title",
    "excerpt",
    "fts_query",
    "server_stats",
    "timing_figures",
]


class History:
    """The conversation store. Methods raise KeyError for an unknown id, ValueError for
    an unknown role, and sqlite3.Error if the database fails after opening."""

    def __init__(
        self, conn: sqlite3.Connection, path: Path, clock: Callable[[], float] = time.time
    ) -> None:
        self._conn = conn
        self.path = path
        """The database file in use (Path(":memory:") if no file could be used)."""
        self._clock = clock
        self._images = ImageStore(conn, directory_for(path))

    # -- opening ------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        data_dir: Path,
        *,
        busy_timeout: float = OPEN_BUSY_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> tuple[History, str | None]:
        """The store at `data_dir / "history.sqlite3"`, and None; or, if that database
        cannot be used, a store on a fresh database and a warning for the user.

        Never raises for a locked, read-only, damaged or too-new database, and never
        deletes, moves or writes that file: the fresh one goes beside it (or into a new
        temporary directory, or at worst into memory) and the warning names both.
        """
        conn, path, warning = open_database(data_dir, busy_timeout)
        return cls(conn, path, clock), warning

    @classmethod
    def open_existing(cls, path: Path, *, busy_timeout: float = OPEN_BUSY_TIMEOUT) -> History:
        """The store on the existing database `path`, for reading (export): no fresh
        database instead, no file created. Opened read-only when it is at the latest
        version, so a read-only or busy database can still be read.

        FileNotFoundError if there is no such file; HistoryError if it cannot be used.
        """
        conn, path = open_existing_database(path, busy_timeout)
        return cls(conn, path)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front: a deferred transaction that reads
        # and then writes can fail at once with SQLITE_BUSY when another instance wrote.
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
            self._conn.execute("COMMIT")
        except BaseException:
            # Also after a failed COMMIT (a full disk): the next write must not find
            # this transaction still open.
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise

    def _touch(self, conn: sqlite3.Connection, conversation_id: int, now: float) -> None:
        cur = conn.execute(
            "UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id)
        )
        if cur.rowcount == 0:
            raise KeyError(conversation_id)

    def _conversation_of(self, conn: sqlite3.Connection, message_id: int) -> int:
        if conn.execute("SELECT 1 FROM messages WHERE id = ?", (message_id,)).fetchone() is None:
            raise KeyError(message_id)
        return message_id >> _SEQ_BITS

    # -- writing ------------------------------------------------------------------

    def create_conversation(
        self,
        *,
        title: str,
        model: str | None,
        transport: str | None,
        settings: dict[str, Any] | None = None,
        api: str | None = None,
    ) -> int:
        """A new conversation, to go on over wire API `api` (None: Ollama's)."""
        now = self._clock()
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO conversations (title, title_cjk, model, transport, settings,"
                " created_at, updated_at, api) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    title,
                    cjk_column(title),
                    model,
                    transport,
                    json.dumps(settings or {}, ensure_ascii=False),
                    now,
                    now,
                    api,
                ),
            )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def add_message(
        self,
        conversation_id: int,
        *,
        role: str,
        content: str,
        thinking: str | None = None,
        model: str | None = None,
        transport: str | None = None,
        complete: bool = True,
        figures: dict[str, Any] | None = None,
        stats: dict[str, Any] | None = None,
        images: Sequence[Attachment] = (),
        api: str | None = None,
        streaming: bool = False,
    ) -> int:
        """A new message; its `images` are kept with it (their files written once).
        `api`: the wire API it went over, kept for good (None: Ollama's). `streaming`:
        a reply still being written, kept out of the search index until a save
        without it (schema.V6)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        now = self._clock()
        with self._write() as conn:
            self._touch(conn, conversation_id, now)
            low, high = _id_range(conversation_id)
            (last,) = conn.execute(
                "SELECT max(id) FROM messages WHERE id BETWEEN ? AND ?", (low, high)
            ).fetchone()
            message_id = low + 1 if last is None else last + 1
            conn.execute(
                "INSERT INTO messages (id, conversation_id, role, content, content_cjk,"
                " thinking, model, transport, complete, figures, stats, created_at, api,"
                " streaming) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    message_id,
                    conversation_id,
                    role,
                    content,
                    cjk_column(content),
                    thinking,
                    model,
                    transport,
                    complete,
                    _dumps(figures),
                    _dumps(stats),
                    now,
                    api,
                    streaming,
                ),
            )
            self._images.link(message_id, images)
        return message_id

    def update_message(
        self,
        message_id: int,
        *,
        content: str,
        thinking: str | None = None,
        complete: bool,
        figures: dict[str, Any] | None = None,
        stats: dict[str, Any] | None = None,
        streaming: bool = False,
    ) -> None:
        """Replace a message's text, thinking, figures and stats (one committed write);
        the rest (its model, transport, API, images) stays as it was added. `streaming`:
        as `add_message`'s (the save at a reply's end is without it: indexed then)."""
        now = self._clock()
        with self._write() as conn:
            conversation_id = self._conversation_of(conn, message_id)
            conn.execute(
                "UPDATE messages SET content = ?, content_cjk = ?, thinking = ?, complete = ?,"
                " figures = ?, stats = ?, streaming = ? WHERE id = ?",
                (
                    content,
                    cjk_column(content),
                    thinking,
                    complete,
                    _dumps(figures),
                    _dumps(stats),
                    streaming,
                    message_id,
                ),
            )
            self._touch(conn, conversation_id, now)

    def supersede(self, message_id: int) -> None:
        """Mark a message as replaced (by a regenerated reply or an edited prompt)."""
        now = self._clock()
        with self._write() as conn:
            conversation_id = self._conversation_of(conn, message_id)
            conn.execute("UPDATE messages SET superseded = 1 WHERE id = ?", (message_id,))
            self._touch(conn, conversation_id, now)

    def rename(self, conversation_id: int, title: str) -> None:
        # Renaming is not activity: the conversation keeps its place in the list.
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE conversations SET title = ?, title_cjk = ? WHERE id = ?",
                (title, cjk_column(title), conversation_id),
            )
            if cur.rowcount == 0:
                raise KeyError(conversation_id)

    def set_settings(self, conversation_id: int, settings: dict[str, Any]) -> None:
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE conversations SET settings = ? WHERE id = ?",
                (json.dumps(settings, ensure_ascii=False), conversation_id),
            )
            if cur.rowcount == 0:
                raise KeyError(conversation_id)

    def set_model(
        self,
        conversation_id: int,
        model: str | None,
        transport: str | None,
        api: str | None = None,
    ) -> None:
        """The model, transport and wire API (None: Ollama's) the conversation
        continues with (the model is shown in the list)."""
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE conversations SET model = ?, transport = ?, api = ? WHERE id = ?",
                (model, transport, api, conversation_id),
            )
            if cur.rowcount == 0:
                raise KeyError(conversation_id)

    def delete(self, conversation_id: int) -> None:
        """Delete a conversation, (ON DELETE CASCADE) its messages and their image
        links, and then the images no other message uses, rows and files."""
        with self._write() as conn:
            used = self._images.used_by(*_id_range(conversation_id))
            cur = conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            if cur.rowcount == 0:
                raise KeyError(conversation_id)
            self._images.drop_unused(used)
        # The conversation is gone whatever happens here: a file that cannot be removed
        # now (another instance holding the lock) is removed by the next deletion.
        with contextlib.suppress(OSError, sqlite3.Error):
            self._images.remove_unreferenced()

    # -- images -------------------------------------------------------------------

    def image_bytes(self, digest: str) -> bytes:
        """The bytes of image `digest`, checked; KeyError if no message uses it,
        ImageUnavailable if its file is gone or changed."""
        return self._images.read(digest, self._images.format_of(digest), digest)

    def attachments(self, images: Sequence[KeptImage]) -> list[Attachment]:
        """A stored message's `images` as attachments, bytes read back: what is sent
        again when a reopened conversation goes on. ImageUnavailable if one is gone."""
        return self._images.attachments(images)

    # -- reading ------------------------------------------------------------------

    def list_conversations(self, limit: int = 200, offset: int = 0) -> list[ConversationSummary]:
        """Conversations, the most recently written first."""
        rows = self._conn.execute(
            "SELECT id, title, model, updated_at FROM conversations"
            " ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        ).fetchall()
        counts = message_counts(self._conn, [r[0] for r in rows])
        return [
            ConversationSummary(cid, title, model, updated, counts.get(cid, 0), None)
            for cid, title, model, updated in rows
        ]

    def search(self, query: str, limit: int = 200) -> list[ConversationSummary]:
        """Conversations whose title or one of whose messages contains every word of
        `query` (words that start with each, any case and accents; a CJK word anywhere
        in the text), the most recently written first. Any text is safe to pass."""
        return search_conversations(self._conn, query, limit)

    def load(self, conversation_id: int) -> Conversation:
        row = self._conn.execute(
            "SELECT id, title, model, transport, settings, created_at, updated_at, api"
            " FROM conversations WHERE id = ?",
            (conversation_id,),
        ).fetchone()
        if row is None:
            raise KeyError(conversation_id)
        images = self._images.of_messages(*_id_range(conversation_id))
        messages = [
            message_record(line, images.get(line[0], ()))
            for line in self._conn.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id BETWEEN ? AND ? ORDER BY id",
                _id_range(conversation_id),
            )
        ]
        cid, title, model, transport, settings, created, updated, api = row
        return Conversation(
            id=cid,
            title=title,
            model=model,
            transport=transport,
            settings=json.loads(settings),
            created_at=created,
            updated_at=updated,
            messages=messages,
            api=api_of(api),
        )
