"""What an attached image is, and which pasted text names files (pure), and `--plain`'s
`/image` against the built-in server."""

from __future__ import annotations

import base64
import io
import json
import os
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.images import Attachment, ImageError, identify, pasted_paths
from ollama_tui.demo import DemoServer
from ollama_tui.plain import PlainChat
from ollama_tui.session.attachments import load, pasted_files


def encoded(kind: str, size: tuple[int, int] = (12, 7)) -> bytes:
    out = BytesIO()
    Image.new("RGB", size, (1, 2, 3)).save(out, kind)
    return out.getvalue()


@pytest.mark.parametrize(
    ("text", "readings"),
    [
        ("/tmp/a b.png", [["/tmp/a b.png"]]),
        ("'/tmp/a b.png'", [["/tmp/a b.png"]]),
        ('"/tmp/a b.png"', [["/tmp/a b.png"]]),
        ("/tmp/a\\ b.png", [["/tmp/a b.png"], ["/tmp/a\\ b.png"]]),
        ("file:///tmp/a%20b.png", [["/tmp/a b.png"]]),
        ("file://localhost/x.png", [["/x.png"]]),
        ("file://elsewhere/x.png", []),
        ("~/x.png /y.jpg", [["~/x.png", "/y.jpg"], ["~/x.png /y.jpg"]]),
        ("file:///a.png\nfile:///b.png\n", [["/a.png", "/b.png"]]),
        ("look at /tmp/x.png", []),
        ("hello", []),
        ("it's", []),
        ("", []),
    ],
)
def test_pasted_text_reads_as_paths_only_when_it_is_nothing_else(
    text: str, readings: list[list[str]]
) -> None:
    assert pasted_paths(text) == readings


@pytest.mark.parametrize(
    ("kind", "key"),
    [("PNG", "png"), ("JPEG", "jpeg"), ("TIFF", "tiff"), ("WEBP", "webp"), ("BMP", "bmp")],
)
def test_formats_the_server_takes_are_identified(kind: str, key: str) -> None:
    data = encoded(kind)
    info = identify(data)
    assert (info.format, info.width, info.height, info.size) == (key, 12, 7, len(data))


def test_an_attachment_carries_its_bytes_base64_and_hash() -> None:
    data = encoded("PNG")
    image = Attachment.of("x.png", data)
    assert base64.b64decode(image.base64()) == data
    assert image.label() == f"x.png · PNG 12×7 · {len(data)} B"
    assert len(image.digest) == 64


@pytest.mark.parametrize(
    ("data", "sentence"),
    [
        (b"", "x.png is empty."),
        (b"hello", "x.png is not an image this app can read."),
        (encoded("GIF"), "x.png is a GIF image: the server takes PNG, JPEG, WebP, BMP, TIFF."),
    ],
)
def test_what_cannot_be_sent_is_one_sentence(data: bytes, sentence: str) -> None:
    with pytest.raises(ImageError) as caught:
        identify(data, "x.png")
    assert str(caught.value) == sentence


def test_files_that_cannot_be_read_are_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"^No file at "):
        load(tmp_path / "missing.png")
    with pytest.raises(ImageError, match="is a folder, not an image"):
        load(tmp_path)
    big = tmp_path / "big.png"
    with big.open("wb") as out:
        out.truncate(20 * 1024 * 1024 + 1)
    with pytest.raises(ImageError, match=r"^big.png is 20.0 MB: images over 20 MB are not sent\.$"):
        load(big)


def test_only_existing_files_named_as_images_are_taken_from_a_paste(tmp_path: Path) -> None:
    (tmp_path / "a b.PNG").write_bytes(encoded("PNG"))
    (tmp_path / "notes.txt").write_text("x")
    assert pasted_files(f"'{tmp_path}/a b.PNG'") == [tmp_path / "a b.PNG"]
    assert pasted_files(f"{tmp_path}/a b.PNG") == [tmp_path / "a b.PNG"]
    assert pasted_files(f"{tmp_path}/notes.txt") is None
    assert pasted_files(f"{tmp_path}/a b.PNG {tmp_path}/gone.png") is None


def plain(server: DemoServer, model: str) -> tuple[PlainChat, io.StringIO]:
    out = io.StringIO()
    chat = PlainChat(ConnectionSettings(base_url=server.url), model, "requests", out=out)
    return chat, out


def test_plain_image_command_attaches_to_the_next_message_only(
    server: DemoServer, tmp_path: Path
) -> None:
    data = encoded("PNG")
    (tmp_path / "p.png").write_bytes(data)
    chat, out = plain(server, "demo-vision")
    chat.run([f"/image {tmp_path}/p.png\n", "what is it\n", "and now\n"])
    bodies = [json.loads(r.body) for r in server.log if r.path == "/api/chat"]
    assert [m.get("images") for m in bodies[0]["messages"]] == [[base64.b64encode(data).decode()]]
    # The second request carries the first question's image in its context, no new one.
    assert [len(m.get("images", [])) for m in bodies[1]["messages"]] == [1, 0, 0]
    assert "For the next message: p.png · PNG 12×7" in out.getvalue()


def test_plain_refuses_a_bad_file_and_a_model_without_vision(
    server: DemoServer, tmp_path: Path
) -> None:
    (tmp_path / "p.png").write_bytes(encoded("PNG"))
    chat, out = plain(server, "demo")
    chat.run([f"/image {tmp_path}/nothing.png\n", f"/image {tmp_path}/p.png\n", "see?\n"])
    text = out.getvalue()
    assert f"Not attached: No file at {tmp_path}/nothing.png." in text
    assert "Not sent: demo does not take images" in text
    assert not [r for r in server.log if r.path == "/api/chat"]
    assert len(chat.attachments) == 1  # kept for a vision model


def test_a_camera_jpeg_with_a_second_picture_is_a_jpeg() -> None:
    out = BytesIO()
    first, second = Image.new("RGB", (16, 9)), Image.new("RGB", (8, 4))
    first.save(out, "MPO", save_all=True, append_images=[second])
    assert identify(out.getvalue()).format == "jpeg"


def test_every_format_sent_can_be_kept_in_the_history() -> None:
    from ollama_tui.core.images import ACCEPTED
    from ollama_tui.history.images import EXTENSIONS as KEPT

    assert set(ACCEPTED) <= set(KEPT)


def test_a_pipe_or_device_named_as_an_image_is_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "a.png"
    os.mkfifo(fifo)
    with pytest.raises(ImageError, match=r"^a.png is not a regular file\.$"):
        load(fifo)  # returns at once: nobody writes to the pipe


def test_a_huge_picture_gets_no_thumbnail_and_no_crash(tmp_path: Path) -> None:
    from ollama_tui.ui import thumbnails

    huge = tmp_path / "huge.png"
    Image.new("1", (20_000, 20_000)).save(huge)  # a few hundred KB, 400 M pixels
    assert thumbnails.picture(huge) is None
    assert thumbnails.picture(encoded("PNG")) is not None
