"""The chat screen driven with Pilot against the built-in server on loopback."""

from __future__ import annotations

import itertools
import json
import stat
from pathlib import Path
from typing import Any, cast

import pytest
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Collapsible, Input, Label, Markdown, Static, TextArea
from textual.widgets.markdown import MarkdownFence

from ollama_tui.core.protocol import ChatMessage, chat_request
from ollama_tui.demo import DemoServer, Fault
from ollama_tui.transports import TRANSPORT_NAMES
from ollama_tui.ui.app import OllamaApp
from ollama_tui.ui.screens.dialogs import ConfirmScreen, HelpScreen
from ollama_tui.ui.screens.model_picker import ModelPicker
from ollama_tui.ui.screens.settings import SettingsScreen
from ollama_tui.ui.widgets.chat_message import (
    AssistantMessage,
    MarkdownParagraph,
    Notice,
    UserMessage,
)
from ollama_tui.ui.widgets.folding import FoldedFence, FoldedParagraphs
from ollama_tui.ui.widgets.growing_code import fence_limit
from ollama_tui.ui.widgets.prompt import PromptInput
from ollama_tui.ui.widgets.status_bar import State, StatusBar
from tests.uitools import (
    chat_requests,
    contents_rendered,
    delete_model,
    make_app,
    replies,
    screen_text,
    send,
    send_and_wait,
    server_models,
    wait_until,
)

REPLY = "Here is **bold** text, 中文 and 🦙.\n\n```python\nprint('hi')\n```\n"


def code_x(fence: MarkdownFence | FoldedFence) -> int:
    """The column where a code block's text starts."""
    shown = fence.query_one(Label) if isinstance(fence, MarkdownFence) else fence
    return shown.content_region.x


def footer_of(widget: object) -> str:
    return str(widget.query_one("#footer", Static).content)  # type: ignore[attr-defined]


@pytest.mark.parametrize("transport", TRANSPORT_NAMES)
async def test_typing_and_enter_streams_a_markdown_reply(
    server: DemoServer, transport: str
) -> None:
    server.configure(reply=REPLY)
    app = make_app(server, transport=transport)
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.focused, PromptInput)
        reply = await send_and_wait(pilot, app, "hello there")
        assert reply.markdown.source == REPLY
        assert reply.text == REPLY
        assert footer_of(reply).startswith(f"{transport} · TTFC ")
        assert [m.content for m in app.session.conversation.messages] == ["hello there", REPLY]
        assert app.chat.query_one(PromptInput).text == ""
        assert app.chat.query_one(StatusBar).figures.state is State.DONE
        (record,) = chat_requests(server, 1)
        assert b'"hello there"' in record.body


async def test_context_is_sent_with_each_request(server: DemoServer) -> None:
    server.configure(reply="ok")
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send_and_wait(pilot, app, "one")
        await send_and_wait(pilot, app, "two")
        second = chat_requests(server, 2)[1]
        assert second.body.count(b'"role"') == 3


async def test_status_bar_goes_through_its_states_in_order(server: DemoServer) -> None:
    server.configure(first_token_delay=0.2, token_rate=50.0, reply="a b c d e")
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        bar = app.chat.query_one(StatusBar)
        seen: list[State] = [bar.figures.state]
        app.chat.watch(bar, "figures", lambda f: seen.append(f.state), init=False)
        await send_and_wait(pilot, app, "x")
        states = [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] is not s]
        assert states == [State.IDLE, State.WAITING, State.STREAMING, State.DONE]


async def test_switching_transport_mid_stream_applies_to_the_next_request(
    server: DemoServer,
) -> None:
    server.configure(token_rate=30.0, reply="one two three four five six seven eight")
    app = make_app(server, transport="requests")
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "first")
        await wait_until(pilot, lambda: bool(replies(app)) and bool(replies(app)[-1].text))
        await pilot.press("ctrl+t")
        assert app.transport == "httpx-sync"
        await wait_until(pilot, lambda: app.chat.turn is None)
        assert footer_of(replies(app)[-1]).startswith("requests · ")
        second = await send_and_wait(pilot, app, "second")
        assert footer_of(second).startswith("httpx-sync · ")
        assert str(app.chat.query_one("#transport").value) == "httpx-sync"  # type: ignore[attr-defined]


@pytest.mark.parametrize("transport", TRANSPORT_NAMES)
async def test_escape_stops_the_stream_and_keeps_the_text(
    server: DemoServer, transport: str
) -> None:
    server.configure(token_rate=30.0)
    app = make_app(server, transport=transport)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "tell me")
        await wait_until(pilot, lambda: bool(replies(app)) and len(replies(app)[-1].text) > 10)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.chat.turn is None)
        reply = replies(app)[-1]
        assert reply.text and footer_of(reply).startswith(f"stopped · {transport}")
        assert app.chat.query_one(StatusBar).figures.state is State.STOPPED
        (record,) = chat_requests(server, 1)
        assert record.finished.wait(2) and record.outcome == "disconnected"
        assert app.session.conversation.messages[-1].content == reply.text


