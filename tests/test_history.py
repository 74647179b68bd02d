"""The conversation history store: storage, search, migrations, faults, crash safety,
file modes, export and the asyncio front. Real SQLite files in tmp_path throughout;
the crash and read-only tests run real subprocesses."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ollama_tui.core.events import ServerStats
from ollama_tui.core.timing import StreamTiming
from ollama_tui.history import opening, search, store
from ollama_tui.history.aio import AsyncHistory
from ollama_tui.history.export import (
    export_conversation,
    figures_line,
    from_json,
    to_json,
    to_markdown,
)
from ollama_tui.history.schema import LATEST_VERSION, migrate
from ollama_tui.history.store import (
    DB_NAME,
    History,
    HistoryError,
    MessageRecord,
    default_title,
    excerpt,
    fts_query,
    server_stats,
    timing_figures,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_V1 = Path(__file__).parent / "fixtures" / "history_v1.sql"

FIGURES = {
    "ttfc": 0.012,
    "ttft": 0.04,
    "total": 2.31,
    "chunks": 121,
    "tokens": 120,
    "tokens_per_s": 52.3,
}
STATS = {
    "total_duration": 2_400_000_000,
    "load_duration": 5_000_000,
    "prompt_eval_count": 9,
    "prompt_eval_duration": 30_000_000,
    "eval_count": 120,
    "eval_duration": 2_000_000_000,
}


class Clock:
    """A clock that moves one second per reading, so order never depends on timing."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def history(data_dir: Path) -> Iterator[History]:
    h, warning = History.open(data_dir, clock=Clock())
    assert warning is None
    yield h
    h.close()


def conversation(h: History, title: str = "A chat", *texts: str) -> int:
    """A conversation with a user message and a reply for each pair of `texts`."""
    cid = h.create_conversation(title=title, model="llama3.2", transport="httpx-async")
    for i, text in enumerate(texts):
        h.add_message(cid, role="user" if i % 2 == 0 else "assistant", content=text)
    return cid


def files_of(path: Path) -> dict[str, bytes]:
    """The database file and its -wal/-shm, by name, with their bytes."""
    return {p.name: p.read_bytes() for p in path.parent.glob(path.name + "*")}


# -- storing and loading ---------------------------------------------------------------


def test_round_trip_survives_close_and_reopen(data_dir: Path) -> None:
    h, warning = History.open(data_dir, clock=Clock())
    assert warning is None
    assert h.path == data_dir / DB_NAME
    settings = {"system": "Be brief.", "options": {"temperature": 0.3}, "keep_alive": "5m"}
    cid = h.create_conversation(
        title="Lighthouses", model="llama3.2", transport="aiohttp", settings=settings
    )
    user = h.add_message(cid, role="user", content="Which is the tallest? 灯塔 🗼")
    reply = h.add_message(
        cid, role="assistant", content="", model="llama3.2", transport="aiohttp", complete=False
    )
    h.update_message(reply, content="Île Vierge", thinking="Hmm", complete=False)
    h.update_message(
        reply,
        content="Île Vierge, 82.5 m.",
        thinking="Hmm, height.",
        complete=True,
        figures=FIGURES,
        stats=STATS,
    )
    first = h.load(cid)
    h.close()

    h, warning = History.open(data_dir)
    assert warning is None
    again = h.load(cid)
    h.close()
    assert again == first
    assert (again.title, again.model, again.transport) == ("Lighthouses", "llama3.2", "aiohttp")
    assert again.settings == settings
    assert again.created_at < again.updated_at
    u, r = again.messages
    assert (u.id, u.role, u.content, u.complete, u.figures) == (
        user,
        "user",
        "Which is the tallest? 灯塔 🗼",
        True,
        None,
    )
    assert r == MessageRecord(
        id=reply,
        conversation_id=cid,
        role="assistant",
        content="Île Vierge, 82.5 m.",
        thinking="Hmm, height.",
        model="llama3.2",
        transport="aiohttp",
        complete=True,
        figures=FIGURES,
        stats=STATS,
        created_at=r.created_at,
        superseded=False,
    )
    assert u.created_at < r.created_at


def test_figures_and_stats_from_the_stream_types() -> None:
    timing = StreamTiming(
        sent=10.0, first_chunk=10.01, first_token=10.05, last_token=12.05, ended=12.1,
        chunks=102, tokens=101,
    )  # fmt: skip
    figures = timing_figures(timing)
    assert figures["chunks"] == 102 and figures["tokens"] == 101
    assert figures["ttfc"] == pytest.approx(0.01) and figures["total"] == pytest.approx(2.1)
    assert figures["tokens_per_s"] == pytest.approx(50.0)
    stats = server_stats(ServerStats(eval_count=120, eval_duration=2_000_000_000))
    assert stats["eval_count"] == 120 and stats["load_duration"] is None
    json.dumps([figures, stats])  # storable as they are


