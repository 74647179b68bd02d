"""Images attached in the chat screen (Pilot, the built-in server on loopback): pasted
paths, chips, the model's capabilities checked before sending, the bytes on the wire."""

from __future__ import annotations

import base64
import json
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from rich.style import Style
from textual import events

from ollama_tui.core.images import Attachment
from ollama_tui.demo import DemoServer
from ollama_tui.transports import TRANSPORT_NAMES
from ollama_tui.ui.app import OllamaApp
from ollama_tui.ui.widgets.attachments import AttachmentChips, Chip
from ollama_tui.ui.widgets.chat_message import UserMessage
from ollama_tui.ui.widgets.prompt import PromptInput
from tests.uitools import chat_requests, make_app, send, send_and_wait, wait_until


def picture(path: Path, size: tuple[int, int] = (64, 48), kind: str = "PNG") -> bytes:
    out = BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, kind)
    path.write_bytes(out.getvalue())
    return out.getvalue()


def chips(app: OllamaApp) -> list[str]:
    return [str(chip.content) for chip in app.chat.query(Chip)]


async def paste(app: OllamaApp, text: str) -> None:
    # As the terminal's driver does: the app hands a paste to the focused widget.
    app.post_message(events.Paste(text))


def sent_images(server: DemoServer, n: int = 1) -> list[list[str]]:
    body = json.loads(chat_requests(server, n)[-1].body)
    return [m.get("images", []) for m in body["messages"]]


@pytest.mark.parametrize("transport", TRANSPORT_NAMES)
async def test_a_pasted_path_becomes_an_attachment_sent_as_its_bytes(
    server: DemoServer, tmp_path: Path, transport: str
) -> None:
    data = picture(tmp_path / "red cat.png")
    app = make_app(server, transport=transport, model="demo-vision")
    async with app.run_test(size=(100, 30)) as pilot:
        # A terminal pastes a dropped file as its path, quoted when it has a space.
        await paste(app, f"'{tmp_path / 'red cat.png'}'")
        await wait_until(pilot, lambda: len(chips(app)) == 1)
        assert chips(app) == ["🖼 red cat.png · PNG 64×48 · 139 B ✕"]
        assert app.chat.query_one(PromptInput).text == ""  # not typed as text
        await send_and_wait(pilot, app, "What is this?")
        assert sent_images(server) == [[base64.b64encode(data).decode()]]
        assert chips(app) == []  # sent with the message, not with the next
        (question,) = app.chat.query(UserMessage)
        assert [i.label for i in question.images] == ["red cat.png · PNG 64×48 · 139 B"]


async def test_text_that_is_not_a_path_of_an_image_stays_text(
    server: DemoServer, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        box = app.chat.query_one(PromptInput)
        await paste(app, "look at /tmp/x.png")
        await paste(app, f" {tmp_path / 'notes.txt'}")
        await paste(app, f" {tmp_path / 'missing.png'}")
        expected = f"look at /tmp/x.png {tmp_path / 'notes.txt'} {tmp_path / 'missing.png'}"
        await wait_until(pilot, lambda: box.text == expected)
        assert chips(app) == []


async def test_a_file_named_as_an_image_that_is_not_one_says_so_and_keeps_the_text(
    server: DemoServer, tmp_path: Path
) -> None:
    fake = tmp_path / "fake.png"
    fake.write_text("not an image")
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        box = app.chat.query_one(PromptInput)
        box.insert("typed before ")
        await paste(app, str(fake))
        await wait_until(pilot, lambda: box.text == f"typed before {fake}")
        # The notice is a message of its own: it may come a moment after the text.
        await wait_until(
            pilot,
            lambda: any(
                "fake.png is not an image this app can read." in str(n.message)
                for n in app._notifications
            ),
        )
        assert chips(app) == []


async def test_an_image_over_20_mb_is_refused_with_its_size(
    server: DemoServer, tmp_path: Path
) -> None:
    big = tmp_path / "big.png"
    with big.open("wb") as out:
        out.truncate(21 * 1024 * 1024)  # sparse: only its size matters
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await paste(app, str(big))
        await wait_until(
            pilot,
            lambda: any("big.png is 21.0 MB" in str(n.message) for n in app._notifications),
        )
        assert chips(app) == []


async def test_a_model_without_vision_is_refused_before_sending_and_nothing_is_lost(
    server: DemoServer, tmp_path: Path
) -> None:
    picture(tmp_path / "a.png")
    app = make_app(server, model="demo")
    async with app.run_test(size=(100, 30)) as pilot:
        await paste(app, str(tmp_path / "a.png"))
        await wait_until(pilot, lambda: len(chips(app)) == 1)
        await send(pilot, "what is it")
        await wait_until(
            pilot,
            lambda: any("demo does not take images" in str(n.message) for n in app._notifications),
        )
        assert app.chat.query_one(PromptInput).text == "what is it"
        assert len(chips(app)) == 1
        assert not app.chat.query(UserMessage)
        assert not [r for r in server.log if r.path == "/api/chat"]


async def test_a_chip_removed_is_not_sent(server: DemoServer, tmp_path: Path) -> None:
    first = picture(tmp_path / "a.png")
    picture(tmp_path / "b.jpg", (10, 10), "JPEG")
    app = make_app(server, model="demo-vision")
    async with app.run_test(size=(100, 30)) as pilot:
        await paste(app, f"{tmp_path / 'a.png'} {tmp_path / 'b.jpg'}")
        await wait_until(pilot, lambda: len(chips(app)) == 2)
        # Laid out before the click (a click on a chip not placed yet lands elsewhere).
        await wait_until(pilot, lambda: all(c.region.width for c in app.chat.query(Chip)))
        await pilot.click(Chip, offset=(1, 0))  # the first chip: a.png
        await wait_until(pilot, lambda: len(chips(app)) == 1)
        assert chips(app)[0].startswith("🖼 b.jpg")
        await paste(app, str(tmp_path / "a.png"))
        await wait_until(pilot, lambda: len(chips(app)) == 2)
        await paste(app, str(tmp_path / "a.png"))  # the same bytes again: kept once
        await wait_until(
            pilot, lambda: any("Attached already" in str(n.message) for n in app._notifications)
        )
        assert len(chips(app)) == 2
        app.chat.query(Chip).first().focus()  # b.jpg
        await pilot.press("delete")
        await wait_until(pilot, lambda: len(chips(app)) == 1)
        await send_and_wait(pilot, app, "and now?")
        assert sent_images(server)[-1] == [base64.b64encode(first).decode()]


async def test_an_edit_gives_the_images_back_and_a_request_that_fails_keeps_them(
    server: DemoServer, tmp_path: Path
) -> None:
    picture(tmp_path / "a.png")
    app = make_app(server, model="demo-vision")
    async with app.run_test(size=(100, 30)) as pilot:
        await paste(app, str(tmp_path / "a.png"))
        await wait_until(pilot, lambda: len(chips(app)) == 1)
        await send_and_wait(pilot, app, "first")
        assert chips(app) == []
        await pilot.press("f4")
        await wait_until(pilot, lambda: len(chips(app)) == 1)
        assert app.chat.query_one(PromptInput).text == "first"


async def test_images_given_at_start_wait_as_chips(server: DemoServer, tmp_path: Path) -> None:
    data = picture(tmp_path / "start.png")
    app = make_app(server, model="demo-vision")
    app.startup_images = [Attachment.of("start.png", data)]
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: len(chips(app)) == 1)
        assert app.chat.query_one(AttachmentChips).attachments.items[0].data == data


