"""Conversation history in SQLite: the synchronous store.

One `History` owns one connection and must be used from the thread that opened it
(`AsyncHistory` in aio.py runs it on a worker thread of its own). Every write is one
short transaction, committed before the method returns: with WAL and
synchronous=NORMAL a committed write survives the process being killed, and at worst
the last writes before a power loss are rolled back (see docs/history.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ollama_tui.core.events import ServerStats
from ollama_tui.core.timing import StreamTiming
from ollama_tui.history.schema import LATEST_VERSION, SchemaError, check, migrate

DB_NAME = "history.sqlite3"
ROLES = ("user", "assistant", "system")

OPEN_BUSY_TIMEOUT = 2.0
"""Seconds `History.open` waits for another program's lock before using a fresh file.

Another ollama-tui sharing the database holds its write lock for milliseconds at a
time; a lock held for seconds is a stuck or foreign program.
"""
BUSY_TIMEOUT = 5.0
"""Seconds a write waits for another instance's write to finish, once open."""

SNIPPET_CHARS = 100
TITLE_LENGTH = 60
SEARCH_SCAN_LIMIT = 5000
"""Matching messages search reads in one go (newest first); see History._first_hits."""
SEARCH_SKIP_BUDGET = 250
"""Seeks search spends finding older matching conversations before it walks the list."""

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


def _search_terms(text: str) -> list[str]:
    return [t for t in text.split() if any(ch.isalnum() for ch in t)]


def _terms_pattern(terms: list[str]) -> re.Pattern[str]:
    """The words of `terms` as FTS5's unicode61 tokenizer splits them."""
    words = {w for t in terms for w in re.findall(r"\w+", t)}
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def excerpt(content: str, pattern: re.Pattern[str], width: int = SNIPPET_CHARS) -> str:
    """One line of about `width` characters of `content` around the first match of
    `pattern`, with "…" where it was cut; the start of `content` if nothing matches
    (FTS5 matched a word written with other accents)."""
    found = pattern.search(content)
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


def fts_query(text: str) -> str | None:
    """A user's raw search text as a safe FTS5 query, or None if it has no words.

    Each whitespace-separated term becomes a quoted phrase (quotes doubled), so FTS5
    operators (AND, OR, NOT, NEAR, *, -, ^, :, parentheses) are searched as text, never
    parsed; the terms are ANDed. Whole words only: a prefix query ("ka"*) merges the
    index entries of every word it starts, which took seconds on a large history.
    """
    terms = _search_terms(text)
    if not terms:
        return None
    return " ".join('"' + t.replace('"', '""') + '"' for t in terms)