def test_list_newest_first_with_counts_and_pages(history: History) -> None:
    a = conversation(history, "First", "q1", "a1")
    b = conversation(history, "Second", "q2")
    c = conversation(history, "Third", "q3", "a3", "q4")
    assert [s.id for s in history.list_conversations()] == [c, b, a]
    # A new message moves a conversation to the top; a rename does not.
    history.add_message(a, role="user", content="again")
    history.rename(b, "Second, renamed")
    listed = history.list_conversations()
    assert [s.id for s in listed] == [a, c, b]
    assert [s.message_count for s in listed] == [3, 3, 1]
    assert listed[2].title == "Second, renamed" and listed[0].model == "llama3.2"
    assert all(s.snippet is None for s in listed)
    assert [s.id for s in history.list_conversations(limit=2)] == [a, c]
    assert [s.id for s in history.list_conversations(limit=2, offset=2)] == [b]


def test_supersede_keeps_the_earlier_reply(history: History) -> None:
    cid = conversation(history, "Regenerate", "question")
    old = history.add_message(cid, role="assistant", content="first answer", transport="requests")
    history.supersede(old)
    new = history.add_message(cid, role="assistant", content="second answer", transport="aiohttp")
    messages = history.load(cid).messages
    assert [(m.content, m.superseded) for m in messages] == [
        ("question", False),
        ("first answer", True),
        ("second answer", False),
    ]
    assert messages[2].id == new
    (summary,) = history.list_conversations()
    assert summary.message_count == 2  # the superseded reply is kept, not counted
    assert history.search("first")[0].id == cid  # and still found


def test_settings_model_and_rename(history: History) -> None:
    cid = conversation(history, "Old title")
    assert history.load(cid).settings == {}
    history.set_settings(cid, {"system": "Reply in French.", "think": True})
    history.set_model(cid, "qwen3", "requests")
    history.rename(cid, "New title")
    loaded = history.load(cid)
    assert loaded.settings == {"system": "Reply in French.", "think": True}
    assert (loaded.model, loaded.transport, loaded.title) == ("qwen3", "requests", "New title")


def test_delete_cascades_to_messages_and_the_index(history: History) -> None:
    keep = conversation(history, "Keep", "kept words")
    gone = conversation(history, "Gone", "vanishing words", "more vanishing")
    history.delete(gone)
    with pytest.raises(KeyError):
        history.load(gone)
    conn = history._conn
    assert conn.execute(
        "SELECT count(*) FROM messages WHERE conversation_id = ?", (gone,)
    ).fetchone() == (0,)
    assert history.search("vanishing") == [] and history.search("Gone") == []
    assert [s.id for s in history.search("words")] == [keep]
    conn.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
    conn.execute(
        "INSERT INTO conversations_fts (conversations_fts, rank) VALUES ('integrity-check', 1)"
    )


def test_unknown_ids_and_roles(history: History) -> None:
    cid = conversation(history, "One", "hello")
    with pytest.raises(KeyError):
        history.add_message(cid + 1, role="user", content="x")
    with pytest.raises(ValueError, match="role"):
        history.add_message(cid, role="tool", content="x")
    for call in (
        lambda: history.update_message(12345, content="x", complete=True),
        lambda: history.supersede(12345),
        lambda: history.rename(cid + 1, "x"),
        lambda: history.set_settings(cid + 1, {}),
        lambda: history.delete(cid + 1),
        lambda: history.load(cid + 1),
    ):
        with pytest.raises(KeyError):
            call()
    assert [m.content for m in history.load(cid).messages] == ["hello"]  # nothing half-done


def test_ids_are_never_reused(history: History) -> None:
    """A reply still streaming into a deleted conversation must not land elsewhere."""
    a = conversation(history, "A")
    stale = history.add_message(a, role="assistant", content="streaming", complete=False)
    history.delete(a)
    b = conversation(history, "B")
    fresh = history.add_message(b, role="assistant", content="new reply")
    assert b != a and fresh != stale
    with pytest.raises(KeyError):
        history.update_message(stale, content="streaming more", complete=False)
    assert history.load(b).messages[0].content == "new reply"


