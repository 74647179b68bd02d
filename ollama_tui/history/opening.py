"""Conversation history: opening the database file safely.

The data directory, when created here, is private (0700) and the database file is
created private (0600; SQLite gives its -wal and -shm files the same mode); group and
other access are taken away from an existing one. A database that cannot be used (locked
by another program, read-only, damaged, not ours, or written by a newer version) is
never deleted, moved or written: `open_database` uses a fresh file beside it instead, or
one in a new private temporary directory, or at worst a database in memory, and says so
in a warning for the user (see docs/history.md).
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from ollama_tui.history.records import HistoryError
from ollama_tui.history.schema import LATEST_VERSION, SchemaError, check, migrate

DB_NAME = "history.sqlite3"

OPEN_BUSY_TIMEOUT = 2.0
"""Seconds `History.open` waits for another program's lock before using a fresh file.

Another ollama-tui sharing the database holds its write lock for milliseconds at a
time; a lock held for seconds is a stuck or foreign program.
"""
BUSY_TIMEOUT = 5.0
"""Seconds a write waits for another instance's write to finish, once open."""


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


def _index_interrupted(conn: sqlite3.Connection) -> None:
    """Replies left `streaming` (the app was stopped mid-reply) put in the search index
    as they stand (schema.V6; one another instance is still writing is taken out again
    by its next save, and put back by its last). Within the opening's wait for a lock."""
    try:
        if conn.execute("SELECT 1 FROM messages WHERE streaming LIMIT 1").fetchone():
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE messages SET streaming = 0 WHERE streaming")
            conn.execute("COMMIT")
    except sqlite3.Error:
        # Busy past the wait: they stay out of search until a later opening.
        if conn.in_transaction:
            conn.execute("ROLLBACK")


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
        _index_interrupted(conn)
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


def open_database(
    data_dir: Path, busy_timeout: float
) -> tuple[sqlite3.Connection, Path, str | None]:
    """`History.open`: a connection to `data_dir / DB_NAME`, its path and None; or, if
    that database cannot be used, a connection to a fresh database, its path (":memory:"
    at worst) and a warning for the user that names both."""
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
        return conn, path, None
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
    return conn, fresh, warning


def open_existing_database(path: Path, busy_timeout: float) -> tuple[sqlite3.Connection, Path]:
    """`History.open_existing`: a connection to the existing database `path`, read-only
    if it is at the latest version, and its resolved path.

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
        raise HistoryError(f"The conversation history {path} cannot be read: {problem}.") from exc
    return conn, path


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