async def test_a_reopened_conversation_shows_its_images_and_sends_them_again(
    server: DemoServer, tmp_path: Path
) -> None:
    data = picture(tmp_path / "kept.png")
    app = make_app(server, model="demo-vision")
    app.data_dir = tmp_path / "data"
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.recorder.on)
        await paste(app, str(tmp_path / "kept.png"))
        await wait_until(pilot, lambda: len(chips(app)) == 1)
        await send_and_wait(pilot, app, "look")
        await app.recorder.flush()
    (tmp_path / "kept.png").unlink()  # the history has its own copy
    app = make_app(server, model="demo-vision")
    app.data_dir = tmp_path / "data"
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.recorder.on)
        kept = app.recorder.history
        assert kept is not None
        (summary,) = await kept.list_conversations()
        await app.chat.show_conversation(await kept.load(summary.id))
        (question,) = app.chat.query(UserMessage)
        assert [i.label for i in question.images] == ["kept.png · PNG 64×48 · 139 B"]
        await send_and_wait(pilot, app, "and again")
        # The second request's context: the kept question with its image, the reply, the new one.
        assert sent_images(server, 2) == [[base64.b64encode(data).decode()], [], []]


async def test_an_edit_given_up_gives_back_the_images_that_were_waiting(
    server: DemoServer, tmp_path: Path
) -> None:
    picture(tmp_path / "sent.png")
    picture(tmp_path / "waiting.png", (10, 10))
    app = make_app(server, model="demo-vision")
    async with app.run_test(size=(100, 30)) as pilot:
        await paste(app, str(tmp_path / "sent.png"))
        await wait_until(pilot, lambda: len(chips(app)) == 1)
        await send_and_wait(pilot, app, "first")
        await paste(app, str(tmp_path / "waiting.png"))
        await wait_until(pilot, lambda: len(chips(app)) == 1)
        await pilot.press("f4")  # the question's image instead of the waiting one
        await wait_until(pilot, lambda: chips(app)[:1] == ["🖼 sent.png · PNG 64×48 · 139 B ✕"])
        assert len(chips(app)) == 1
        await pilot.press("escape")  # given up: the waiting image is back, alone
        await wait_until(pilot, lambda: [c[:13] for c in chips(app)] == ["🖼 waiting.png"])
        await send_and_wait(pilot, app, "and now?")
        sent = sent_images(server, 2)
        assert len(sent[-1]) == 1  # the new question's one image (the first's in context)
        assert [len(i) for i in sent] == [1, 0, 1]


async def test_the_picker_lists_images_and_attaches_the_one_chosen(
    server: DemoServer, tmp_path: Path
) -> None:
    from ollama_tui.ui.screens.image_picker import ImagePicker, ImageTree

    picture(tmp_path / "b.png")
    (tmp_path / "notes.txt").write_text("not listed")
    (tmp_path / "bad\x1b[31mname.png").write_bytes(b"x")  # named with an escape
    app = make_app(server, model="demo-vision")
    async with app.run_test(size=(100, 30)) as pilot:
        app.chat.picker_folder = tmp_path
        await pilot.press("f10")
        await wait_until(pilot, lambda: isinstance(app.screen, ImagePicker))
        tree = app.screen.query_one(ImageTree)
        await wait_until(pilot, lambda: len(tree.root.children) == 2)
        labels = [str(tree.render_label(n, Style(), Style())) for n in tree.root.children]
        assert not any("notes.txt" in label or "\x1b" in label for label in labels)
        tree.focus()
        target = next(n for n in tree.root.children if str(n.label).endswith("b.png"))
        tree.move_cursor(target)
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(chips(app)) == 1)
        assert chips(app)[0].startswith("🖼 b.png · PNG 64×48")
        assert app.chat.picker_folder == tmp_path
