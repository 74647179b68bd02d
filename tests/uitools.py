"""Helpers for Pilot and snapshot tests of the app against the built-in server, over
HTTP (`make_app`) or replayed with no socket (`replay_app`)."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pyte
import pytest
from rich.console import Console
from textual.app import App
from textual.content import Content
from textual.pilot import Pilot
from textual.reactive import reactive
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.demo import DemoConfig, DemoServer, RequestRecord
from ollama_tui.transports.replay import replaying
from ollama_tui.ui.app import OllamaApp
from ollama_tui.ui.paint_now import PaintsNow
from ollama_tui.ui.widgets.chat_message import AssistantMessage
from tests.replayed import DemoRecording

FIXED_TIME = 1000.0


def fixed_clock() -> float:
    """Every reading is the same instant: displayed times are 0 ms, always."""
    return FIXED_TIME


def make_app(
    server: DemoServer,
    *,
    transport: str = "httpx-async",
    model: str | None = "demo",
    fixed_time: bool = False,
    **settings: float,
) -> OllamaApp:
    connection = ConnectionSettings(base_url=server.url, **settings)  # type: ignore[arg-type]
    if fixed_time:
        server.configure(nominal_stats=True)
        connection = ConnectionSettings(
            base_url=server.url,
            clock=fixed_clock,
            **settings,  # type: ignore[arg-type]
        )
    app = OllamaApp(connection, model=model, transport=transport, demo=True)
    app.animation_level = "none"
    return app


def replay_app(
    config: DemoConfig | None = None,
    *,
    transport: str = "httpx-async",
    model: str | None = "demo",
) -> OllamaApp:
    """The app on the built-in server's answers replayed (`DemoRecording(config)`), no
    socket, with the fixed clock: the same events, figures included, on every run. Every
    transport name gets a replay standing in for it."""
    connection = ConnectionSettings(clock=fixed_clock)  # a loopback URL, as --demo's
    recording = DemoRecording(config)
    app = OllamaApp(
        connection, model=model, transport=transport, demo=True, transports=replaying(recording)
    )
    app.animation_level = "none"
    return app


async def wait_until(
    pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 10.0
) -> None:
    """Let the app run until `condition()` holds (checked after each pause)."""
    waited = 0.0
    while not condition():
        if waited >= timeout:
            raise AssertionError(f"condition not met within {timeout} s")
        await pilot.pause(0.02)
        waited += 0.02


def pending(app: App[Any]) -> list[str]:
    """What Textual still has to do that can change the current screen; empty once
    there is nothing: no message waiting for the app, the screen or any of its widgets,
    and none of the refreshes `Screen._on_idle` looks for (layout, scroll, repaint,
    recompose, dirty widgets), nor a `call_after_refresh` callback. Textual has no public
    flag for this; these are the private fields its own idle handling reads (8.2.8)."""
    screen = app.screen
    found = [
        f"messages for {pump!r}"
        for pump in (app, screen, *screen.walk_children())
        if pump._pending_message is not None or not pump._message_queue.empty()
    ]
    refreshes = ("_layout_required", "_scroll_required", "_repaint_required", "_recompose_required")
    found += [flag for flag in refreshes if getattr(screen, flag)]
    if screen._dirty_widgets:
        found.append("dirty widgets")
    if screen._callbacks:
        found.append("after-refresh callbacks")
    return found


async def settle(
    pilot: Pilot[None], condition: Callable[[], bool] = lambda: True, timeout: float = 10.0
) -> None:
    """Run the app until `condition()` holds with nothing `pending`: once the events that
    finish a picture have happened (a stream's end, a screen filled), what they set off
    (mounts, layouts, widgets measured after a layout) is done, and nothing is left to
    change the screen. Each round is a `pilot.pause`, which handles every message waiting
    at its start and then does the layout and repaint due."""
    await pilot.wait_for_scheduled_animations()
    try:
        await wait_until(pilot, lambda: condition() and not pending(pilot.app), timeout)
    except AssertionError:
        shown = screen_text(pilot.app)
        raise AssertionError(f"not settled: {pending(pilot.app)}; on screen:\n{shown}") from None


def replies(app: OllamaApp) -> list[AssistantMessage]:
    return list(app.chat.query(AssistantMessage))


async def send(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*text)
    await pilot.press("enter")


async def send_and_wait(pilot: Pilot[None], app: OllamaApp, text: str) -> AssistantMessage:
    before = replies(app)[-1:]  # not a count: a long chat shelves its oldest replies
    await send(pilot, text)
    await wait_until(pilot, lambda: replies(app)[-1:] != before and app.chat.turn is None)
    return replies(app)[-1]


def screen_text(app: App[Any]) -> str:
    """What the terminal shows now, as plain text, one line per row."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def chat_requests(server: DemoServer, n: int, timeout: float = 5.0) -> list[RequestRecord]:
    """The first `n` `/api/chat` requests (the app also calls `/api/tags` at start)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in server.log if r.path == "/api/chat"]
        if len(found) >= n:
            return found[:n]
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} chat requests, expected {n}")
        server.wait_for_requests(
            len(server.log) + 1, timeout=max(0.01, deadline - time.monotonic())
        )


def server_models(server: DemoServer) -> list[dict[str, object]]:
    with urllib.request.urlopen(f"{server.url}/api/tags", timeout=5) as response:
        return json.load(response)["models"]  # type: ignore[no-any-return]


def delete_model(server: DemoServer, name: str) -> None:
    request = urllib.request.Request(
        f"{server.url}/api/delete", data=json.dumps({"model": name}).encode(), method="DELETE"
    )
    with urllib.request.urlopen(request, timeout=5):
        pass


class TextTerminal:
    """A terminal (pyte's) fed every update the app writes: the text it shows."""

    def __init__(self, width: int, height: int) -> None:
        self.screen = pyte.Screen(width, height)
        self.stream = pyte.Stream(self.screen)
        self.console = Console(width=width, height=height, color_system=None)
        self.updates: list[Any] = []

    def write(self, update: Any) -> None:
        if update is None or not hasattr(update, "render_segments"):
            return
        self.updates.append(update)
        self.stream.feed(update.render_segments(self.console))

    def rows(self) -> list[str]:
        return [row.rstrip() for row in self.screen.display]


def contents_rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text of each `Content` Textual renders into lines from now on (the list
    grows as it does)."""
    rendered: list[str] = []
    render_strips = Content.render_strips

    def counted(self: Content, *args: Any, **kwargs: Any) -> list[Strip]:
        rendered.append(self.plain)
        return render_strips(self, *args, **kwargs)

    monkeypatch.setattr(Content, "render_strips", counted)
    return rendered


class Line(Widget):
    """One row whose text changes in place: a repaint, no layout."""

    DEFAULT_CSS = "Line { height: 1; }"
    text = reactive("")

    def __init__(self, text: str, id: str) -> None:
        super().__init__(id=id)
        self.text = text

    def render(self) -> str:
        return self.text


class PaintingScreen(PaintsNow, Screen[None]):
    """A screen whose repaints are painted as they are asked, as the chat screen's are
    (the compare view's are not)."""


class PaintingApp(App[None]):
    """An app on a `PaintingScreen` whose frames are written to a `TextTerminal` of
    `SIZE`: the test's own widgets in `compose`."""

    SIZE = (40, 8)

    def __init__(self) -> None:
        super().__init__()
        self.terminal = TextTerminal(*self.SIZE)

    def get_default_screen(self) -> Screen[Any]:
        return PaintingScreen()

    def _display(self, screen: Screen[Any], renderable: Any) -> None:
        self.terminal.write(renderable)
