"""The real app on a pseudo-terminal, read as a person's terminal would read it.

Shared by `tests/perf/terminal_gaps.py` and `ollama_tui.bench.compare`: fork the app on
a pty of 120×40 with TERM=xterm-256color, and keep the text it writes (escape sequences
removed) while waiting for something to show. Quit it with `ollama_tui.bench.ui.quit_app`.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import termios
import time
from collections.abc import Mapping

ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-_]")


class Terminal:
    def __init__(
        self,
        argv: list[str],
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        size: tuple[int, int] = (120, 40),
    ) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            if cwd is not None:
                os.chdir(cwd)
            if env is not None:
                os.environ.clear()
                os.environ.update(env)
            os.environ["TERM"] = "xterm-256color"
            os.execvp(argv[0], argv)
        columns, rows = size
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.text = b""  # written since the last wait or drain, escape sequences removed
        # The last bytes written, escape sequences kept, never cleared: the last drawing
        # of a widget in them is what the screen shows now.
        self.raw = b""
        self.closed = False  # the app's side of the pty is gone: it has exited

    def read(self, timeout: float) -> tuple[float, int] | None:
        """One read: (its time, bytes), or None if nothing came within `timeout`."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return None
        at = time.perf_counter()
        try:
            data = os.read(self.fd, 1 << 16)
        except OSError:
            self.closed = True
            return None
        self.text = (self.text + ESCAPES.sub(b"", data))[-200_000:]
        self.raw = (self.raw + data)[-400_000:]
        return at, len(data)

    def wait_for(self, needle: bytes, timeout: float) -> list[float]:
        """Read until `needle` shows; the time of every read on the way."""
        times: list[float] = []
        deadline = time.perf_counter() + timeout
        self.text = b""
        while needle not in self.text:
            if self.closed:
                raise EOFError(f"the app exited before {needle!r} showed")
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{needle!r} not seen in {timeout} s")
            got = self.read(0.5)
            if got:
                times.append(got[0])
        return times

    def drain(self) -> None:
        """Read what is already written, without waiting, and forget its text."""
        while self.read(0.0):
            pass
        self.text = b""

    def send(self, keys: bytes) -> None:
        """Forget what was read so far (after a drain), then type `keys`."""
        self.drain()
        os.write(self.fd, keys)