@pytest.mark.parametrize(
    ("prompt", "title"),
    [
        ("Hello there", "Hello there"),
        ("\n\n  Explain   this code:\n```python\nprint(1)\n```", "Explain this code:"),
        (
            "Why is the sky blue and what does Rayleigh scattering have to do with it, exactly?",
            "Why is the sky blue and what does Rayleigh scattering have…",
        ),
        ("x" * 100, "x" * 60 + "…"),
        ("   \n\t", "New chat"),
        ("bell\x07 and \x1b[31mred", "bell and [31mred"),
    ],
)
def test_default_title(prompt: str, title: str) -> None:
    assert default_title(prompt) == title
    assert len(default_title(prompt)) <= 61


# -- search ----------------------------------------------------------------------------


def test_search_content_and_titles_newest_first(history: History) -> None:
    older = conversation(history, "Bread baking", "How long to proof sourdough?", "Overnight.")
    newer = conversation(history, "Café notes", "Is the sourdough good here?", "Très bon.")
    titled = conversation(history, "All about SOURDOUGH", "unrelated")
    assert [s.id for s in history.search("sourdough")] == [titled, newer, older]
    # Case and accents do not matter; words match by their start; all must be there.
    assert [s.id for s in history.search("CAFE")] == [newer]
    assert [s.id for s in history.search("tres BON")] == [newer]
    assert [s.id for s in history.search("sourdo")] == [titled, newer, older]
    assert history.search("ourdough") == []  # the start of a word, not its middle
    assert [s.id for s in history.search("proof sourdough")] == [older]
    # All words in one message (or the title), not spread over the conversation.
    assert history.search("sourdough overnight") == []
    hit = history.search("proof")[0]
    assert hit.snippet == "How long to proof sourdough?"
    assert history.search("SOURDOUGH")[0].snippet is None  # a title hit has no excerpt
    assert history.search("sourdough", limit=1)[0].id == titled


def test_search_follows_updates_and_renames(history: History) -> None:
    cid = conversation(history, "Draft", "question")
    reply = history.add_message(cid, role="assistant", content="partial", complete=False)
    assert [s.id for s in history.search("partial")] == [cid]
    history.update_message(reply, content="finished answer", complete=True)
    assert history.search("partial") == []
    assert [s.id for s in history.search("finished")] == [cid]
    history.rename(cid, "Polished")
    assert history.search("Draft") == [] and [s.id for s in history.search("polished")] == [cid]


HOSTILE = [
    '"', '""', '"""', "'", "*", "-", "+", "^", ":", "(", ")", "()", "{", "}", "[", "]",
    "AND", "OR", "NOT", "NEAR", "NEAR(fish chips)", "fish AND", "AND fish", "fish OR chips",
    "fish NOT chips", "-fish", "fish*", "*fish", '"fish', 'fish"', 'fi"sh', "content:fish",
    "title:fish", "{content}: fish", "^fish", "fish + chips", "\\", "\x00", "%", "_", "';--",
    "😀", "", "   ", "\n", "fish " * 200, "a" * 5000,
]  # fmt: skip


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(history: History, query: str) -> None:
    cid = conversation(history, "Menu", "fish and chips, NOT peas (content: none)")
    found = history.search(query)
    assert isinstance(found, list)
    assert all(s.id == cid for s in found)


def test_operators_are_searched_as_words(history: History) -> None:
    cid = conversation(history, "Menu", "fish and chips, NOT peas")
    for query in ("AND", "NOT peas", '"chips"', "fish*", "(fish)", "-peas"):
        assert [s.id for s in history.search(query)] == [cid], query
    assert history.search("fish OR nothing") == []  # OR is a word here, not an operator
    assert fts_query('say "hi"') == '"say"* """hi"""*'
    assert fts_query(" * - ( ") is None