async def test_regenerate_on_the_next_transport_keeps_both_replies(server: DemoServer) -> None:
    server.configure(reply="same answer")
    app = make_app(server, transport="aiohttp")
    async with app.run_test(size=(100, 30)) as pilot:
        await send_and_wait(pilot, app, "q")
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: len(replies(app)) == 2 and app.chat.turn is None)
        first, second = replies(app)
        assert footer_of(first).startswith("aiohttp · ")
        assert footer_of(second).startswith("requests · ")
        assert len(app.chat.query(UserMessage)) == 1
        assert [m.role for m in app.session.conversation.messages] == ["user", "assistant"]
        again = chat_requests(server, 2)[1]
        assert again.body.count(b'"role"') == 1


async def test_model_picker_lists_the_servers_models(server: DemoServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPicker))
        picker = app.screen
        assert isinstance(picker, ModelPicker)
        assert "demo-think:latest" in [m.name for m in picker.models]
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, ModelPicker))
        assert app.model == picker.models[1].name
        assert app.model in str(app.chat.query_one("#header", Static).content)


async def test_no_model_given_chooses_the_first_installed(server: DemoServer) -> None:
    app = make_app(server, model=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.model is not None)
        assert app.model == "demo:latest"


async def test_thinking_goes_in_a_block_that_folds_when_the_answer_starts(
    server: DemoServer,
) -> None:
    server.configure(reply="The answer.", thinking="Let me think about it.")
    app = make_app(server, model="demo-think")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+f")
        assert app.think is True
        reply = await send_and_wait(pilot, app, "why")
        block = reply.query_one("#thinking", Collapsible)
        assert block.display and block.collapsed
        assert reply.thinking_text == "Let me think about it."
        assert reply.text == "The answer."
        (record,) = chat_requests(server, 1)
        assert b'"think": true' in record.body


async def test_ctrl_s_shows_and_hides_the_last_replys_thinking(server: DemoServer) -> None:
    server.configure(reply="The answer.", thinking="Let me think about it.")
    app = make_app(server, model="demo-think")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+f")
        reply = await send_and_wait(pilot, app, "why")
        block = reply.query_one("#thinking", Collapsible)
        assert block.collapsed
        await pilot.press("ctrl+s")
        assert not block.collapsed
        await pilot.press("ctrl+s")
        assert block.collapsed


async def test_inline_think_tags_are_routed_to_the_thinking_block(server: DemoServer) -> None:
    server.configure(reply="The answer.", thinking="Hmm.")
    app = make_app(server, model="demo-think")
    async with app.run_test(size=(100, 30)) as pilot:
        reply = await send_and_wait(pilot, app, "why")
        assert "<think>" not in reply.text and reply.text == "The answer."
        assert reply.thinking_text.strip() == "Hmm."


async def test_unknown_model_shows_the_servers_error_and_gives_the_prompt_back(
    server: DemoServer,
) -> None:
    app = make_app(server, model="llama3")
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "my long question")
        await wait_until(pilot, lambda: bool(app.chat.query(Notice)))
        notice = app.chat.query_one(Notice)
        assert str(notice.content) == (
            'Ollama: model "llama3" not found, try pulling it first (HTTP 404)'
        )
        assert app.chat.query_one(PromptInput).text == "my long question"
        assert replies(app) == []
        assert app.session.conversation.messages == []


async def test_a_failed_request_can_be_sent_again_when_the_server_recovers(
    server: DemoServer,
) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        server.configure(fault=Fault.NOT_FOUND)
        await send(pilot, "first try")
        await wait_until(pilot, lambda: bool(app.chat.query(Notice)))
        assert app.chat.query_one(PromptInput).text == "first try"
        server.configure(fault=None, reply="back")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(replies(app)) and app.chat.turn is None)
        assert replies(app)[-1].text == "back"


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault.ERROR_MID, "Ollama: an error was encountered while running the model"),
        (Fault.CUT, "The connection to Ollama was cut mid-reply"),
        (Fault.MALFORMED, "The server sent a line that is not JSON"),
    ],
)
async def test_mid_stream_errors_keep_the_text(
    server: DemoServer, fault: Fault, message: str
) -> None:
    server.configure(fault=fault, fault_after=4, reply="one two three four five six")
    app = make_app(server, transport="requests")
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "go")
        await wait_until(pilot, lambda: bool(app.chat.query(Notice)))
        assert str(app.chat.query_one(Notice).content).startswith(message)
        reply = replies(app)[-1]
        assert reply.text == "one two three four"
        assert footer_of(reply).startswith("error · requests")
        assert app.chat.query_one(StatusBar).figures.state is State.ERROR
        assert app.chat.query_one(PromptInput).text == ""


