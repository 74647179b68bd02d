"""Snapshot tests: what the screen looks like, deterministic by construction.

The app runs on the built-in server's answers replayed with no socket
(`transports/replay.py`: the recorded lines through the real decoder), with a fixed
clock (every displayed time is 0 ms), animations and the cursor blink off. So it gets
the same events, figures included, on every run. Each `run_before` waits for the events
that finish its picture (a stream's end, the reply's footer laid out, the transcript
at its anchor, a screen filled), then until nothing is left pending that could change
the screen (`uitools.settle`); pytest-textual-snapshot then pauses once more and takes
the SVG. Look at a changed SVG before accepting it with `pytest --snapshot-update`.

Two tests here take no snapshot: they make happen, every time, the frames drawn too
early that made the models and compare snapshots fail under load (`ui/textual_fixes.py`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from PIL import Image as PILImage
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import Checkbox, Collapsible, DataTable, Input, Static, TextArea

from ollama_tui.core.images import Attachment
from ollama_tui.demo import DemoConfig, Fault
from ollama_tui.history.store import History
from ollama_tui.ui.app import OllamaApp
from ollama_tui.ui.screens.compare import CompareScreen
from ollama_tui.ui.screens.conversations import ConversationsScreen
from ollama_tui.ui.screens.details import DetailsScreen
from ollama_tui.ui.screens.dialogs import HelpScreen
from ollama_tui.ui.screens.model_picker import ModelPicker
from ollama_tui.ui.screens.models import ModelsScreen
from ollama_tui.ui.screens.settings import SettingsScreen
from ollama_tui.ui.textual_fixes import apply as apply_textual_fixes
from ollama_tui.ui.widgets.attachments import Chip
from ollama_tui.ui.widgets.chat_message import Notice
from ollama_tui.ui.widgets.prompt import PromptInput
from tests.test_ui_details import keep_one, reopen
from tests.uitools import replay_app, replies, screen_text, send, settle, wait_until

SIZE = (100, 32)
MARKDOWN_REPLY = (
    "## Results\n\n"
    "| transport | TTFC |\n|---|---|\n| aiohttp | 3 ms |\n| requests | 4 ms |\n\n"
    "```python\nasync def main() -> None:\n    print('你好，世界')\n```\n\n"
    "中文也可以：**流式**输出。 🦙\n"
)

SnapCompare = Callable[..., bool]
Action = Callable[[Pilot[None], OllamaApp], Awaitable[None]]


def replayed(**config: Any) -> DemoConfig:
    """The server's answers as recorded: paced at 2,000 tokens/s, as the `server`
    fixture is, which is what the stats in the done line (server tok/s) report."""
    return DemoConfig(**{"token_rate": 2000.0, **config})


def steady(app: OllamaApp) -> None:
    app.chat.query_one(PromptInput).cursor_blink = False


async def started(pilot: Pilot[None], app: OllamaApp) -> None:
    """The start-up is over: the server's models are listed (its worker has ended)."""
    steady(app)
    await wait_until(pilot, lambda: bool(app.models))
    await app.workers.wait_for_complete()


def at_anchor(app: OllamaApp) -> bool:
    """The transcript is scrolled to its anchor: the newest text is in view (all of it
    is while it fits, which anchoring shows as a negative scroll offset)."""
    transcript = app.chat.query_one("#transcript", VerticalScroll)
    return transcript.max_scroll_y == 0 or transcript.is_vertical_scroll_end


def in_chat(action: Action, app: OllamaApp) -> Callable[[Pilot[None]], Awaitable[None]]:
    """`run_before` for the chat screen: start-up, `action`, then the transcript at its
    anchor with nothing left pending."""

    async def run_before(pilot: Pilot[None]) -> None:
        await started(pilot, app)
        await action(pilot, app)
        await settle(pilot, lambda: at_anchor(app))

    return run_before


async def nothing(pilot: Pilot[None], app: OllamaApp) -> None:
    return None


async def ask(pilot: Pilot[None], app: OllamaApp, text: str = "Show me the results") -> None:
    """Send `text`; return once the reply ended and its footer is laid out."""
    await send(pilot, text)
    await wait_until(pilot, lambda: bool(replies(app)) and app.chat.turn is None)
    footer = replies(app)[-1].query_one("#footer")
    await wait_until(pilot, lambda: footer.region.height > 0)


def test_empty_start_screen(snap_compare: SnapCompare) -> None:
    app = replay_app(replayed())
    assert snap_compare(app, terminal_size=SIZE, run_before=in_chat(nothing, app))


def test_finished_markdown_reply(snap_compare: SnapCompare) -> None:
    app = replay_app(replayed(reply=MARKDOWN_REPLY))
    assert snap_compare(app, terminal_size=SIZE, run_before=in_chat(ask, app))


