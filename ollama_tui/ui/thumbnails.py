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
import warnings
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image as PillowImage
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


MAX_PIXELS = 50_000_000
"""Larger images get no thumbnail (decoding one would take seconds and its memory)."""

SIDE = 480
"""Thumbnails are made at most this many pixels a side: a few dozen cells wide."""


def available() -> bool:
    """Whether the terminal draws pictures (once `prepare()` has found out)."""
    return _started and _ready.is_set() and _image_class is not None


def picture(source: bytes | Path) -> PillowImage | None:
    """A small copy of the image at `source`, or None if it cannot be had (gone,
    unreadable, huge). Slow for a large image: call it off the UI's loop."""
    from PIL import Image as Pillow

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Pillow.DecompressionBombWarning)
            image = Pillow.open(BytesIO(source) if isinstance(source, bytes) else source)
            if image.width * image.height > MAX_PIXELS:
                return None
            image.draft("RGB", (SIDE, SIDE))  # a JPEG decodes at a fraction of its size
            image.thumbnail((SIDE, SIDE))
            return image
    except (OSError, ValueError, SyntaxError, Pillow.DecompressionBombError):
        return None  # its name and size are shown anyway


def widget(small: PillowImage, classes: str = "") -> Widget | None:
    """The thumbnail widget for `small` (from `picture`), or None: the terminal cannot
    draw one, or `prepare()` was not called."""
    if not available() or _image_class is None:
        return None
    return _image_class(small, classes=classes)


def is_picture(shown: Widget) -> bool:
    """Whether `shown` is a thumbnail drawn in pixels (`widget`'s)."""
    return _image_class is not None and isinstance(shown, _image_class)  # type: ignore[arg-type]
