"""The stream as a person's terminal sees it: gaps between the app's writes to a real
pseudo-terminal while a reply streams, and keystroke echo right after it ends.

    PYTHONPATH=. python tests/perf/terminal_gaps.py [--tokens N] [--rate R] [TRANSPORT ...]

The real `ollama-tui` runs on a pty (120×40) against the built-in server in another
process at R tokens/s (default 500) with a fixed prose reply of about N tokens
(default 20,000). Nothing inside the app is asked: every figure is the time at which
bytes came out of the pty. While the reply streams the status bar ticks at 10 Hz and
text arrives all the time, so the longest gap between two writes bounds the longest
stall the person could see. After the reply, keys are typed every 100 ms for 3 s and
each one's echo timed (from the write of the key to the next output): that is where
the app's deferred garbage collection would show, if it ran while someone types.

It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ollama_tui.bench.terminal import Terminal
from ollama_tui.bench.ui import Server, make_reply, quit_app


def run(transport: str, url: str, tokens: int, rate: float, data: Path) -> str:
    argv = [sys.executable, "-m", "ollama_tui", "--host", url, "--model", "demo"]
    argv += ["--transport", transport, "--data-dir", str(data)]
    term = Terminal(argv)
    try:
        term.wait_for(b"ollama-tui", 20)
        while term.read(0.5):
            pass  # until the start-up work (model list, history) has drawn its last
        os.write(term.fd, b"go\r")
        sent = time.perf_counter()
        first = term.wait_for(b"Stream token", 30)[-1]  # the reply's first words shown
        times = [first, *term.wait_for(b"done", tokens / rate * 4 + 30)]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        streamed = times[-1] - first
        # Keys right after the end, when the deferred collection is due.
        echoes = []
        for _ in range(30):
            os.write(term.fd, b"x")
            typed = time.perf_counter()
            got = term.read(2.0)
            echoes.append((got[0] if got else time.perf_counter()) - typed)
            time.sleep(max(0.0, 0.1 - (time.perf_counter() - typed)))
            while term.read(0.0):
                pass
        ms = [1000 * statistics.median(gaps), 1000 * sorted(gaps)[int(0.99 * len(gaps))]]
        return (
            f"{transport:<12} {tokens:>6} tok at {rate:.0f}/s  "
            f"first words {1000 * (first - sent):6.0f} ms  "
            f"streamed {streamed:5.1f} s in {len(times)} writes  "
            f"gap p50 {ms[0]:5.1f} p99 {ms[1]:5.1f} max {1000 * max(gaps):6.1f} ms  "
            f"echo after: p50 {1000 * statistics.median(echoes):5.1f} "
            f"max {1000 * max(echoes):6.1f} ms"
        )
    finally:
        quit_app(term.pid, term.fd)
        with contextlib.suppress(OSError):
            os.close(term.fd)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("transports", nargs="*", default=["requests", "aiohttp"])
    args = parser.parse_args()
    server = Server(make_reply("prose", args.tokens), args.rate)
    try:
        for transport in args.transports:
            with tempfile.TemporaryDirectory() as data:
                print(run(transport, server.url, args.tokens, args.rate, Path(data)), flush=True)
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
