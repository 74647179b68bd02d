"""The optional debug log: what streams did, never what was said.

Off by default. `ollama-tui --debug-log` writes to `debug.log` in the platformdirs user
log directory (`~/.local/state/ollama-tui/log/debug.log` on Linux), mode 0600. It
records requests and their outcome — endpoint, transport, model, timings, error kind —
and never a prompt, a reply, thinking text or an error's wording from the server.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import platformdirs

LOGGER = logging.getLogger("ollama_tui")


def default_path() -> Path:
    return platformdirs.user_log_path("ollama-tui") / "debug.log"


def enable(path: Path | None = None) -> Path:
    """Start writing the debug log to `path` (default `default_path()`); returns it."""
    path = path or default_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Created user-only before the handler opens it for appending.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    os.close(fd)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.DEBUG)
    return path


def disable() -> None:
    for handler in list(LOGGER.handlers):
        LOGGER.removeHandler(handler)
        handler.close()
    LOGGER.setLevel(logging.NOTSET)
