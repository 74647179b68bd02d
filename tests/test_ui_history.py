"""Conversations kept across restarts, driven with Pilot against the built-in server."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.widgets import Input, Static, TextArea

from ollama_tui.cli import main
from ollama_tui.demo import DemoServer
from ollama_tui.history.store import History
from ollama_tui.ui.app import OllamaApp
from ollama_tui.ui.screens.conversations import ConversationsScreen, RenameScreen
from ollama_tui.ui.screens.dialogs import ConfirmScreen
from ollama_tui.ui.screens.settings import SettingsScreen
from ollama_tui.ui.widgets.prompt import PromptInput
from tests.uitools import chat_requests, make_app, replies, send, send_and_wait, wait_until


def kept_app(server: DemoServer, data_dir: Path) -> OllamaApp:
    app = make_app(server)
    app.data_dir = data_dir
    return app


def stored(data_dir: Path) -> History:
    history, warning = History.open(data_dir)
    assert warning is None
    return history


async def history_ready(pilot, app: OllamaApp) -> None:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: app.recorder.on and bool(app.models))


async def test_conversations_survive_a_restart_and_continue(
    server: DemoServer, tmp_path: Path
) -> None:
    server.configure(reply="First answer.", token_rate=0)
    app = kept_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await history_ready(pilot, app)
        await send_and_wait(pilot, app, "hello there")
        await pilot.press("ctrl+n")
        server.configure(reply="Second answer.", token_rate=0)
        await send_and_wait(pilot, app, "another topic")
        await app.recorder.flush()
    # A new process of the app: both conversations, newest first.
    server.configure(reply="Third answer.", token_rate=0)
    app = kept_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await history_ready(pilot, app)
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        screen = app.screen
        assert isinstance(screen, ConversationsScreen)
        await wait_until(pilot, lambda: len(screen.shown) == 2)
        assert [c.title for c in screen.shown] == ["another topic", "hello there"]
        # Open the older one and go on with it: its messages are the context.
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.screen is app.chat and len(replies(app)) == 1)
        assert replies(app)[0].text == "First answer."
        await send_and_wait(pilot, app, "and more")
        sent = json.loads(chat_requests(server, 3)[-1].body)["messages"]
        assert [m["content"] for m in sent] == ["hello there", "First answer.", "and more"]
        await app.recorder.flush()
    history = stored(tmp_path)
    conversations = history.list_conversations()
    assert [c.title for c in conversations] == ["hello there", "another topic"]
    messages = history.load(conversations[0].id).messages
    assert [(m.role, m.content, m.complete) for m in messages] == [
        ("user", "hello there", True),
        ("assistant", "First answer.", True),
        ("user", "and more", True),
        ("assistant", "Third answer.", True),
    ]
    assert messages[1].figures is not None and messages[1].figures["ttfc"] is not None
    assert messages[1].transport == "httpx-async" and messages[1].model == "demo"
    history.close()


async def test_a_reopened_conversation_shows_its_end(server: DemoServer, tmp_path: Path) -> None:
    history = stored(tmp_path)
    kept = history.create_conversation(title="long", model="demo", transport="aiohttp")
    for i in range(6):
        history.add_message(kept, role="user", content=f"question {i}")
        history.add_message(kept, role="assistant", content="line\n\n" * 20 + f"end {i}")
    history.close()
    app = kept_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await history_ready(pilot, app)
        # The person had scrolled up in the chat before reopening.
        server.configure(reply="line\n\n" * 40, token_rate=0)
        await send_and_wait(pilot, app, "scroll me")
        app.chat.transcript.scroll_to(y=0, animate=False, immediate=True)
        app.chat.transcript.release_anchor()
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        await wait_until(pilot, lambda: len(getattr(app.screen, "shown", [])) == 2)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.screen is app.chat and len(replies(app)) == 6)
        transcript = app.chat.transcript
        await wait_until(pilot, lambda: transcript.max_scroll_y > 0)
        await wait_until(pilot, lambda: transcript.is_vertical_scroll_end)
        assert replies(app)[-1].text.endswith("end 5")


async def test_regenerate_keeps_the_earlier_reply_and_a_stop_is_incomplete(
    server: DemoServer, tmp_path: Path
) -> None:
    server.configure(reply="Version one.", token_rate=0)
    app = kept_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await history_ready(pilot, app)
        await send_and_wait(pilot, app, "write it")
        server.configure(reply="Version two is much longer than one.", token_rate=5.0)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "two" in replies(app)[-1].text)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.chat.turn is None)
        await app.recorder.flush()
    history = stored(tmp_path)
    (summary,) = history.list_conversations()
    messages = history.load(summary.id).messages
    assert [(m.role, m.superseded) for m in messages] == [
        ("user", False),
        ("assistant", True),
        ("assistant", False),
    ]
    assert messages[1].content == "Version one." and messages[1].complete
    assert messages[2].content.startswith("Version two") and not messages[2].complete
    history.close()
    # Reopened, the stopped reply reads as it did when it was stopped.
    app = kept_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await history_ready(pilot, app)
        kept = app.recorder.history
        assert kept is not None
        await app.chat.show_conversation(await kept.load(summary.id))
        footer = str(replies(app)[-1].query_one("#footer", Static).content)
        assert footer.startswith("stopped · ") and replies(app)[-1].has_class("stopped")


async def test_nothing_kept_when_nothing_came_back(server: DemoServer, tmp_path: Path) -> None:
    app = make_app(server, model="no-such-model")
    app.data_dir = tmp_path
    async with app.run_test(size=(100, 30)) as pilot:
        await history_ready(pilot, app)
        await send(pilot, "lost?")
        await wait_until(pilot, lambda: app.chat.turn is None and not replies(app))
        await app.recorder.flush()
    history = stored(tmp_path)
    assert history.list_conversations() == []
    history.close()


async def test_search_and_delete_with_confirmation(server: DemoServer, tmp_path: Path) -> None:
    app = kept_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await history_ready(pilot, app)
        server.configure(reply="Llamas graze on the altiplano.", token_rate=0)
        await send_and_wait(pilot, app, "tell me about llamas")
        await pilot.press("ctrl+n")
        server.configure(reply="Rust has no garbage collector.", token_rate=0)
        await send_and_wait(pilot, app, "and rust?")
        await app.recorder.flush()
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        screen = app.screen
        assert isinstance(screen, ConversationsScreen)
        await wait_until(pilot, lambda: len(screen.shown) == 2)
        screen.query_one("#search", Input).value = "altiplano"
        await wait_until(pilot, lambda: len(screen.shown) == 1)
        assert screen.shown[0].title == "tell me about llamas"
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        await wait_until(pilot, lambda: screen.shown == [])
        screen.query_one("#search", Input).value = ""
        await wait_until(pilot, lambda: [c.title for c in screen.shown] == ["and rust?"])


def test_killed_mid_reply_keeps_the_text_so_far(tmp_path: Path) -> None:
    """The real app on a pseudo-terminal, killed with SIGKILL while a reply streams."""
    data = tmp_path / "data"
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.execvp(
            sys.executable,
            [sys.executable, "-m", "ollama_tui", "--demo", "--data-dir", str(data)],
        )
    try:
        seen = b""
        deadline = time.monotonic() + 20
        while b"demo server" not in seen and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.2)[0]:
                seen += os.read(fd, 65536)
        time.sleep(0.5)  # the history opens beside the first frame
        os.write(fd, b"Write a markdown table\r")
        # The demo server sends ~40 tokens/s: after 3.5 s a few saves have happened.
        end = time.monotonic() + 3.5
        while time.monotonic() < end:
            if select.select([fd], [], [], 0.1)[0]:
                os.read(fd, 65536)
        os.kill(pid, signal.SIGKILL)
    finally:
        os.waitpid(pid, 0)
        os.close(fd)
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]);"
            "print(c.execute('pragma integrity_check').fetchone()[0])",
            str(data / "history.sqlite3"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert check.stdout.strip() == "ok"
    # Saved as it streamed, kept out of the search index meanwhile (schema.V6)...
    raw = sqlite3.connect(data / "history.sqlite3")
    ((streaming, text),) = raw.execute(
        "SELECT streaming, content FROM messages WHERE role = 'assistant'"
    ).fetchall()
    word = max(re.findall(r"[A-Za-z]{4,}", text), key=len)
    found = raw.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?", (word,))
    assert streaming == 1 and found.fetchall() == []
    raw.close()
    history = stored(data)
    (summary,) = history.list_conversations()
    user, reply = history.load(summary.id).messages
    assert user.content == "Write a markdown table"
    assert not reply.complete and len(reply.content) > 20
    # ... and found by search once the history is opened again.
    assert [s.id for s in history.search(word)] == [summary.id]
    history.close()


async def test_rename_and_export_from_the_list(server: DemoServer, tmp_path: Path) -> None:
    server.configure(reply="A **bold** answer.", token_rate=0)
    app = kept_app(server, tmp_path / "data")
    async with app.run_test(size=(100, 30)) as pilot:
        await history_ready(pilot, app)
        await send_and_wait(pilot, app, "name me")
        await app.recorder.flush()
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        screen = app.screen
        assert isinstance(screen, ConversationsScreen)
        screen.save_dir = tmp_path
        await wait_until(pilot, lambda: len(screen.shown) == 1)
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, RenameScreen))
        app.screen.query_one(Input).value = "Renamed"
        await pilot.press("enter")
        await wait_until(pilot, lambda: [c.title for c in screen.shown] == ["Renamed"])
        await pilot.press("f6")
        md = tmp_path / f"ollama-tui-conversation-{screen.shown[0].id}.md"
        await wait_until(pilot, lambda: md.with_suffix(".json").exists())
    assert stat.S_IMODE(md.stat().st_mode) == 0o600
    text = md.read_text()
    assert "# Renamed" in text and "A **bold** answer." in text and "TTFC" in text
    data = json.loads(md.with_suffix(".json").read_text())
    assert [m["content"] for m in data["messages"]] == ["name me", "A **bold** answer."]


async def test_rename_edits_the_title_and_export_acts_on_the_renamed_one(
    server: DemoServer, tmp_path: Path
) -> None:
    server.configure(reply="Fine.", token_rate=0)
    app = kept_app(server, tmp_path / "data")
    async with app.run_test(size=(100, 30)) as pilot:
        await history_ready(pilot, app)
        for prompt in ("oldest", "middle", "newest"):
            await send_and_wait(pilot, app, prompt)
            await pilot.press("ctrl+n")
        await app.recorder.flush()
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        screen = app.screen
        assert isinstance(screen, ConversationsScreen)
        screen.save_dir = tmp_path
        await wait_until(pilot, lambda: len(screen.shown) == 3)
        await pilot.press("down", "down")
        target = screen.highlighted()
        assert target is not None and target.title == "oldest"
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, RenameScreen))
        await pilot.press(*" v2", "enter")  # typed onto the old title, not over it

        def renamed() -> bool:
            return any(c.id == target.id and c.title == "oldest v2" for c in screen.shown)

        await wait_until(pilot, renamed)
        highlighted = screen.highlighted()
        assert highlighted is not None and highlighted.id == target.id, "it stays highlighted"
        await pilot.press("f6")
        exported = tmp_path / f"ollama-tui-conversation-{target.id}.json"
        await wait_until(pilot, exported.exists)
    data = json.loads(exported.read_text())
    assert data["messages"][0]["content"] == "oldest"


def test_export_from_the_command_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    history, _ = History.open(tmp_path)
    first = history.create_conversation(title="First", model="demo", transport="aiohttp")
    history.add_message(first, role="user", content="hi")
    history.add_message(
        first,
        role="assistant",
        content="hello",
        transport="aiohttp",
        figures={
            "ttfc": 0.002,
            "ttft": 0.002,
            "total": 0.5,
            "tokens": 3,
            "chunks": 4,
            "tokens_per_s": 4.0,
        },
    )
    history.close()
    base = ["--data-dir", str(tmp_path), "export"]
    assert main(base) == 0
    listing = capsys.readouterr().out
    assert "First" in listing and f"{first}" in listing
    assert main([*base, str(first)]) == 0
    assert "## Assistant" in capsys.readouterr().out
    out = tmp_path / "first.json"
    assert main([*base, str(first), "--format", "json", "-o", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert json.loads(out.read_text())["messages"][1]["figures"]["ttfc"] == 0.002
    assert main([*base, "999"]) == 1
    assert "no conversation 999" in capsys.readouterr().err


async def test_edit_then_regenerate_replaces_the_taken_back_exchange(
    server: DemoServer, tmp_path: Path
) -> None:
    server.configure(reply="A.", token_rate=0)
    app = kept_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await history_ready(pilot, app)
        await send_and_wait(pilot, app, "q1")
        await send_and_wait(pilot, app, "q2")
        await pilot.press("f4")
        app.chat.query_one(PromptInput).clear()
        await pilot.press("ctrl+r")
        await wait_until(
            pilot, lambda: app.chat.turn is None and len(app.session.conversation.messages) == 2
        )
        await app.recorder.flush()
    history = stored(tmp_path)
    (summary,) = history.list_conversations()
    live = [m for m in history.load(summary.id).messages if not m.superseded]
    assert [(m.role, m.content) for m in live] == [("user", "q1"), ("assistant", "A.")]
    history.close()


async def test_deleting_the_open_conversation_starts_a_new_one(
    server: DemoServer, tmp_path: Path
) -> None:
    server.configure(reply="Kept.", token_rate=0)
    app = kept_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await history_ready(pilot, app)
        await send_and_wait(pilot, app, "first")
        await app.recorder.flush()
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        await wait_until(pilot, lambda: len(app.screen.shown) == 1)  # type: ignore[attr-defined]
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.chat and not replies(app))
        await send_and_wait(pilot, app, "second")
        await app.recorder.flush()
    history = stored(tmp_path)
    assert [c.title for c in history.list_conversations()] == ["second"]
    history.close()


def test_private_files_are_made_user_only_even_when_they_existed(tmp_path: Path) -> None:
    from ollama_tui.files import write_private

    target = tmp_path / "export.md"
    target.write_text("old")
    target.chmod(0o644)
    write_private(target, "new")
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o600
    link = tmp_path / "link.md"
    link.symlink_to(tmp_path / "elsewhere.md")
    with pytest.raises(OSError):  # a link planted where an export goes is not followed
        write_private(link, "x")
    assert not (tmp_path / "elsewhere.md").exists()


async def test_conversation_settings_are_kept_and_come_back(
    server: DemoServer, tmp_path: Path
) -> None:
    server.configure(reply="Ok.", token_rate=0)
    app = kept_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await history_ready(pilot, app)
        await send_and_wait(pilot, app, "hello")
        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        app.screen.query_one("#system", TextArea).load_text("Be brief.")
        app.screen.query_one("#seed", Input).value = "42"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is app.chat)
        await app.recorder.flush()
    app = kept_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await history_ready(pilot, app)
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        await wait_until(pilot, lambda: len(app.screen.shown) == 1)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is app.chat and len(replies(app)) == 1)
        await send_and_wait(pilot, app, "again")
        body = json.loads(chat_requests(server, 2)[-1].body)
        assert body["messages"][0] == {"role": "system", "content": "Be brief."}
        assert body["options"] == {"seed": 42}


async def test_the_model_last_used_is_chosen_again(server: DemoServer, tmp_path: Path) -> None:
    server.configure(reply="Thought about it.", token_rate=0)
    app = kept_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await history_ready(pilot, app)
        app.set_model("demo-think:latest")
        await send_and_wait(pilot, app, "think")
        await app.recorder.flush()
    app = make_app(server, model=None)  # no --model, no setting
    app.data_dir = tmp_path
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.model is not None)
        assert app.model == "demo-think:latest"
    app = make_app(server, model=None)  # and without history, the first installed
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.model is not None)
        assert app.model == "demo:latest"


async def test_a_conversation_is_listed_with_the_model_asked_last(
    server: DemoServer, tmp_path: Path
) -> None:
    server.configure(reply="Fine.", token_rate=0)
    app = kept_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await history_ready(pilot, app)
        await send_and_wait(pilot, app, "first")
        app.set_model("demo-think:latest")
        app.set_transport("aiohttp")
        await send_and_wait(pilot, app, "second")
        await app.recorder.flush()
        history = app.recorder.history
        assert history is not None
        (listed,) = await history.list_conversations()
        assert listed.model == "demo-think:latest"
        kept = await history.load(listed.id)
        assert (kept.model, kept.transport) == ("demo-think:latest", "aiohttp")


@pytest.mark.parametrize("key", ["ctrl+n", "ctrl+q"])
async def test_leaving_a_reply_mid_stream_keeps_what_was_shown(
    server: DemoServer, tmp_path: Path, key: str
) -> None:
    """New chat or quit while a reply streams: its row holds the text on screen."""
    server.configure(reply=" ".join(f"word{i}" for i in range(300)), token_rate=60.0)
    app = kept_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await history_ready(pilot, app)
        await send(pilot, "go")
        await wait_until(pilot, lambda: bool(replies(app)) and len(replies(app)[-1].text) > 40)
        shown = replies(app)[-1].text
        await pilot.press(key)
        await app.recorder.flush()
    history = stored(tmp_path)
    (summary,) = history.list_conversations()
    reply = history.load(summary.id).messages[-1]
    assert reply.content.startswith(shown) and not reply.complete
    history.close()


async def test_typing_the_start_of_a_word_in_f3_finds_the_conversation(
    server: DemoServer, tmp_path: Path
) -> None:
    """Search as you type: `sock` finds the conversation whose reply says "Sockets"."""
    app = kept_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await history_ready(pilot, app)
        server.configure(reply="Sockets are the two ends of a connection.", token_rate=0)
        await send_and_wait(pilot, app, "how do programs talk over a network?")
        await pilot.press("ctrl+n")
        server.configure(reply="Bake it for an hour.", token_rate=0)
        await send_and_wait(pilot, app, "and bread?")
        await app.recorder.flush()
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
        screen = app.screen
        assert isinstance(screen, ConversationsScreen)
        await wait_until(pilot, lambda: len(screen.shown) == 2)
        assert app.focused is screen.query_one("#search", Input)
        await pilot.press("s", "o", "c", "k")
        network = ["how do programs talk over a network?"]
        await wait_until(pilot, lambda: [c.title for c in screen.shown] == network)
        assert screen.query_one("#search", Input).value == "sock"
        assert "Sockets are the two ends" in (screen.shown[0].snippet or "")
