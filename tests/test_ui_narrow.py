"""Small terminals: usable at 80×24, legible below (60×20)."""

from __future__ import annotations

from textual.widgets import Button

from ollama_tui.demo import DemoServer
from ollama_tui.transports import TRANSPORT_NAMES
from ollama_tui.ui.screens.compare import CompareScreen
from ollama_tui.ui.screens.settings import SettingsScreen
from tests.uitools import make_app, screen_text, wait_until


async def test_at_80_by_24_the_footer_keeps_help(server: DemoServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "esc Stop" in screen_text(app))
        footer = next(line for line in screen_text(app).splitlines() if "esc Stop" in line)
        for key in ("esc Stop", "^t Transport", "^l Model", "f1 Help", "^q Quit"):
            assert key in footer, footer


async def test_at_60_by_20_settings_save_and_cancel_can_be_reached(server: DemoServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        save = app.screen.query_one("#save", Button)
        while app.focused is not save:
            await pilot.press("tab")
        await pilot.pause()
        assert "Save (^s)" in screen_text(app), "focused, it is scrolled into view"


async def test_at_60_by_20_every_transport_name_is_whole(server: DemoServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        await pilot.pause()
        text = screen_text(app)
        for name in TRANSPORT_NAMES:
            assert f"▌ {name}" in text, name