async def test_markup_and_escape_sequences_in_a_reply_are_inert(server: DemoServer) -> None:
    server.configure(reply="[red]x[/red] \x1b]52;c;aGk=\x07 <b>html</b> \x9b2J end")
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        reply = await send_and_wait(pilot, app, "x")
        source = reply.markdown.source
        assert "\x1b" not in source and "\x9b" not in source and "\x07" not in source
        assert "[red]x[/red]" in source
        shown = screen_text(app)
        assert "[red]x[/red]" in shown
        assert "<b>html</b>" in shown


async def test_scrolling_up_stops_following_and_ctrl_down_resumes(server: DemoServer) -> None:
    server.configure(token_rate=40.0, reply="line\n\n" * 60)
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        await send(pilot, "long")
        transcript = app.chat.query_one("#transcript", VerticalScroll)
        await wait_until(pilot, lambda: transcript.max_scroll_y > 10)
        transcript.scroll_to(y=0, animate=False, immediate=True)
        transcript.release_anchor()
        await wait_until(pilot, lambda: app.chat.query_one("#below").display)
        assert transcript.scroll_y < transcript.max_scroll_y
        await pilot.press("ctrl+down")
        await wait_until(pilot, lambda: app.chat.turn is None)
        await pilot.pause()
        assert transcript.is_vertical_scroll_end
        assert not app.chat.query_one("#below").display


async def test_keys_typed_with_the_focus_elsewhere_go_to_the_prompt_box(
    server: DemoServer,
) -> None:
    server.configure(reply="The answer.", thinking="Hmm.")
    app = make_app(server, model="demo-think")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+f")
        reply = await send_and_wait(pilot, app, "why")
        title = reply.query_one("#thinking", Collapsible).query_one("CollapsibleTitle")
        await pilot.click(title)  # "▶ Thinking": it takes the focus
        prompt = app.chat.query_one(PromptInput)
        assert app.focused is not prompt
        await pilot.press(*"next one")
        assert prompt.text == "next one" and app.focused is prompt


async def test_the_prompt_box_looks_different_without_the_focus(server: DemoServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.chat.query_one(PromptInput)
        focused = prompt.styles.border_top
        app.set_focus(None)
        await pilot.pause()
        assert prompt.styles.border_top != focused


async def test_a_message_sent_after_scrolling_up_shows_its_reply(server: DemoServer) -> None:
    server.configure(token_rate=0, reply="line\n\n" * 60)
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        await send_and_wait(pilot, app, "long")
        transcript = app.chat.query_one("#transcript", VerticalScroll)
        transcript.scroll_to(y=0, animate=False, immediate=True)
        transcript.release_anchor()
        await send_and_wait(pilot, app, "again")
        await pilot.pause()
        assert transcript.is_vertical_scroll_end, "sending jumps to the newest text"
        assert replies(app)[-1].region.bottom <= transcript.region.bottom


async def test_help_lists_every_key(server: DemoServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        rows = dict(app.screen.rows)
        assert rows["enter"] == "Send the message"
        assert rows["^j"] == "New line in the message"
        for key, text in [
            ("escape", "Stop the reply being streamed (or give up an edit)"),
            ("ctrl+t", "Switch to the next HTTP transport"),
            ("ctrl+l", "Choose the model"),
            ("ctrl+r", "Ask for the last reply again"),
            ("ctrl+g", "Ask again on the next transport"),
            ("ctrl+n", "Start over"),
            ("ctrl+o", "Copy the last reply"),
            ("ctrl+b", "Copy the last code block of the last reply"),
            ("ctrl+f", "Ask thinking models to think (or not)"),
            ("ctrl+s", "Show or hide the last reply's thinking"),
            ("f1", "Every key, explained"),
        ]:
            assert rows[app.get_key_display(Binding(key, ""))] == text
        # One notation: the footer's.
        assert all("Ctrl" not in key for key in rows)
        figures = dict(app.screen.figures)
        for figure in ("TTFC", "TTFT", "total", "tok/s", "server", "chunks"):
            assert figures[figure]
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_copy_reply_and_code_block_and_new_chat(server: DemoServer) -> None:
    server.configure(reply=REPLY)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send_and_wait(pilot, app, "code please")
        await pilot.press("ctrl+o")
        assert app.clipboard == REPLY
        await pilot.press("ctrl+b")
        assert app.clipboard == "print('hi')\n"
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.session.conversation.messages == [] and replies(app) == []


async def test_prompt_history_recall(server: DemoServer) -> None:
    server.configure(reply="ok")
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send_and_wait(pilot, app, "first")
        await send_and_wait(pilot, app, "second")
        prompt = app.chat.query_one(PromptInput)
        await pilot.press("up")
        assert prompt.text == "second"
        await pilot.press("up")
        assert prompt.text == "first"
        await pilot.press("down", "down")
        assert prompt.text == ""
        await pilot.press("a", "ctrl+j", "b")
        assert prompt.text == "a\nb"


async def test_a_link_opens_only_after_the_user_says_yes(server: DemoServer) -> None:
    server.configure(reply="See [the docs](https://example.com/docs).")
    app = make_app(server)
    opened: list[str] = []
    app.open_url = lambda url, **_: opened.append(url)  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        reply = await send_and_wait(pilot, app, "link")
        answer = reply.markdown
        assert isinstance(answer, Markdown), "an ended answer is Textual's Markdown"
        answer.post_message(Markdown.LinkClicked(answer, "https://example.com/docs"))
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert opened == []
        answer.post_message(Markdown.LinkClicked(answer, "https://example.com/docs"))
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: bool(opened))
        assert opened == ["https://example.com/docs"]


async def test_the_empty_chat_says_with_whom_and_the_keys_to_start(server: DemoServer) -> None:
    server.configure(reply="Hi.", token_rate=0)
    app = make_app(server, transport="aiohttp")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        text = screen_text(app)
        assert "Chatting with demo on demo server, over aiohttp." in text
        assert "enter" in text and "^l" in text and "f1" in text
        await pilot.press("ctrl+t")  # the words follow the choice
        await pilot.pause()
        assert "over requests." in screen_text(app)
        await send_and_wait(pilot, app, "hello")
        assert "Chatting with" not in screen_text(app)
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: "Chatting with" in screen_text(app))
        assert not replies(app)


