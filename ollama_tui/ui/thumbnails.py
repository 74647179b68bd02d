"""Thumbnails of attached images, through textual-image: Kitty's graphics protocol,
Sixel, or coloured half blocks, as the terminal can show them. Nothing of an image
reaches the terminal except through that library.

textual-image asks the terminal what it can draw when it is first imported, which is
impossible once Textual runs: `prepare()` imports it on a thread while the app's own
modules load, and `settle()` waits for it before the app takes the terminal. Without a
terminal (tests, pipes) it draws with plain characters: then the transcript shows the
images' names only, as it does with `thumbnails = false`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.widget import Widget

_ready = threading.Event()
_image_class: Callable[..., Widget] | None = None
_started = False


def _load() -> None:
    global _image_class
    # It logs its probes' failures (a terminal that does not answer) with tracebacks:
    # with no logging set up, Python would print them over the screen.
    quiet = logging.getLogger("textual_image")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    try:
        from textual_image.renderable import Image as Best
        from textual_image.renderable.unicode import Image as Characters
        from textual_image.widget import Image

        if Best is not Characters:  # a terminal that draws pixels or half blocks
            _image_class = Image
    except Exception:  # any failure to probe the terminal: names only, no thumbnails
        _image_class = None
    finally:
        _ready.set()


def prepare() -> None:
    """Start probing the terminal (call before the app runs; once is enough)."""
    global _started
    if not _started:
        _started = True
        threading.Thread(target=_load, name="thumbnails", daemon=True).start()


def settle(timeout: float = 2.0) -> None:
    """Wait for the probe (if one started): Textual must not read the terminal while
    textual-image waits for its answers."""
    if _started:
        _ready.wait(timeout)


def widget(source: bytes | Path, classes: str = "") -> Widget | None:
    """A thumbnail of `source` (an image's bytes or its file), or None: the terminal
    cannot draw one, or `prepare()` was not called."""
    if not _started or not _ready.is_set() or _image_class is None:
        return None
    from PIL import Image as Pillow

    try:
        picture = Pillow.open(BytesIO(source) if isinstance(source, bytes) else source)
        picture.load()
    except (OSError, ValueError):
        return None  # the file is gone or unreadable: its name is shown anyway
    return _image_class(picture, classes=classes)
