"""What reading a stream costs each transport, apart from the UI: CPU per 1,000 tokens.

    python -m ollama_tui.bench.network --rate 100 --tokens 1000

The built-in server in its own process streams a reply at `--rate`; this process runs
it through the session layer's `StreamRunner` (the transports' threads and network loop,
as the app does) while its own main thread only takes the events every 45 ms (the
app's paint clock). Prints each transport's CPU per 1,000 tokens on the threads that
read (from /proc: the process's CPU less this main thread's), after one warm-up reply.
At 100 tok/s the app's whole figure is about 1-1.9 s per 1,000 tokens
(docs/ui-performance.md): this is the part no drawing can save.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from ollama_tui.bench.server import DemoProcess
from ollama_tui.core.connection import ConnectionSettings
from ollama_tui.core.protocol import Request
from ollama_tui.session.runner import StreamRunner
from ollama_tui.transports import TRANSPORT_NAMES

TAKE_EVERY = 0.045
"""Seconds between two takes of the events: the app's paint clock at 100 tok/s."""


def _thread_cpu(tid: int) -> float:
    fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _process_cpu() -> float:
    times = os.times()
    return times.user + times.system


def read_cost(runner: StreamRunner, transport: str) -> float:
    """CPU seconds of the reading threads for one reply (this thread's own left out)."""
    request = Request.of(
        "/api/chat",
        {"model": "demo", "messages": [{"role": "user", "content": "go"}], "stream": True},
    )
    me = threading.get_native_id()
    mine, total = _thread_cpu(me), _process_cpu()
    stream = runner.start(transport, request)
    while not stream.ended:
        time.sleep(TAKE_EVERY)
        stream.take()
    return (_process_cpu() - total) - (_thread_cpu(me) - mine)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ollama_tui.bench.network", description=__doc__)
    parser.add_argument("--transports", default=",".join(TRANSPORT_NAMES))
    parser.add_argument("--rate", type=float, default=100.0, help="tokens a second")
    parser.add_argument("--tokens", type=int, default=1000)
    args = parser.parse_args(argv)
    print(f"{'transport':<12} {'CPU per 1,000 tokens':>20}", flush=True)
    with tempfile.TemporaryDirectory(prefix="network-") as scratch:
        command = [sys.executable, "-m", "ollama_tui.demo.stamped", "--shape", "prose"]
        command += ["--tokens", str(args.tokens), "--rate", str(args.rate)]
        command += ["--stamps", str(Path(scratch, "stamps.json"))]
        with DemoProcess(args.rate, 0.0, command=command) as server:
            runner = StreamRunner(ConnectionSettings(base_url=server.url))
            try:
                for transport in args.transports.split(","):
                    read_cost(runner, transport)  # warm-up: connections, imports
                    cost = read_cost(runner, transport)
                    print(f"{transport:<12} {cost * 1e6 / args.tokens:>17.0f} ms", flush=True)
            finally:
                runner.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