def test_status_bar_mid_stream(snap_compare: SnapCompare) -> None:
    # The recording stops after four lines and stays open: the reply stalls there.
    words = "one two three four"
    app = replay_app(replayed(reply=f"{words} five six seven", fault=Fault.STALL, fault_after=4))

    async def stalled(pilot: Pilot[None], app: OllamaApp) -> None:
        await send(pilot, "Count for me")
        # Everything recorded before the stall is in the reply, and on screen.
        await wait_until(pilot, lambda: bool(replies(app)) and replies(app)[-1].text == words)
        await wait_until(pilot, lambda: words in screen_text(app))

    assert snap_compare(app, terminal_size=SIZE, run_before=in_chat(stalled, app))


def test_error_in_the_chat(snap_compare: SnapCompare) -> None:
    app = replay_app(replayed(), model="llama3")

    async def failing(pilot: Pilot[None], app: OllamaApp) -> None:
        await send(pilot, "Hello?")
        # The stream's end: the error is in the transcript, the prompt back in its box.
        await wait_until(pilot, lambda: app.chat.turn is None and bool(app.chat.query(Notice)))
        prompt = app.chat.query_one(PromptInput)
        await wait_until(pilot, lambda: prompt.text == "Hello?")

    assert snap_compare(app, terminal_size=SIZE, run_before=in_chat(failing, app))


def test_thinking_block(snap_compare: SnapCompare) -> None:
    config = replayed(reply="Because light scatters.", thinking="Rayleigh scattering goes as 1/λ⁴.")
    app = replay_app(config, model="demo-think")

    async def thinking(pilot: Pilot[None], app: OllamaApp) -> None:
        app.think = True
        app.chat.refresh_labels()
        await ask(pilot, app, "Why is the sky blue?")
        reply = replies(app)[-1]
        reply.query_one("#thinking", Collapsible).collapsed = False
        shown = reply.query_one("#thinking-text")
        await wait_until(pilot, lambda: shown.region.height > 0)

    assert snap_compare(app, terminal_size=SIZE, run_before=in_chat(thinking, app))


def test_model_picker(snap_compare: SnapCompare) -> None:
    app = replay_app(replayed())

    async def picker(pilot: Pilot[None], app: OllamaApp) -> None:
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPicker))

    assert snap_compare(app, terminal_size=SIZE, run_before=in_chat(picker, app))


def test_help_screen(snap_compare: SnapCompare) -> None:
    app = replay_app(replayed())

    async def help_screen(pilot: Pilot[None], app: OllamaApp) -> None:
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))

    assert snap_compare(app, terminal_size=(100, 40), run_before=in_chat(help_screen, app))


def test_light_theme(snap_compare: SnapCompare) -> None:
    app = replay_app(replayed(reply=MARKDOWN_REPLY))

    async def light(pilot: Pilot[None], app: OllamaApp) -> None:
        app.theme = "textual-light"
        await ask(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=in_chat(light, app))


def test_fits_80_by_24(snap_compare: SnapCompare) -> None:
    app = replay_app(replayed(reply=MARKDOWN_REPLY), transport="aiohttp")
    assert snap_compare(app, terminal_size=(80, 24), run_before=in_chat(ask, app))


def test_finished_comparison(snap_compare: SnapCompare) -> None:
    reply = "Streams **compared**: `aiohttp` and `requests`."
    app = replay_app(replayed(reply=reply, token_rate=0))

    async def compared(pilot: Pilot[None]) -> None:
        await started(pilot, app)
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        for box in screen.query(Checkbox).filter(".transport"):
            box.value = box.name in ("requests", "aiohttp")
        screen.query_one("#compare-prompt", Input).cursor_blink = False
        await pilot.press(*"Which is faster?", "enter")
        # Both streams ended, and the summary table they fill is on screen.
        await wait_until(pilot, lambda: len(screen.outcomes) == 2 and not screen.running)
        await settle(pilot, lambda: "before 1st" in screen_text(app))

    assert snap_compare(app, terminal_size=SIZE, run_before=compared)


FIXED_NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def test_models_screen(snap_compare: SnapCompare) -> None:
    app = replay_app(replayed())

    async def models(pilot: Pilot[None]) -> None:
        await started(pilot, app)
        screen = ModelsScreen(clock=lambda: FIXED_NOW)
        await app.push_screen(screen)
        # The list (/api/tags, /api/ps) and the first model's details (/api/show).
        await wait_until(pilot, lambda: bool(screen.names))
        details = screen.query_one("#details-text", Static)
        await settle(pilot, lambda: "Context length" in str(details.content))

    assert snap_compare(app, terminal_size=SIZE, run_before=models)


class OneTable(App[None]):
    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable()
        table.styles.height = 5  # fixed, as the models list's: adding rows resizes nothing
        table.add_columns("NAME", "SIZE")
        yield table


