"""Keys that reach the prompt box together are applied in the order they were typed
(ui/widgets/prompt.py): a fast typist's backspace and the next key arrive in one read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual import events, messages
from textual.message import Message
from textual.message_pump import MessagePump
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import TextArea

from ollama_tui.demo import DemoServer
from ollama_tui.ui.app import OllamaApp
from ollama_tui.ui.widgets.prompt import PromptInput
from tests.uitools import TextTerminal, make_app, settle, wait_until


async def typed_abc_then_backspace_x_y_in_one_read(
    pilot: Pilot[None], box: Widget, text: Callable[[], str]
) -> str:
    """What `box` holds after "abc" typed, then a backspace, X and Y handed over from one
    read, as the driver does: all queued before any runs."""
    await pilot.press(*"abc")
    await wait_until(pilot, lambda: text() == "abc")
    for key, character in (("backspace", "\x7f"), ("X", "X"), ("Y", "Y")):
        box.post_message(events.Key(key, character))
    await wait_until(pilot, lambda: "Y" in text())
    await pilot.pause()
    return text()


async def test_a_backspace_and_the_next_key_in_one_read_both_count(server: DemoServer) -> None:
    app = make_app(server)
    async with app.run_test() as pilot:
        prompt = app.chat.query_one(PromptInput)
        typed = await typed_abc_then_backspace_x_y_in_one_read(pilot, prompt, lambda: prompt.text)
        assert typed == "abXY"


async def test_one_line_boxes_apply_a_backspace_and_the_next_key_in_order() -> None:
    from textual.app import App, ComposeResult

    from ollama_tui.ui.widgets.keys import TypingInput

    class Box(App[None]):
        def compose(self) -> ComposeResult:
            yield TypingInput(id="box")

    app = Box()
    async with app.run_test() as pilot:
        box = app.query_one(TypingInput)
        assert (
            await typed_abc_then_backspace_x_y_in_one_read(pilot, box, lambda: box.value) == "abXY"
        )


def test_every_one_line_box_of_the_app_keeps_the_order() -> None:
    import ast
    from pathlib import Path

    screens = Path(__file__).parents[1] / "ollama_tui" / "ui" / "screens"
    for source in screens.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Input":
                raise AssertionError(f"{source.name}:{node.lineno} builds a plain Input")


async def test_the_prompts_own_change_messages_stop_at_the_prompt(
    server: DemoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing above the box listens to its Changed/SelectionChanged: each key's two
    messages are not dispatched to the screen and the app too (four dispatches a key)."""
    seen: list[tuple[str, str]] = []
    dispatch = MessagePump._dispatch_message

    async def counted(self: MessagePump, message: Message) -> None:
        if isinstance(message, TextArea.Changed | TextArea.SelectionChanged):
            seen.append((type(self).__name__, type(message).__name__))
        await dispatch(self, message)

    monkeypatch.setattr(MessagePump, "_dispatch_message", counted)
    app = make_app(server)
    async with app.run_test() as pilot:
        prompt = app.chat.query_one(PromptInput)
        await pilot.press(*"hi")
        await wait_until(pilot, lambda: prompt.text == "hi")
        await pilot.pause()
    assert {name for name, _ in seen} == {"PromptInput"}
    assert {kind for _, kind in seen} == {"Changed", "SelectionChanged"}


def shown_on(app: OllamaApp) -> TextTerminal:
    """A terminal the app writes to, as it would a real one."""
    terminal = TextTerminal(80, 24)
    app._display = lambda screen, renderable: terminal.write(renderable)  # type: ignore[method-assign]
    return terminal


def asked_of(screen: Screen[Any]) -> list[Message]:
    """The repaints and layouts `screen` is asked for from now on."""
    asked: list[Message] = []
    post = screen.post_message

    def noted(message: Message) -> bool:
        if isinstance(message, messages.Update | messages.Layout):
            asked.append(message)
        return post(message)

    screen.post_message = noted  # type: ignore[method-assign]
    return asked


async def typed_a(pilot: Pilot[None], prompt: PromptInput) -> None:
    """ "a" typed into the box, and everything it set off done."""
    await pilot.press("a")
    await wait_until(pilot, lambda: prompt.text == "a")
    await settle(pilot)


async def then_z(pilot: Pilot[None], prompt: PromptInput) -> None:
    """ "z" posted to the box as the app forwards a key, and everything it set off done."""
    prompt.post_message(events.Key("z", "z"))
    await wait_until(pilot, lambda: prompt.text == "az")
    await settle(pilot)


async def test_a_typed_key_is_painted_as_its_handling_ends(server: DemoServer) -> None:
    # Painted by the box (`paint_now`), not by the screen's tick after the box's idle
    # has told the screen: the screen is asked for nothing.
    app = make_app(server)
    terminal = shown_on(app)
    async with app.run_test(size=(80, 24)) as pilot:
        prompt = app.chat.query_one(PromptInput)
        await typed_a(pilot, prompt)
        asked, written = asked_of(app.chat), len(terminal.updates)
        await then_z(pilot, prompt)
        assert asked == []
        assert len(terminal.updates) == written + 1
        assert any("az" in row for row in terminal.rows())


async def test_keys_that_came_together_are_painted_once(server: DemoServer) -> None:
    app = make_app(server)
    terminal = shown_on(app)
    async with app.run_test(size=(80, 24)) as pilot:
        prompt = app.chat.query_one(PromptInput)
        await settle(pilot)
        written = len(terminal.updates)
        for character in "typed ahead":
            key = "space" if character == " " else character
            prompt.post_message(events.Key(key, character))
        await wait_until(pilot, lambda: prompt.text == "typed ahead")
        await settle(pilot)
        assert len(terminal.updates) == written + 1  # one frame, after the last key
        assert any("typed ahead" in row for row in terminal.rows())


async def test_a_typed_key_writes_the_boxs_text_rows_and_not_its_border(
    server: DemoServer,
) -> None:
    app = make_app(server)
    terminal = shown_on(app)
    async with app.run_test(size=(80, 24)) as pilot:
        prompt = app.chat.query_one(PromptInput)
        await typed_a(pilot, prompt)
        written = len(terminal.updates)
        await then_z(pilot, prompt)
        (frame,) = terminal.updates[written:]
        rows = {y for y, _, _ in frame.spans}
        box = prompt.region
        assert box.y + 1 in rows, "the text row was not written"
        assert box.y not in rows and box.bottom - 1 not in rows, "the border was written again"
        shown = terminal.rows()
        assert shown[box.y].lstrip().startswith("╭") and shown[box.bottom - 1].lstrip()[0] == "╰"
        assert "az" in shown[box.y + 1]


async def test_a_key_after_the_box_is_restyled_writes_its_border_too(server: DemoServer) -> None:
    # A new look (the focus, a theme) may change the border: the next key's frame has it.
    app = make_app(server)
    terminal = shown_on(app)
    async with app.run_test(size=(80, 24)) as pilot:
        prompt = app.chat.query_one(PromptInput)
        await typed_a(pilot, prompt)
        prompt.notify_style_update()
        written = len(terminal.updates)
        await then_z(pilot, prompt)
        rows = {y for frame in terminal.updates[written:] for y, _, _ in frame.spans}
        box = prompt.region
        assert {box.y, box.y + 1, box.bottom - 1} <= rows
