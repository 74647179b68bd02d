"""Images kept with the messages they were sent with: files beside the database.

An image is kept once however many messages carry it: its bytes in a file named by
their sha256, `images/<sha256>.<ext>` beside history.sqlite3, its facts in the `images`
table and each use in `message_images` (schema version 4). Another database file (a
fresh one used beside a database that could not be opened) keeps its images in
`<its name>-images/`, so that each database only ever removes its own files. A history
in memory keeps them in memory.

Files are written, and unused ones removed, only inside the database's write
transaction (`BEGIN IMMEDIATE`): another ollama-tui on the same database cannot add a
message using a file while it is being removed, and a file without a row is one whose
write was rolled back, safe to remove. The directory is private (0700), the files too
(0600), written under a temporary name and renamed, so a file by its final name is whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ollama_tui.core.images import Attachment, ImageInfo
from ollama_tui.files import write_private_bytes

DIR_NAME = "images"
"""The image directory of history.sqlite3 (the database `History.open` uses)."""

EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp", "bmp": "bmp", "tiff": "tif"}
"""A kept file's extension, by image format (`ImageInfo.format`)."""

_KEPT_NAME = re.compile(r"^([0-9a-f]{64})\.[a-z]+$")
_TEMPORARY_SUFFIX = ".tmp"


class ImageUnavailable(Exception):
    """A kept image whose file is gone or no longer holds it; the message is one
    sentence for the person."""


@dataclass(frozen=True, slots=True)
class KeptImage:
    """An image of a stored message, as the history keeps it."""

    name: str
    """The name it was attached under (its file name, usually)."""
    digest: str
    """sha256 of its bytes, hex."""
    format: str
    """A key of `core.images.ACCEPTED`: "png", "jpeg", …"""
    width: int
    height: int
    size: int
    """Bytes."""
    path: Path | None
    """The kept file; None when the history is in memory only."""

    @property
    def info(self) -> ImageInfo:
        return ImageInfo(self.format, self.width, self.height, self.size)

    def label(self) -> str:
        """As `Attachment.label`: "cat.png · PNG 800×600 · 120 KB"."""
        return f"{self.name} · {self.info.describe()}"

    def read(self) -> bytes:
        """The image's bytes from its file, checked against its digest.

        ImageUnavailable if the file is gone, unreadable, or holds other bytes."""
        if self.path is None:
            raise ImageUnavailable(f"{self.name} was kept in memory only.")
        return _read_checked(self.path, self.digest, self.name)


def _read_checked(path: Path, digest: str, name: str) -> bytes:
    try:
        # O_NOFOLLOW: what is read (and perhaps sent or exported) is our file, not
        # whatever a link put in its place points to.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as file:
            data = file.read()
    except OSError as error:
        reason = error.strerror or str(error)
        raise ImageUnavailable(f"{name} can no longer be read from {path} ({reason}).") from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise ImageUnavailable(f"{name} has changed in {path} since it was kept.")
    return data


def directory_for(database: Path) -> Path | None:
    """Where the images of the database file `database` go (None: in memory)."""
    if str(database) == ":memory:":
        return None
    # opening.DB_NAME, spelled out: opening needs records, which needs this module.
    if database.name == "history.sqlite3":
        return database.parent / DIR_NAME
    return database.parent / f"{database.stem}-{DIR_NAME}"