@pytest.mark.parametrize("budget", [0, 2, 1000])
def test_common_words_take_shortcuts_to_the_same_results(
    history: History, monkeypatch: pytest.MonkeyPatch, budget: int
) -> None:
    """Past SEARCH_SCAN_LIMIT hits, search settles older conversations with a skip
    scan (up to SEARCH_SKIP_BUDGET of them), then walks the list asking the rest one
    by one; the answer must be the one that reading every hit gives."""
    ids = [
        conversation(
            history,
            f"Chat {n}",
            *[f"common words, part {k}" for k in range(n % 3 + 1)],
            f"odd{n % 2}",
        )
        for n in range(20)
    ]
    # Old conversations continued lately, so the list order is not the creation order.
    for cid in (ids[3], ids[0], ids[11]):
        history.add_message(cid, role="user", content="back again")
    history.rename(ids[5], "common title")
    queries = ["common", "part odd1", "odd0", "common title", "again", "part 2"]
    expected = {q: history.search(q) for q in queries}
    expected_limited = {q: history.search(q, limit=4) for q in queries}
    assert [s.id for s in expected["common"][:3]] == [ids[11], ids[0], ids[3]]
    monkeypatch.setattr(search, "SEARCH_SCAN_LIMIT", 3)
    monkeypatch.setattr(search, "SEARCH_SKIP_BUDGET", budget)
    monkeypatch.setattr(search, "WALK_MISS_BUDGET", 0)  # the skip scan first
    for q in queries:
        assert history.search(q) == expected[q], q
        assert history.search(q, limit=4) == expected_limited[q], q


def test_excerpt_is_one_line_around_the_first_hit() -> None:
    pattern = search._terms_pattern(["needle"])
    text = ("hay " * 60) + "the\nNeedle is\there " + ("straw " * 60)
    snippet = excerpt(text, pattern)
    assert "Needle is here" in snippet and "\n" not in snippet
    assert snippet.startswith("…") and snippet.endswith("…") and len(snippet) <= 102
    assert excerpt("short needle", pattern) == "short needle"
    assert excerpt("no match " * 30, pattern).startswith("no match")


# -- migrations ------------------------------------------------------------------------


def v1_database(data_dir: Path) -> Path:
    data_dir.mkdir(mode=0o700)
    path = data_dir / DB_NAME
    conn = sqlite3.connect(path)
    conn.executescript(FIXTURE_V1.read_text(encoding="utf-8"))
    conn.close()
    return path


def test_a_v1_database_is_migrated_with_its_data(data_dir: Path) -> None:
    path = v1_database(data_dir)
    h, warning = History.open(data_dir)
    assert warning is None and h.path == path
    assert h._conn.execute("PRAGMA user_version").fetchone() == (LATEST_VERSION,)
    assert [(s.id, s.title, s.message_count) for s in h.list_conversations()] == [
        (2, "Sourdough starter", 2),
        (1, "Lighthouses of Brittany", 2),
    ]
    lighthouses = h.load(1)
    assert lighthouses.settings == {
        "system": "Answer briefly.",
        "options": {"temperature": 0.2},
        "keep_alive": "5m",
        "think": None,
    }
    old, new = lighthouses.messages[1:]
    assert old.superseded and old.transport == "requests"
    assert new.thinking == "The user asks about height; Île Vierge is the one."
    assert new.figures is not None and new.figures["ttft"] == 0.301
    assert new.stats is not None and new.stats["eval_count"] == 21
    assert h.load(2).messages[1].complete is False
    # The backfill indexed what version 1 stored.
    assert [s.id for s in h.search("ile vierge")] == [1]
    assert [s.id for s in h.search("sourdough")] == [2]
    # New messages carry on the numbering.
    assert h.add_message(2, role="user", content="Thanks") == (2 << 32) + 3
    h.close()
    # Opening again migrates nothing.
    h, warning = History.open(data_dir)
    assert warning is None and [s.id for s in h.search("thanks")] == [2]
    h.close()