def bar_text(app: OllamaApp) -> str:
    return app.chat.query_one(StatusBar).render().plain


async def test_the_status_bar_says_no_server_before_anything_is_sent() -> None:
    import socket

    from ollama_tui.core.connection import ConnectionSettings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = OllamaApp(ConnectionSettings(base_url=f"http://127.0.0.1:{port}"), model="demo")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "● no server" in bar_text(app))
        assert "ready" not in bar_text(app)


async def test_the_status_bars_line_is_what_textual_draws_of_its_figures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Its line is made into cells directly (ui/widgets/cells.py): every cell as
    # Textual draws `render()`'s content, in each state, at widths that drop figures,
    # with a wide model name, in another theme.
    import socket

    from textual.widget import Widget

    from ollama_tui.core.connection import ConnectionSettings
    from ollama_tui.core.events import ServerStats
    from ollama_tui.core.timing import StreamTiming
    from ollama_tui.ui.widgets.status_bar import Figures

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    timing = StreamTiming(sent=1.0, first_chunk=1.2, first_token=1.3, last_token=3.0, tokens=42)
    ended = StreamTiming(1.0, 1.2, 1.3, 3.0, 3.1, 43, 42)
    stats = ServerStats(load_duration=2_000_000_000, eval_count=42, eval_duration=10**9)
    figures = [
        Figures(State.OFFLINE),
        Figures(State.WAITING, StreamTiming(sent=1.0), transport="aiohttp", model="demo"),
        Figures(State.STREAMING, timing, transport="httpx-async", model="llama3:8b"),
        Figures(State.DONE, ended, stats, transport="requests", model="qwen2.5-coder"),
        Figures(State.ERROR, ended, transport="requests", model="模型-中文"),
    ]
    rendered = contents_rendered(monkeypatch)
    app = OllamaApp(ConnectionSettings(base_url=f"http://127.0.0.1:{port}"), model="demo")
    async with app.run_test(size=(120, 30)) as pilot:
        bar = app.chat.query_one(StatusBar)
        drawn = 0
        for theme, width in itertools.product(("textual-dark", "textual-light"), (120, 70, 44)):
            app.theme = theme
            await pilot.resize_terminal(width, 30)
            await pilot.pause()
            for shown in figures:
                bar.figures = shown
                bar.now = 2.5
                await pilot.pause()
                rendered.clear()
                ours = bar.render_line(0)
                drawn += not rendered  # (made here, not by Textual)
                theirs = Widget.render_line(bar, 0)
                assert ours.text == theirs.text, (theme, width, shown.state)
                # Piece by piece, each with its place (a mouse selection reads them).
                assert list(ours) == list(theirs), (theme, width, shown.state)
        # Its style changed without a style update (inline, or a transition's step).
        bar.styles.background = "red"
        await pilot.pause()
        assert list(bar.render_line(0)) == list(Widget.render_line(bar, 0))
        # A press on it starts a selection of its text, as on Textual's line.
        widget, offset = app.screen.get_widget_and_offset_at(bar.region.x + 3, bar.region.y)
        assert widget is bar and offset is not None
    assert drawn == 30


