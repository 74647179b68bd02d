"""Snapshot tests: what the screen looks like, deterministic by construction.

The clock is fixed (every displayed time is 0 ms), animations and the cursor blink
are off, and each `run_before` waits for the stream's own end (or stall) event.
Look at a changed SVG before accepting it with `pytest --snapshot-update`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import Checkbox, Collapsible, Input, TextArea

from ollama_tui.demo import DemoServer, Fault
from ollama_tui.history.store import History
from ollama_tui.ui.app import OllamaApp
from ollama_tui.ui.screens.compare import CompareScreen
from ollama_tui.ui.screens.conversations import ConversationsScreen
from ollama_tui.ui.screens.dialogs import HelpScreen
from ollama_tui.ui.screens.model_picker import ModelPicker
from ollama_tui.ui.screens.models import ModelsScreen
from ollama_tui.ui.screens.settings import SettingsScreen
from ollama_tui.ui.widgets.chat_message import Notice
from ollama_tui.ui.widgets.prompt import PromptInput
from tests.uitools import make_app, replies, screen_text, send, wait_until

SIZE = (100, 32)
MARKDOWN_REPLY = (
    "## Results\n\n"
    "| transport | TTFC |\n|---|---|\n| aiohttp | 3 ms |\n| requests | 4 ms |\n\n"
    "```python\nasync def main() -> None:\n    print('你好，世界')\n```\n\n"
    "中文也可以：**流式**输出。 🦙\n"
)

SnapCompare = Callable[..., bool]


def steady(app: OllamaApp) -> None:
    app.chat.query_one(PromptInput).cursor_blink = False


def after(
    action: Callable[[Pilot[None], OllamaApp], Awaitable[None]], app: OllamaApp
) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run_before(pilot: Pilot[None]) -> None:
        steady(app)
        await wait_until(pilot, lambda: bool(app.models))
        await action(pilot, app)
        transcript = app.chat.query_one("#transcript", VerticalScroll)
        # Anchored at the bottom: fully scrolled once the content overflows, and settled:
        # the same height, position and screen on six checks in a row. A footer or a
        # table shown at the end of a reply is laid out frames later, which a loaded
        # machine shows (two checks a frame apart once let a 2-row shift through).
        settled: list[tuple[int, float, str]] = []

        def at_rest() -> bool:
            at_end = transcript.max_scroll_y == 0 or transcript.is_vertical_scroll_end
            now = (transcript.virtual_size.height, transcript.scroll_y, screen_text(app))
            settled.append(now)
            return at_end and len(settled) > 5 and all(s == now for s in settled[-6:])

        await wait_until(pilot, at_rest)
        await pilot.pause()

    return run_before


async def ask(pilot: Pilot[None], app: OllamaApp, text: str = "Show me the results") -> None:
    await send(pilot, text)
    await wait_until(pilot, lambda: bool(replies(app)) and app.chat.turn is None)


def test_empty_start_screen(server: DemoServer, snap_compare: SnapCompare) -> None:
    app = make_app(server, fixed_time=True)

    async def nothing(pilot: Pilot[None], app: OllamaApp) -> None:
        return None

    assert snap_compare(app, terminal_size=SIZE, run_before=after(nothing, app))


def test_finished_markdown_reply(server: DemoServer, snap_compare: SnapCompare) -> None:
    server.configure(reply=MARKDOWN_REPLY)
    app = make_app(server, fixed_time=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=after(ask, app))


def test_status_bar_mid_stream(server: DemoServer, snap_compare: SnapCompare) -> None:
    server.configure(reply="one two three four five six seven", fault=Fault.STALL, fault_after=4)
    app = make_app(server, fixed_time=True)

    async def stalled(pilot: Pilot[None], app: OllamaApp) -> None:
        await send(pilot, "Count for me")
        await wait_until(
            pilot, lambda: bool(replies(app)) and replies(app)[-1].text.count(" ") >= 3
        )

    assert snap_compare(app, terminal_size=SIZE, run_before=after(stalled, app))
    server.reset()


def test_error_in_the_chat(server: DemoServer, snap_compare: SnapCompare) -> None:
    app = make_app(server, fixed_time=True, model="llama3")

    async def failing(pilot: Pilot[None], app: OllamaApp) -> None:
        await send(pilot, "Hello?")
        await wait_until(pilot, lambda: bool(app.chat.query(Notice)))

    assert snap_compare(app, terminal_size=SIZE, run_before=after(failing, app))


def test_thinking_block(server: DemoServer, snap_compare: SnapCompare) -> None:
    server.configure(reply="Because light scatters.", thinking="Rayleigh scattering goes as 1/λ⁴.")
    app = make_app(server, fixed_time=True, model="demo-think")

    async def thinking(pilot: Pilot[None], app: OllamaApp) -> None:
        app.think = True
        app.chat.refresh_labels()
        await ask(pilot, app, "Why is the sky blue?")
        reply = replies(app)[-1]
        reply.query_one("#thinking", Collapsible).collapsed = False
        shown = reply.query_one("#thinking-text")
        await wait_until(pilot, lambda: shown.region.height > 0)

    assert snap_compare(app, terminal_size=SIZE, run_before=after(thinking, app))


def test_model_picker(server: DemoServer, snap_compare: SnapCompare) -> None:
    app = make_app(server, fixed_time=True)

    async def picker(pilot: Pilot[None], app: OllamaApp) -> None:
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPicker))

    assert snap_compare(app, terminal_size=SIZE, run_before=after(picker, app))


def test_help_screen(server: DemoServer, snap_compare: SnapCompare) -> None:
    app = make_app(server, fixed_time=True)

    async def help_screen(pilot: Pilot[None], app: OllamaApp) -> None:
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))

    assert snap_compare(app, terminal_size=(100, 40), run_before=after(help_screen, app))


def test_light_theme(server: DemoServer, snap_compare: SnapCompare) -> None:
    server.configure(reply=MARKDOWN_REPLY)
    app = make_app(server, fixed_time=True)

    async def light(pilot: Pilot[None], app: OllamaApp) -> None:
        app.theme = "textual-light"
        await ask(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=after(light, app))


def test_fits_80_by_24(server: DemoServer, snap_compare: SnapCompare) -> None:
    server.configure(reply=MARKDOWN_REPLY)
    app = make_app(server, fixed_time=True, transport="aiohttp")
    assert snap_compare(app, terminal_size=(80, 24), run_before=after(ask, app))


def test_finished_comparison(server: DemoServer, snap_compare: SnapCompare) -> None:
    server.configure(reply="Streams **compared**: `aiohttp` and `requests`.", token_rate=0)
    app = make_app(server, fixed_time=True)

    async def compared(pilot: Pilot[None]) -> None:
        steady(app)
        await wait_until(pilot, lambda: bool(app.models))
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        for box in screen.query(Checkbox).filter(".transport"):
            box.value = box.name in ("requests", "aiohttp")
        await pilot.press(*"Which is faster?", "enter")
        await wait_until(pilot, lambda: len(screen.outcomes) == 2 and not screen.running)
        screen.query_one("#compare-prompt", Input).cursor_blink = False
        # The summary table on screen, not only filled (it once lagged a frame under load).
        await wait_until(pilot, lambda: "server tok/s" in screen_text(app))
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=compared)


FIXED_NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def test_models_screen(server: DemoServer, snap_compare: SnapCompare) -> None:
    app = make_app(server, fixed_time=True)

    async def models(pilot: Pilot[None]) -> None:
        steady(app)
        await wait_until(pilot, lambda: bool(app.models))
        screen = ModelsScreen(clock=lambda: FIXED_NOW)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: bool(screen.names))
        details = screen.query_one("#details-text")
        await wait_until(pilot, lambda: "Context length" in str(details.content))
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=models)


def test_settings_screen(server: DemoServer, snap_compare: SnapCompare) -> None:
    app = make_app(server, fixed_time=True)

    async def settings(pilot: Pilot[None]) -> None:
        steady(app)
        await wait_until(pilot, lambda: bool(app.models))
        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        app.screen.query_one("#system", TextArea).load_text("You are terse.")
        app.screen.query_one("#system", TextArea).cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=settings)


def test_conversations_screen(
    server: DemoServer, snap_compare: SnapCompare, tmp_path: Path
) -> None:
    history, _ = History.open(tmp_path)
    for title, reply in (("Llamas of the Andes", "They graze."), ("Rust lifetimes", "Borrow.")):
        conversation = history.create_conversation(title=title, model="demo", transport="aiohttp")
        history.add_message(conversation, role="user", content=title)
        history.add_message(conversation, role="assistant", content=reply)
    history.close()
    # Fixed times, so "… ago" does not move with the day the test runs.
    with sqlite3.connect(tmp_path / "history.sqlite3") as db:
        db.execute("UPDATE conversations SET updated_at = 1767000000 + id * 60")
    app = make_app(server, fixed_time=True)
    app.data_dir = tmp_path

    async def conversations(pilot: Pilot[None]) -> None:
        steady(app)
        await wait_until(pilot, lambda: bool(app.models) and app.recorder.on)
        history = app.recorder.history
        assert history is not None
        screen = ConversationsScreen(history, clock=lambda: 1767000000 + 600)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: len(screen.shown) == 2)
        screen.query_one("#search", Input).cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=conversations)
