"""Images a person attaches: read from files (a path typed, pasted, dropped or picked),
checked, and held until the message they belong to is sent.

Every refusal is an `ImageError` whose message is one sentence for the person; nothing
they typed or attached before is dropped by it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from ollama_tui.core.images import (
    EXTENSIONS,
    MAX_IMAGE_BYTES,
    Attachment,
    ImageError,
    pasted_paths,
    too_large,
)


def resolve(path: str) -> Path:
    """`~` expanded; relative paths are from the current directory."""
    return Path(os.path.expanduser(path.strip()))


def load(path: str | Path) -> Attachment:
    """The image at `path`, checked; ImageError with a sentence if it cannot be sent."""
    where = resolve(path) if isinstance(path, str) else path
    name = where.name or str(where)
    try:
        if where.is_dir():
            raise ImageError(f"{name} is a folder, not an image.")
        # Opened without waiting (a FIFO would block until written to), then checked to
        # be a plain file: a device or a pipe named .png is not read at all.
        fd = os.open(where, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as file:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ImageError(f"{name} is not a regular file.")
            data = file.read(MAX_IMAGE_BYTES + 1)  # bounded, whatever the size said
        if len(data) > MAX_IMAGE_BYTES:
            raise too_large(name, os.path.getsize(where))
    except FileNotFoundError:
        raise ImageError(f"No file at {where}.") from None
    except PermissionError:
        raise ImageError(f"{name} cannot be read (permission denied).") from None
    except OSError as error:
        raise ImageError(f"{name} cannot be read ({error.strerror or error}).") from None
    return Attachment.of(name, data)


def pasted_files(text: str) -> list[Path] | None:
    """The image files pasted `text` names (a dropped file is pasted as its path), if it
    is nothing but paths of existing files named as images; None: it stays text.
    Only names are looked at here (no file is read): `load` checks the bytes."""
    for paths in pasted_paths(text):
        where = [resolve(p) for p in paths]
        if all(w.suffix.lower() in EXTENSIONS and w.is_file() for w in where):
            return where
    return None


class Attachments:
    """The images waiting for the next message, in the order they were added; the
    same image twice is kept once."""

    def __init__(self) -> None:
        self.items: list[Attachment] = []

    def add(self, attachment: Attachment) -> bool:
        """False if this image (same bytes) is attached already."""
        if any(a.digest == attachment.digest for a in self.items):
            return False
        self.items.append(attachment)
        return True

    def extend(self, attachments: Iterable[Attachment]) -> int:
        return sum(self.add(a) for a in attachments)

    def remove(self, digest: str) -> None:
        self.items = [a for a in self.items if a.digest != digest]

    def take(self) -> tuple[Attachment, ...]:
        """All of them, for the message being sent; none wait any more."""
        taken, self.items = tuple(self.items), []
        return taken

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)