async def test_an_error_stays_the_failed_models_after_a_model_switch(server: DemoServer) -> None:
    app = make_app(server, model="llama3", transport="requests")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        assert "● ready" in bar_text(app)
        await send(pilot, "hi")
        await wait_until(pilot, lambda: bool(app.chat.query(Notice)))
        app.set_model("demo:latest")
        await pilot.pause()
        assert "● error requests · llama3" in bar_text(app)
        assert "demo:latest" not in bar_text(app)


async def test_server_down_is_one_sentence_and_the_prompt_comes_back() -> None:
    import socket

    from ollama_tui.core.connection import ConnectionSettings
    from ollama_tui.ui.app import OllamaApp

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    app = OllamaApp(ConnectionSettings(base_url=url), model="demo", transport="requests")
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "anyone there?")
        await wait_until(pilot, lambda: bool(app.chat.query(Notice)))
        assert str(app.chat.query_one(Notice).content) == (
            f"Cannot reach Ollama at {url} — is `ollama serve` running?"
        )
        assert app.chat.query_one(PromptInput).text == "anyone there?"
        assert app.chat.query_one(StatusBar).figures.state is State.ERROR


async def test_read_timeout_names_the_timeout_and_keeps_the_text(server: DemoServer) -> None:
    server.configure(fault=Fault.STALL, fault_after=3, reply="one two three four five")
    app = make_app(server, transport="aiohttp", read_timeout=0.5)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "slow")
        await wait_until(pilot, lambda: bool(app.chat.query(Notice)))
        assert str(app.chat.query_one(Notice).content).startswith(
            "Ollama sent nothing for 0.5 s (read timeout)."
        )
        assert replies(app)[-1].text == "one two three"


async def test_no_models_installed_says_how_to_pull_one(server: DemoServer) -> None:
    for name in [str(m["name"]) for m in server_models(server)]:
        delete_model(server, name)
    app = make_app(server, model=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: bool(app._notifications))
        (notice,) = list(app._notifications)
        assert "ollama pull" in notice.message
        assert app.model is None


async def test_every_action_is_in_the_command_palette(server: DemoServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 30)):
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for name in TRANSPORT_NAMES:
            assert f"Transport: {name}" in titles
            assert f"Regenerate with {name}" in titles
        for title in (
            "Choose model",
            "Stop",
            "Regenerate",
            "New chat",
            "Copy last reply",
            "Copy last code block",
            "Toggle thinking",
            "Jump to latest",
            "Help",
        ):
            assert title in titles


@pytest.mark.parametrize("transport", TRANSPORT_NAMES)
async def test_replies_reuse_one_pooled_connection(server: DemoServer, transport: str) -> None:
    server.configure(reply="short")
    app = make_app(server, transport=transport)
    async with app.run_test(size=(100, 30)) as pilot:
        for text in ("one", "two", "three"):
            await send_and_wait(pilot, app, text)
        records = chat_requests(server, 3)
        assert len({r.peer for r in records}) == 1, [r.peer for r in records]


@pytest.mark.parametrize("transport", TRANSPORT_NAMES)
async def test_escape_during_a_model_load_stops_at_once(server: DemoServer, transport: str) -> None:
    server.configure(first_token_delay=30.0)
    app = make_app(server, transport=transport)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "wake up")
        await wait_until(pilot, lambda: bool(chat_requests(server, 1)))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.chat.turn is None, timeout=3)
        assert app.chat.query_one(StatusBar).figures.state is State.STOPPED
        # Nothing arrived: the question goes back into the box, and off the transcript.
        assert app.chat.query_one(PromptInput).text == "wake up"
        assert not app.chat.query(UserMessage)
        (record,) = chat_requests(server, 1)
        assert record.finished.wait(2) and record.outcome == "disconnected"


async def test_a_failed_send_leaves_no_orphan_question(server: DemoServer) -> None:
    server.configure(fault=Fault.NOT_FOUND)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "question")
        await wait_until(pilot, lambda: bool(app.chat.query(Notice)))
        server.configure(fault=None, reply="answer")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(replies(app)) and app.chat.turn is None)
        assert [m.text for m in app.chat.query(UserMessage)] == ["question"]
        assert [m.content for m in app.session.conversation.messages] == ["question", "answer"]


