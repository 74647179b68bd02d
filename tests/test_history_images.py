"""Images kept with messages (schema version 4, history/images.py): stored once per
content beside the database, private, read back byte for byte, removed with the last
conversation using them, exported as links (Markdown) or facts and bytes (JSON); a
version 3 database migrates to them with its data."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from ollama_tui.core.images import Attachment
from ollama_tui.history import schema
from ollama_tui.history.aio import AsyncHistory
from ollama_tui.history.export import export_conversation, from_json, to_json, to_markdown
from ollama_tui.history.images import DIR_NAME, ImageUnavailable, KeptImage, directory_for
from ollama_tui.history.schema import LATEST_VERSION, migrate
from ollama_tui.history.store import DB_NAME, History
from ollama_tui.session.recorder import Recorder
from tests.test_history import Clock
from tests.test_history_schema import database_from, schema_of
from tests.test_history_search import check_indexes, ids


def image_bytes(fmt: str, size: tuple[int, int], colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def attachment(name: str, fmt: str, size: tuple[int, int], colour: str) -> Attachment:
    return Attachment.of(name, image_bytes(fmt, size, colour))


CAT = attachment("cat.png", "PNG", (8, 6), "orange")
DOG = attachment("dog.jpg", "JPEG", (10, 20), "brown")
SUN = attachment("sun.png", "PNG", (3, 3), "yellow")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def history(data_dir: Path) -> Iterator[History]:
    h, warning = History.open(data_dir, clock=Clock())
    assert warning is None
    yield h
    h.close()


def chat(h: History, *images: Attachment, title: str = "Pictures") -> tuple[int, int]:
    """A conversation whose first message carries `images`; its id and the message's."""
    cid = h.create_conversation(title=title, model="llava", transport="httpx-async")
    mid = h.add_message(cid, role="user", content="What is in these?", images=images)
    h.add_message(cid, role="assistant", content="Animals.", model="llava")
    return cid, mid


def files(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()} if directory.exists() else set()


def rows(h: History, table: str) -> int:
    count: int = h._conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return count


# -- keeping and reading back ----------------------------------------------------------


def test_two_images_round_trip_through_close_and_reopen(data_dir: Path) -> None:
    h, _ = History.open(data_dir)
    cid, mid = chat(h, CAT, DOG)
    h.close()
    h, _ = History.open(data_dir)
    user, reply = h.load(cid).messages
    assert user.id == mid and reply.images == ()
    cat, dog = user.images
    images = data_dir / DIR_NAME
    assert cat == KeptImage(
        "cat.png", CAT.digest, "png", 8, 6, len(CAT.data), images / f"{CAT.digest}.png"
    )
    assert dog == KeptImage(
        "dog.jpg", DOG.digest, "jpeg", 10, 20, len(DOG.data), images / f"{DOG.digest}.jpg"
    )
    assert cat.label() == CAT.label() and dog.info == DOG.info
    assert cat.path is not None and cat.path.read_bytes() == CAT.data
    assert cat.read() == CAT.data and dog.read() == DOG.data
    assert h.image_bytes(DOG.digest) == DOG.data
    again = h.attachments(user.images)
    assert again == [CAT, DOG]  # name, bytes, info and digest: what was sent
    assert [a.base64() for a in again] == [CAT.base64(), DOG.base64()]
    with pytest.raises(KeyError):
        h.image_bytes("0" * 64)
    h.close()


def test_the_same_image_in_two_messages_is_stored_once(history: History, data_dir: Path) -> None:
    first, _ = chat(history, CAT, DOG)
    # The same bytes under another name, in another conversation and twice in one.
    renamed = Attachment.of("copy of cat.png", CAT.data)
    second, _ = chat(history, renamed, renamed)
    assert files(data_dir / DIR_NAME) == {f"{CAT.digest}.png", f"{DOG.digest}.jpg"}
    assert rows(history, "images") == 2 and rows(history, "message_images") == 4
    shown = history.load(second).messages[0].images
    assert [i.name for i in shown] == ["copy of cat.png", "copy of cat.png"]
    assert {i.path for i in shown} == {history.load(first).messages[0].images[0].path}


def test_files_and_their_directory_are_private(history: History, data_dir: Path) -> None:
    # A umask that takes the owner's write bit too: the modes are set, not left to it.
    old = os.umask(0o277)
    try:
        chat(history, CAT)
    finally:
        os.umask(old)
    directory = data_dir / DIR_NAME
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / f"{CAT.digest}.png").stat().st_mode) == 0o600
    # A directory opened up by hand is closed again at the next write.
    os.chmod(directory, 0o755)
    chat(history, DOG)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / f"{DOG.digest}.jpg").stat().st_mode) == 0o600


