"""What a person's terminal receives: the bytes an app writes to a pty, read as they come.

- :class:`EscapeStripper` removes escape sequences from a byte stream cut anywhere: a
  sequence split between two reads is held back until it is complete.
- :class:`MarkerScan` notes when each marker (``w00001``…, see
  :mod:`ollama_tui.demo.numbered`) *first* shows in the text left, searching each read's
  text together with a tail of the previous one: a marker split between two writes, or
  between two spans of a line with a cursor move in between, is found once it is whole.
- :class:`PtyMeter` is a thread that does nothing but read the pty, take
  ``perf_counter()`` at each read and feed the scan; it also times the echo of a typed
  character (its first appearance after the key was written) and lets another thread
  wait for text to show. It reads until the app closes the terminal.
"""

from __future__ import annotations

import os
import re
import select
import threading
import time
from collections.abc import Callable, Collection

MARKER = re.compile(rb"(?<![A-Za-z])w[0-9]{5}(?![0-9])")  # a digit before: a marker ends there
_COMPLETE = re.compile(
    rb"\x1b\[[0-9:;<=>?]*[ -/]*[@-~]"  # CSI: cursor moves, colours, modes
    rb"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: titles, clipboard, hyperlinks
    rb"|\x1b[PX^_][^\x1b]*\x1b\\"  # DCS, SOS, PM, APC strings
    rb"|\x1b[ -/]*(?![\[\]PX^_])[0-~]"  # two-character sequences (ESC 7, ESC =, ESC ( B …)
)
_PARTIAL = re.compile(
    rb"\x1b(?:\[[0-9:;<=>?]*[ -/]*|\][^\x07\x1b]*\x1b?|[PX^_][^\x1b]*\x1b?|[ -/]*)\Z"
)
_HOLD_LIMIT = 1 << 16  # an unfinished sequence longer than this is not one: let it through


class EscapeStripper:
    """Escape sequences out, the rest kept, for a stream read in arbitrary pieces."""

    def __init__(self) -> None:
        self.pending = b""

    def feed(self, data: bytes) -> bytes:
        buf = self.pending + data
        self.pending = b""
        out: list[bytes] = []
        pos = 0
        while (esc := buf.find(b"\x1b", pos)) >= 0:
            out.append(buf[pos:esc])
            match = _COMPLETE.match(buf, esc)
            if match:
                pos = match.end()
                continue
            if len(buf) - esc < _HOLD_LIMIT and _PARTIAL.match(buf, esc):
                self.pending = buf[esc:]  # the rest of it comes with the next read
                return b"".join(out)
            pos = esc + 1  # a lone ESC: dropped
        out.append(buf[pos:])
        return b"".join(out)


class MarkerScan:
    """First appearance of each marker in a stream of writes."""

    def __init__(self, expected: Collection[bytes] | None = None, tail: int = 64) -> None:
        self.expected = set(expected) if expected is not None else None
        self.first: dict[bytes, float] = {}
        self.stripper = EscapeStripper()
        self.tail = b""
        self.tail_size = tail

    def feed(self, data: bytes, at: float) -> bytes:
        """Scan one read taken at `at`; returns its text, escape sequences removed."""
        text = self.stripper.feed(data)
        window = self.tail + text
        old = len(self.tail)
        for match in MARKER.finditer(window):
            if match.end() <= old:
                continue  # wholly in the tail: scanned with the previous read
            marker = match.group()
            if marker not in self.first and (self.expected is None or marker in self.expected):
                self.first[marker] = at
        self.tail = window[-self.tail_size :]
        return text

    @property
    def complete(self) -> bool:
        return self.expected is not None and len(self.first) >= len(self.expected)


class PtyMeter(threading.Thread):
    """Reads the pty `fd` until the app closes it; every read timed, scanned and kept."""

    def __init__(
        self,
        fd: int,
        expected: Collection[bytes] | None = None,
        on_complete: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(name="pty-meter", daemon=True)
        self.fd = fd
        self.on_complete = on_complete
        """Called on this thread as soon as every expected marker has shown."""
        self.scan = MarkerScan(expected)
        self.reads: list[float] = []  # perf_counter() of every read
        self.last_read = time.perf_counter()
        self.closed = False
        self._cond = threading.Condition()
        self._text = bytearray()  # escape sequences removed; trimmed at the front
        self._base = 0  # offset of _text[0] in all the text read so far
        self._echo: bytes | None = None
        self._echo_at: float | None = None
        self._echo_tail = b""

    def run(self) -> None:
        while True:
            ready, _, _ = select.select([self.fd], [], [], 0.5)
            if not ready:
                continue
            try:
                data = os.read(self.fd, 1 << 16)
            except OSError:  # EIO: the app's side is closed, it has exited
                data = b""
            at = time.perf_counter()
            if not data:
                with self._cond:
                    self.closed = True
                    self._cond.notify_all()
                return
            with self._cond:
                self.reads.append(at)
                self.last_read = at
                was_complete = self.scan.complete
                text = self.scan.feed(data, at)
                if self.scan.complete and not was_complete and self.on_complete is not None:
                    self.on_complete()
                self._keep(text)
                if self._echo is not None and self._echo_at is None:
                    window = self._echo_tail + text
                    start = max(0, len(self._echo_tail) - len(self._echo) + 1)
                    if window.find(self._echo, start) >= 0:
                        self._echo_at = at
                self._echo_tail = (self._echo_tail + text)[-16:]
                self._cond.notify_all()

    def _keep(self, text: bytes) -> None:
        self._text += text
        extra = len(self._text) - (1 << 20)
        if extra > 0:
            del self._text[:extra]
            self._base += extra

    # ------------------------------------------------------------ for the other thread

    def position(self) -> int:
        """A mark in the text read so far, for `wait_for(since=...)`."""
        with self._cond:
            return self._base + len(self._text)

    def wait_for(self, needle: bytes, timeout: float, since: int = 0) -> bool:
        """Until `needle` shows in the text read after `since`; False on timeout or exit."""

        def seen() -> bool:
            start = max(0, since - self._base)
            return self._text.find(needle, start) >= 0 or self.closed

        with self._cond:
            return self._cond.wait_for(seen, timeout) and not (
                self.closed and self._text.find(needle, max(0, since - self._base)) < 0
            )

    def wait_until(self, deadline: float) -> bool:
        """Until every expected marker has shown (True), the app exits or `deadline`."""
        with self._cond:
            return (
                self._cond.wait_for(
                    lambda: self.scan.complete or self.closed,
                    max(0.0, deadline - time.perf_counter()),
                )
                and self.scan.complete
            )

    def wait_quiet(self, quiet: float, timeout: float) -> None:
        """Until nothing was written for `quiet` seconds (start-up drawn), at most `timeout`."""
        deadline = time.perf_counter() + timeout
        while (now := time.perf_counter()) < deadline and not self.closed:
            left = self.last_read + quiet - now
            if left <= 0:
                return
            time.sleep(min(left, deadline - now))

    def type_key(self, key: bytes, timeout: float) -> float | None:
        """Write `key` and wait for its first appearance: seconds, or None if not seen."""
        with self._cond:
            self._echo, self._echo_at = key, None
            self._echo_tail = b""
        sent = time.perf_counter()
        os.write(self.fd, key)
        with self._cond:
            self._cond.wait_for(lambda: self._echo_at is not None or self.closed, timeout)
            at, self._echo = self._echo_at, None
        return None if at is None else at - sent

    def snapshot(self) -> tuple[dict[bytes, float], list[float]]:
        with self._cond:
            return dict(self.scan.first), list(self.reads)
