"""Loaded into the app by `python -m ollama_tui.bench.frames` (a `sitecustomize` on the
app's PYTHONPATH): times each of the screen's frames with the main thread's CPU clock,
notes what the frame found to do, and writes them all when the app exits.

A frame is painted in one of two places: Textual's update timer
(`Screen._on_timer_update`: layouts, and whatever `paint_now` leaves to it) and the
app's own `paint_now` as an append or a key ends (repaints only). Both are timed. The
wrappers keep the wrapped function's identity (`functools.wraps`): the app checks the
source of `Screen._on_timer_update` (`paint_now.ENABLED`) and would otherwise leave every
paint to the timer, so the probe would time another app than the one people run.
"""

from __future__ import annotations

import atexit
import functools
import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual.screen import Screen
from textual.widget import Widget

from ollama_tui.ui import paint_now

ENV = "OLLAMA_TUI_FRAMES"
"""The file the frames are written to (JSON: [[monotonic, kind, cpu seconds], ...])."""

NOW = "now "
"""The kind's prefix of a frame `paint_now` painted (not the timer)."""


def _names(widgets: Iterable[Widget]) -> str:
    return "+".join(sorted({type(widget).__name__ for widget in widgets}))


def kind(screen: Screen[object]) -> str:
    """What a timer's frame is about to do: a layout or not, and the widgets it repaints."""
    return ("layout " if screen._layout_required else "") + (_names(screen._dirty_widgets) or "-")


def asked(screen: Screen[object]) -> str:
    """The widgets `paint_now` is about to repaint, if it paints: those that asked, and
    any the screen holds dirty."""
    return NOW + _names(paint_now.asked_for_repaint(screen) | screen._dirty_widgets)


def install(out: str) -> None:
    frames: list[tuple[float, str, float]] = []
    on_timer = Screen._on_timer_update
    now = paint_now.paint_now

    @functools.wraps(on_timer)
    def timed(self: Screen[object]) -> None:
        what, started = kind(self), time.thread_time()
        on_timer(self)
        frames.append((time.monotonic(), what, time.thread_time() - started))

    @functools.wraps(now)
    def timed_now(screen: Screen[Any]) -> bool:
        what, started = asked(screen), time.thread_time()
        painted = now(screen)
        if painted:  # (else nothing was done: the timer paints)
            frames.append((time.monotonic(), what, time.thread_time() - started))
        return painted

    Screen._on_timer_update = timed  # type: ignore[method-assign, assignment]
    paint_now.paint_now = timed_now
    atexit.register(lambda: Path(out).write_text(json.dumps(frames)))