async def test_untrusted_names_and_error_text_never_reach_the_terminal(
    server: DemoServer,
) -> None:
    evil = "evil\x1b]0;pwned\x07\x1b[31m"
    app = make_app(server, model=evil)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "hi")
        await wait_until(pilot, lambda: bool(app.chat.query(Notice)))
        shown = screen_text(app)
        assert "\x1b" not in shown and "\x07" not in shown
        assert "evil]0;pwned[31m" in shown
        assert str(app.chat.query_one(Notice).content) == (
            'Ollama: model "evil]0;pwned[31m" not found, try pulling it first (HTTP 404)'
        )


async def test_entities_cannot_smuggle_control_characters(server: DemoServer) -> None:
    server.configure(reply="abc &#x202E;def &#27;[31m &#x9b;ghi")
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send_and_wait(pilot, app, "x")
        shown = screen_text(app)
        assert "def" in shown and "ghi" in shown
        assert not any(ch in shown for ch in "\u202e\x1b\x9b")


async def test_editing_a_recalled_prompt_keeps_the_edit(server: DemoServer) -> None:
    server.configure(reply="ok")
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send_and_wait(pilot, app, "first")
        prompt = app.chat.query_one(PromptInput)
        await pilot.press("up")
        assert prompt.text == "first"
        await pilot.press("end", "!", "up", "down")
        assert prompt.text == "first!"


async def test_status_bar_names_the_transport_its_figures_came_from(server: DemoServer) -> None:
    server.configure(reply="ok")
    app = make_app(server, transport="aiohttp")
    async with app.run_test(size=(120, 30)) as pilot:
        await send_and_wait(pilot, app, "x")
        await pilot.press("ctrl+t")
        assert app.transport == "requests"
        bar = app.chat.query_one(StatusBar)
        assert bar.figures.transport == "aiohttp"
        assert "aiohttp · demo │ TTFC" in str(bar.render())


async def test_streams_on_sync_transports_do_not_starve_other_thread_work(
    server: DemoServer,
) -> None:
    # Eight blocking streams: more than the 6 threads Textual's default executor has here.
    server.configure(token_rate=10.0)
    app = make_app(server, transport="httpx-sync")
    async with app.run_test(size=(100, 30)) as pilot:
        request = chat_request("demo", [ChatMessage("user", "long")])
        streams = [app.runner.start("requests", request) for _ in range(8)]

        def streaming() -> bool:
            records = [r for r in server.log if r.path == "/api/chat"]
            return len(records) == 8 and all(r.lines_sent > 0 for r in records)

        await wait_until(pilot, streaming)
        records = chat_requests(server, 8)
        tags = await app.call("GET", "/api/tags")  # a thread of its own, not after a stream
        assert tags["models"]
        assert not any(record.finished.is_set() for record in records), "it waited for a stream"
        for stream in streams:
            stream.stop()
        for record in records:
            assert record.finished.wait(2) and record.outcome == "disconnected"


async def test_a_long_reply_is_folded_into_few_widgets_and_keeps_every_word(
    server: DemoServer,
) -> None:
    paragraphs = [f"Paragraph {i} has **bold** and `code` words." for i in range(130)]
    reply = "\n\n".join(paragraphs) + "\n\n```python\nprint('kept as code')\n```\n"
    reply += "\nThe end, a paragraph in the live segment.\n"  # wherever the segments end
    server.configure(reply=reply, token_rate=3000.0)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        message = await send_and_wait(pilot, app, "long")
        assert message.text == reply
        folded = list(message.query(FoldedParagraphs))
        assert len(folded) >= 2
        # Far fewer widgets than the 130 paragraph widgets a single Markdown would hold.
        assert len(list(message.query("*"))) < 100
        words = "\n\n".join(str(f.content) for f in folded) + "\n\n"
        words += "".join(m.source for m in message.query(Markdown))
        words += "".join(f.code for f in message.query(FoldedFence))
        for i in (0, 64, 129):
            assert f"Paragraph {i} has bold and code words." in words.replace("**", "").replace(
                "`", ""
            )
        assert "print('kept as code')" in words
        # Folded text sits in the columns it had as paragraphs (no jump when folded).
        live = message.query(MarkdownParagraph).first()
        assert {f.content_region.x for f in folded} == {live.content_region.x}
        assert {f.content_region.width for f in folded} == {live.content_region.width}
        # A link in folded text still asks before opening.
        await folded[0].run_action("link('https://example.com/x')")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))


