"""Many replies back to back, the transport rotated every reply: do threads, open
sockets, file descriptors and memory settle at a bounded level, or do they grow?

    PYTHONPATH=. python tests/perf/soak.py [N]    # N replies, default 200

The app runs in-process under Pilot against the built-in server (same process, so its
sockets and threads are in the figures too), with a temporary data directory so every
reply is also written to the history. Every 20 replies it prints the counts; a new chat
is started there, so the transcript's widgets (which a real chat keeps on purpose) do
not pass for a leak, and the server's request log (test bookkeeping) is cleared.

Threads, descriptors and sockets are counts: bounded means the last is at most a few
above the first warm sample. Memory is judged by its trend instead: the growth per 100
replies in the first and second half of the run (Textual's bounded render caches fill
for a few hundred replies, so RSS rises before it levels off). Exit status 1 if a count
ended above its bound.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ollama_tui.demo import DemoConfig, DemoServer
from ollama_tui.transports import TRANSPORT_NAMES
from ollama_tui.ui.widgets.prompt import PromptInput
from tests.uitools import make_app, replies, wait_until

EVERY = 20
REPLY = "A short reply, with **some** Markdown and `code`, kept small so the run is quick."
# What the last sample may exceed the first warm one by (after EVERY replies, when every
# transport, its pool and the worker threads exist) and still count as bounded.
SLACK = {"threads": 2, "fds": 4, "sockets": 4}


@dataclass(frozen=True)
class Sample:
    replies: int
    threads: int
    fds: int
    sockets: int
    rss_mib: float

    @classmethod
    def now(cls, replies: int) -> Sample:
        fds = sockets = 0
        for name in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{name}")
            except OSError:  # the listing's own fd is gone by the time it is read
                continue
            fds += 1
            sockets += target.startswith("socket:")
        with open("/proc/self/statm") as statm:
            rss_pages = int(statm.read().split()[1])
        return cls(
            replies=replies,
            threads=threading.active_count(),
            fds=fds,
            sockets=sockets,
            rss_mib=rss_pages * os.sysconf("SC_PAGE_SIZE") / 2**20,
        )

    def row(self) -> str:
        return (
            f"{self.replies:>7} {self.threads:>7} {self.fds:>5} {self.sockets:>7}"
            f" {self.rss_mib:>8.1f}"
        )


HEADER = f"{'replies':>7} {'threads':>7} {'fds':>5} {'sockets':>7} {'RSS MiB':>8}"


async def soak(n: int) -> list[Sample]:
    samples: list[Sample] = []
    with (
        DemoServer(DemoConfig(token_rate=0, reply=REPLY)) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        app = make_app(server)
        app.data_dir = Path(tmp)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.recorder.on and bool(app.models))
            prompt = app.chat.query_one(PromptInput)
            print(HEADER)
            samples.append(Sample.now(0))
            print(samples[-1].row(), flush=True)
            started = time.perf_counter()
            for i in range(1, n + 1):
                app.set_transport(TRANSPORT_NAMES[i % len(TRANSPORT_NAMES)])
                before = len(replies(app))
                prompt.load_text(f"question {i}")
                await pilot.press("enter")
                await wait_until(
                    pilot, lambda b=before: len(replies(app)) > b and app.chat.turn is None
                )
                if i % EVERY == 0 or i == n:
                    await app.recorder.flush()  # the writes are part of what is measured
                    await pilot.press("ctrl+n")
                    await wait_until(pilot, lambda: not replies(app))
                    server.reset()  # its log keeps every request body: not the app's memory
                    samples.append(Sample.now(i))
                    print(samples[-1].row(), flush=True)
            took = time.perf_counter() - started
        print(f"{n} replies in {took:.1f} s ({n / took:.1f} replies/s)")
    return samples


def report(samples: list[Sample]) -> bool:
    first, last = samples[0], samples[-1]
    warm = samples[1] if len(samples) > 2 else first
    print(f"first (no reply yet): {first.row()}")
    print(f"warm  (after {warm.replies:>3}):   {warm.row()}")
    print(f"last  (after {last.replies:>3}):   {last.row()}")
    bounded = True
    for key, slack in SLACK.items():
        peak = max(getattr(s, key) for s in samples)
        ok = getattr(last, key) <= getattr(warm, key) + slack
        bounded &= ok
        print(
            f"{key:>8}: last {getattr(last, key)} vs warm {getattr(warm, key)} + {slack}"
            f" (peak {peak}) -> {'bounded' if ok else 'GREW'}"
        )
    after_warm = samples[samples.index(warm) :]
    if len(after_warm) >= 3:
        middle = after_warm[len(after_warm) // 2]
        rates = [
            (b.rss_mib - a.rss_mib) * 100 / (b.replies - a.replies)
            for a, b in ((warm, middle), (middle, last))
        ]
        trend = "levelling off" if rates[1] <= rates[0] / 2 else "still rising"
        print(
            f"     RSS: {warm.rss_mib:.1f} -> {middle.rss_mib:.1f} -> {last.rss_mib:.1f} MiB"
            f" (replies {warm.replies}, {middle.replies}, {last.replies}): {rates[0]:+.2f} then"
            f" {rates[1]:+.2f} MiB per 100 replies -> {trend}"
        )
    return bounded


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    return 0 if report(asyncio.run(soak(n))) else 1


if __name__ == "__main__":
    sys.exit(main())
