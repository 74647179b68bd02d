"""Quitting while a reply streams, on every transport: the real app on a pseudo-terminal.

Requirement: quitting (Ctrl+Q, Ctrl+C, closing the terminal) during a stream exits
within 2 s with no traceback and no thread left behind; the database is consistent.

What each way of quitting does (Textual 8.2, found by running the app):

- Ctrl+Q (byte 0x11) is the app's quit binding: the stream is stopped, the app exits 0.
- Ctrl+C (byte 0x03): Textual puts the terminal in raw mode, so no SIGINT is raised; the
  key goes to the focused prompt box, a TextArea whose Ctrl+C is "copy". With nothing
  selected the copy is skipped and the app's own Ctrl+C binding quits, as Ctrl+Q does
  (Textual's default there is only a hint, "Press ctrl+q to quit the app").
- Closing the terminal (the pty's master closes) makes the kernel send SIGHUP to the app,
  the session leader. Neither Textual nor the app handles SIGHUP, so its default action
  ends the process at once: it dies of SIGHUP, no Python code runs (so no traceback, and
  there is nothing left to read on a hung-up terminal anyway) and the history is what
  the last save left, at most a second old, as after SIGKILL (test_ui_history.py).

These tests found a bug, fixed in 0516bc5: Ctrl+Q while the reply's Markdown still had
text to append raised from AssistantMessage.on_unmount; that skipped the app's own
clean-up, so a sync transport's thread read on, and the process exited 1, with a
traceback, only when the server had finished the reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import sqlite3
import struct
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ollama_tui.demo import DemoServer
from ollama_tui.history.store import History
from ollama_tui.ui.widgets.prompt import PromptInput
from tests.uitools import make_app, replies, wait_until

QUIT_WITHIN_S = 2.0
PROMPT = "Write a markdown table"  # the demo's table reply: ~190 tokens, ~4.8 s at 40/s
# On screen as the table starts (~0.6 s after Enter) and at its first row (~2.6 s):
# text that only the reply draws, so seeing it means the reply is being shown.
TABLE_STARTED = b"Streaming API"
TABLE_ROW = b"iter_lines"
ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


class AppOnPty:
    """`python -m ollama_tui --demo` on a pseudo-terminal of 100x30, its output kept."""

    def __init__(self, tmp: Path, transport: str) -> None:
        self.data = tmp / "data"
        config = tmp / "config.toml"
        config.write_text("")  # the user's own settings file must not change the run
        argv = [
            sys.executable,
            *("-m", "ollama_tui", "--demo", "--transport", transport),
            *("--data-dir", str(self.data), "--config", str(config)),
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("OLLAMA")}
        env["TERM"] = "xterm-256color"
        pid, fd = pty.fork()
        if pid == 0:  # the child: never return into pytest
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
                # As a shell in a terminal starts it, even if pytest runs under nohup.
                signal.signal(signal.SIGHUP, signal.SIG_DFL)
                os.execvpe(sys.executable, argv, env)
            finally:
                os._exit(127)
        self.pid: int = pid
        self.fd: int | None = fd
        self.pidfd = os.pidfd_open(pid)  # readable when the process ends: an event to wait on
        self.output = bytearray()
        self.eof = False  # the app closed its side of the terminal
        self.status: int | None = None
        self.ended_at = float("inf")  # time.monotonic() when the exit was seen

    # ------------------------------------------------------------------ waiting

    def _pump(self, timeout: float) -> None:
        """Read what the app drew and notice its exit, waiting at most `timeout`."""
        reading = self.fd is not None and not self.eof
        watched = [self.fd, self.pidfd] if self.fd is not None and reading else [self.pidfd]
        ready = select.select(watched, [], [], max(0.0, timeout))[0]
        if self.fd in ready:
            self._read()
        if self.pidfd in ready and self.status is None:
            self.status = os.waitpid(self.pid, 0)[1]
            self.ended_at = time.monotonic()
            # The last words (a traceback) were written before the exit.
            while not self.eof and self.fd is not None and self._read():
                pass

    def _read(self) -> bool:
        assert self.fd is not None
        if not select.select([self.fd], [], [], 0)[0]:
            return False
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the app closed its side (it is ending)
            chunk = b""
        self.eof = not chunk
        self.output += chunk
        return bool(chunk)

    def wait_for(self, marker: bytes, timeout: float, start: int = 0) -> bool:
        """True once `marker` is in the output after `start` (false on timeout or exit)."""
        deadline = time.monotonic() + timeout
        while marker not in self.output[start:]:
            if self.status is not None or time.monotonic() >= deadline:
                return False
            self._pump(deadline - time.monotonic())
        return True

    def wait_for_file(self, path: Path, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not path.exists():
            if self.status is not None or time.monotonic() >= deadline:
                return False
            self._pump(0.02)  # nothing signals a file; keep drawing while we look
        return True

    def wait_exit(self, timeout: float) -> int | None:
        """The wait status once the process has ended, None if still running."""
        deadline = time.monotonic() + timeout
        while self.status is None and time.monotonic() < deadline:
            self._pump(deadline - time.monotonic())
        return self.status

    # ------------------------------------------------------------------ acting

    def send(self, data: bytes) -> None:
        assert self.fd is not None
        os.write(self.fd, data)

    def hang_up(self) -> None:
        """Close the terminal, as closing its window does."""
        assert self.fd is not None
        os.close(self.fd)
        self.fd = None

    def text(self, start: int = 0) -> str:
        return ANSI.sub("", self.output[start:].decode("utf-8", "replace"))

    def close(self) -> None:
        if self.status is None:  # only after a failure: it did not end on its own
            os.kill(self.pid, signal.SIGKILL)
            self.status = os.waitpid(self.pid, 0)[1]
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        os.close(self.pidfd)

    # ------------------------------------------------------------------ the steps

    def start_reply(self) -> None:
        """First frame, history open, the prompt sent, the reply's table on screen."""
        assert self.wait_for(b"demo server", 20), "no first frame:\n" + self.text()
        # The history opens beside the first frame; a reply is only kept once it is open.
        assert self.wait_for_file(self.data / "history.sqlite3", 10), "history not opened"
        start = len(self.output)
        self.send(PROMPT.encode() + b"\r")
        assert self.wait_for(TABLE_STARTED, 10, start), "no reply drawn:\n" + self.text()

    def quit_and_time(self, key: bytes) -> tuple[int | None, float]:
        """Press `key`; the wait status (None: still running) and the seconds it took."""
        pressed = time.monotonic()
        self.send(key)
        # Past the limit, still wait a while: a late exit (as with the bug above, when
        # the reply ended) then comes with what it printed, for the failure message.
        status = self.wait_exit(QUIT_WITHIN_S + 8.0)
        return status, self.ended_at - pressed


