"""The status bar's clock runs while a reply is awaited or stalls, and stops with it
(ui/widgets/status_bar.py: its timer only redraws when no text comes)."""

from __future__ import annotations

from ollama_tui.demo import DemoServer
from ollama_tui.ui.widgets.status_bar import TICK, State, StatusBar
from tests.uitools import make_app, send, wait_until


async def test_the_clock_runs_while_the_first_words_are_awaited_and_stops_after(
    server: DemoServer,
) -> None:
    server.configure(first_token_delay=2.0, reply="late words")
    app = make_app(server)
    async with app.run_test(size=(100, 30)) as pilot:
        bar = app.chat.query_one(StatusBar)
        seen: list[float] = []
        bar.watch(bar, "now", lambda now: seen.append(now), init=False)
        await send(pilot, "hello")
        await wait_until(pilot, lambda: bar.figures.state is State.WAITING)
        seen.clear()
        # Nothing arrives for two seconds: the clock is redrawn all the same. Wait for
        # the redraws to span a tick rather than count them: each tick sets `now` twice
        # (once through `figures`), and a busy machine stretches or bunches the ticks.
        await wait_until(pilot, lambda: len(seen) >= 2 and seen[-1] - seen[0] >= TICK)
        assert bar.figures.state is State.WAITING
        assert seen == sorted(seen)
        await wait_until(pilot, lambda: bar.figures.state is State.DONE)
        after = len(seen)
        await pilot.pause(5 * TICK)
        assert len(seen) == after, "the clock ran on after the reply"