def test_an_intact_file_is_left_alone_and_a_damaged_one_written_again(
    history: History, data_dir: Path, tmp_path: Path
) -> None:
    chat(history, CAT)
    path = data_dir / DIR_NAME / f"{CAT.digest}.png"
    before = path.stat()
    chat(history, CAT)
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    # Damaged: reading says so rather than sending other bytes.
    path.write_bytes(b"not the cat")
    with pytest.raises(ImageUnavailable, match="has changed"):
        history.image_bytes(CAT.digest)
    kept = history.load(1).messages[0].images
    with pytest.raises(ImageUnavailable):
        history.attachments(kept)
    with pytest.raises(ImageUnavailable):
        kept[0].read()
    # Attaching it again repairs it.
    chat(history, CAT)
    assert history.image_bytes(CAT.digest) == CAT.data
    # A link put in its place is replaced, its target never written.
    target = tmp_path / "elsewhere.png"
    target.write_bytes(b"someone else's")
    path.unlink()
    path.symlink_to(target)
    with pytest.raises(ImageUnavailable):
        history.image_bytes(CAT.digest)  # not read through the link either
    chat(history, CAT)
    assert not path.is_symlink() and path.read_bytes() == CAT.data
    assert target.read_bytes() == b"someone else's"
    # Gone: said so too.
    path.unlink()
    with pytest.raises(ImageUnavailable, match="can no longer be read"):
        history.image_bytes(CAT.digest)


def test_a_wrong_digest_is_refused_and_nothing_is_kept(history: History, data_dir: Path) -> None:
    cid = history.create_conversation(title="t", model=None, transport=None)
    lying = Attachment(CAT.name, DOG.data, CAT.info, CAT.digest)
    with pytest.raises(ValueError, match="digest"):
        history.add_message(cid, role="user", content="hi", images=[DOG, lying])
    assert history.load(cid).messages == []
    assert rows(history, "images") == rows(history, "message_images") == 0


# -- deleting ----------------------------------------------------------------------------


def test_deleting_a_conversation_removes_the_images_no_one_else_uses(
    history: History, data_dir: Path
) -> None:
    directory = data_dir / DIR_NAME
    first, _ = chat(history, CAT, DOG)
    second, _ = chat(history, DOG, SUN)
    (directory / "notes.txt").write_text("mine")  # not ours: never removed
    orphan = hashlib.sha256(b"rolled back").hexdigest()
    (directory / f"{orphan}.png").write_bytes(b"rolled back")  # a write whose row was undone
    (directory / f".{CAT.digest}.png.999.tmp").write_bytes(b"half")  # a write cut off
    history.delete(first)
    with pytest.raises(KeyError):
        history.load(first)
    assert files(directory) == {f"{DOG.digest}.jpg", f"{SUN.digest}.png", "notes.txt"}
    assert rows(history, "images") == 2 and rows(history, "message_images") == 2
    assert history.load(second).messages[0].images[0].read() == DOG.data
    with pytest.raises(KeyError):
        history.image_bytes(CAT.digest)
    history.delete(second)
    assert files(directory) == {"notes.txt"}
    assert rows(history, "images") == rows(history, "message_images") == 0
    check_indexes(history)


