"""Many replies back to back, the transport rotated every reply: do threads, open
sockets, file descriptors, memory and the frozen garbage settle at a bounded level?

    PYTHONPATH=. python tests/perf/soak.py [N]              # N replies (200), New chat every 20
    PYTHONPATH=. python tests/perf/soak.py --one-chat [N]   # N replies in ONE chat

The app runs in-process under Pilot against the built-in server (same process, so its
sockets and threads are in the figures too; it keeps no request log), with a temporary
data directory so every reply is also written to the history. After each reply the
soak waits, as a person reading it would, for the app's deferred full collection
(ui/collector.py: 0.5 s with no stream and no input), so what that collection freezes
is what a real chat would freeze (`--back-to-back` skips the wait: then no full
collection runs at all, and nothing is frozen after start-up). Every 20 replies it
prints the counts; without `--one-chat` a New chat is started there (which compacts the
frozen set: it hides frozen garbage, and the transcript's legitimate growth).
`--read S` waits S more seconds after each reply, as a person reading: from 4 s on, a
transport's pooled connection idles past its keep-alive (httpx 5 s, aiohttp 15 s)
before its next turn, and is dropped as a real chat's are.

Frozen garbage: objects that were alive when the app froze them and are garbage now
(never scanned while frozen). At each sample a forked child (the app is left as it is)
collects what is not frozen, unfreezes, collects again with `gc.DEBUG_SAVEALL` and
reports what it found: objects, their shallow size, the commonest types. At the end the
same is done in the process itself, timed (what a compaction costs on this transcript),
and the set is frozen again; then a New chat shows what the transcript itself held.

Threads, descriptors and sockets are counts: bounded means the last is at most a few
above the first warm sample. Memory is judged by its trend instead: the growth per 100
replies in the first and second half of the run (Textual's bounded render caches fill
for a few hundred replies, so RSS rises before it levels off). Frozen garbage is
bounded if the last sample is at most twice the first warm one plus `GARBAGE_SLACK`.
Exit status 1 if a count or the frozen garbage ended above its bound.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import select
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ollama_tui.demo import DemoConfig, DemoServer
from ollama_tui.transports import TRANSPORT_NAMES
from ollama_tui.ui.app import OllamaApp
from ollama_tui.ui.widgets.prompt import PromptInput
from tests.uitools import make_app, replies, wait_until

EVERY = 20
REPLY = "A short reply, with **some** Markdown and `code`, kept small so the run is quick."
# What the last sample may exceed the first warm one by (after EVERY replies, when every
# transport, its pool and the worker threads exist) and still count as bounded.
SLACK = {"threads": 2, "fds": 4, "sockets": 4}
GARBAGE_SLACK = 5_000
"""Frozen garbage objects the last sample may have above twice the first warm one."""
PROBE_TIMEOUT = 60.0


@dataclass(frozen=True)
class Garbage:
    """Frozen garbage: found by unfreezing and collecting (in a child, or timed here)."""

    objects: int
    kib: float
    kinds: list[tuple[str, int]] = field(default_factory=list)
    seconds: float | None = None


def _find_frozen_garbage() -> Garbage:
    gc.collect()  # what is not frozen: not the point here
    gc.unfreeze()
    gc.set_debug(gc.DEBUG_SAVEALL)  # keep what it finds, to weigh and name it
    objects = gc.collect()
    found = gc.garbage
    kib = sum(sys.getsizeof(o) for o in found) / 1024
    kinds = Counter(type(o).__name__ for o in found).most_common(6)
    return Garbage(objects, kib, kinds)


def frozen_garbage_in_child() -> Garbage | None:
    """Counted in a forked child, so the app keeps its frozen set as it is (None if the
    child did not answer: a finalizer waiting for a lock a parent thread held)."""
    sys.stdout.flush()
    sys.stderr.flush()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave, running no clean-up of the parent's
        try:
            os.close(read)
            found = _find_frozen_garbage()
            os.write(write, json.dumps([found.objects, found.kib, found.kinds]).encode())
        finally:
            os._exit(0)
    os.close(write)
    data = b""
    deadline = time.monotonic() + PROBE_TIMEOUT
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                data = b""
                break
            chunk = os.read(read, 65536)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    if not data:
        return None
    objects, kib, kinds = json.loads(data)
    return Garbage(objects, kib, [(name, n) for name, n in kinds])


def frozen_garbage_here(times: int = 3) -> Garbage:
    """The same in this process, timed as a compaction (unfreeze, collect, freeze; the
    median of `times`, the first of which frees what there is): the survivors are
    frozen again, as the app leaves them after its collections."""
    gc.collect()
    freed: list[int] = []
    took: list[float] = []
    for _ in range(times):
        started = time.perf_counter()
        gc.unfreeze()
        freed.append(gc.collect())
        gc.freeze()
        took.append(time.perf_counter() - started)
    return Garbage(freed[0], 0.0, seconds=statistics.median(took))


@dataclass(frozen=True)
class Sample:
    replies: int
    threads: int
    fds: int
    sockets: int
    rss_mib: float
    live: int  # tracked objects not frozen
    frozen: int
    garbage: Garbage | None
    pause_ms: float | None  # median deferred collection since the last sample
    max_ms: float | None  # the longest of them
    compactions: int  # run by the app so far (New chat, or the frozen set's growth)
    widgets: int  # in the chat screen
    text_kib: float  # of the conversation's messages

    @classmethod
    def now(cls, app: OllamaApp, replies: int, pauses: list[float], probe: bool = True) -> Sample:
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
            live=len(gc.get_objects()),
            frozen=gc.get_freeze_count(),
            garbage=frozen_garbage_in_child() if probe else None,
            pause_ms=statistics.median(pauses) * 1000 if pauses else None,
            max_ms=max(pauses) * 1000 if pauses else None,
            compactions=getattr(app.collector, "compactions", 0),
            widgets=sum(1 for _ in app.chat.walk_children()),
            text_kib=sum(len(m.content) for m in app.session.conversation.messages) / 1024,
        )

    def row(self) -> str:
        garbage = self.garbage
        found = f"{garbage.objects:>8} {garbage.kib:>7.0f}" if garbage else f"{'-':>8} {'-':>7}"
        pause = (
            f"{self.pause_ms:>6.1f} {self.max_ms:>6.1f}"
            if self.pause_ms is not None and self.max_ms is not None
            else f"{'-':>6} {'-':>6}"
        )
        return (
            f"{self.replies:>7} {self.threads:>7} {self.fds:>4} {self.sockets:>7}"
            f" {self.rss_mib:>7.1f} {self.live:>8} {self.frozen:>8} {found} {pause}"
            f" {self.widgets:>7} {self.text_kib:>6.1f} {self.compactions:>3}"
        )


HEADER = (
    f"{'replies':>7} {'threads':>7} {'fds':>4} {'sockets':>7} {'RSS MiB':>7} {'live':>8}"
    f" {'frozen':>8} {'fz.garb.':>8} {'KiB':>7} {'GC ms':>6} {'max':>6} {'widgets':>7}"
    f" {'text K':>6} {'cmp':>3}"
)


@dataclass
class Run:
    samples: list[Sample] = field(default_factory=list)
    end: Garbage | None = None
    cleared: Sample | None = None  # after a New chat at the end (one chat only)
    compactions: list[tuple[int, float, int, int | None]] = field(default_factory=list)
    """(replies shown, seconds, objects frozen after it, frozen garbage freed if it was
    due to growth) of each compaction the app ran."""


async def soak(args: argparse.Namespace) -> Run:
    n, every, wait = args.n, args.every, not args.back_to_back
    run = Run()
    with (
        DemoServer(
            DemoConfig(token_rate=0, reply=None if args.builtin else REPLY * args.repeat),
            keep_log=False,
        ) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        app = make_app(server)
        app.data_dir = Path(tmp)
        collector = app.collector
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(
                pilot, lambda: app.recorder.on and bool(app.models) and collector.started
            )
            prompt = app.chat.query_one(PromptInput)
            pauses: list[float] = []
            compactions = [getattr(collector, "compactions", 0)]

            async def collected() -> None:
                """Until the app's deferred collection (or compaction) has run."""
                await wait_until(pilot, lambda: collector.last_pause is not None)
                assert collector.last_pause is not None
                pauses.append(collector.last_pause)
                if getattr(collector, "compactions", 0) > compactions[0]:
                    compactions[0] = collector.compactions
                    shown, freed = len(replies(app)), collector.frozen_garbage
                    frozen = gc.get_freeze_count()
                    run.compactions.append((shown, pauses[-1], frozen, freed if shown else None))

            async def ask(text: str) -> None:
                before = replies(app)[-1:]  # counts drop once the transcript shelves
                collector.last_pause = None
                prompt.load_text(text)
                await pilot.press("enter")
                await wait_until(
                    pilot, lambda: replies(app)[-1:] != before and app.chat.turn is None
                )
                if wait:
                    await collected()

            async def new_chat() -> None:
                collector.last_pause = None
                await pilot.press("ctrl+n")
                await wait_until(pilot, lambda: not replies(app))
                if wait:
                    await collected()  # the compaction New chat asks for

            print(HEADER)
            run.samples.append(Sample.now(app, 0, pauses))
            print(run.samples[-1].row(), flush=True)
            started = time.perf_counter()
            for i in range(1, n + 1):
                app.set_transport(TRANSPORT_NAMES[i % len(TRANSPORT_NAMES)])
                await ask(f"question {i}")
                if args.read:
                    await pilot.pause(args.read)
                if i % every == 0 or i == n:
                    await app.recorder.flush()  # the writes are part of what is measured
                    run.samples.append(Sample.now(app, i, pauses))
                    print(run.samples[-1].row(), flush=True)
                    pauses.clear()
                    if not args.one_chat:
                        await new_chat()
                        pauses.clear()
            took = time.perf_counter() - started
            print(f"{n} replies in {took:.1f} s ({n / took:.1f} replies/s)")
            run.end = frozen_garbage_here()
            if args.one_chat:
                await new_chat()
                compaction = pauses[-1:]
                # One more reply: the transcript's NodeList keeps its last list of
                # displayed children (Textual's cache) until children are laid out again.
                await ask("one more")
                run.cleared = Sample.now(app, n + 1, compaction, probe=False)
    return run


