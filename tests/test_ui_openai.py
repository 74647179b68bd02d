"""The chat screen and `--plain` over the OpenAI-compatible `/v1` of the built-in server."""

from __future__ import annotations

import io
import json

import pytest

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.demo import DemoServer, Fault
from ollama_tui.plain import PlainChat
from ollama_tui.transports import TRANSPORT_NAMES
from ollama_tui.ui.app import OllamaApp
from ollama_tui.ui.screens.models import ModelsScreen
from tests.uitools import screen_text, send, send_and_wait, wait_until

REPLY = "Over **SSE**, the same."


def v1_app(server: DemoServer, transport: str = "httpx-async") -> OllamaApp:
    settings = ConnectionSettings(base_url=server.url + "/v1", api="openai")
    app = OllamaApp(settings, model="demo", transport=transport, demo=True)
    app.animation_level = "none"
    return app


def v1_requests(server: DemoServer) -> list[dict[str, object]]:
    return [json.loads(r.body) for r in server.log if r.path == "/v1/chat/completions"]


@pytest.mark.parametrize("transport", TRANSPORT_NAMES)
async def test_a_chat_over_v1_streams_and_keeps_its_context(
    server: DemoServer, transport: str
) -> None:
    server.configure(reply=REPLY, token_rate=0)
    app = v1_app(server, transport)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))  # from /v1/models
        reply = await send_and_wait(pilot, app, "first")
        assert reply.text == REPLY
        assert reply.footer_text.startswith(f"{transport} · TTFC ")
        await send_and_wait(pilot, app, "second")
        second = v1_requests(server)[-1]["messages"]
        assert second == [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": REPLY},
            {"role": "user", "content": "second"},
        ]
        assert "OpenAI API (SSE)" in screen_text(app)


async def test_an_error_over_v1_is_one_sentence_and_the_prompt_comes_back(
    server: DemoServer,
) -> None:
    server.configure(fault=Fault.RATE_LIMIT)
    app = v1_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        await send(pilot, "try")
        await wait_until(pilot, lambda: "Rate limit reached" in screen_text(app))
        await wait_until(pilot, lambda: app.chat.turn is None)
        assert app.chat.query_one("#prompt").text == "try"  # type: ignore[attr-defined]


async def test_the_models_screen_says_what_v1_cannot_do(server: DemoServer) -> None:
    app = v1_app(server)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelsScreen))
        screen = app.screen
        assert isinstance(screen, ModelsScreen)
        await wait_until(pilot, lambda: bool(screen.names))
        assert not screen.query_one("#pull-row").display
        await pilot.press("f8")
        await wait_until(
            pilot,
            lambda: any("cannot delete models" in str(n.message) for n in app._notifications),
        )
        assert not [r for r in server.log if r.path.startswith("/api/")]


def test_plain_over_v1(server: DemoServer) -> None:
    server.configure(reply=REPLY, token_rate=0)
    out = io.StringIO()
    settings = ConnectionSettings(base_url=server.url + "/v1", api="openai")
    PlainChat(settings, "demo", "requests", out=out).run(["hello\n"])
    assert REPLY in out.getvalue()
    assert "requests · TTFC" in out.getvalue()


async def test_f5_says_which_settings_v1_cannot_carry(server: DemoServer) -> None:
    from textual.widgets import Input

    from ollama_tui.ui.screens.settings import SettingsScreen

    app = v1_app(server)
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_until(pilot, lambda: bool(app.models))
        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        hints = {i.id: i.placeholder for i in app.screen.query(Input)}
        assert hints["num_ctx"] == hints["keep_alive"] == "not sent over /v1"
        assert hints["temperature"] == "model default"
