"""The chat's paint clock shows a reply's turns itself (`Pacer(show=...)`): the screen is
told by message only what the network tells, and an end taken at a turn still concludes
the reply."""

from __future__ import annotations

from typing import Any

from ollama_tui.core.protocol import chat_request
from ollama_tui.demo import DemoServer
from ollama_tui.session.runner import LiveStream
from ollama_tui.ui.app import OllamaApp
from ollama_tui.ui.messages import StreamUpdated
from ollama_tui.ui.widgets.status_bar import State, StatusBar
from tests.uitools import make_app, replies, send, wait_until

WORDS = " ".join(f"word{i}" for i in range(60))


class Counted:
    """Stands for the chat screen as the pacer's `target`: counts what it posts."""

    def __init__(self, app: OllamaApp) -> None:
        self.screen = app.chat
        self.posted: list[StreamUpdated] = []

    @property
    def app(self) -> Any:
        return self.screen.app

    def post_message(self, message: StreamUpdated) -> bool:
        self.posted.append(message)
        return self.screen.post_message(message)


def shown_by_clock(app: OllamaApp) -> list[int]:
    """Counts the turns the clock showed itself (in a list, for the closure)."""
    pacer, shows = app.chat.pacer, [0]
    show = pacer.show
    assert show is not None

    def counting(stream: Any) -> bool:
        shows[0] += 1
        return show(stream)

    pacer.show = counting
    return shows


def done(app: OllamaApp) -> bool:
    return app.chat.turn is None and app.chat.query_one(StatusBar).figures.state is State.DONE


async def test_a_reply_is_painted_by_the_clock_with_no_message_to_the_screen(
    server: DemoServer,
) -> None:
    server.configure(token_rate=300.0, reply=WORDS)  # about 0.4 s: some ten paints
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        counted = Counted(app)
        app.chat.pacer.target = counted  # type: ignore[assignment]
        shows = shown_by_clock(app)
        await send(pilot, "hello")
        await wait_until(pilot, lambda: done(app))
        assert replies(app)[-1].text == WORDS
        assert shows[0] >= 3, "the reply was not shown by the clock"
        assert counted.posted == [], "the clock told the screen by message"


async def test_an_end_taken_by_the_clock_concludes_the_reply(server: DemoServer) -> None:
    server.configure(reply=WORDS)  # the suite's 2,000 tok/s: all in before the next turn
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        pacer = app.chat.pacer
        pacer.interval = pacer.fast = 0.5  # the first words told, the rest at one turn
        counted = Counted(app)
        pacer.target = counted  # type: ignore[assignment]
        shows = shown_by_clock(app)
        await send(pilot, "hello")
        await wait_until(pilot, lambda: done(app))
        reply = replies(app)[-1]
        assert reply.text == WORDS
        assert reply.markdown.source == WORDS
        assert shows[0] == 1 and counted.posted == []  # its end came at the clock's turn


async def test_a_new_chat_mid_reply_leaves_the_clock_free_for_the_next(
    server: DemoServer,
) -> None:
    server.configure(token_rate=30.0, reply=WORDS)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "hello")
        await wait_until(pilot, lambda: bool(replies(app)) and "word3" in replies(app)[-1].text)
        pacer = app.chat.pacer
        assert pacer._waiting, "the reply was not waiting for its next turn"
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: app.chat.turn is None)
        # Nothing pending for the dropped reply: the next one's first words go out at once.
        assert not pacer._waiting
        assert pacer.due(LiveStream("requests", chat_request("demo", []), started=0.0))