async def test_a_long_code_fence_is_cut_into_blocks_and_copies_whole(
    server: DemoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ollama_tui.ui.widgets import live_segment
    from ollama_tui.ui.widgets.lines import draw

    draws: list[bool] = []  # each drawing of a live segment: whether it goes on below

    def noted(*args: Any, **kwargs: Any) -> Any:
        draws.append(kwargs["continues"])
        return draw(*args, **kwargs)

    monkeypatch.setattr(live_segment, "draw", noted)
    code = "".join(f"value_{i} = compute({i})\n" for i in range(300))
    reply = f"Here:\n\n```python\n{code}```\n\nDone.\n"
    server.configure(reply=reply, token_rate=3000.0)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        message = await send_and_wait(pilot, app, "code")
        assert message.text == reply
        # A full part is put away (folded) in the frame it is cut in: not drawn again
        # with its cut mark first (that was most of each roll-over's time).
        assert draws and not any(draws)
        # Finished parts are folded into plain widgets; the last part is still a fence.
        fences = [
            cast(MarkdownFence | FoldedFence, f)
            for f in message.query("MarkdownFence, FoldedFence")
        ]
        assert len(fences) >= 3
        assert any(isinstance(f, FoldedFence) for f in fences)
        assert isinstance(fences[-1], MarkdownFence)
        # Each block shows its lines; together, every line once, in order.
        assert "\n".join(f.code.rstrip("\n") for f in fences) == code.rstrip("\n")
        assert all(f.lexer == "python" for f in fences)
        # Python is lexed from its last lines: its parts hold the longer limit's lines.
        assert len(fences[0].code.rstrip("\n").split("\n")) == fence_limit("python")
        # The parts read as one block: no margin or padding between them.
        for upper, lower in itertools.pairwise(fences):
            assert upper.has_class("continues") and lower.has_class("continued")
            assert upper.region.bottom == lower.region.y
        # ... set off from the text around it, code indented, as an uncut block is.
        here, done = list(message.query(MarkdownParagraph))
        assert fences[0].region.y == here.region.bottom + 1
        assert done.region.y == fences[-1].region.bottom + 1
        text_x = {code_x(f) for f in fences}
        assert text_x == {here.region.x + 2}, "every part's code starts 2 columns in"
        await pilot.press("ctrl+b")
        assert app.clipboard == code


async def test_a_giant_paragraph_is_cut_at_sentences_and_reads_as_one(server: DemoServer) -> None:
    sentences = [f"Sentence {i} is `short` and *plain*." for i in range(400)]
    reply = " ".join(sentences) + "\n"
    server.configure(reply=reply, token_rate=5000.0)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        message = await send_and_wait(pilot, app, "long")
        assert message.text == reply
        parts = list(message.query("FoldedParagraphs, MarkdownParagraph"))
        assert len(parts) >= 4
        texts = [str(cast(Static, p).content) for p in parts]
        # Cut only after a sentence, with no code span or emphasis left open.
        assert all(t.rstrip().endswith(".") for t in texts)
        plain = " ".join(t.strip() for t in texts)
        assert plain == " ".join(s.replace("`", "").replace("*", "") for s in sentences)
        # The parts touch: no blank line between them; the last keeps its blank line.
        for upper, lower in itertools.pairwise(parts):
            assert upper.region.bottom == lower.region.y
        footer = message.query_one("#footer", Static)
        assert footer.region.y == parts[-1].region.bottom + 1


async def test_editing_the_last_message_resends_it_in_place(server: DemoServer) -> None:
    server.configure(reply="Answer one.", token_rate=0)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send_and_wait(pilot, app, "first question")
        await send_and_wait(pilot, app, "second question")
        await pilot.press("f4")
        prompt = app.chat.query_one(PromptInput)
        assert prompt.text == "second question"
        # The exchange left the transcript and the context; the first one stayed.
        assert shown_questions(app) == ["first question"]
        assert len(shown_replies(app)) == 1
        # The cursor is at the end: typing goes on from there.
        await pilot.press(*", edited")
        assert prompt.text == "second question, edited"
        server.configure(reply="Answer two.", token_rate=0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(replies(app)) == 2 and app.chat.turn is None)
        assert shown_questions(app) == ["first question", "second question, edited"]
        sent = json.loads(chat_requests(server, 3)[-1].body)["messages"]
        assert [m["content"] for m in sent] == [
            "first question",
            "Answer one.",
            "second question, edited",
        ]
        assert [m.content for m in app.session.conversation.messages] == [
            "first question",
            "Answer one.",
            "second question, edited",
            "Answer two.",
        ]


def shown_questions(app: OllamaApp) -> list[str]:
    return [m.text for m in app.chat.query(UserMessage) if m.display]


def shown_replies(app: OllamaApp) -> list[AssistantMessage]:
    return [r for r in replies(app) if r.display]


async def test_escape_gives_an_edit_up_and_brings_the_exchange_back(server: DemoServer) -> None:
    server.configure(reply="Answer one.", token_rate=0)
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await send_and_wait(pilot, app, "first question")
        await send_and_wait(pilot, app, "second question")
        prompt = app.chat.query_one(PromptInput)
        await pilot.press(*"half typed")
        await pilot.press("f4")
        assert prompt.text == "second question" and len(shown_replies(app)) == 1
        await pilot.press("escape")
        assert shown_questions(app) == ["first question", "second question"]
        assert len(shown_replies(app)) == 2
        assert prompt.text == "half typed", "what was typed before the edit comes back"
        assert [m.content for m in app.session.conversation.messages][-2:] == [
            "second question",
            "Answer one.",
        ]
        # The next message goes on from the whole exchange.
        prompt.clear()
        await send_and_wait(pilot, app, "third")
        sent = json.loads(chat_requests(server, 3)[-1].body)["messages"]
        assert [m["content"] for m in sent][:4] == [
            "first question",
            "Answer one.",
            "second question",
            "Answer one.",
        ]


async def test_conversation_settings_go_with_every_request(server: DemoServer) -> None:
    server.configure(reply="Short.", token_rate=0)
    app = make_app(server)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        screen = app.screen
        screen.query_one("#system", TextArea).load_text("Answer in one word.")
        screen.query_one("#temperature", Input).value = "warm"
        await pilot.press("ctrl+s")
        # A bad value is named, and nothing is saved until it is fixed.
        assert "temperature" in str(screen.query_one("#errors", Static).content)
        assert app.screen is screen
        screen.query_one("#temperature", Input).value = "0.1"
        screen.query_one("#num_predict", Input).value = "64"
        screen.query_one("#keep_alive", Input).value = "10m"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is app.chat)
        await send_and_wait(pilot, app, "hi")
        body = json.loads(chat_requests(server, 1)[0].body)
        assert body["messages"][0] == {"role": "system", "content": "Answer in one word."}
        assert body["options"] == {"temperature": 0.1, "num_predict": 64}
        assert body["keep_alive"] == "10m"