def _dumps(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _loads(text: str | None) -> dict[str, Any] | None:
    return None if text is None else json.loads(text)


def _make_private_dir(directory: Path) -> None:
    if directory.is_dir():
        # An existing directory (perhaps a --data-dir the user chose) keeps its mode.
        return
    directory.mkdir(mode=0o700, parents=True)
    os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask; be exact


def _create_private_file(path: Path) -> None:
    """Create an empty file readable by the user only; never replaces one.

    SQLite gives the -wal and -shm files the mode of the database file, so they are
    private too. An empty file is a valid empty database.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


def _tighten(path: Path) -> None:
    """Remove group and other access from the database and its -wal/-shm files.

    Only taking bits away: a file the user made read-only stays read-only.
    """
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            mode = file.stat().st_mode & 0o777
            if mode & 0o077:
                os.chmod(file, mode & 0o700)


def _connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """A configured, migrated connection to `path`, proven writable; raises if not."""
    conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        # Read the header and schema first: a damaged, foreign or too-new file fails
        # here, before anything (even the journal mode) is changed in it.
        check(conn)
        conn.execute("PRAGMA journal_mode = WAL")
        # With WAL, NORMAL syncs at checkpoints, not at every commit: a process kill
        # loses nothing committed; a power loss can roll back the last commits.
        conn.execute("PRAGMA synchronous = NORMAL")
        # Keep the -wal file from staying at its largest size after a checkpoint.
        conn.execute("PRAGMA journal_size_limit = 16777216")
        conn.execute("PRAGMA cache_size = -16000")
        before, after = migrate(conn)
        if before == after:
            # Nothing written yet: prove that writing works now (read-only file or
            # directory, another program's lock) rather than at the first message.
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(f"PRAGMA user_version = {after}")
            conn.execute("ROLLBACK")
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
    except BaseException:
        conn.close()
        raise
    return conn


def _problem(exc: BaseException) -> str:
    """What went wrong with a database file, in words for the user."""
    if isinstance(exc, SchemaError):
        return str(exc)
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "it is locked by another program (is another ollama-tui running?)"
    if name.startswith("SQLITE_READONLY") or (
        isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
    ):
        return "it is read-only (no permission to write it or its directory)"
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return "it is damaged (not a readable SQLite database)"
    if name.startswith("SQLITE_CANTOPEN"):
        return "it cannot be opened for writing (check the permissions of it and its directory)"
    return f"it could not be opened ({exc})"


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
        data_dir = Path(data_dir)
        path = data_dir / DB_NAME
        try:
            _make_private_dir(data_dir)
            with contextlib.suppress(FileExistsError):
                _create_private_file(path)
            # SQLite would open a file it cannot write read-only, and leave -wal and
            # -shm files beside it with the file's read-only mode, which would keep
            # the database read-only after the user gave write permission back.
            os.close(os.open(path, os.O_RDWR))
            conn = _connect(path, busy_timeout)
        except (sqlite3.Error, OSError, SchemaError) as exc:
            problem = _problem(exc)
        else:
            _tighten(path)
            return cls(conn, path, clock), None
        conn, fresh = _fallback(data_dir, busy_timeout)
        if fresh == Path(":memory:"):
            where = "in memory only: nothing from this session will be kept"
        else:
            where = f"in {fresh}"
        warning = (
            f"The conversation history {path} could not be used: {problem}. "
            f"This session's conversations are kept {where}. "
            f"The old file is left as it is."
        )
        return cls(conn, fresh, clock), warning

    @classmethod
    def open_existing(cls, path: Path, *, busy_timeout: float = OPEN_BUSY_TIMEOUT) -> History:
        """The store on the existing database `path`, for reading (export): no fresh
        database instead, no file created. Opened read-only when it is at the latest
        version, so a read-only or busy database can still be read.

        FileNotFoundError if there is no such file; HistoryError if it cannot be used.
        """
        path = Path(path).resolve()
        if not path.is_file():
            raise FileNotFoundError(path)
        try:
            conn = sqlite3.connect(
                path.as_uri() + "?mode=ro", uri=True, timeout=busy_timeout, isolation_level=None
            )
            try:
                version = check(conn)
            except BaseException:
                conn.close()
                raise
            if version < LATEST_VERSION:
                # Reading needs the latest schema: migrate first, as the app would.
                conn.close()
                conn = _connect(path, busy_timeout)
        except (sqlite3.Error, OSError, SchemaError) as exc:
            problem = _problem(exc)
            raise HistoryError(
                f"The conversation history {path} cannot be read: {problem}."
            ) from exc
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
    ) -> int:
        now = self._clock()
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO conversations (title, model, transport, settings, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (title, model, transport, json.dumps(settings or {}, ensure_ascii=False), now, now),
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
    ) -> int:
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
                "INSERT INTO messages (id, conversation_id, role, content, thinking, model,"
                " transport, complete, figures, stats, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    message_id,
                    conversation_id,
                    role,
                    content,
                    thinking,
                    model,
                    transport,
                    complete,
                    _dumps(figures),
                    _dumps(stats),
                    now,
                ),
            )
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
    ) -> None:
        """Replace a message's text, thinking, figures and stats (one committed write)."""
        now = self._clock()
        with self._write() as conn:
            conversation_id = self._conversation_of(conn, message_id)
            conn.execute(
                "UPDATE messages SET content = ?, thinking = ?, complete = ?, figures = ?,"
                " stats = ? WHERE id = ?",
                (content, thinking, complete, _dumps(figures), _dumps(stats), message_id),
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
                "UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id)
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

    def set_model(self, conversation_id: int, model: str | None, transport: str | None) -> None:
        """The model and transport the conversation continues with (shown in the list)."""
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE conversations SET model = ?, transport = ? WHERE id = ?",
                (model, transport, conversation_id),
            )
            if cur.rowcount == 0:
                raise KeyError(conversation_id)

    def delete(self, conversation_id: int) -> None:
        """Delete a conversation and (ON DELETE CASCADE) its messages."""
        with self._write() as conn:
            cur = conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            if cur.rowcount == 0:
                raise KeyError(conversation_id)

    # -- reading ------------------------------------------------------------------

    def _counts(self, ids: list[int]) -> dict[int, int]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._conn.execute(
            "SELECT conversation_id, count(*) FROM messages"
            f" WHERE conversation_id IN ({marks}) AND superseded = 0 GROUP BY conversation_id",
            ids,
        )
        return dict(rows.fetchall())

    def list_conversations(self, limit: int = 200, offset: int = 0) -> list[ConversationSummary]:
        """Conversations, the most recently written first."""
        rows = self._conn.execute(
            "SELECT id, title, model, updated_at FROM conversations"
            " ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        ).fetchall()
        counts = self._counts([r[0] for r in rows])
        return [
            ConversationSummary(cid, title, model, updated, counts.get(cid, 0), None)
            for cid, title, model, updated in rows
        ]

    def search(self, query: str, limit: int = 200) -> list[ConversationSummary]:
        """Conversations whose title or one of whose messages contains every word of
        `query` (whole words, any case and accents), the most recently written first.
        Any text is safe to pass."""
        terms = _search_terms(query)
        if not terms or limit <= 0:
            return []
        match = fts_query(query)
        conn = self._conn
        titled = {
            cid
            for (cid,) in conn.execute(
                "SELECT rowid FROM conversations_fts WHERE conversations_fts MATCH ?", (match,)
            )
        }
        first, unknown = self._first_hits(match)
        found: list[tuple[int, str, str | None, float, int | None]] = []
        if unknown is None:
            # Every matching conversation is known.
            rows = conn.execute(
                "SELECT id, title, model, updated_at FROM conversations"
                " WHERE id IN (SELECT value FROM json_each(?))"
                " ORDER BY updated_at DESC, id DESC LIMIT ?",
                (json.dumps([*titled, *first]), limit),
            )
            found = [(*row, first.get(row[0])) for row in rows]
        else:
            # A word in very many conversations: walk the list newest first; for a
            # conversation in the unknown id range, ask that range for its first hit (a
            # seek in each index segment; the newest hit, ORDER BY rowid DESC, costs
            # twice as much). So many match that a page of results comes quickly.
            low, high = unknown
            rows = conn.execute(
                "SELECT id, title, model, updated_at, CASE WHEN id BETWEEN :low AND :high THEN ("
                "   SELECT rowid FROM messages_fts WHERE messages_fts MATCH :match"
                "   AND rowid BETWEEN c.id << 32 AND (c.id << 32) + 4294967295 LIMIT 1"
                ") END FROM conversations c ORDER BY updated_at DESC, id DESC",
                {"low": low, "high": high, "match": match},
            )
            for cid, title, model, updated, probed in rows:
                mid = probed if low <= cid <= high else first.get(cid)
                if mid is not None or cid in titled:
                    found.append((cid, title, model, updated, mid))
                    if len(found) == limit:
                        break
            rows.close()
        counts = self._counts([r[0] for r in found])
        contents = dict(
            conn.execute(
                "SELECT id, content FROM messages WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps([r[4] for r in found if r[4] is not None]),),
            ).fetchall()
        )
        pattern = _terms_pattern(terms)
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

    def _first_hits(self, match: str) -> tuple[dict[int, int], tuple[int, int] | None]:
        """The first matching message of each conversation with one, as far as cheaply
        known, and the range of conversation ids still unknown (None: none is).

        Never one lookup per hit: a hit's conversation is its id >> 32. Up to
        SEARCH_SCAN_LIMIT hits are read newest first, which settles the conversations
        above the last one's (ids grow with creation). Below it, a skip scan asks for
        the next hit past each conversation found, one seek per matching conversation,
        for at most SEARCH_SKIP_BUDGET conversations: a word in few conversations (even
        in thousands of their messages) is then settled, and one in more is common
        enough for `search` to walk the list.
        """
        conn = self._conn
        batch = conn.execute(
            "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
            (match, SEARCH_SCAN_LIMIT + 1),
        ).fetchall()
        first: dict[int, int] = {}
        for (mid,) in batch:
            first[mid >> _SEQ_BITS] = mid  # newest first: the oldest hit is written last
        if len(batch) <= SEARCH_SCAN_LIMIT:
            return first, None
        # The last conversation in the batch may have older hits: it stays unsettled,
        # in the range below that the skip scan or the walk settle.
        high = batch[-1][0] >> _SEQ_BITS
        low = 0
        for _ in range(SEARCH_SKIP_BUDGET):
            row = conn.execute(
                "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?"
                " AND rowid BETWEEN ? AND ? LIMIT 1",
                (match, low << _SEQ_BITS, (high << _SEQ_BITS) | _SEQ_MASK),
            ).fetchone()
            if row is None:
                return first, None
            cid = row[0] >> _SEQ_BITS
            first[cid] = row[0]
            low = cid + 1
        return first, (low, high)

    def load(self, conversation_id: int) -> Conversation:
        row = self._conn.execute(
            "SELECT id, title, model, transport, settings, created_at, updated_at"
            " FROM conversations WHERE id = ?",
            (conversation_id,),
        ).fetchone()
        if row is None:
            raise KeyError(conversation_id)
        messages = [
            MessageRecord(
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
            )
            for (
                mid,
                cid,
                role,
                content,
                thinking,
                model,
                transport,
                complete,
                figures,
                stats,
                created,
                superseded,
            ) in self._conn.execute(
                "SELECT id, conversation_id, role, content, thinking, model, transport,"
                " complete, figures, stats, created_at, superseded"
                " FROM messages WHERE id BETWEEN ? AND ? ORDER BY id",
                _id_range(conversation_id),
            )
        ]
        cid, title, model, transport, settings, created, updated = row
        return Conversation(
            id=cid,
            title=title,
            model=model,
            transport=transport,
            settings=json.loads(settings),
            created_at=created,
            updated_at=updated,
            messages=messages,
        )


def _fresh_name(directory: Path) -> Path:
    """A new, empty, private database file in `directory` (created here, never reused)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        suffix = "" if n == 1 else f"-{n}"
        path = directory / f"history-{stamp}{suffix}.sqlite3"
        try:
            _create_private_file(path)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(directory / f"history-{stamp}.sqlite3")


def _fallback(data_dir: Path, busy_timeout: float) -> tuple[sqlite3.Connection, Path]:
    """A connection to a fresh database: beside the one that failed, else in a new
    private temporary directory, else in memory."""
    for beside in (True, False):
        directory: Path | None = None
        path: Path | None = None
        try:
            if beside:
                directory = data_dir
                _make_private_dir(directory)
            else:
                directory = Path(tempfile.mkdtemp(prefix="ollama-tui-history-"))
            path = _fresh_name(directory)
            conn = _connect(path, busy_timeout)
        except (sqlite3.Error, OSError, SchemaError):
            # Undo only what this attempt made a moment ago: its empty file, and the
            # temporary directory; nothing of the user's.
            with contextlib.suppress(OSError):
                if path is not None:
                    path.unlink()
                if not beside and directory is not None:
                    directory.rmdir()
            continue
        _tighten(path)
        return conn, path
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    migrate(conn)
    return conn, Path(":memory:")
