"""Loaded into the app by `python -m ollama_tui.bench.frames` (a `sitecustomize` on the
app's PYTHONPATH): times each of the screen's frames with the main thread's CPU clock,
notes what the frame found to do, and writes them all when the app exits."""

from __future__ import annotations

import atexit
import json
import time
from pathlib import Path

from textual.screen import Screen

ENV = "OLLAMA_TUI_FRAMES"
"""The file the frames are written to (JSON: [[monotonic, kind, cpu seconds], ...])."""


def kind(screen: Screen[object]) -> str:
    """What a frame is about to do: a layout or not, and the widgets it repaints."""
    dirty = "+".join(sorted({type(widget).__name__ for widget in screen._dirty_widgets}))
    return ("layout " if screen._layout_required else "") + (dirty or "-")


def install(out: str) -> None:
    frames: list[tuple[float, str, float]] = []
    original = Screen._on_timer_update

    def timed(self: Screen[object]) -> None:
        what, started = kind(self), time.thread_time()
        original(self)
        frames.append((time.monotonic(), what, time.thread_time() - started))

    Screen._on_timer_update = timed  # type: ignore[method-assign, assignment]
    atexit.register(lambda: Path(out).write_text(json.dumps(frames)))