def test_a_remote_plain_http_host_is_named_in_the_header() -> None:
    from ollama_tui.core.connection import ConnectionSettings, is_remote_plain_http
    from ollama_tui.ui.app import OllamaApp

    assert is_remote_plain_http("http://192.0.2.10:11434")
    assert is_remote_plain_http("http://ollama.example:11434")
    for safe in ("http://127.0.0.1:11434", "http://localhost:11434", "https://x.example"):
        assert not is_remote_plain_http(safe)
    app = OllamaApp(ConnectionSettings(base_url="http://192.0.2.10:11434"))
    assert app.where == "http://192.0.2.10:11434 · unencrypted remote host"


async def test_the_debug_log_has_what_streams_did_and_nothing_that_was_said(
    server: DemoServer, tmp_path: Path
) -> None:
    from ollama_tui import debuglog

    path = debuglog.enable(tmp_path / "log" / "debug.log")
    try:
        server.configure(reply="A secret answer.", token_rate=0)
        app = make_app(server)
        async with app.run_test(size=(100, 30)) as pilot:
            await send_and_wait(pilot, app, "my private question")
            server.configure(fault=Fault.ERROR_MID, fault_after=1)
            await send_and_wait(pilot, app, "another secret")
    finally:
        debuglog.disable()
    text = path.read_text()
    assert "start /api/chat via httpx-async model=demo" in text
    assert " end done ttfc=" in text and " end server ttfc=" in text
    for said in ("secret", "private", "question", "answer"):
        assert said not in text.lower()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_the_status_bars_live_figures_ride_on_the_replys_updates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Redrawn with the text (at most every TICK), not on a frame of their own.
    from dataclasses import replace

    from textual.app import App, ComposeResult

    from ollama_tui.core.timing import StreamTiming
    from ollama_tui.session.reply import ReplyUpdate
    from ollama_tui.ui.widgets import status_bar

    now = [100.0]
    monkeypatch.setattr(status_bar, "monotonic", lambda: now[0])
    timings = [StreamTiming(sent=0.0, first_chunk=0.01, first_token=0.01)]

    class Bar(App[None]):
        def compose(self) -> ComposeResult:
            yield StatusBar(lambda: 1.0)

    async with Bar().run_test() as pilot:
        bar = pilot.app.query_one(StatusBar)
        bar.begin("aiohttp", "demo", lambda: timings[-1])
        shown: list[int] = []
        for step in range(10):  # an update every 40 ms, a token each
            now[0] += 0.04
            timings.append(replace(timings[-1], tokens=step + 1))
            bar.show(ReplyUpdate("", "x", step == 0, timings[-1], None))
            shown.append(bar.figures.timing.tokens if bar.figures.timing else -1)
        assert shown == [1, 2, 2, 2, 5, 5, 5, 8, 8, 8]
