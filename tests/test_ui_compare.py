"""The compare view driven with Pilot against the built-in server on loopback."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from textual.widgets import Checkbox, DataTable, Input

from ollama_tui.demo import DemoServer
from ollama_tui.transports import TRANSPORT_NAMES
from ollama_tui.ui.app import OllamaApp
from ollama_tui.ui.screens.compare import CompareScreen
from ollama_tui.ui.widgets.prompt import PromptInput
from tests.uitools import chat_requests, make_app, screen_text, wait_until

REPLY = "Compared **reply** with `code`."


async def open_compare(pilot, app: OllamaApp, transports: tuple[str, ...]) -> CompareScreen:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: bool(app.models))
    app.chat.query_one(PromptInput).load_text("Which client is fastest?")
    await pilot.press("f2")
    await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
    screen = app.screen
    assert isinstance(screen, CompareScreen)
    for box in screen.query(Checkbox).filter(".transport"):
        box.value = box.name in transports
    return screen


def summary_rows(screen: CompareScreen) -> list[list[str]]:
    table = screen.query_one("#compare-summary", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_two_transports_at_once_start_together_and_are_ranked(server: DemoServer) -> None:
    server.configure(reply=REPLY, token_rate=200.0, first_token_delay=0.2)
    app = make_app(server)
    chosen = ("requests", "aiohttp")
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_compare(pilot, app, chosen)
        # The chat's prompt box came along; Enter in the prompt runs.
        assert screen.query_one("#compare-prompt", Input).value == "Which client is fastest?"
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(screen.outcomes) == 2 and not screen.running)
        assert {o.transport for o in screen.outcomes} == set(chosen)
        assert all(o.ok for o in screen.outcomes)
        assert all(c.view is not None and c.view.text == REPLY for c in screen.columns)
        # A warm-up on each transport first (not streamed, one token), then both streams,
        # each on the connection its transport's warm-up opened.
        *warm, first, second = chat_requests(server, 4)
        streams = [first, second]
        assert all(json.loads(w.body)["options"] == {"num_predict": 1} for w in warm)
        assert all(json.loads(w.body)["stream"] is False for w in warm)
        assert {s.peer for s in streams} == {w.peer for w in warm} and len(warm) == 2
        assert all(
            json.loads(s.body)["messages"][-1]["content"] == "Which client is fastest?"
            for s in streams
        )
        # Launched together: both were sent before either's first chunk came back.
        sends = [o.timing.sent for o in screen.outcomes]
        firsts = [o.timing.first_chunk for o in screen.outcomes]
        assert max(sends) < min(f for f in firsts if f is not None)
        rows = summary_rows(screen)
        assert [r[1] for r in rows] == [
            o.transport for o in sorted(screen.outcomes, key=lambda o: o.timing.total or 0)
        ]
        assert all(r[2] == "1/1" for r in rows)
        assert screen.query_one("#compare-note").display  # OLLAMA_NUM_PARALLEL note


async def test_four_transports_one_at_a_time_rotate_the_order(server: DemoServer) -> None:
    server.configure(reply=REPLY, token_rate=0)
    app = make_app(server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_compare(pilot, app, TRANSPORT_NAMES)
        screen.query_one("#compare-sequential", Checkbox).value = True
        screen.query_one("#compare-warmup", Checkbox).value = False
        screen.query_one("#compare-runs", Input).value = "2"
        await pilot.click("#compare-run")
        await wait_until(pilot, lambda: len(screen.outcomes) == 8 and not screen.running)
        first, second = screen.outcomes[:4], screen.outcomes[4:]
        assert [o.transport for o in first] == list(TRANSPORT_NAMES)
        assert [o.transport for o in second] == [*TRANSPORT_NAMES[1:], TRANSPORT_NAMES[0]]
        # One after another: each was sent after the one before it ended.
        for before, after in zip(screen.outcomes, screen.outcomes[1:], strict=False):
            assert before.timing.ended is not None and after.timing.sent >= before.timing.ended
        assert not screen.query_one("#compare-note").display
        rows = summary_rows(screen)
        assert sorted(r[1] for r in rows) == sorted(TRANSPORT_NAMES)
        assert all(r[2] == "2/2" for r in rows)
        assert len(chat_requests(server, 8)) == 8  # no warm-up request


async def test_escape_cancels_every_column_and_nothing_is_ranked(server: DemoServer) -> None:
    server.configure(token_rate=5.0)
    app = make_app(server)
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_compare(pilot, app, ("httpx-sync", "httpx-async"))
        screen.query_one("#compare-warmup", Checkbox).value = False
        await pilot.press("enter")
        await wait_until(pilot, lambda: all(c.view and c.view.text for c in screen.columns))
        records = chat_requests(server, 2)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.running)
        assert [o.state for o in screen.outcomes] == ["stopped", "stopped"]
        for record in records:
            assert record.finished.wait(2) and record.outcome == "disconnected"
        # The text that arrived stays; no transport is ranked on a stopped run.
        assert all(c.view and c.view.text for c in screen.columns)
        assert [r[0] for r in summary_rows(screen)] == ["—", "—"]
        assert [r[2] for r in summary_rows(screen)] == ["0/1", "0/1"]
        # A second Escape goes back to the chat.
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.chat)


async def test_results_are_saved_as_user_only_json(server: DemoServer, tmp_path: Path) -> None:
    server.configure(reply=REPLY, token_rate=0)
    app = make_app(server)
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_compare(pilot, app, ("requests", "httpx-async"))
        screen.save_dir = tmp_path
        await pilot.press("ctrl+s")  # nothing to save yet: a warning, no file
        assert not list(tmp_path.iterdir())
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(screen.outcomes) == 2 and not screen.running)
        await pilot.press("ctrl+s")
        assert screen.saved is not None
        assert stat.S_IMODE(screen.saved.stat().st_mode) == 0o600
        data = json.loads(screen.saved.read_text())
        assert data["prompt"] == "Which client is fastest?"
        assert data["model"] == "demo" and data["mode"] == "concurrent"
        assert sorted(o["transport"] for o in data["outcomes"]) == ["httpx-async", "requests"]
        assert all(o["ttfc"] is not None and o["tokens"] > 0 for o in data["outcomes"])
        assert len(data["summary"]) == 2


async def test_one_transport_is_not_a_comparison(server: DemoServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_compare(pilot, app, ("aiohttp",))
        await pilot.press("enter")
        await pilot.pause()
        assert not screen.running and not screen.columns
        assert any("two to four" in n.message for n in app._notifications)
        assert chat_requests(server, 0) == []


async def test_an_unknown_model_fails_the_warm_up_clearly(server: DemoServer) -> None:
    app = make_app(server, model="no-such-model")
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        screen.query_one("#compare-prompt", Input).value = "hello"
        await pilot.press("enter")
        await wait_until(pilot, lambda: not screen.running and bool(app._notifications))
        assert any(
            "Warm-up failed" in n.message and "no-such-model" in n.message
            for n in app._notifications
        )
        assert screen.outcomes == []


async def test_escape_in_one_at_a_time_mode_stops_the_rest_too(server: DemoServer) -> None:
    server.configure(token_rate=5.0)
    app = make_app(server)
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_compare(pilot, app, ("requests", "aiohttp"))
        screen.query_one("#compare-sequential", Checkbox).value = True
        screen.query_one("#compare-warmup", Checkbox).value = False
        screen.query_one("#compare-runs", Input).value = "3"
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(c.view and c.view.text for c in screen.columns))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.running)
        assert [o.state for o in screen.outcomes] == ["stopped"]
        assert len(chat_requests(server, 1)) == 1
        assert len([r for r in server.log if r.path == "/api/chat"]) == 1


async def test_the_compare_streams_run_in_a_worker_that_ends_with_the_app(
    server: DemoServer,
) -> None:
    server.configure(reply=REPLY, token_rate=0)
    app = make_app(server)
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_compare(pilot, app, ("requests", "aiohttp"))
        process = app.compare_runner._process  # type: ignore[attr-defined]
        assert process is not None and process.poll() is None, "started with the view"
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(screen.outcomes) == 2 and not screen.running)
        assert all(o.ok for o in screen.outcomes)
        # Read in the worker, not on the app's threads: the chat's runner never made them
        # (its own is the app's default transport, for /api/tags).
        assert list(app.runner._transports) == ["httpx-async"]
    assert process.poll() == 0, "the worker ended with the app"


async def test_a_box_shows_whether_it_is_ticked_and_the_note_follows_the_mode(
    server: DemoServer,
) -> None:
    app = make_app(server)
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await open_compare(pilot, app, ("requests", "aiohttp"))
        await pilot.pause()
        text = screen_text(app)
        assert "▐X▌ requests" in text and "▐ ▌ httpx-sync" in text
        assert "▐ ▌ one at a time" in text and "Concurrent:" in text
        screen.query_one("#compare-sequential", Checkbox).value = True
        await pilot.pause()
        assert "▐X▌ one at a time" in screen_text(app)
        assert not screen.query_one("#compare-note").display