def test_a_failed_sweep_still_deletes_the_conversation(
    history: History, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid, _ = chat(history, CAT)

    def refuse(path: object) -> None:
        raise PermissionError("refused")

    monkeypatch.setattr(os, "unlink", refuse)
    history.delete(cid)  # no error: the conversation is gone
    assert history.list_conversations() == [] and rows(history, "images") == 0
    monkeypatch.undo()
    assert files(data_dir / DIR_NAME) == {f"{CAT.digest}.png"}
    chat(history, DOG)
    history.delete(history.list_conversations()[0].id)  # the next deletion sweeps it too
    assert files(data_dir / DIR_NAME) == set()


# -- where images go for other databases --------------------------------------------------


def test_each_database_file_has_its_own_image_directory(tmp_path: Path) -> None:
    assert directory_for(tmp_path / DB_NAME) == tmp_path / "images"
    fresh = tmp_path / "history-20250101-120000.sqlite3"
    assert directory_for(fresh) == tmp_path / "history-20250101-120000-images"
    assert directory_for(Path(":memory:")) is None


def test_a_history_in_memory_keeps_images_in_memory(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ollama_tui.history import opening

    def refuse(directory: Path) -> Path:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(opening, "_fresh_name", refuse)
    monkeypatch.setattr(opening, "_make_private_dir", refuse)
    h, warning = History.open(data_dir)
    assert warning is not None and h.path == Path(":memory:")
    cid, _ = chat(h, CAT)
    (kept,) = h.load(cid).messages[0].images
    assert kept.path is None and h.image_bytes(CAT.digest) == CAT.data
    assert h.attachments([kept]) == [CAT]
    with pytest.raises(ImageUnavailable):
        kept.read()
    assert "*Image not kept: cat\\.png · PNG 8×6 ·" in to_markdown(h.load(cid))
    image = to_json(h.load(cid), embed_images=True)["messages"][0]["images"][0]
    assert image["path"] is None and image["base64"] is None
    h.delete(cid)
    assert h._images._memory == {}
    h.close()
    assert not data_dir.exists()


# -- export -------------------------------------------------------------------------------

OLD_MESSAGE_KEYS = [
    "id",
    "role",
    "content",
    "thinking",
    "model",
    "transport",
    "complete",
    "superseded",
    "created_at",
    "figures",
    "stats",
    "waterfall",
]


def test_markdown_links_each_image_to_its_file(history: History, data_dir: Path) -> None:
    odd = Attachment.of("[a](b) *x*\n.png", SUN.data)
    cid, _ = chat(history, CAT, odd)
    text = to_markdown(history.load(cid))
    directory = data_dir / DIR_NAME
    cat = f"![cat\\.png]({directory}/{CAT.digest}.png)"
    sun = f"![\\[a\\]\\(b\\) \\*x\\* \\.png]({directory}/{SUN.digest}.png)"
    assert f"## User\n\n{cat}\n\n{sun}\n\nWhat is in these?\n" in text


def test_markdown_destinations_with_spaces_or_marks_are_bracketed(tmp_path: Path) -> None:
    h, _ = History.open(tmp_path / "Application Support" / "a&b<c>")
    cid, _ = chat(h, CAT)
    text = to_markdown(h.load(cid))
    where = f"{tmp_path}/Application Support/a\\&b\\<c\\>/images/{CAT.digest}.png"
    assert f"![cat\\.png](<{where}>)" in text
    h.close()


def test_json_gives_each_message_its_images(history: History, data_dir: Path) -> None:
    cid, _ = chat(history, CAT, DOG)
    data = json.loads(json.dumps(to_json(history.load(cid))))
    user, reply = data["messages"]
    # Every field there was is still there, in its place; `images` comes after them
    # (and the fields added since after it: tests/test_history_api.py).
    keys = [*OLD_MESSAGE_KEYS, "images"]
    assert list(user)[: len(keys)] == keys == list(reply)[: len(keys)]
    assert reply["images"] == []
    assert user["images"] == [
        {
            "name": "cat.png",
            "format": "png",
            "width": 8,
            "height": 6,
            "bytes": len(CAT.data),
            "sha256": CAT.digest,
            "path": str(data_dir / DIR_NAME / f"{CAT.digest}.png"),
        },
        {
            "name": "dog.jpg",
            "format": "jpeg",
            "width": 10,
            "height": 20,
            "bytes": len(DOG.data),
            "sha256": DOG.digest,
            "path": str(data_dir / DIR_NAME / f"{DOG.digest}.jpg"),
        },
    ]
    assert from_json(data) == history.load(cid)
    # Embedded on request: the exact bytes.
    embedded = to_json(history.load(cid), embed_images=True)["messages"][0]["images"]
    assert [base64.b64decode(i["base64"]) for i in embedded] == [CAT.data, DOG.data]
    assert [{k: v for k, v in i.items() if k != "base64"} for i in embedded] == user["images"]


def test_export_from_the_data_directory_embeds_on_request(data_dir: Path) -> None:
    h, _ = History.open(data_dir)
    cid, _ = chat(h, DOG)
    h.close()
    plain = json.loads(export_conversation(data_dir, cid, "json"))
    assert "base64" not in plain["messages"][0]["images"][0]
    full = json.loads(export_conversation(data_dir, cid, "json", embed_images=True))
    assert base64.b64decode(full["messages"][0]["images"][0]["base64"]) == DOG.data
    where = data_dir.resolve() / DIR_NAME / f"{DOG.digest}.jpg"
    assert f"![dog\\.jpg]({where})" in export_conversation(data_dir, cid, "md")
    # A file gone since: the export still goes out, without those bytes.
    where.unlink()
    full = json.loads(export_conversation(data_dir, cid, "json", embed_images=True))
    assert full["messages"][0]["images"][0]["base64"] is None


# -- the asyncio front and the recorder --------------------------------------------------


async def test_async_history_and_the_recorder_keep_images(data_dir: Path) -> None:
    ah, warning = await AsyncHistory.open(data_dir)
    assert warning is None
    reported: list[str] = []
    recorder = Recorder(reported.append)
    recorder.attach(ah)
    sent = [CAT, DOG]
    saved = recorder.user("What are these?", "llava", "aiohttp", images=sent)
    sent.clear()  # the caller's list may change: what was sent is kept
    recorder.user("And now?", "llava", "aiohttp")
    await recorder.flush()
    assert reported == [] and saved.id is not None and recorder.conversation is not None
    cid = recorder.conversation.id
    assert cid is not None
    first, second = (await ah.load(cid)).messages
    assert [i.name for i in first.images] == ["cat.png", "dog.jpg"] and second.images == ()
    assert await ah.attachments(first.images) == [CAT, DOG]
    assert await ah.image_bytes(DOG.digest) == DOG.data
    mid = await ah.add_message(cid, role="user", content="This one", images=[SUN])
    assert [i.digest for i in (await ah.load(cid)).messages[-1].images] == [SUN.digest]
    assert mid == (cid << 32) + 3
    await ah.delete(cid)
    assert files(data_dir / DIR_NAME) == set()
    await recorder.aclose()


# -- migration -------------------------------------------------------------------------


def test_a_v3_database_is_migrated_with_its_data(data_dir: Path) -> None:
    database_from("history_v3.sql", data_dir)
    h, warning = History.open(data_dir)
    assert warning is None
    assert h._conn.execute("PRAGMA user_version").fetchone() == (LATEST_VERSION,)
    assert [(s.id, s.title, s.message_count) for s in h.list_conversations()] == [
        (2, "猫的照片", 2),
        (1, "Harbour lights", 2),
    ]
    harbour = h.load(1)
    assert harbour.settings == {"system": "Be brief."}
    question, old, new = harbour.messages
    assert question.content == "Why do harbour lights blink?" and question.model == "llama3.2"
    assert old.superseded and old.stats == {"eval_count": 5, "eval_duration": 650000000}
    assert new.thinking == "Rhythms: flashing, occulting, isophase." and new.complete
    assert all(m.images == () for m in harbour.messages)
    assert h.load(2).messages[1].complete is False
    assert ids(h.search("rhyth")) == [1]
    assert ids(h.search("小白")) == [2]
    check_indexes(h)
    # The old conversations go on, with images now.
    mid = h.add_message(1, role="user", content="And this one?", images=[CAT])
    assert mid == (1 << 32) + 4 and h.load(1).messages[-1].images[0].read() == CAT.data
    h.close()
    h, _ = History.open(data_dir)  # opening again migrates nothing
    assert h.load(1).messages[-1].images[0].name == "cat.png"
    h.close()


def test_migration_3_still_builds_the_frozen_v3_schema(tmp_path: Path) -> None:
    frozen = sqlite3.connect(database_from("history_v3.sql", tmp_path / "frozen"))
    built = sqlite3.connect(tmp_path / "built.sqlite3", isolation_level=None)
    assert migrate(built, target=3) == (0, 3)
    assert schema_of(built) == schema_of(frozen)
    pragmas = ("PRAGMA user_version", "PRAGMA application_id")
    assert [built.execute(p).fetchone() for p in pragmas] == [
        frozen.execute(p).fetchone() for p in pragmas
    ]


def test_a_failed_migration_leaves_the_v3_database_as_it_was(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = database_from("history_v3.sql", data_dir)
    conn = sqlite3.connect(path, isolation_level=None)
    frozen = schema_of(conn)
    steps = {**schema.MIGRATIONS, 4: schema._statements((*schema.V4, "SELECT no_such_function()"))}
    monkeypatch.setattr(schema, "MIGRATIONS", steps)
    with pytest.raises(sqlite3.OperationalError, match="no_such_function"):
        migrate(conn)
    assert conn.execute("PRAGMA user_version").fetchone() == (3,)
    assert schema_of(conn) == frozen
    conn.close()
    monkeypatch.undo()
    h, warning = History.open(data_dir)
    assert warning is None and ids(h.search("harbour")) == [1]
    h.close()
