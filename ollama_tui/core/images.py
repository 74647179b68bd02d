"""Images a person attaches to a message: what they are, and which pasted text names them.

Pure: bytes in, facts out (Pillow reads the header from memory; nothing is decoded
whole). Reading files is `session.attachments`' work.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import shlex
import warnings
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from PIL import Image, UnidentifiedImageError

from ollama_tui.core.protocol import Verbatim

MAX_IMAGE_BYTES = 20 * 1024 * 1024
"""Larger files are refused: Ollama's request body would be tens of MB more."""

ACCEPTED = {"png": "PNG", "jpeg": "JPEG", "webp": "WebP", "bmp": "BMP", "tiff": "TIFF"}
"""Formats sent as they are: what Ollama's runner decodes (model/model.go registers PNG,
JPEG, BMP, TIFF and WebP; a GIF is a 500, "image: unknown format"). The key is ours."""

EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".avif")
"""Names the file picker lists: GIF, HEIC and AVIF are shown, and refused with a reason."""


class ImageError(ValueError):
    """A file that cannot be attached; the message is one sentence for the person."""


@dataclass(frozen=True, slots=True)
class ImageInfo:
    format: str
    """A key of ACCEPTED: "png", "jpeg", …"""
    width: int
    height: int
    size: int
    """Bytes."""

    def describe(self) -> str:
        """ "PNG 800×600 · 120 KB"."""
        kind = ACCEPTED.get(self.format, self.format.upper())
        return f"{kind} {self.width}×{self.height} · {human_size(self.size)}"


@dataclass(frozen=True, slots=True)
class Attachment:
    """An image to send with a message, as the person chose it."""

    name: str
    data: bytes = field(repr=False)
    info: ImageInfo
    digest: str
    """sha256 of `data`, hex: where the history keeps it."""
    _encoded: str = field(default="", init=False, repr=False, compare=False)

    @classmethod
    def of(cls, name: str, data: bytes) -> Attachment:
        """`data` checked (an image, a format sent as is, not too large), and encoded
        now: this runs where the file is read, off the UI's loop."""
        attachment = cls(name, data, identify(data, name), hashlib.sha256(data).hexdigest())
        attachment.base64()
        return attachment

    def base64(self) -> str:
        """As the request carries it (computed once)."""
        if not self._encoded:
            encoded = Verbatim(base64.b64encode(self.data).decode("ascii"))
            object.__setattr__(self, "_encoded", encoded)
        return self._encoded

    def label(self) -> str:
        """What a chip and the transcript show: "cat.png · PNG 800×600 · 120 KB"."""
        return f"{self.name} · {self.info.describe()}"


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def too_large(name: str, size: int) -> ImageError:
    limit = MAX_IMAGE_BYTES // (1024 * 1024)
    return ImageError(f"{name} is {human_size(size)}: images over {limit} MB are not sent.")


def identify(data: bytes, name: str = "the file") -> ImageInfo:
    """Format and size of an image held in `data`; ImageError with a sentence if it is
    too large, not an image, or in a format the server does not take."""
    if len(data) > MAX_IMAGE_BYTES:
        raise too_large(name, len(data))
    if not data:
        raise ImageError(f"{name} is empty.")
    try:
        with warnings.catch_warnings():
            # A huge declared size warns (decompression bomb); only the header is read.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = (image.format or "").lower()
                width, height = image.size
        # A camera's or phone's JPEG with a second picture (MPF: depth, a gain map) is
        # a JPEG to the server, which decodes the first.
        kind = _SAME_AS.get(kind, kind)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ImageError(f"{name} is not an image this app can read.") from None
    if kind not in ACCEPTED:
        accepted = ", ".join(ACCEPTED.values())
        shown = kind.upper() or "unknown"
        raise ImageError(f"{name} is a {shown} image: the server takes {accepted}.")
    return ImageInfo(kind, width, height, len(data))


_SAME_AS = {"mpo": "jpeg"}

_LOOKS_LIKE_PATH = re.compile(r"^(?:file://|~|/|\./|\.\./|[A-Za-z]:[\\/])")


def _as_path(word: str) -> str | None:
    if word.startswith("file://"):
        parts = urlsplit(word)
        if parts.netloc not in ("", "localhost"):
            return None
        word = unquote(parts.path)
    return word if _LOOKS_LIKE_PATH.match(word) else None


def _reading(words: list[str]) -> list[str] | None:
    paths = [_as_path(word) for word in words]
    return [p for p in paths if p is not None] if words and None not in paths else None


def pasted_paths(text: str) -> list[list[str]]:
    """Ways to read pasted `text` as nothing but file paths, most likely first: a dropped
    file, or several (quoted, backslash-escaped, `file://` URLs, one per line), or one
    path with unescaped spaces. Empty if it reads only as text."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines or len(text) > 64 * 1024:
        return []
    readings: list[list[str]] = []
    try:
        shell = _reading(shlex.split(" ".join(lines)))
    except ValueError:  # an unclosed quote: not a shell-quoted list
        shell = None
    for reading in (shell, _reading(lines)):
        if reading and reading not in readings:
            readings.append(reading)
    return readings
