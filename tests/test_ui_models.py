"""The models screen against the built-in server: list, details, pull, cancel, delete."""

from __future__ import annotations

from textual.widgets import DataTable, Input, ProgressBar, Static

from ollama_tui.core.models import ModelDetails
from ollama_tui.demo import DemoServer
from ollama_tui.ui.screens.dialogs import ConfirmScreen
from ollama_tui.ui.screens.models import ModelsScreen, details_text
from tests.uitools import make_app, server_models, wait_until


def names(server: DemoServer) -> list[str]:
    return [str(m["name"]) for m in server_models(server)]


async def open_models(pilot, app) -> ModelsScreen:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: bool(app.models))
    await pilot.press("f9")
    await wait_until(pilot, lambda: isinstance(app.screen, ModelsScreen))
    screen = app.screen
    assert isinstance(screen, ModelsScreen)
    await wait_until(pilot, lambda: bool(screen.names))
    return screen


def status(screen: ModelsScreen) -> str:
    return str(screen.query_one("#pull-status", Static).content)


async def test_lists_models_with_details_and_enter_uses_one(server: DemoServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_models(pilot, app)
        assert screen.names == names(server)
        table = screen.query_one("#model-table", DataTable)
        assert [str(c) for c in table.get_row_at(0)][1:5] == ["808 MB", "llama", "1.2B", "Q4_K_M"]
        details = screen.query_one("#details-text", Static)
        await wait_until(pilot, lambda: "Context length" in str(details.content))
        assert "Capabilities: completion" in str(details.content)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.screen is app.chat)
        assert app.model == names(server)[1]


async def test_pull_shows_progress_per_layer_and_adds_the_model(server: DemoServer) -> None:
    server.configure(pull_duration=0.5)
    app = make_app(server)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_models(pilot, app)
        await pilot.press("ctrl+l", *"qwen3:1.7b", "enter")
        await wait_until(pilot, lambda: "pulled" in status(screen))
        bars = list(screen.query(ProgressBar))
        assert len(bars) >= 1 and all(b.percentage == 1.0 for b in bars)
        await wait_until(pilot, lambda: "qwen3:1.7b" in screen.names)
        assert "qwen3:1.7b" in names(server)
        # Done with that name: an Enter now does not pull it again.
        assert screen.query_one("#pull-name", Input).value == ""
        assert app.focused is screen.query_one("#model-table", DataTable)


async def test_a_failed_pull_says_why_and_escape_cancels_one(server: DemoServer) -> None:
    server.configure(pull_duration=30.0)
    app = make_app(server)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_models(pilot, app)
        await pilot.press("ctrl+l", *"no-such-model", "enter")
        await wait_until(
            pilot, lambda: screen.pulling is None and "no-such-model:" in status(screen)
        )
        assert "does not exist" in status(screen)
        screen.query_one("#pull-name", Input).value = "gemma3:1b"
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.pulling is not None)
        (record,) = [r for r in server.log if b"gemma3" in r.body]
        # How much, how fast, how long still.
        await wait_until(pilot, lambda: "/s · " in status(screen) and " left" in status(screen))
        assert " of " in status(screen)
        await pilot.press("escape")
        await wait_until(pilot, lambda: "cancelled" in status(screen))
        assert record.finished.wait(2) and record.outcome == "disconnected"
        assert "gemma3:1b" not in names(server)
        assert app.screen is screen  # the first Escape only cancels


async def test_delete_asks_first(server: DemoServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_models(pilot, app)
        victim = screen.names[-1]
        screen.query_one("#model-table", DataTable).move_cursor(row=len(screen.names) - 1)
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        assert victim in names(server)
        # From the Pull box, with a name typed (F8 works from there too).
        await pilot.press("ctrl+l", *"llama3.2")
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: victim not in screen.names)
        assert victim not in names(server)
        # Back on the list, not in the Pull box (where Enter would pull again).
        table = screen.query_one("#model-table", DataTable)
        await wait_until(pilot, lambda: app.focused is table)
        await pilot.pause()
        assert app.focused is table


def test_details_text() -> None:
    text = details_text(
        ModelDetails.from_show(
            {
                "capabilities": ["completion"],
                "license": "MIT\nlong text",
                "parameters": "a 1\n\x1b[31mb 2",
            }
        )
    )
    assert "License: MIT" in text and "\x1b" not in text
    assert details_text(ModelDetails.from_show("nonsense")) == "No details."


async def test_a_model_name_with_markup_is_shown_as_text(server: DemoServer) -> None:
    from ollama_tui.demo.catalog import CatalogModel

    assert server._app is not None
    evil = "evil[/x][@click=app.quit]:latest"
    server._app.store.add(CatalogModel(evil, "llama", "1B", 1, 1, ("completion",), 2048))
    app = make_app(server)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_models(pilot, app)
        assert evil in screen.names
        table = screen.query_one("#model-table", DataTable)
        cells = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert evil in cells
        assert app.is_running
