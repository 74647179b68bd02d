"""The built-in server in a process of its own, so its CPU is never counted as the client's."""

from __future__ import annotations

import re
import selectors
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from types import TracebackType
from typing import IO

_LISTENING = re.compile(r"listening on (http://\S+)")


class ServerError(RuntimeError):
    pass


class DemoProcess:
    """`python -m ollama_tui serve-demo --port 0 ...` on 127.0.0.1; stopped on exit, always."""

    def __init__(
        self,
        token_rate: float,
        first_token_delay: float,
        start_timeout: float = 20.0,
        extra_args: Sequence[str] = (),
        command: Sequence[str] | None = None,
    ) -> None:
        self.token_rate = token_rate
        self.first_token_delay = first_token_delay
        self.start_timeout = start_timeout
        self.extra_args = tuple(extra_args)
        # Another server command that prints the same "listening on URL" line (such as
        # `python -m ollama_tui.demo.stamped ...`); the pacing arguments are then its own.
        self.command = tuple(command) if command is not None else None
        self.url = ""
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def __enter__(self) -> DemoProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        # stderr to a file, not a pipe: nobody reads it while the bench runs. It lives
        # until stop(), so no `with` here.
        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        command = (
            list(self.command)
            if self.command is not None
            else [
                sys.executable,
                "-m",
                "ollama_tui",
                "serve-demo",
                "--bind",
                "127.0.0.1",
                "--port",
                "0",
                "--token-rate",
                repr(self.token_rate),
                "--first-token-delay",
                repr(self.first_token_delay),
                *self.extra_args,
            ]
        )
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        try:
            self.url = self._wait_for_url()
        except BaseException:
            self.stop()
            raise

    def _wait_for_url(self) -> str:
        process = self._process
        assert process is not None and process.stdout is not None
        deadline = time.monotonic() + self.start_timeout
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while (left := deadline - time.monotonic()) > 0:
                if not selector.select(left):
                    break
                line = process.stdout.readline()
                if not line:  # the server exited before listening
                    break
                if match := _LISTENING.search(line):
                    return match.group(1)
        raise ServerError(f"the demo server did not start: {self._error_text() or 'no output'}")

    def _error_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        lines = self._stderr.read().strip().splitlines()
        return lines[-1] if lines else ""

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()  # SIGTERM: it closes open streams and exits
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if process.stdout is not None:
                process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
