"""The wire API each message went over, and the one a conversation goes on over (schema
version 5): kept and read back ("ollama" for the rows written before), unchanged by
updates, in the asyncio front and the recorder, exported (JSON's `api`, Markdown's
figures line); a frozen version 4 database migrates with every row, images included."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ollama_tui.history import schema
from ollama_tui.history.aio import AsyncHistory
from ollama_tui.history.export import (
    JSON_VERSION,
    export_conversation,
    figures_line,
    from_json,
    to_json,
    to_markdown,
)
from ollama_tui.history.images import DIR_NAME
from ollama_tui.history.records import DEFAULT_API, MessageRecord
from ollama_tui.history.schema import LATEST_VERSION, migrate
from ollama_tui.history.store import History
from ollama_tui.session.recorder import Recorder
from tests.test_history import FIGURES, STATS, Clock
from tests.test_history_images import OLD_MESSAGE_KEYS
from tests.test_history_schema import database_from, schema_of
from tests.test_history_search import check_indexes, ids


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def history(data_dir: Path) -> Iterator[History]:
    h, warning = History.open(data_dir, clock=Clock())
    assert warning is None
    yield h
    h.close()


def stored_api(h: History, table: str, rowid: int) -> str | None:
    row = h._conn.execute(f"SELECT api FROM {table} WHERE id = ?", (rowid,)).fetchone()
    api: str | None = row[0]
    return api


# -- keeping and reading back ----------------------------------------------------------


def test_each_message_keeps_its_api(history: History, data_dir: Path) -> None:
    cid = history.create_conversation(
        title="Two servers", model="qwen3", transport="aiohttp", api="openai"
    )
    asked = history.add_message(cid, role="user", content="Hi", model="qwen3", api="openai")
    answer = history.add_message(
        cid, role="assistant", content="", model="qwen3", transport="aiohttp",
        complete=False, api="openai",
    )  # fmt: skip
    history.update_message(answer, content="Hello.", complete=True, figures={"ttfc": 0.1})
    native = history.add_message(cid, role="user", content="Again", api="ollama")
    unsaid = history.add_message(cid, role="assistant", content="Hello again.")
    history.close()

    h, _ = History.open(data_dir)
    conversation = h.load(cid)
    assert conversation.api == "openai"
    assert [(m.id, m.api) for m in conversation.messages] == [
        (asked, "openai"),
        (answer, "openai"),  # the update kept it
        (native, "ollama"),
        (unsaid, "ollama"),  # not said: Ollama's, as before
    ]
    assert conversation.messages[1].content == "Hello." and conversation.messages[1].complete
    # As given; NULL only where nothing was said.
    assert stored_api(h, "messages", native) == "ollama"
    assert stored_api(h, "messages", unsaid) is None
    h.close()


def test_a_conversation_goes_on_over_the_api_set_last(history: History) -> None:
    cid = history.create_conversation(title="t", model="llama3.2", transport="requests")
    assert history.load(cid).api == DEFAULT_API == "ollama"
    assert stored_api(history, "conversations", cid) is None
    history.set_model(cid, "gpt-oss:20b", "httpx-async", "openai")
    loaded = history.load(cid)
    assert (loaded.model, loaded.transport, loaded.api) == ("gpt-oss:20b", "httpx-async", "openai")
    history.set_model(cid, "llama3.2", "requests")
    assert history.load(cid).api == "ollama"
    # The list and search are as they were.
    assert [s.id for s in history.list_conversations()] == [cid]


def test_records_made_without_an_api_are_ollamas() -> None:
    record = MessageRecord(1, 1, "assistant", "x", None, None, None, True, None, None, 0.0, False)
    assert record.api == "ollama"


async def test_the_asyncio_front_passes_the_api(data_dir: Path) -> None:
    ah, warning = await AsyncHistory.open(data_dir)
    assert warning is None
    cid = await ah.create_conversation(title="t", model="m", transport="aiohttp", api="openai")
    mid = await ah.add_message(cid, role="user", content="Hi", api="openai")
    await ah.add_message(cid, role="assistant", content="Hello.")
    loaded = await ah.load(cid)
    assert loaded.api == "openai" and [m.api for m in loaded.messages] == ["openai", "ollama"]
    await ah.set_model(cid, "m", "aiohttp", "ollama")
    assert (await ah.load(cid)).api == "ollama"
    assert loaded.messages[0].id == mid
    await ah.aclose()


# -- the recorder ------------------------------------------------------------------------


async def recording(data_dir: Path) -> tuple[Recorder, AsyncHistory, list[str]]:
    ah, warning = await AsyncHistory.open(data_dir)
    assert warning is None
    reported: list[str] = []
    recorder = Recorder(reported.append)
    recorder.attach(ah)
    return recorder, ah, reported


async def test_the_recorder_keeps_the_api_of_each_message(data_dir: Path) -> None:
    recorder, ah, reported = await recording(data_dir)
    recorder.user("Hi", "qwen3", "aiohttp", api="openai")
    row = recorder.reply(
        None, text="Hel", thinking=None, model="qwen3", transport="aiohttp", complete=False,
        api="openai",
    )  # fmt: skip
    recorder.reply(
        row, text="Hello.", thinking=None, model="qwen3", transport="aiohttp", complete=True,
        force=True, api="openai",
    )  # fmt: skip
    # Not said: Ollama's API, as the recorder was called before there was another.
    recorder.user("Again", "qwen3", "aiohttp")
    recorder.reply(
        None, text="Hello again.", thinking=None, model="qwen3", transport="aiohttp",
        complete=True,
    )  # fmt: skip
    await recorder.flush()
    assert reported == [] and recorder.conversation is not None
    cid = recorder.conversation.id
    assert cid is not None
    loaded = await ah.load(cid)
    assert [(m.role, m.content, m.api) for m in loaded.messages] == [
        ("user", "Hi", "openai"),
        ("assistant", "Hello.", "openai"),  # added, then updated: still openai
        ("user", "Again", "ollama"),
        ("assistant", "Hello again.", "ollama"),
    ]
    # The conversation goes on over the API of the person's last message.
    assert loaded.api == "ollama"
    # Said by the recorder, so kept as said (NULL is only for rows from before).
    rows = await ah._run(
        lambda: ah._history._conn.execute(
            "SELECT count(*) FROM messages WHERE api IS NULL"
        ).fetchone()
    )
    assert rows == (0,)
    await recorder.aclose()


async def test_a_conversation_is_kept_with_the_api_it_goes_on_over(data_dir: Path) -> None:
    recorder, ah, reported = await recording(data_dir)
    recorder.user("Hi", "llama3.2", "requests", api="openai")
    await recorder.flush()
    assert recorder.conversation is not None and recorder.conversation.id is not None
    cid = recorder.conversation.id
    assert (await ah.load(cid)).api == "openai"  # created with it
    calls: list[tuple[Any, ...]] = []
    set_model = ah.set_model

    async def spy(*args: Any) -> None:
        calls.append(args)
        await set_model(*args)

    ah.set_model = spy  # type: ignore[method-assign,assignment]
    recorder.user("Same again", "llama3.2", "requests", api="openai")
    await recorder.flush()
    assert calls == []  # nothing changed: nothing stored
    recorder.user("Now natively", "llama3.2", "requests", api="ollama")
    await recorder.flush()
    assert calls == [(cid, "llama3.2", "requests", "ollama")]
    assert (await ah.load(cid)).api == "ollama"
    # Reopened later (with the API it was kept with) and continued over another: stored;
    # reopened again and continued over the same: nothing to store.
    calls.clear()
    recorder.new_conversation()
    recorder.continue_conversation(cid, {}, "llama3.2", "requests", api="ollama")
    recorder.user("Back to the other", "llama3.2", "requests", api="openai")
    recorder.new_conversation()
    recorder.continue_conversation(cid, {}, "llama3.2", "requests", api="openai")
    recorder.user("And once more", "llama3.2", "requests", api="openai")
    await recorder.flush()
    assert calls == [(cid, "llama3.2", "requests", "openai")]
    loaded = await ah.load(cid)
    assert loaded.api == "openai"
    assert [m.api for m in loaded.messages] == ["openai", "openai", "ollama", "openai", "openai"]
    assert reported == []
    await recorder.aclose()


# -- export ----------------------------------------------------------------------------


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times in Markdown are local: pinned to UTC so that the text can be pinned."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def lighthouses(h: History, api: str | None) -> int:
    """A conversation over `api` (None: not said, as before version 5)."""
    said: dict[str, Any] = {} if api is None else {"api": api}
    cid = h.create_conversation(
        title="Lighthouses", model="llama3.2", transport="httpx-async",
        settings={"system": "Be brief."}, **said,
    )  # fmt: skip
    h.add_message(
        cid, role="user", content="Which is the tallest?", model="llama3.2",
        transport="httpx-async", **said,
    )  # fmt: skip
    old = h.add_message(
        cid, role="assistant", content="Maybe Eckmühl.", model="llama3.2", transport="requests",
        figures=FIGURES, stats=STATS, **said,
    )  # fmt: skip
    h.supersede(old)
    h.add_message(
        cid, role="assistant", content="Île Vierge, 82.5 m.", thinking="Height.",
        model="llama3.2", transport="httpx-async", figures=FIGURES, stats=STATS, **said,
    )  # fmt: skip
    h.add_message(
        cid, role="assistant", content="The Tour de", model="llama3.2", transport="aiohttp",
        complete=False, **said,
    )  # fmt: skip
    return cid


WENT = (
    "*Where the time went: TTFC 12 ms · load 5 ms · prompt 30 ms · network+client 0 ms"
    " (clocks disagree) · gen 2.00 s at 60.0 tok/s · received in 2.30 s · client added 298 ms*"
)
FIGURES_LINE = (
    "TTFC 12 ms · TTFT 40 ms · total 2.31 s · 120 tokens · 52.3 tok/s · server 60.0 tok/s"
)
OLLAMA_MARKDOWN = f"""# Lighthouses