def assert_history_kept(data: Path) -> None:
    """The database passes SQLite's own check and holds the question and partial reply."""
    database = data / "history.sqlite3"
    with contextlib.closing(sqlite3.connect(database)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    history, warning = History.open(data)
    try:
        assert warning is None
        (summary,) = history.list_conversations()
        user, reply = history.load(summary.id).messages
        assert (user.role, user.content) == ("user", PROMPT)
        # Cut short by the quit: kept as it was last saved, marked incomplete.
        assert reply.role == "assistant" and reply.content and not reply.complete
    finally:
        history.close()


def assert_quit_cleanly(app: AppOnPty, status: int | None, took: float) -> None:
    text = app.text()
    assert_history_kept(app.data)
    assert "Traceback" not in text, text[text.find("Traceback") :]
    assert status is not None, "still running 10 s after the quit"
    assert took <= QUIT_WITHIN_S, f"exit took {took:.2f} s"
    assert os.waitstatus_to_exitcode(status) == 0


QUITS = [
    *[("ctrl+q", b"\x11", t) for t in ("requests", "httpx-sync", "httpx-async", "aiohttp")],
    *[("ctrl+c", b"\x03", t) for t in ("httpx-sync", "httpx-async")],
]


@pytest.mark.parametrize(("name", "key", "transport"), QUITS, ids=[f"{n}-{t}" for n, _, t in QUITS])
def test_quitting_mid_reply_exits_cleanly(
    tmp_path: Path,
    name: str,
    key: bytes,
    transport: str,
    record_property: Callable[[str, object], None],
) -> None:
    app = AppOnPty(tmp_path, transport)
    try:
        app.start_reply()
        # Quit in the middle of the table, while its rows are being drawn (~2 s left).
        start = len(app.output)
        assert app.wait_for(TABLE_ROW, 10, start), "no table row drawn:\n" + app.text()
        status, took = app.quit_and_time(key)
    finally:
        app.close()
    record_property("exit_s", round(took, 3))  # in --junitxml reports
    assert_quit_cleanly(app, status, took)


@pytest.mark.parametrize("transport", ["requests", "aiohttp"])
def test_closing_the_terminal_mid_reply(
    tmp_path: Path, transport: str, record_property: Callable[[str, object], None]
) -> None:
    app = AppOnPty(tmp_path, transport)
    try:
        app.start_reply()
        closed = time.monotonic()
        app.hang_up()
        status = app.wait_exit(QUIT_WITHIN_S)
        took = app.ended_at - closed
    finally:
        app.close()
    record_property("exit_s", round(took, 3))
    assert status is not None, "still running after its terminal closed"
    assert took <= QUIT_WITHIN_S
    # Killed by the signal's default action (see the module docstring): no clean exit.
    assert os.waitstatus_to_exitcode(status) == -signal.SIGHUP
    assert_history_kept(app.data)


@pytest.mark.parametrize("transport", ["requests", "httpx-sync"])
async def test_no_thread_outlives_the_app(
    server: DemoServer, tmp_path: Path, transport: str
) -> None:
    """In-process: after Ctrl+Q mid-reply every thread the app started ends."""
    server.configure(token_rate=40.0)
    before = set(threading.enumerate())
    app = make_app(server, transport=transport)
    app.data_dir = tmp_path
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.recorder.on and bool(app.models))
        app.chat.query_one(PromptInput).load_text(PROMPT)  # typing it takes seconds
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(replies(app)) and len(replies(app)[-1].text) > 40)
        assert app.chat.turn is not None  # mid-reply
        await pilot.press("ctrl+q")
    # The app made its thread pool the loop's default executor (app.py, on_mount), and
    # asyncio.run shuts that down after app.run() returns; run_test does not, so do it
    # here. It joins the pool's threads: a stream thread still reading would hold it up.
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.shutdown_default_executor(), QUIT_WITHIN_S)
    except TimeoutError:
        busy = [t.name for t in threading.enumerate() if t not in before]
        pytest.fail(f"threads still busy {QUIT_WITHIN_S} s after the app closed: {busy}")
    deadline = time.monotonic() + QUIT_WITHIN_S
    for thread in set(threading.enumerate()) - before:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert [t.name for t in threading.enumerate() if t not in before] == []