class ImageStore:
    """The images of one database: its rows (through the History's connection, inside
    the History's transactions) and its files."""

    def __init__(self, conn: sqlite3.Connection, directory: Path | None) -> None:
        self._conn = conn
        self.directory = directory
        """The image directory; None: images are kept in `_memory`."""
        self._memory: dict[str, bytes] = {}

    # -- files ----------------------------------------------------------------------

    def path(self, digest: str, fmt: str) -> Path | None:
        """Where the image `digest` in format `fmt` is kept (None: in memory)."""
        if self.directory is None:
            return None
        return self.directory / f"{digest}.{EXTENSIONS[fmt]}"

    def _make_directory(self, directory: Path) -> None:
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            mode = directory.stat().st_mode & 0o777
            if mode & 0o077:  # ours: take group and other access away
                os.chmod(directory, mode & 0o700)
        else:
            os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask

    def _holds(self, path: Path, data: bytes) -> bool:
        try:
            # A link, or anything but a regular file, is replaced.
            with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb") as file:
                return file.read() == data
        except OSError:
            return False

    def write(self, attachment: Attachment) -> None:
        """Keep the bytes of `attachment` (once: an intact file is left as it is)."""
        if attachment.info.format not in EXTENSIONS:
            raise ValueError(f"{attachment.info.format!r} is not an image format kept here")
        # The file's name must say what it holds: a digest given by the caller is
        # checked, not trusted.
        if hashlib.sha256(attachment.data).hexdigest() != attachment.digest:
            raise ValueError(f"the digest of {attachment.name} does not match its bytes")
        path = self.path(attachment.digest, attachment.info.format)
        if path is None:
            self._memory[attachment.digest] = attachment.data
            return
        self._make_directory(path.parent)
        if self._holds(path, attachment.data):
            return
        temporary = path.with_name(f".{path.name}.{os.getpid()}{_TEMPORARY_SUFFIX}")
        try:
            # Synced: the row committed next says the file is there.
            write_private_bytes(temporary, attachment.data, sync=True)
            os.replace(temporary, path)  # replaces a link itself, never its target
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise

    def read(self, digest: str, fmt: str, name: str) -> bytes:
        """The bytes of a kept image, checked; ImageUnavailable if they cannot be had."""
        path = self.path(digest, fmt)
        if path is None:
            try:
                return self._memory[digest]
            except KeyError:
                raise ImageUnavailable(f"{name} is no longer kept.") from None
        return _read_checked(path, digest, name)

    def _sweep_files(self, used: set[str]) -> list[str]:
        if self.directory is None:
            gone = [digest for digest in self._memory if digest not in used]
            for digest in gone:
                del self._memory[digest]
            return gone
        removed: list[str] = []
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            return removed
        for entry in entries:
            kept = _KEPT_NAME.match(entry.name)
            # Temporary files are left behind only by a write that failed or was cut
            # off: writes happen under the lock this sweep holds.
            stale = entry.name.startswith(".") and entry.name.endswith(_TEMPORARY_SUFFIX)
            if (kept and kept[1] not in used) or stale:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                if kept:
                    removed.append(kept[1])
        return removed

    # -- rows (called inside History's write transactions) ---------------------------

    def link(self, message_id: int, images: Sequence[Attachment]) -> None:
        """Keep `images` as the images of the new message `message_id`, in order."""
        for position, image in enumerate(images):
            self.write(image)
            info = image.info
            self._conn.execute(
                "INSERT INTO images (digest, format, width, height, bytes) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (digest) DO NOTHING",
                (image.digest, info.format, info.width, info.height, info.size),
            )
            self._conn.execute(
                "INSERT INTO message_images (message_id, position, digest, name)"
                " VALUES (?, ?, ?, ?)",
                (message_id, position, image.digest, image.name),
            )

    def drop_unused(self, digests: Iterable[str]) -> None:
        """Delete the rows of those of `digests` that no message uses any more."""
        self._conn.executemany(
            "DELETE FROM images WHERE digest = ?"
            " AND NOT EXISTS (SELECT 1 FROM message_images WHERE digest = images.digest)",
            ((digest,) for digest in digests),
        )

    def used_by(self, low: int, high: int) -> list[str]:
        """The images used by messages `low` to `high` (one conversation)."""
        rows = self._conn.execute(
            "SELECT DISTINCT digest FROM message_images WHERE message_id BETWEEN ? AND ?",
            (low, high),
        )
        return [digest for (digest,) in rows]

    def remove_unreferenced(self) -> list[str]:
        """Remove the files of images no row names (after a conversation is deleted, or
        left by a write that was rolled back); returns their digests. Takes the write
        lock (its own transaction): no other writer can be adding one meanwhile."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            used = {digest for (digest,) in self._conn.execute("SELECT digest FROM images")}
            removed = self._sweep_files(used)
        finally:
            self._conn.execute("COMMIT")  # nothing was written: this only ends it
        return removed

    # -- reading ----------------------------------------------------------------------

    def of_messages(self, low: int, high: int) -> dict[int, tuple[KeptImage, ...]]:
        """The images of messages `low` to `high`, by message id, each in order."""
        found: dict[int, list[KeptImage]] = {}
        for message_id, name, digest, fmt, width, height, size in self._conn.execute(
            "SELECT l.message_id, l.name, i.digest, i.format, i.width, i.height, i.bytes"
            " FROM message_images AS l JOIN images AS i ON i.digest = l.digest"
            " WHERE l.message_id BETWEEN ? AND ? ORDER BY l.message_id, l.position",
            (low, high),
        ):
            path = self.path(digest, fmt) if fmt in EXTENSIONS else None
            kept = KeptImage(name, digest, fmt, width, height, size, path)
            found.setdefault(message_id, []).append(kept)
        return {message_id: tuple(kept) for message_id, kept in found.items()}

    def format_of(self, digest: str) -> str:
        """The format of the kept image `digest`; KeyError if no message uses it."""
        row = self._conn.execute("SELECT format FROM images WHERE digest = ?", (digest,)).fetchone()
        if row is None:
            raise KeyError(digest)
        fmt: str = row[0]
        return fmt

    def attachments(self, images: Sequence[KeptImage]) -> list[Attachment]:
        """`images` with their bytes, as the attachments they were: to send again when a
        reopened conversation goes on. ImageUnavailable if one cannot be read."""
        found = []
        for image in images:
            data = self.read(image.digest, image.format, image.name)
            attachment = Attachment(image.name, data, image.info, image.digest)
            attachment.base64()  # encoded here, on the history's thread, as it is sent
            found.append(attachment)
        return found