- Model: llama3.2 · transport: httpx-async
- Started 2023-11-14T22:13:21+00:00, last written 2023-11-14T22:13:26+00:00

Settings:

```json
{{
  "system": "Be brief."
}}
```

## User

Which is the tallest?

## Assistant — superseded

Maybe Eckmühl.

*requests · {FIGURES_LINE}*

{WENT}

## Assistant

> **Thinking**
>
> Height.

Île Vierge, 82.5 m.

*httpx-async · {FIGURES_LINE}*

{WENT}

## Assistant — incomplete

The Tour de

*aiohttp*
"""
"""As the export before version 5 wrote this conversation, byte for byte."""


@pytest.mark.parametrize("api", [None, "ollama"])
def test_markdown_of_ollama_replies_is_as_it_was(
    data_dir: Path, utc: None, api: str | None
) -> None:
    h, _ = History.open(data_dir, clock=Clock())
    cid = lighthouses(h, api)
    h.close()
    assert export_conversation(data_dir, cid, "md") == OLLAMA_MARKDOWN


def test_markdown_says_an_api_other_than_ollamas(history: History, utc: None) -> None:
    cid = lighthouses(history, "openai")
    expected = (
        OLLAMA_MARKDOWN.replace(
            "- Model: llama3.2 · transport: httpx-async\n",
            "- Model: llama3.2 · transport: httpx-async · API: openai\n",
        )
        .replace(f"{FIGURES_LINE}*", f"{FIGURES_LINE} · openai API*")
        .replace("*aiohttp*", "*aiohttp · openai API*")
    )
    assert expected.count("openai API") == 3
    assert to_markdown(history.load(cid)) == expected
    # Each reply says its own: one over Ollama's API in the same conversation says none.
    history.add_message(cid, role="assistant", content="Ouessant?", transport="requests")
    last = history.load(cid).messages[-1]
    assert figures_line(last) == "requests"
    assert to_markdown(history.load(cid)).endswith("Ouessant?\n\n*requests*\n")


def test_figures_line_with_the_api() -> None:
    def record(api: str, transport: str | None, figures: dict[str, Any] | None) -> MessageRecord:
        return MessageRecord(
            1, 1, "assistant", "x", None, None, transport, True, figures, None, 0.0, False, api=api
        )

    assert figures_line(record("ollama", "aiohttp", {"ttfc": 0.5})) == (
        "aiohttp · TTFC 500 ms · TTFT — · total — · 0 tokens · —"
    )
    assert figures_line(record("openai", "aiohttp", {"ttfc": 0.5})) == (
        "aiohttp · TTFC 500 ms · TTFT — · total — · 0 tokens · — · openai API"
    )
    unknown = figures_line(record("openai", None, {"ttfc": 0.5}))
    assert unknown is not None and unknown.startswith("unknown transport · TTFC 500 ms")
    assert unknown.endswith(" · openai API")
    # No figures line at all (nothing kept to show): none, whatever the API.
    assert figures_line(record("openai", None, None)) is None


CONVERSATION_KEYS = [
    "format",
    "version",
    "id",
    "title",
    "model",
    "transport",
    "settings",
    "created_at",
    "updated_at",
    "messages",
]


def test_json_gives_each_message_its_api(history: History, data_dir: Path) -> None:
    cid = lighthouses(history, "openai")
    history.add_message(cid, role="assistant", content="Ouessant?", transport="requests")
    history.close()
    data = json.loads(export_conversation(data_dir, cid, "json"))
    # Every key there was, in its place; `api` after them, at both levels.
    assert list(data) == [*CONVERSATION_KEYS, "api"]
    assert data["version"] == JSON_VERSION == 1
    assert data["api"] == "openai"
    for message in data["messages"]:
        assert list(message) == [*OLD_MESSAGE_KEYS, "images", "api"]
    assert [m["api"] for m in data["messages"]] == ["openai"] * 4 + ["ollama"]
    h, _ = History.open(data_dir)
    assert from_json(data) == h.load(cid)
    h.close()


def test_json_from_before_the_api_reads_as_ollamas(history: History) -> None:
    cid = lighthouses(history, None)
    data = to_json(history.load(cid))
    assert data["api"] == "ollama" and {m["api"] for m in data["messages"]} == {"ollama"}
    del data["api"]
    for message in data["messages"]:
        del message["api"]
    back = from_json(data)
    assert back == history.load(cid)
    assert back.api == "ollama" and {m.api for m in back.messages} == {"ollama"}


# -- migration -------------------------------------------------------------------------

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000020000000108020000007b40e8dd0000000d4944415478da"
    "63f8dfc00044000c7e02fff07af6820000000049454e44ae426082"
)
"""The 2×1 PNG whose rows history_v4.sql holds (its sha256 is their digest)."""
PNG_DIGEST = "d13916cae0523b11dbe700f02dce376cf8d6596ef9fee096252966ab2cf5d324"
JPEG_DIGEST = "f63d3ac80f415cd9794398ca74ceb1ce1903fb49acae6bced2c88d2594db1a5a"


def v4_database(data_dir: Path) -> Path:
    path = database_from("history_v4.sql", data_dir)
    images = data_dir / DIR_NAME
    images.mkdir(mode=0o700)
    (images / f"{PNG_DIGEST}.png").write_bytes(PNG)
    return path


def test_a_v4_database_is_migrated_with_its_data(data_dir: Path) -> None:
    v4_database(data_dir)
    h, warning = History.open(data_dir)
    assert warning is None
    assert h._conn.execute("PRAGMA user_version").fetchone() == (LATEST_VERSION,)
    assert [(s.id, s.title, s.message_count) for s in h.list_conversations()] == [
        (2, "猫的照片", 4),
        (1, "Harbour lights", 2),
    ]
    harbour, cat = h.load(1), h.load(2)
    assert harbour.settings == {"system": "Be brief."} and harbour.api == "ollama"
    question, old, new = harbour.messages
    assert question.content == "Why do harbour lights blink?" and question.model == "llama3.2"
    assert old.superseded and old.stats == {"eval_count": 5, "eval_duration": 650000000}
    assert new.thinking == "Rhythms: flashing, occulting, isophase." and new.complete
    assert new.figures is not None and new.figures["tokens"] == 13
    assert (cat.model, cat.transport, cat.api) == ("llava", "aiohttp", "ollama")
    assert [m.content for m in cat.messages] == [
        "这只猫叫什么名字",
        "它叫小橙。",
        "And the harbour in this one?",
        "Lights, and the same cat",
    ]
    assert cat.messages[3].complete is False and cat.messages[3].figures == {
        "ttfc": 0.2,
        "outcome": "stopped",
    }
    # Every message, of every conversation, went over Ollama's API.
    assert {m.api for m in (*harbour.messages, *cat.messages)} == {"ollama"}
    # The images: every link, in order, under its name; one row per content.
    first, _, second, _ = cat.messages
    assert [(i.name, i.digest, i.format, i.width, i.height, i.size) for i in first.images] == [
        ("cat.png", PNG_DIGEST, "png", 2, 1, 70)
    ]
    assert [(i.name, i.digest) for i in second.images] == [
        ("harbour.jpg", JPEG_DIGEST),
        ("the cat again.png", PNG_DIGEST),
    ]
    assert h._conn.execute("SELECT count(*) FROM images").fetchone() == (2,)
    assert first.images[0].read() == PNG == h.image_bytes(PNG_DIGEST)
    assert h.attachments(first.images)[0].data == PNG
    assert second.images[0].path == data_dir / DIR_NAME / f"{JPEG_DIGEST}.jpg"
    assert all(m.images == () for m in harbour.messages)
    # Found as before.
    assert ids(h.search("rhyth")) == [1]
    assert ids(h.search("小橙")) == [2]
    assert ids(h.search("harbour")) == [2, 1]
    check_indexes(h)
    # The old conversations go on, over either API.
    mid = h.add_message(2, role="user", content="Over the other API", api="openai")
    assert mid == (2 << 32) + 5 and h.load(2).messages[-1].api == "openai"
    h.close()
    h, _ = History.open(data_dir)  # opening again migrates nothing
    assert [m.api for m in h.load(2).messages] == ["ollama"] * 4 + ["openai"]
    h.close()


def test_migration_4_still_builds_the_frozen_v4_schema(tmp_path: Path) -> None:
    frozen = sqlite3.connect(database_from("history_v4.sql", tmp_path / "frozen"))
    built = sqlite3.connect(tmp_path / "built.sqlite3", isolation_level=None)
    assert migrate(built, target=4) == (0, 4)
    assert schema_of(built) == schema_of(frozen)
    pragmas = ("PRAGMA user_version", "PRAGMA application_id")
    assert [built.execute(p).fetchone() for p in pragmas] == [
        frozen.execute(p).fetchone() for p in pragmas
    ]


def test_migration_5_adds_only_the_api_columns(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "built.sqlite3", isolation_level=None)
    migrate(conn, target=4)
    before = {name: sql for _, name, sql in schema_of(conn)}
    assert migrate(conn, target=5) == (4, 5)
    after = {name: sql for _, name, sql in schema_of(conn)}
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {"conversations", "messages"}
    for table in changed:
        columns = conn.execute(f"PRAGMA table_info({table})").fetchall()
        # cid, name, type, notnull, default, pk: the last column, nullable, no default.
        assert columns[-1][1:] == ("api", "TEXT", 0, None, 0)


def test_a_failed_migration_leaves_the_v4_database_as_it_was(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = v4_database(data_dir)
    conn = sqlite3.connect(path, isolation_level=None)
    frozen = schema_of(conn)
    steps = {**schema.MIGRATIONS, 5: schema._statements((*schema.V5, "SELECT no_such_function()"))}
    monkeypatch.setattr(schema, "MIGRATIONS", steps)
    with pytest.raises(sqlite3.OperationalError, match="no_such_function"):
        migrate(conn)
    assert conn.execute("PRAGMA user_version").fetchone() == (4,)
    assert schema_of(conn) == frozen
    conn.close()
    monkeypatch.undo()
    h, warning = History.open(data_dir)
    assert warning is None and ids(h.search("rhythm")) == [1]
    assert h.load(2).messages[0].images[0].read() == PNG
    h.close()