def report(run: Run) -> bool:
    samples = run.samples
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
    if last.replies > warm.replies:
        per = last.replies - warm.replies
        print(
            f"per reply after {warm.replies}: RSS {(last.rss_mib - warm.rss_mib) * 1024 / per:+.1f}"
            f" KiB, objects {(last.live + last.frozen - warm.live - warm.frozen) / per:+.0f}"
            f" (frozen {(last.frozen - warm.frozen) / per:+.0f}),"
            f" widgets {(last.widgets - warm.widgets) / per:+.1f},"
            f" text {(last.text_kib - warm.text_kib) * 1024 / per:+.0f} characters"
        )
    if warm.garbage and last.garbage:
        limit = 2 * warm.garbage.objects + GARBAGE_SLACK
        ok = last.garbage.objects <= limit
        bounded &= ok
        print(
            f"frozen garbage: last {last.garbage.objects} objects ({last.garbage.kib:.0f} KiB)"
            f" vs 2 x warm {warm.garbage.objects} + {GARBAGE_SLACK} ="
            f" {limit} -> {'bounded' if ok else 'GREW'}"
        )
        print(f"  commonest at the end: {last.garbage.kinds}")
    elif warm.garbage is None or last.garbage is None:
        print("frozen garbage: a probe did not answer")
    if run.compactions:
        shown = "; ".join(
            f"{n}: {seconds * 1000:.0f} ms, {frozen} frozen after"
            + (f", {freed} frozen garbage freed" if freed is not None else "")
            for n, seconds, frozen, freed in run.compactions
        )
        print(f"compactions by the app (replies shown: pause): {shown}")
    if run.end is not None and run.end.seconds is not None:
        print(
            f"at the end, in process: unfreeze + collect + freeze freed {run.end.objects}"
            f" objects; it takes {run.end.seconds * 1000:.0f} ms (median of 3: a compaction"
            " on this transcript)"
        )
    if run.cleared is not None:
        cleared = run.cleared
        held = last.live + last.frozen - cleared.live - cleared.frozen
        print(
            f"New chat and one reply at the end: objects {last.live + last.frozen} -> "
            f"{cleared.live + cleared.frozen} ({held} held by the transcript,"
            f" {held / last.replies:.0f} per reply), widgets {last.widgets} ->"
            f" {cleared.widgets}, RSS {last.rss_mib:.1f} -> {cleared.rss_mib:.1f} MiB,"
            f" its compaction {cleared.pause_ms or 0:.0f} ms"
        )
    return bounded


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("n", nargs="?", type=int, default=200, help="replies (200)")
    add("--one-chat", action="store_true", help="all replies in one chat, no New chat")
    add("--back-to-back", action="store_true", help="no wait for the deferred collection")
    add("--every", type=int, default=EVERY, help=f"replies between samples ({EVERY})")
    add("--read", type=float, default=0.0, help="seconds to wait after each reply (0)")
    add("--repeat", type=int, default=1, help="the reply text this many times over (1)")
    add("--builtin", action="store_true", help="the demo's replies (125-1,802 characters)")
    args = parser.parse_args()
    print(f"load average: {Path('/proc/loadavg').read_text().strip()}")
    run = asyncio.run(soak(args))
    print(f"load average: {Path('/proc/loadavg').read_text().strip()}")
    return 0 if report(run) else 1


if __name__ == "__main__":
    sys.exit(main())
