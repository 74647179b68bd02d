"""Where a reply's time went: F8 for the last reply, Enter or a click on any reply's
figures line, for replies just streamed and replies of a reopened conversation."""

from __future__ import annotations

from pathlib import Path

from ollama_tui.demo import DemoConfig
from ollama_tui.history.store import History
from ollama_tui.ui.app import OllamaApp
from ollama_tui.ui.screens.details import DetailsScreen
from ollama_tui.ui.widgets.figures_footer import FiguresFooter
from tests.uitools import replay_app, replies, screen_text, send_and_wait, settle, wait_until

# A reply that waited on a model load: 2.10 s to the first chunk, 1.80 s of it loading.
FIGURES = {"ttfc": 2.104, "ttft": 2.104, "total": 6.672, "chunks": 283, "tokens": 282,
           "tokens_per_s": 61.8, "outcome": "done"}  # fmt: skip
STATS = {
    "total_duration": 6_610_000_000,
    "load_duration": 1_800_000_000,
    "prompt_eval_count": 26,
    "prompt_eval_duration": 250_000_000,
    "eval_count": 282,
    "eval_duration": 4_535_599_000,
}


def keep_one(data_dir: Path) -> int:
    """A kept conversation of one exchange, with the figures above."""
    history, _ = History.open(data_dir)
    conversation = history.create_conversation(title="Why?", model="demo", transport="aiohttp")
    history.add_message(conversation, role="user", content="Why is the sky blue?")
    history.add_message(
        conversation,
        role="assistant",
        content="Rayleigh scattering.",
        model="demo",
        transport="aiohttp",
        figures=FIGURES,
        stats=STATS,
    )
    history.close()
    return conversation


async def reopen(pilot, app: OllamaApp, conversation: int) -> None:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: app.recorder.on and bool(app.models))
    kept = app.recorder.history
    assert kept is not None
    await app.chat.show_conversation(await kept.load(conversation))
    await wait_until(pilot, lambda: bool(replies(app)) and replies(app)[-1].waterfall is not None)


def shown(text: str, label: str) -> str:
    """The screen's line with `label` on it."""
    return next(line for line in text.splitlines() if label in line)


def details_text(app: OllamaApp) -> str:
    assert isinstance(app.screen, DetailsScreen)
    return screen_text(app)


async def test_f8_shows_the_last_replys_waterfall() -> None:
    # Replayed, with the fixed clock: the client's times are all 0 ms, while the
    # server's done line reports the 1.5 s first-token delay as its model load.
    app = replay_app(DemoConfig(token_rate=2000.0, first_token_delay=1.5, reply="one two three"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        await send_and_wait(pilot, app, "count")
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, DetailsScreen))
        await settle(pilot)
        text = details_text(app)
        assert "Where the time went" in text
        assert "httpx-async · demo · done" in text
        assert "1.50 s" in shown(text, "model load (server)")
        assert "0 ms !" in shown(text, "network, queue, client")
        said = " ".join(text.replace("│", " ").split())  # the notes wrap
        assert (
            "! The clocks disagree: the server's load + prompt exceed TTFC by 1.50 s; "
            "network + client shown as 0."
        ) in said
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.chat)


async def test_nothing_to_show_before_the_first_reply() -> None:
    app = replay_app(DemoConfig(token_rate=2000.0))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        await pilot.press("f8")
        await wait_until(pilot, lambda: bool(app._notifications))
        assert [n.message for n in app._notifications] == ["No finished reply yet."]
        assert app.screen is app.chat


async def test_a_reopened_reply_shows_its_kept_waterfall(tmp_path: Path) -> None:
    conversation = keep_one(tmp_path)
    app = replay_app(DemoConfig(token_rate=2000.0))
    app.data_dir = tmp_path
    async with app.run_test(size=(80, 24)) as pilot:
        await reopen(pilot, app, conversation)
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, DetailsScreen))
        await settle(pilot)
        text = details_text(app)
        for label, value in (
            ("TTFC (client clock)", "2.10 s"),
            ("model load (server)", "1.80 s"),
            ("prompt (26 tok)", "250 ms"),
            ("network, queue, client", "54 ms"),
            ("server eval (282 tok)", "4.54 s"),
            ("client receive", "4.57 s"),
            ("client added", "32 ms"),
        ):
            assert value in shown(text, label), label
        assert "server 62.2 tok/s · client 61.8 tok/s" in text
        assert "clocks disagree" not in text


async def test_enter_or_a_click_on_a_figures_line_opens_that_reply(tmp_path: Path) -> None:
    conversation = keep_one(tmp_path)
    app = replay_app(DemoConfig(token_rate=2000.0, reply="A newer answer."))
    app.data_dir = tmp_path
    async with app.run_test(size=(100, 30)) as pilot:
        await reopen(pilot, app, conversation)
        await send_and_wait(pilot, app, "and?")
        first, last = replies(app)
        assert first.waterfall is not None and last.waterfall is not None
        first.query_one(FiguresFooter).focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DetailsScreen))
        screen = app.screen
        assert isinstance(screen, DetailsScreen) and screen.waterfall is first.waterfall
        assert "aiohttp · demo · done" in details_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.chat)
        await settle(pilot)
        await pilot.click(last.query_one(FiguresFooter))
        await wait_until(pilot, lambda: isinstance(app.screen, DetailsScreen))
        screen = app.screen
        assert isinstance(screen, DetailsScreen) and screen.waterfall is last.waterfall
