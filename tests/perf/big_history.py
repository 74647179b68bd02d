"""The app against a large history: start-up to first frame, then the conversations list
and a search, as a person would see them.

    python -m ollama_tui.bench.history --dir /tmp/hb   # builds 10,000 conversations once
    PYTHONPATH=. python tests/perf/big_history.py /tmp/hb
"""

from __future__ import annotations

import asyncio
import os
import pty
import select
import statistics
import sys
import time
from pathlib import Path

from textual.widgets import Input

from ollama_tui.bench.ui import quit_app
from ollama_tui.demo import DemoServer
from ollama_tui.ui.screens.conversations import ConversationsScreen
from tests.uitools import make_app, wait_until


def first_frame(data: Path) -> float:
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        args = [sys.executable, "-m", "ollama_tui", "--demo", "--data-dir", str(data)]
        os.execvp(sys.executable, args)
    started = time.perf_counter()
    seen = b""
    while b"demo server" not in seen and time.perf_counter() - started < 20:
        if select.select([fd], [], [], 0.5)[0]:
            seen += os.read(fd, 65536)
    took = time.perf_counter() - started
    quit_app(pid, fd)  # Ctrl+Q with the pty drained (else the app can block writing)
    os.close(fd)
    return took


async def in_app(data: Path) -> tuple[float, float]:
    with DemoServer() as server:
        app = make_app(server)
        app.data_dir = data
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.recorder.on)
            started = time.perf_counter()
            await pilot.press("f3")
            await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen))
            screen = app.screen
            assert isinstance(screen, ConversationsScreen)
            await wait_until(pilot, lambda: len(screen.shown) > 0, timeout=30)
            listed = time.perf_counter() - started
            before = list(screen.shown)
            started = time.perf_counter()
            screen.query_one("#search", Input).value = "python"  # one search
            await wait_until(pilot, lambda: screen.shown != before, timeout=30)
            searched = time.perf_counter() - started
            return listed, searched


def main() -> None:
    data = Path(sys.argv[1])
    frames = [first_frame(data) for _ in range(3)]
    print(f"start-up to first frame, median of 3: {statistics.median(frames) * 1000:.0f} ms")
    listed, searched = asyncio.run(in_app(data))
    print(f"F3 to a listed page: {listed * 1000:.0f} ms")
    print(f"a search ('python', 200 hits) to results on screen: {searched * 1000:.0f} ms")


if __name__ == "__main__":
    main()
