"""The headless UI streaming benchmark: `ollama-tui bench --ui --headless`.

Not what a person sees: Textual's headless driver skips turning frames into terminal
bytes, so lag here is "chunk arrival → Markdown.append returned", several times less than
on a terminal (see `pty_ui.py`, the default `bench --ui`). Kept for what only the inside
can tell (event-loop stalls, garbage collections, RSS).

Runs the real app headless against the built-in server (in a subprocess, so its
CPU is not counted here) and measures, per transport and reply shape:

- lag: from a chunk's arrival (the transport's timestamp) to the moment its text
  is in a Markdown widget (the append that contains it has completed), p50/p95;
- the longest event-loop stall while streaming (a 5 ms ticker's worst gap);
- CPU per 1,000 tokens over the first and the last 1,000 tokens of the reply;
- keystroke-to-echo latency in the prompt box while streaming, p50/p95;
- RSS growth over the reply;
and, once, start-up time from launch to the first frame on a real pseudo-terminal.

It prints figures; it asserts nothing. The machine is shared: compare within a run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import os
import pty
import resource
import select
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SHAPES = ("prose", "code-fence", "paragraph")


def make_reply(shape: str, tokens: int) -> str:
    """A reply of about `tokens` tokens (the demo server sends a word per token)."""
    words = ["stream", "token", "latency", "render", "chunk", "markdown", "widget", "loop"]
    if shape == "prose":
        paragraphs = []
        count = 0
        while count < tokens:
            sentence = " ".join(words[(count + i) % len(words)] for i in range(40))
            paragraphs.append(f"{sentence.capitalize()}.")
            count += 40
        return "\n\n".join(paragraphs)
    if shape == "code-fence":
        lines = [f"    value_{i} = compute({i}, 'x')  # step" for i in range(tokens // 4)]
        return "```python\n" + "\n".join(lines) + "\n```\n"
    if shape == "paragraph":
        return " ".join(words[i % len(words)] for i in range(tokens)) + "."
    raise ValueError(shape)


@dataclass
class Result:
    transport: str
    shape: str
    tokens: int
    lag_p50_ms: float
    lag_p95_ms: float
    lag_max_ms: float
    stall_max_ms: float
    cpu_first_1k_ms: float
    cpu_last_1k_ms: float
    echo_p50_ms: float
    echo_p95_ms: float
    rss_growth_mib: float
    wall_s: float
    errors: list[str] = field(default_factory=list)
    history: bool = False
    full_gc_during: int = 0
    """Full (generation 2) collections while the reply streamed."""
    full_gc_max_ms: float = 0.0
    after_pause_ms: float = float("nan")
    """The deferred collection once the reply had ended (ui/collector.py)."""


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


class Server:
    """The demo server in a subprocess (the bench's), answering with a fixed reply."""

    def __init__(self, reply: str, rate: float) -> None:
        from ollama_tui.bench.server import DemoProcess

        self.file = tempfile.NamedTemporaryFile("w", suffix=".md", delete=False)  # noqa: SIM115
        self.file.write(reply)
        self.file.close()
        self.process = DemoProcess(rate, 0.0, extra_args=["--reply-file", self.file.name])
        self.process.start()
        self.url = self.process.url

    def close(self) -> None:
        self.process.stop()
        os.unlink(self.file.name)


async def run_one(
    url: str, transport: str, shape: str, reply: str, history: Path | None = None
) -> Result:
    from textual import events

    from ollama_tui.core.connection import ConnectionSettings
    from ollama_tui.core.events import ContentDelta
    from ollama_tui.session.runner import LiveStream
    from ollama_tui.ui.app import OllamaApp
    from ollama_tui.ui.widgets.chat_message import AssistantMessage
    from ollama_tui.ui.widgets.prompt import PromptInput

    app = OllamaApp(
        ConnectionSettings(base_url=url), model="demo", transport=transport, data_dir=history
    )
    arrivals: list[tuple[int, float]] = []  # (text offset at the end of the delta, arrival)
    appended: list[tuple[float, int]] = []  # (completion time, source length)
    cpu_marks: list[float] = []
    received = 0
    original_take = LiveStream.take

    def take(self: LiveStream, hold: bool = False) -> list[Any]:
        nonlocal received
        events_now = original_take(self, hold)
        for event in events_now:
            if isinstance(event, ContentDelta):
                received += len(event.text)
                arrivals.append((received, event.at))
                if len(arrivals) % 1000 == 1:
                    cpu_marks.append(time.process_time())
        return events_now

    LiveStream.take = take  # type: ignore[method-assign]
    # Patched on the class before the request goes out, so no append is missed. The
    # answer may span several Markdown widgets: count the text handed to them all.
    original_append = AssistantMessage._append
    appended_chars = 0

    async def append(self: AssistantMessage, text: str) -> None:
        nonlocal appended_chars
        await original_append(self, text)
        appended_chars += len(text)
        appended.append((time.perf_counter(), appended_chars))

    AssistantMessage._append = append  # type: ignore[method-assign]
    stall = 0.0
    full_pauses: list[float] = []
    gc_started = 0.0

    def on_gc(phase: str, info: dict[str, int]) -> None:
        nonlocal gc_started
        if phase == "start":
            gc_started = time.perf_counter()
        elif info["generation"] == 2:
            full_pauses.append(time.perf_counter() - gc_started)

    echoes: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    rss_before = rss_mib()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            prompt = app.chat.query_one(PromptInput)
            while not app.collector.started:  # its one full collection, after the first frame
                await asyncio.sleep(0.01)
            if history is not None:
                while not app.recorder.on:  # the reply is kept as it streams
                    await asyncio.sleep(0.01)
            prompt.load_text("go")
            await pilot.press("enter")
            await pilot.pause(0.05)
            message = app.chat.query(AssistantMessage).last()

            async def ticker() -> None:
                nonlocal stall
                last = time.perf_counter()
                while True:
                    await asyncio.sleep(0.005)
                    now = time.perf_counter()
                    stall = max(stall, now - last - 0.005)
                    last = now

            async def typist() -> None:
                # One key every 200 ms, as a person typing into the box while it streams.
                while True:
                    await asyncio.sleep(0.2)
                    before = prompt.text
                    sent = time.perf_counter()
                    prompt.post_message(events.Key("x", "x"))
                    while prompt.text == before:
                        await asyncio.sleep(0.001)
                    echoes.append(time.perf_counter() - sent)

            tasks = [asyncio.create_task(ticker()), asyncio.create_task(typist())]
            gc.callbacks.append(on_gc)
            try:
                while app.chat.turn is not None:
                    await asyncio.sleep(0.05)
            finally:
                gc.callbacks.remove(on_gc)
            for task in tasks:
                task.cancel()
            # The collection deferred while the reply streamed runs once it has ended.
            deadline = time.perf_counter() + 3
            while app.collector.last_pause is None and time.perf_counter() < deadline:
                await asyncio.sleep(0.05)
            after = app.collector.last_pause
            if message.text != reply:
                errors.append(f"text differs: {len(message.text)} of {len(reply)} chars")
    finally:
        LiveStream.take = original_take  # type: ignore[method-assign]
        AssistantMessage._append = original_append  # type: ignore[method-assign]
    wall = time.perf_counter() - started
    lags = []
    index = 0
    for offset, at in arrivals:
        while index < len(appended) and appended[index][1] < offset:
            index += 1
        if index < len(appended):
            lags.append(appended[index][0] - at)
    # CPU over the first and the last complete 1,000-token windows.
    windows = [b - a for a, b in itertools.pairwise(cpu_marks)]
    first = windows[0] * 1000 if windows else float("nan")
    last = windows[-1] * 1000 if windows else float("nan")
    return Result(
        transport,
        shape,
        len(arrivals),
        statistics.median(lags) * 1000 if lags else float("nan"),
        pct(lags, 0.95) * 1000,
        max(lags, default=float("nan")) * 1000,
        stall * 1000,
        first,
        last,
        statistics.median(echoes) * 1000 if echoes else float("nan"),
        pct(echoes, 0.95) * 1000,
        rss_mib() - rss_before,
        wall,
        errors,
        full_gc_during=len(full_pauses),
        full_gc_max_ms=max(full_pauses, default=0.0) * 1000,
        after_pause_ms=float("nan") if after is None else after * 1000,
    )


def quit_app(pid: int, fd: int) -> None:
    """Ctrl+Q until the app has exited (one sent with the first frame can be lost while
    the terminal is still being set up), then SIGKILL after 10 s."""
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline:
        with contextlib.suppress(OSError):  # the terminal is closed: it is exiting
            os.write(fd, b"\x11")
        waited = time.perf_counter() + 1
        while time.perf_counter() < waited:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                with contextlib.suppress(OSError):
                    os.read(fd, 65536)  # drained, so the app never blocks writing
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # already reaped
                return
            if done:
                return
    print("the app did not quit on Ctrl+Q: killed", file=sys.stderr)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def startup_time(runs: int = 3) -> float:
    """Median seconds from exec to the first frame containing the header, on a pty."""
    times = []
    for _ in range(runs):
        pid, fd = pty.fork()
        if pid == 0:
            os.environ["TERM"] = "xterm-256color"
            os.execvp(sys.executable, [sys.executable, "-m", "ollama_tui", "--demo"])
        started = time.perf_counter()
        seen = b""
        while b"ollama-tui" not in seen and time.perf_counter() - started < 20:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(fd, 65536)
                except OSError:
                    break
        times.append(time.perf_counter() - started)
        quit_app(pid, fd)
        os.close(fd)
    return statistics.median(times)


def run(args: argparse.Namespace) -> int:
    from ollama_tui.transports import TRANSPORT_NAMES

    results: list[Result] = []
    shapes = [s for s in args.shapes.split(",") if s]
    names = args.ui_transports.split(",") if args.ui_transports else args.transports
    transports = [t for t in names if t in TRANSPORT_NAMES]
    for shape in shapes:
        tokens = args.tokens or 20_000
        tokens = tokens if shape != "code-fence" else min(tokens, 3000)
        reply = make_reply(shape, tokens)
        for rate in args.rate:
            server = Server(reply, rate)
            try:
                for transport in transports:
                    modes = {"off": [False], "on": [True], "both": [False, True]}[args.ui_history]
                    for kept in modes:
                        with tempfile.TemporaryDirectory() as data:
                            directory = Path(data) if kept else None
                            run = run_one(server.url, transport, shape, reply, directory)
                            result = asyncio.run(run)
                        result.history = kept
                        results.append(result)
                        print(f"{rate:>5.0f}/s " + format_row(result), flush=True)
            finally:
                server.close()
    startup = startup_time()
    print(f"start-up to first frame (median of 3): {startup * 1000:.0f} ms")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MiB")
    path = args.ui_json or args.json
    if path:
        Path(path).write_text(
            json.dumps(
                {"headless": True, "results": [asdict(r) for r in results], "startup_s": startup},
                indent=2,
            )
        )
    return 0


def format_row(r: Result) -> str:
    return (
        f"{r.transport:<12} {r.shape:<11}{' +hist' if r.history else '      '} "
        f"{r.tokens:>6} tok  lag p50 {r.lag_p50_ms:6.1f} "
        f"p95 {r.lag_p95_ms:7.1f} max {r.lag_max_ms:7.1f} ms  stall {r.stall_max_ms:6.1f} ms  "
        f"cpu/1k first {r.cpu_first_1k_ms:6.0f} last {r.cpu_last_1k_ms:6.0f} ms  "
        f"echo p50 {r.echo_p50_ms:5.1f} p95 {r.echo_p95_ms:5.1f} ms  "
        f"rss +{r.rss_growth_mib:5.1f} MiB  full gc {r.full_gc_during} (max "
        f"{r.full_gc_max_ms:.0f} ms), after {r.after_pause_ms:.0f} ms  {r.wall_s:5.1f} s"
        + (f"  ERRORS {r.errors}" if r.errors else "")
    )