def test_migration_1_still_builds_the_frozen_v1_schema(tmp_path: Path) -> None:
    def schema(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
        rows = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")
        return [(t, n, " ".join((sql or "").split())) for t, n, sql in rows]

    frozen = sqlite3.connect(v1_database(tmp_path / "frozen"))
    built = sqlite3.connect(tmp_path / "built.sqlite3", isolation_level=None)
    assert migrate(built, target=1) == (0, 1)
    assert schema(built) == schema(frozen)
    for pragma in ("user_version", "application_id"):
        assert (
            built.execute(f"PRAGMA {pragma}").fetchone()
            == frozen.execute(f"PRAGMA {pragma}").fetchone()
        )


# -- crash safety ----------------------------------------------------------------------

STREAMER = """
import sys
from pathlib import Path
from ollama_tui.history import History

history, warning = History.open(Path(sys.argv[1]))
assert warning is None, warning
cid = history.create_conversation(title="crash", model="m", transport="requests")
mid = history.add_message(cid, role="assistant", content="", complete=False)
print(mid, flush=True)
n = 0
while True:
    n += 1
    history.update_message(
        mid, content=" ".join(f"w{i}" for i in range(n)), complete=False, figures={"tokens": n}
    )
    print(n, flush=True)
"""


@pytest.mark.parametrize("updates", [3, 40, 150])
def test_sigkill_mid_stream_loses_at_most_the_last_update(data_dir: Path, updates: int) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", STREAMER, str(data_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        mid = int(child.stdout.readline())
        printed = 0
        while printed < updates:
            line = child.stdout.readline()
            assert line, child.stderr.read() if child.stderr else ""
            printed = int(line)
        child.send_signal(signal.SIGKILL)  # during the next updates
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL

    h, warning = History.open(data_dir)
    assert warning is None
    conn = h._conn
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
    (reply,) = h.load(mid >> 32).messages
    assert reply.id == mid and reply.complete is False
    words = reply.content.split()
    assert len(words) >= printed  # every printed (committed) update is there
    assert words == [f"w{i}" for i in range(len(words))]  # and whole
    assert reply.figures == {"tokens": len(words)}  # from the same transaction
    assert [s.id for s in h.search(f"w{printed - 1}")] == [mid >> 32]
    h.close()


# -- faults ----------------------------------------------------------------------------


def existing(data_dir: Path) -> Path:
    h, _ = History.open(data_dir)
    conversation(h, "Precious", "keep me")
    h.close()
    return data_dir / DB_NAME


def check_fallback(h: History, warning: str | None, old: Path, words: str) -> None:
    """A fresh, working store beside or apart from `old`, and a warning that says so."""
    assert warning is not None
    assert words in warning and str(old) in warning and str(h.path) in warning
    assert h.path != old and h.path.name.startswith("history-")
    cid = conversation(h, "Fresh", "works")
    assert [s.id for s in h.search("works")] == [cid]


@pytest.mark.parametrize("how", ["begin exclusive", "exclusive locking mode"])
def test_a_locked_database_gives_a_fresh_one_beside_it(data_dir: Path, how: str) -> None:
    old = existing(data_dir)
    locker = sqlite3.connect(old, isolation_level=None)
    if how == "exclusive locking mode":
        locker.execute("PRAGMA locking_mode = EXCLUSIVE")
    locker.execute("BEGIN EXCLUSIVE")
    before = files_of(old)
    h, warning = History.open(data_dir, busy_timeout=0.2)
    try:
        check_fallback(h, warning, old, "locked by another program")
        assert h.path.parent == data_dir
        assert files_of(old) == before
    finally:
        h.close()
        locker.execute("ROLLBACK")
        locker.close()
    # Once the other program lets go, the old database is back, intact.
    h, warning = History.open(data_dir)
    assert warning is None and h.path == old
    assert [s.title for s in h.list_conversations()] == ["Precious"]
    h.close()


def test_a_damaged_database_is_kept_and_a_fresh_one_used(data_dir: Path) -> None:
    data_dir.mkdir()
    old = data_dir / DB_NAME
    garbage = os.urandom(8192)
    old.write_bytes(garbage)
    h, warning = History.open(data_dir)
    check_fallback(h, warning, old, "damaged")
    h.close()
    assert old.read_bytes() == garbage
    assert sorted(p.name for p in data_dir.glob(DB_NAME + "*")) == [DB_NAME]
    # Each start that finds it still damaged uses another fresh file; none is reused.
    again, _ = History.open(data_dir)
    again.close()
    assert again.path != h.path and h.path.exists()


def test_a_newer_or_foreign_database_is_left_alone(data_dir: Path, tmp_path: Path) -> None:
    old = existing(data_dir)
    conn = sqlite3.connect(old)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    before = files_of(old)
    h, warning = History.open(data_dir)
    check_fallback(h, warning, old, "newer version of ollama-tui")
    h.close()
    assert files_of(old) == before

    other = tmp_path / "other"
    other.mkdir()
    conn = sqlite3.connect(other / DB_NAME)
    conn.execute("CREATE TABLE notes (text)")
    conn.commit()
    conn.close()
    h, warning = History.open(other)
    check_fallback(h, warning, other / DB_NAME, "not an ollama-tui history database")
    h.close()
    names = sqlite3.connect(other / DB_NAME).execute("SELECT name FROM sqlite_master")
    assert names.fetchall() == [("notes",)]


def test_in_memory_when_no_file_can_be_made(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir.mkdir()
    (data_dir / DB_NAME).write_bytes(b"not a database at all" * 100)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))

    def refuse(directory: Path) -> Path:
        raise PermissionError(directory)

    monkeypatch.setattr(opening, "_fresh_name", refuse)
    h, warning = History.open(data_dir)
    assert warning is not None and "in memory only" in warning
    assert h.path == Path(":memory:")
    conversation(h, "Ephemeral", "still works")
    assert h.search("works")
    h.close()
    assert list(temp.iterdir()) == []  # the temporary directory it tried is gone again


