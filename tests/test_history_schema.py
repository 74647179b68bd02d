"""Schema version 3 (prefix index, CJK columns): a frozen version 2 database and the
version 1 one migrate to it with every row found by prefix and CJK search; migration 2
still builds the frozen v2 schema; a failed step leaves version 2 as it was; a database
newer than the code is still refused. Version 6 (`streaming`) keeps every row indexed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ollama_tui.history import schema
from ollama_tui.history.schema import LATEST_VERSION, migrate
from ollama_tui.history.store import DB_NAME, History
from tests.test_history_search import check_indexes, ids, open_history

FIXTURES = Path(__file__).parent / "fixtures"


def database_from(fixture: str, data_dir: Path) -> Path:
    data_dir.mkdir(mode=0o700)
    path = data_dir / DB_NAME
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / fixture).read_text(encoding="utf-8"))
    conn.close()
    return path


def schema_of(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")
    return [(t, n, " ".join((sql or "").split())) for t, n, sql in rows]


def matches(conn: sqlite3.Connection, query: str) -> list[int]:
    rows = conn.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?", (query,))
    return [rowid for (rowid,) in rows]


def test_a_v2_database_is_migrated_with_its_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    path = database_from("history_v2.sql", data_dir)
    conn = sqlite3.connect(path)
    # Version 2 searched whole words only.
    assert matches(conn, "汉字") == []
    conn.close()
    h = open_history(data_dir)
    assert h._conn.execute("PRAGMA user_version").fetchone() == (LATEST_VERSION,)
    assert [(s.id, s.title, s.message_count) for s in h.list_conversations()] == [
        (3, "Café crème", 1),
        (2, "学习汉字", 2),
        (1, "Network programming", 2),
    ]
    network = h.load(1)
    assert network.settings == {"system": "Be brief."}
    assert network.messages[1].superseded and network.messages[1].figures is not None
    assert network.messages[2].content.startswith("Each socket has an address")
    assert network.messages[2].thinking == "Sockets, ports, TCP."
    assert h.load(2).messages[1].complete is False
    # The backfill indexed what version 2 stored, for prefixes and CJK.
    assert ids(h.search("sock")) == [1]
    assert ids(h.search("listen conn")) == [1]
    assert ids(h.search("汉字")) == [2]
    assert ids(h.search("学习")) == [2]  # the renamed title
    assert ids(h.search("python 代码")) == [2]
    assert ids(h.search("日本")) == [2]
    assert ids(h.search("cafe cre")) == [3]
    assert h.search("partial") == []  # the text before the update is not in the index
    cjk = h._conn.execute("SELECT id FROM messages WHERE content_cjk IS NOT NULL").fetchall()
    assert cjk == [(8589934593,), (8589934594,)]
    check_indexes(h)
    assert h.add_message(2, role="user", content="汉字很难") == (2 << 32) + 3
    h.close()
    h = open_history(data_dir)  # opening again migrates nothing
    assert ids(h.search("很难")) == [2]
    h.close()


def test_a_v1_database_is_migrated_to_v3(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    database_from("history_v1.sql", data_dir)
    h = open_history(data_dir)
    assert h._conn.execute("PRAGMA user_version").fetchone() == (LATEST_VERSION,)
    assert ids(h.search("lightho")) == [1]
    assert ids(h.search("ile vier")) == [1]
    assert ids(h.search("sourd")) == [2]
    check_indexes(h)
    h.close()


def test_migration_2_still_builds_the_frozen_v2_schema(tmp_path: Path) -> None:
    frozen = sqlite3.connect(database_from("history_v2.sql", tmp_path / "frozen"))
    built = sqlite3.connect(tmp_path / "built.sqlite3", isolation_level=None)
    assert migrate(built, target=2) == (0, 2)
    assert schema_of(built) == schema_of(frozen)
    pragmas = ("PRAGMA user_version", "PRAGMA application_id")
    assert [built.execute(p).fetchone() for p in pragmas] == [
        frozen.execute(p).fetchone() for p in pragmas
    ]


def test_a_failed_migration_leaves_the_v2_database_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    path = database_from("history_v2.sql", data_dir)
    conn = sqlite3.connect(path, isolation_level=None)
    frozen = schema_of(conn)
    # The last statement of version 3 fails: everything before it in the step is undone.
    monkeypatch.setattr(schema, "V3_CREATE", (*schema.V3_CREATE, "SELECT no_such_function()"))
    with pytest.raises(sqlite3.OperationalError, match="no_such_function"):
        migrate(conn)
    assert conn.execute("PRAGMA user_version").fetchone() == (2,)
    assert schema_of(conn) == frozen
    assert matches(conn, "sockets") == [4294967297]
    conn.close()
    monkeypatch.undo()
    h = open_history(data_dir)
    assert ids(h.search("汉字")) == [2]
    h.close()


def test_a_database_newer_than_the_code_is_still_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    path = database_from("history_v2.sql", data_dir)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    h, warning = History.open(data_dir)
    assert warning is not None and "newer version of ollama-tui" in warning and h.path != path
    h.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone() == (LATEST_VERSION + 1,)
    conn.close()


def test_migration_6_indexes_every_row_it_finds_as_before(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "built.sqlite3", isolation_level=None)
    migrate(conn, target=5)
    conn.execute(
        "INSERT INTO conversations (id, title, model, transport, settings, created_at,"
        " updated_at) VALUES (1, 'Old', 'm', 'requests', '{}', 0, 0)"
    )
    for number, text in ((1, "an old question"), (2, "an answer cut short")):
        conn.execute(
            "INSERT INTO messages (id, conversation_id, role, content, complete, created_at)"
            " VALUES (?, 1, 'user', ?, ?, 0)",
            ((1 << 32) + number, text, number == 1),
        )
    before = {name: sql for _, name, sql in schema_of(conn)}
    assert migrate(conn) == (5, 6)
    after = {name: sql for _, name, sql in schema_of(conn)}
    changed = {name for name in after if after[name] != before.get(name)}
    triggers = {f"messages_fts_{event}" for event in ("insert", "delete", "update")}
    assert changed == {"messages", "messages_streaming", *triggers}
    columns = conn.execute("PRAGMA table_info(messages)").fetchall()
    assert columns[-1][1:] == ("streaming", "INTEGER", 1, "0", 0)
    h = History(conn, tmp_path / "built.sqlite3")
    assert ids(h.search("old question")) == [1] and ids(h.search("cut short")) == [1]
    check_indexes(h)
    h.close()