async def test_rows_drawn_before_the_widths_are_measured_are_drawn_again() -> None:
    """What made the models snapshot fail under load, made to happen: a frame drawn
    between `add_row` and the table's idle (where its column widths are measured)."""
    apply_textual_fixes()
    app = OneTable()
    async with app.run_test(size=(40, 6)) as pilot:
        table = app.query_one(DataTable)
        await pilot.pause()
        table.add_row("demo:latest", "807.7 MB")
        assert table.render_line(1).text.split() == ["demo", "807."]  # the early frame
        await pilot.pause()
        assert table.render_line(1).text.split() == ["demo:latest", "807.7", "MB"]


class HiddenTable(App[None]):
    """A summary as the compare view's: `height: auto`, hidden, shown once filled."""

    CSS = "#filler { height: 1fr; } DataTable { height: auto; max-height: 8; }"

    def compose(self) -> ComposeResult:
        yield Static("the columns", id="filler")
        table: DataTable[str] = DataTable(cursor_type="none")
        table.display = False
        yield table


async def test_a_table_laid_out_before_it_is_measured_is_laid_out_again() -> None:
    """What made the compare snapshot fail under load, made to happen: the screen laid
    out between showing a filled `height: auto` table and the table's idle."""
    apply_textual_fixes()
    app = HiddenTable()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(DataTable)
        await pilot.pause()
        table.add_columns("#", "transport")
        table.add_row("1", "requests")
        table.add_row("2", "aiohttp")
        table.display = True
        app.screen._refresh_layout()  # the early frame: nothing measured yet
        assert table.region.height == 0
        await pilot.pause()
        assert table.region.height == 3  # the header and two rows


def test_settings_screen(snap_compare: SnapCompare) -> None:
    app = replay_app(replayed())

    async def settings(pilot: Pilot[None]) -> None:
        await started(pilot, app)
        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        system = app.screen.query_one("#system", TextArea)
        system.load_text("You are terse.")
        system.cursor_blink = False
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=settings)


def test_conversations_screen(snap_compare: SnapCompare, tmp_path: Path) -> None:
    history, _ = History.open(tmp_path)
    for title, reply in (("Llamas of the Andes", "They graze."), ("Rust lifetimes", "Borrow.")):
        conversation = history.create_conversation(title=title, model="demo", transport="aiohttp")
        history.add_message(conversation, role="user", content=title)
        history.add_message(conversation, role="assistant", content=reply)
    history.close()
    # Fixed times, so "… ago" does not move with the day the test runs.
    with sqlite3.connect(tmp_path / "history.sqlite3") as db:
        db.execute("UPDATE conversations SET updated_at = 1767000000 + id * 60")
    app = replay_app(replayed())
    app.data_dir = tmp_path

    async def conversations(pilot: Pilot[None]) -> None:
        await started(pilot, app)
        assert app.recorder.on  # the start-up opened the history before listing models
        history = app.recorder.history
        assert history is not None
        screen = ConversationsScreen(history, clock=lambda: 1767000000 + 600)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: len(screen.shown) == 2)
        screen.query_one("#search", Input).cursor_blink = False
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=conversations)


def test_where_the_time_went(snap_compare: SnapCompare, tmp_path: Path) -> None:
    # A kept reply whose 2.10 s to the first chunk was mostly the model loading (1.80 s):
    # the figures are the history's, so they are the same on every run.
    conversation = keep_one(tmp_path)
    app = replay_app(replayed())
    app.data_dir = tmp_path

    async def details(pilot: Pilot[None]) -> None:
        await started(pilot, app)
        await reopen(pilot, app, conversation)
        # "Opened …" would go on a timer: taken away once it came.
        await wait_until(pilot, lambda: bool(app._notifications))
        app.clear_notifications()
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, DetailsScreen))
        await settle(pilot, lambda: "client added" in screen_text(app))

    assert snap_compare(app, terminal_size=(80, 24), run_before=details)


def test_images_as_chips_and_in_the_transcript(snap_compare: SnapCompare) -> None:
    # No terminal that draws pictures here: each image is its name, format and size.
    app = replay_app(replayed(reply="A red square on white."))

    def image(name: str, size: tuple[int, int], kind: str) -> Attachment:
        out = BytesIO()
        PILImage.new("RGB", size, (200, 30, 30)).save(out, kind)
        return Attachment.of(name, out.getvalue())

    async def attached(pilot: Pilot[None], app: OllamaApp) -> None:
        app.session.learn_vision(app.model or "", {"capabilities": ["completion", "vision"]})
        await app.chat.add_attachments([image("square.png", (64, 48), "PNG")])
        await ask(pilot, app, "What is in this picture?")
        await app.chat.add_attachments(
            [
                image("holiday photo.jpg", (800, 600), "JPEG"),
                image("chart.webp", (320, 200), "WEBP"),
            ]
        )
        await wait_until(pilot, lambda: len(app.chat.query(Chip)) == 2)

    assert snap_compare(app, terminal_size=SIZE, run_before=in_chat(attached, app))