UNPRIVILEGED = """
import ctypes, json, os, sys
if os.geteuid() == 0 and not os.environ.get("HISTORY_TEST_DROPPED"):
    # root writes files whatever their mode: run this script again without the
    # capabilities that let it (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH).
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(24, 1, 0, 0, 0) or libc.prctl(24, 2, 0, 0, 0):  # PR_CAPBSET_DROP
        print("SKIP cannot drop CAP_DAC_OVERRIDE")
        sys.exit(0)
    os.environ["HISTORY_TEST_DROPPED"] = "1"
    os.execv(sys.executable, sys.orig_argv)
from pathlib import Path
from ollama_tui.history import History
history, warning = History.open(Path(sys.argv[1]), busy_timeout=0.2)
cid = history.create_conversation(title="fresh", model=None, transport=None)
history.add_message(cid, role="user", content="written")
print(json.dumps({"path": str(history.path), "warning": warning}))
"""


def open_unprivileged(data_dir: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", UNPRIVILEGED, str(data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    if done.stdout.startswith("SKIP"):
        pytest.skip(done.stdout.strip())
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_a_read_only_file_gives_a_fresh_one_beside_it(data_dir: Path) -> None:
    old = existing(data_dir)
    old.chmod(0o400)
    before = files_of(old)
    result = open_unprivileged(data_dir)
    fresh = Path(result["path"])
    assert result["warning"] is not None and "read-only" in result["warning"]
    assert str(old) in result["warning"] and str(fresh) in result["warning"]
    assert fresh.parent == data_dir and fresh != old
    # Untouched, and no -wal/-shm left beside it with its read-only mode.
    assert files_of(old) == before and set(before) == {DB_NAME}
    assert stat.S_IMODE(old.stat().st_mode) == 0o400


def test_a_read_only_directory_gives_a_fresh_one_elsewhere(data_dir: Path) -> None:
    old = existing(data_dir)
    before = files_of(old)
    data_dir.chmod(0o500)
    try:
        result = open_unprivileged(data_dir)
    finally:
        data_dir.chmod(0o700)
    fresh = Path(result["path"])
    assert result["warning"] is not None
    assert str(old) in result["warning"] and str(fresh) in result["warning"]
    assert fresh.parent != data_dir and fresh.exists()
    assert stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700
    assert files_of(old) == before
    fresh.unlink()
    fresh.parent.rmdir()


# -- file modes ------------------------------------------------------------------------


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0)  # the most permissive: modes must not rely on the user's umask
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_are_private(tmp_path: Path, open_umask: None) -> None:
    data_dir = tmp_path / "nested" / "data"
    h, _ = History.open(data_dir)
    conversation(h, "Secret", "private words")
    wal, shm = Path(f"{h.path}-wal"), Path(f"{h.path}-shm")
    assert wal.exists() and shm.exists()
    assert mode(data_dir) == 0o700
    assert (mode(h.path), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
    h.close()
    # A fresh database used after a fault is private too.
    h.path.write_bytes(b"garbage" * 1000)
    fresh, warning = History.open(data_dir)
    assert warning is not None and mode(fresh.path) == 0o600
    fresh.close()


def test_a_database_others_could_read_is_made_private(data_dir: Path) -> None:
    old = existing(data_dir)
    old.chmod(0o644)
    h, warning = History.open(data_dir)
    assert warning is None and mode(old) == 0o600
    h.close()


# -- export ----------------------------------------------------------------------------


def exported(data_dir: Path) -> tuple[int, History]:
    h, _ = History.open(data_dir, clock=Clock())
    cid = h.create_conversation(
        title="Lighthouses", model="llama3.2", transport="httpx-async",
        settings={"system": "Be brief."},
    )  # fmt: skip
    h.add_message(cid, role="user", content="Which is the tallest?")
    old = h.add_message(
        cid, role="assistant", content="Maybe Eckmühl.", transport="requests",
        figures=FIGURES, stats=STATS,
    )  # fmt: skip
    h.supersede(old)
    h.add_message(
        cid, role="assistant", content="Île Vierge, 82.5 m.", thinking="Height.\nIn metres.",
        model="llama3.2", transport="httpx-async", figures=FIGURES, stats=STATS,
    )  # fmt: skip
    h.add_message(cid, role="user", content="And the oldest?")
    h.add_message(cid, role="assistant", content="The Tour de", transport="aiohttp", complete=False)
    return cid, h


def test_markdown_export(data_dir: Path) -> None:
    cid, h = exported(data_dir)
    h.close()
    md = export_conversation(data_dir, cid, "md")
    assert md.startswith("# Lighthouses\n")
    assert "- Model: llama3.2 · transport: httpx-async" in md
    assert '"system": "Be brief."' in md
    line = (
        "*httpx-async · TTFC 12 ms · TTFT 40 ms · total 2.31 s · 120 tokens · 52.3 tok/s"
        " · server 60.0 tok/s*"
    )
    assert line in md
    assert "## Assistant — superseded\n\nMaybe Eckmühl.\n\n*requests · TTFC" in md
    assert "> **Thinking**\n>\n> Height.\n> In metres.\n\nÎle Vierge, 82.5 m." in md
    assert "## Assistant — incomplete\n\nThe Tour de\n\n*aiohttp*" in md
    assert md.count("## User") == 2


def test_json_export_round_trips(data_dir: Path) -> None:
    cid, h = exported(data_dir)
    conversation_ = h.load(cid)
    h.close()
    data = json.loads(export_conversation(data_dir, cid, "json"))
    assert data == to_json(conversation_)
    assert from_json(data) == conversation_
    last = data["messages"][2]
    assert last["figures"] == FIGURES and last["stats"] == STATS and last["superseded"] is False
    assert "Île" in export_conversation(data_dir, cid, "json")  # ensure_ascii=False


def test_exports_say_where_each_replys_time_went(data_dir: Path) -> None:
    cid, h = exported(data_dir)
    h.close()
    data = json.loads(export_conversation(data_dir, cid, "json"))
    user, superseded, reply, _, cut = data["messages"]
    assert user["waterfall"] is None
    fall = reply["waterfall"]
    assert fall["outcome"] == "done" and fall["server_sent"] is True
    assert (fall["ttfc"], fall["load"], fall["prompt_eval"]) == (0.012, 0.005, 0.03)
    assert (fall["prompt_eval_count"], fall["eval"], fall["eval_count"]) == (9, 2.0, 120)
    assert fall["server_before_first"] == pytest.approx(0.035)
    # These made-up figures have the server's 35 ms before a 12 ms TTFC: said, not hidden.
    assert fall["network_client"] == 0.0 and fall["ttfc_clock_gap"] == pytest.approx(0.023)
    assert fall["receive"] == pytest.approx(2.298) and fall["client_added"] == pytest.approx(0.298)
    assert fall["server_tokens_per_s"] == pytest.approx(60.0)
    assert fall["client_tokens_per_s"] == 52.3
    assert superseded["waterfall"] == fall  # the same figures
    assert cut["waterfall"]["outcome"] == "incomplete"
    assert cut["waterfall"]["ttfc"] is None and cut["waterfall"]["server_sent"] is False
    md = export_conversation(data_dir, cid, "md")
    assert (
        "*Where the time went: TTFC 12 ms · load 5 ms · prompt 30 ms · network+client 0 ms"
        " (clocks disagree) · gen 2.00 s at 60.0 tok/s · received in 2.30 s"
        " · client added 298 ms*"
    ) in md
    assert md.count("*Where the time went:") == 2  # not for the reply with no figures


def test_figures_line_without_figures() -> None:
    record = MessageRecord(1, 1, "assistant", "x", None, None, None, True, None, None, 0.0, False)
    assert figures_line(record) is None
    partial = MessageRecord(
        1, 1, "assistant", "x", None, None, "aiohttp", False, {"ttfc": 0.5}, None, 0.0, False
    )
    assert figures_line(partial) == "aiohttp · TTFC 500 ms · TTFT — · total — · 0 tokens · —"
    assert to_markdown(from_json(to_json(store.Conversation(1, "t", None, None, {}, 0, 0, []))))


def test_export_errors_and_reading_a_locked_database(data_dir: Path, tmp_path: Path) -> None:
    cid, h = exported(data_dir)
    h.close()
    with pytest.raises(ValueError, match="format"):
        export_conversation(data_dir, cid, "html")
    with pytest.raises(KeyError):
        export_conversation(data_dir, cid + 1, "md")
    empty = tmp_path / "empty"
    with pytest.raises(KeyError):
        export_conversation(empty, 1, "json")
    assert not empty.exists()  # export never makes a database
    # Another program writing (WAL) does not stop an export; a damaged file is an error.
    locker = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        assert "Lighthouses" in export_conversation(data_dir, cid, "md")
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / DB_NAME).write_bytes(b"\x00garbage" * 512)
    with pytest.raises(HistoryError, match="damaged"):
        export_conversation(broken, 1, "md")


