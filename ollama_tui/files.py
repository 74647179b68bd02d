"""Files the app writes for the user: readable by the user only."""

from __future__ import annotations

import os
from pathlib import Path


def _open_private(path: Path) -> int:
    # O_NOFOLLOW: never write through a planted link; fchmod: an existing file that was
    # readable by others is not any more.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600: conversations and prompts are private."""
    with os.fdopen(_open_private(path), "w", encoding="utf-8") as out:
        out.write(text)


def write_private_bytes(path: Path, data: bytes, *, sync: bool = False) -> None:
    """Write `data` to `path` with mode 0600, as `write_private`; with `sync`, on the
    disk before this returns (a file that something else will point to)."""
    with os.fdopen(_open_private(path), "wb") as out:
        out.write(data)
        if sync:
            out.flush()
            os.fsync(out.fileno())
