"""A long chat keeps only its last messages mounted (ui/widgets/transcript.py): the
older ones come back, text and figures, when the person scrolls up to them."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

import pytest
from textual.widgets import Static

from ollama_tui.demo import DemoServer
from ollama_tui.history.store import History
from ollama_tui.ui.app import OllamaApp
from ollama_tui.ui.widgets import transcript as transcript_module
from ollama_tui.ui.widgets.chat_message import AssistantMessage, UserMessage
from ollama_tui.ui.widgets.transcript import Earlier, Transcript
from tests.uitools import make_app, send, wait_until


@pytest.fixture
def small_shelf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transcript_module, "KEEP", 6)
    monkeypatch.setattr(transcript_module, "SHELVE", 4)


def answered(app: OllamaApp, n: int) -> bool:
    return app.chat.turn is None and f"question {n}" in questions(app.chat.transcript)


def questions(transcript: Transcript) -> list[str]:
    return [widget.text for widget in transcript.query(UserMessage)]


async def test_a_long_chat_shelves_its_oldest_messages_and_scrolling_up_brings_them_back(
    server: DemoServer, small_shelf: None
) -> None:
    server.configure(reply="Answer with `code`.", token_rate=0)
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        transcript = app.chat.transcript
        footers: list[str] = []
        for n in range(8):
            await send(pilot, f"question {n}")
            await wait_until(pilot, partial(answered, app, n))
            footers.append(str(transcript.query(AssistantMessage).last().footer_text))
        mounted = [w for w in transcript.children if isinstance(w, UserMessage | AssistantMessage)]
        assert len(mounted) < 16, "every message is still mounted"
        assert questions(transcript)[0] != "question 0"
        assert questions(transcript)[-1] == "question 7"
        earlier = transcript.query_one(Earlier)
        assert str(earlier.content).startswith(f"▲ {len(transcript.shelved)} earlier messages")
        shelved = len(transcript.shelved)
        assert shelved and shelved + len(mounted) == 16
        # The shelved widgets may have been frozen (ui/collector.py): a compaction frees them.
        await wait_until(pilot, lambda: app.collector.compactions > 0)
        # Up to the top: the shelved messages are mounted again, as they were.
        while transcript.shelved:
            transcript.scroll_to(y=0, animate=False, immediate=True)
            if transcript.scroll_y == 0:
                await transcript.unshelve()  # already at the top: what scrolling up does
            await pilot.pause()
        await wait_until(pilot, lambda: questions(transcript)[0] == "question 0")
        assert questions(transcript) == [f"question {n}" for n in range(8)]
        first = transcript.query(AssistantMessage).first()
        assert first.text == "Answer with `code`." and first.state == "done"
        assert str(first.query_one("#footer", Static).content) == footers[0] != ""
        assert not transcript.query(Earlier)


async def test_scrolling_to_the_top_unshelves(server: DemoServer, small_shelf: None) -> None:
    server.configure(reply="line\n\n" * 6, token_rate=0)
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        transcript = app.chat.transcript
        for n in range(6):
            await send(pilot, f"question {n}")
            await wait_until(pilot, partial(answered, app, n))
        shelved = len(transcript.shelved)
        oldest_shown = questions(transcript)[0]
        assert shelved and oldest_shown != "question 0"
        await wait_until(pilot, lambda: transcript.scroll_y > 0)
        transcript.scroll_home(animate=False)  # as the person scrolling up would
        await wait_until(pilot, lambda: len(transcript.shelved) < shelved)
        await wait_until(pilot, lambda: questions(transcript)[0] < oldest_shown)


async def test_a_long_kept_conversation_mounts_its_end_and_shelves_the_rest(
    server: DemoServer, tmp_path: Path, small_shelf: None
) -> None:
    history, _ = History.open(tmp_path)
    kept = history.create_conversation(title="long", model="demo", transport="aiohttp")
    for i in range(10):
        history.add_message(kept, role="user", content=f"question {i}")
        history.add_message(kept, role="assistant", content=f"answer {i}")
    conversation = history.load(kept)
    history.close()
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.chat.show_conversation(conversation)
        transcript = app.chat.transcript
        assert questions(transcript) == [f"question {i}" for i in range(7, 10)]
        assert len(transcript.shelved) == 14
        assert str(transcript.query_one(Earlier).content).startswith("▲ 14 earlier messages")
        await transcript.unshelve()
        await pilot.pause()
        assert questions(transcript)[0] == "question 5"
        assert transcript.query(AssistantMessage).first().text == "answer 5"


async def test_two_scrolls_to_the_top_at_once_bring_each_message_back_once(
    server: DemoServer, small_shelf: None
) -> None:
    server.configure(reply="Answer.", token_rate=0)
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        transcript = app.chat.transcript
        for n in range(8):
            await send(pilot, f"question {n}")
            await wait_until(pilot, partial(answered, app, n))
        shelved = len(transcript.shelved)
        await asyncio.gather(transcript.unshelve(), transcript.unshelve())
        await pilot.pause()
        shown = questions(transcript)
        assert len(shown) == len(set(shown)), "a message came back twice"
        assert all(reply.state == "done" for reply in transcript.query(AssistantMessage))
        assert len(transcript.shelved) == max(0, shelved - transcript_module.SHELVE)