def test_export_migrates_an_old_database(data_dir: Path) -> None:
    v1_database(data_dir)
    assert "Île Vierge, at 82.5 m" in export_conversation(data_dir, 1, "md")


# -- asyncio ---------------------------------------------------------------------------


@pytest.fixture
def threads_seen(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every History method call, with the thread it ran on."""
    seen: list[tuple[str, int]] = []
    for name in (
        "open", "create_conversation", "add_message", "update_message", "supersede",
        "list_conversations", "search", "load", "rename", "set_settings", "set_model",
        "delete", "close",
    ):  # fmt: skip
        original = getattr(History, name)
        if name == "open":

            def opened(cls: Any, /, *a: Any, _o: Any = original, **k: Any) -> Any:
                seen.append(("open", threading.get_ident()))
                return _o.__func__(cls, *a, **k)

            wrapped: Any = classmethod(opened)
        else:

            def wrapped(
                self: History, *a: Any, _o: Any = original, _n: str = name, **k: Any
            ) -> Any:
                seen.append((_n, threading.get_ident()))
                return _o(self, *a, **k)

        monkeypatch.setattr(History, name, wrapped)
    return seen


async def test_async_history_runs_everything_on_one_thread(
    data_dir: Path, threads_seen: list[tuple[str, int]]
) -> None:
    ah, warning = await AsyncHistory.open(data_dir)
    assert warning is None and ah.path == data_dir / DB_NAME
    cid = await ah.create_conversation(title="Async", model="m", transport="aiohttp")
    await ah.add_message(cid, role="user", content="hello async")
    reply = await ah.add_message(cid, role="assistant", content="", complete=False)
    # Fired together, the updates still land in the order they were made.
    await asyncio.gather(
        *(ah.update_message(reply, content=f"part {n}", complete=False) for n in range(30))
    )
    await ah.update_message(reply, content="done", complete=True, figures=FIGURES)
    earlier = await ah.add_message(cid, role="assistant", content="again")
    await ah.supersede(earlier)
    await ah.rename(cid, "Async renamed")
    await ah.set_settings(cid, {"think": False})
    await ah.set_model(cid, "m2", "requests")
    assert [s.id for s in await ah.list_conversations()] == [cid]
    assert [s.id for s in await ah.search("hello")] == [cid]
    loaded = await ah.load(cid)
    assert [m.content for m in loaded.messages] == ["hello async", "done", "again"]
    assert loaded.title == "Async renamed" and loaded.settings == {"think": False}
    other = await ah.create_conversation(title="Other", model=None, transport=None)
    await ah.delete(other)
    with pytest.raises(KeyError):
        await ah.load(other)
    await ah.aclose()
    await ah.aclose()  # twice is harmless
    with pytest.raises(RuntimeError):
        await ah.list_conversations()

    names = {name for name, _ in threads_seen}
    assert {"open", "update_message", "search", "close"} <= names
    assert len({ident for _, ident in threads_seen}) == 1
    assert threads_seen[0][1] != threading.get_ident()


async def test_a_cancelled_caller_does_not_cancel_its_write(data_dir: Path) -> None:
    ah, _ = await AsyncHistory.open(data_dir)
    cid = await ah.create_conversation(title="Stop", model=None, transport=None)
    reply = await ah.add_message(cid, role="assistant", content="", complete=False)
    # Queue work ahead so the final save is still waiting when its caller is cancelled.
    blockers = [
        asyncio.ensure_future(ah.update_message(reply, content="x" * 200_000, complete=False))
        for _ in range(5)
    ]
    final = asyncio.ensure_future(ah.update_message(reply, content="stopped here", complete=False))
    await asyncio.sleep(0)
    final.cancel()
    await asyncio.gather(*blockers)
    with pytest.raises(asyncio.CancelledError):
        await final
    loaded = await ah.load(cid)
    assert loaded.messages[0].content == "stopped here"
    await ah.aclose()


async def test_async_open_falls_back_like_history(data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / DB_NAME).write_bytes(b"garbage" * 1000)
    ah, warning = await AsyncHistory.open(data_dir)
    assert warning is not None and "damaged" in warning and ah.path != data_dir / DB_NAME
    await ah.aclose()
