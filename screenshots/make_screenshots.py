"""Regenerate the SVG screenshots in this folder: `python screenshots/make_screenshots.py`.

Runs the real app headless against the built-in server (real clock, so the figures
are what this machine measured at the time), drives it like a person would, and
saves one SVG per state.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Collapsible

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.demo import DemoConfig, DemoServer, Fault
from ollama_tui.ui.app import OllamaApp
from ollama_tui.ui.screens.compare import CompareScreen
from ollama_tui.ui.screens.conversations import ConversationsScreen
from ollama_tui.ui.screens.details import DetailsScreen
from ollama_tui.ui.screens.model_picker import ModelPicker
from ollama_tui.ui.screens.models import ModelsScreen
from ollama_tui.ui.widgets.chat_message import AssistantMessage, Notice
from ollama_tui.ui.widgets.prompt import PromptInput

HERE = Path(__file__).parent
SIZE = (110, 34)

Scene = Callable[[Pilot[None], OllamaApp, DemoServer], Awaitable[None]]


async def until(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 30) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise TimeoutError("the app never reached the expected state")


def idle(app: OllamaApp) -> bool:
    return app.chat.turn is None and bool(app.chat.query(AssistantMessage))


async def ask(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*text)
    await pilot.press("enter")


async def markdown_reply(pilot: Pilot[None], app: OllamaApp, server: DemoServer) -> None:
    await ask(pilot, "Show me some python code")
    await until(pilot, lambda: idle(app))


async def images(pilot: Pilot[None], app: OllamaApp, server: DemoServer) -> None:
    # demo-vision answers from the bytes it received; the next two wait as chips.
    from io import BytesIO

    from PIL import Image

    from ollama_tui.core.images import Attachment

    def picture(name: str, size: tuple[int, int], kind: str) -> Attachment:
        out = BytesIO()
        Image.new("RGB", size, (180, 40, 40)).save(out, kind)
        return Attachment.of(name, out.getvalue())

    app.set_model("demo-vision")
    await app.chat.add_attachments([picture("screenshot.png", (1280, 800), "PNG")])
    await ask(pilot, "What is in this screenshot?")
    await until(pilot, lambda: idle(app))
    await app.chat.add_attachments(
        [picture("holiday.jpg", (800, 600), "JPEG"), picture("chart.webp", (320, 200), "WEBP")]
    )


async def streaming(pilot: Pilot[None], app: OllamaApp, server: DemoServer) -> None:
    server.configure(fault=Fault.STALL, fault_after=30)
    await ask(pilot, "Write a markdown table")
    await until(pilot, lambda: len(app.chat.query(AssistantMessage).last().text) > 60)
    await pilot.pause(0.5)


async def thinking(pilot: Pilot[None], app: OllamaApp, server: DemoServer) -> None:
    app.set_model("demo-think:latest")
    app.think = True
    app.chat.refresh_labels()
    await ask(pilot, "Why is the sky blue?")
    await until(pilot, lambda: idle(app))
    reply = app.chat.query(AssistantMessage).last()
    reply.query_one("#thinking", Collapsible).collapsed = False
    await until(pilot, lambda: reply.query_one("#thinking-text").region.height > 0)


async def error(pilot: Pilot[None], app: OllamaApp, server: DemoServer) -> None:
    app.set_model("llama3")
    await ask(pilot, "Hello?")
    await until(pilot, lambda: bool(app.chat.query(Notice)))


async def welcome(pilot: Pilot[None], app: OllamaApp, server: DemoServer) -> None:
    await pilot.pause(0.2)  # the first screen: what to do, before any message


async def details(pilot: Pilot[None], app: OllamaApp, server: DemoServer) -> None:
    await ask(pilot, "Why is the sky blue?")
    await until(pilot, lambda: idle(app))
    await pilot.press("f8")
    await until(pilot, lambda: isinstance(app.screen, DetailsScreen))


async def model_picker(pilot: Pilot[None], app: OllamaApp, server: DemoServer) -> None:
    await pilot.press("ctrl+l")
    await until(pilot, lambda: isinstance(app.screen, ModelPicker))


async def help_screen(pilot: Pilot[None], app: OllamaApp, server: DemoServer) -> None:
    await pilot.press("f1")
    await pilot.pause(0.2)


async def compare(pilot: Pilot[None], app: OllamaApp, server: DemoServer) -> None:
    app.chat.query_one(PromptInput).load_text("Write a markdown table")
    await pilot.press("f2")
    await until(pilot, lambda: isinstance(app.screen, CompareScreen))
    screen = app.screen
    assert isinstance(screen, CompareScreen)
    await pilot.press("enter")
    await until(pilot, lambda: len(screen.outcomes) == 4 and not screen.running)
    await until(pilot, lambda: screen.query_one("#compare-summary").region.height > 0)


async def models(pilot: Pilot[None], app: OllamaApp, server: DemoServer) -> None:
    server.configure(pull_duration=30.0)
    await pilot.press("f9")
    await until(pilot, lambda: isinstance(app.screen, ModelsScreen))
    screen = app.screen
    assert isinstance(screen, ModelsScreen)
    await until(pilot, lambda: bool(screen.names))
    await pilot.press("ctrl+l", *"qwen3:1.7b", "enter")
    await until(pilot, lambda: len(screen.bars) >= 1)
    await pilot.pause(3)


async def conversations(pilot: Pilot[None], app: OllamaApp, server: DemoServer) -> None:
    server.configure(token_rate=0)
    await until(pilot, lambda: app.recorder.on)
    for prompt in ("Show me some python code", "Write a markdown table", "Why is the sky blue?"):
        await ask(pilot, prompt)
        await until(pilot, lambda: idle(app))
        await pilot.press("ctrl+n")
    await app.recorder.flush()
    await pilot.press("f3")
    await until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
    await until(pilot, lambda: len(app.screen.shown) == 3)  # type: ignore[attr-defined]
    await pilot.press(*"table")
    await until(pilot, lambda: len(app.screen.shown) == 1)  # type: ignore[attr-defined]


SCENES: dict[str, Scene] = {
    "welcome": welcome,
    "chat-markdown": markdown_reply,
    "chat-streaming": streaming,
    "thinking": thinking,
    "error": error,
    "details": details,
    "model-picker": model_picker,
    "help": help_screen,
    "compare": compare,
    "models": models,
    "conversations": conversations,
    "images": images,
}


async def shoot(name: str, scene: Scene) -> None:
    with (
        DemoServer(DemoConfig(token_rate=60.0, first_token_delay=0.15)) as server,
        tempfile.TemporaryDirectory() as data,
    ):
        app = OllamaApp(
            ConnectionSettings(base_url=server.url), model="demo", demo=True, data_dir=Path(data)
        )
        app.animation_level = "none"
        async with app.run_test(size=SIZE) as pilot:
            app.chat.query_one(PromptInput).cursor_blink = False
            await until(pilot, lambda: bool(app.models))
            await scene(pilot, app, server)
            await pilot.pause(0.2)
            app.save_screenshot(str(HERE / f"{name}.svg"))
            print(f"screenshots/{name}.svg")


async def main() -> None:
    for name, scene in SCENES.items():
        await shoot(name, scene)


if __name__ == "__main__":
    asyncio.run(main())
