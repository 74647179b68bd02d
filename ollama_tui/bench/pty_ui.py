"""`ollama-tui bench --ui`: what the person sees, measured on a real pseudo-terminal.

The real app (`python -m ollama_tui`, 120×40, TERM=xterm-256color) runs on a pty against
the built-in server in a process of its own (its CPU is never the app's), which answers
with a numbered reply (:mod:`ollama_tui.demo.numbered`: every word a unique marker
``w00001``…) at the given rate and stamps, with ``time.perf_counter()``, when it handed
each token to the socket. The stamps reach the bench out of band (a file the server
writes once the reply has streamed), never in the reply. On Linux ``perf_counter()`` is
``clock_gettime(CLOCK_MONOTONIC)``, one clock for every process on the machine
(``time.get_clock_info("perf_counter").implementation`` says so), so a stamp taken in
the server subtracts from a reading taken here.

A thread (:class:`~ollama_tui.bench.meter.PtyMeter`) does nothing but read what the app
writes, take ``perf_counter()`` at each read, strip escape sequences and note when each
marker first shows. Per transport, shape and rate:

- **lag**: first appearance of a token's marker − the server's send stamp, p50/p95/max;
  markers never seen (scrolled past between two frames) are counted as unseen;
- **CPU per 1,000 tokens** of the app's process tree (all threads, any worker process),
  from the Enter that sends the prompt to the last marker shown (`/proc/<pid>/stat`);
  the worker's own share separately;
- the longest **gap between writes** from the first marker shown to the last;
- **keystroke echo**: a character typed every 250 ms while the reply streams and 10
  after it (each erased again), from the key's write to its first appearance, and
  the keys that never showed;
- **idle CPU** of the app over 3 s, 1 s after the echo-after keys;
- the **machine's speed** then: two fixed pieces of Python timed in CPU
  (:mod:`ollama_tui.bench.speed`: interpreter work, and a walk through memory) while
  the app is quiet, before the prompt and after the idle reading. The same work every
  time: its time moves only with the machine.

The app keeps the conversation, in a temporary data directory, as it would for a person.
It prints figures and asserts nothing; the machine is shared, so the load average is
recorded with each run. With `--repeat K` each cell runs K times, the transports in a
rotated order each round, and the median of each figure over its K runs is printed
after them (JSON `medians`): one run's CPU moves by 10-20 % on a shared machine.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ollama_tui.bench.meter import MARKER, PtyMeter
from ollama_tui.bench.proctree import CpuSampler, TreeCpu, tree_cpu
from ollama_tui.bench.pty_medians import cells, median_run, rotated
from ollama_tui.bench.server import DemoProcess
from ollama_tui.bench.speed import chase, reference_ms
from ollama_tui.bench.terminal import Terminal
from ollama_tui.demo.numbered import DEFAULT_TOKENS, numbered_reply

# Typed into the prompt, one at a time and erased again; none shows anywhere else.
KEYS = [c.encode() for c in "§¶¤¢£¥±÷"]
KEY_EVERY = 0.25  # seconds, while streaming
BACKSPACE = b"\x7f"


@dataclass
class PtyRun:
    transport: str
    shape: str
    rate: float
    tokens: int  # content tokens the server sent
    lag_ms: dict[str, float]  # p50, p95, max
    cpu_ms_per_1k_tokens: float
    worker_cpu_ms_per_1k_tokens: float
    markers: int
    unseen_tokens: int
    gap_max_ms: float
    echo_ms: dict[str, float]  # while streaming: p50, p95, max, n
    echo_after_ms: dict[str, float]
    echo_lost: int  # typed characters that never showed (within 3 s while streaming, 5 s after)
    idle_cpu_pct: float
    first_shown_ms: float  # Enter to the first marker on screen
    stream_s: float  # first to last marker on screen
    load_avg: list[float]
    # Of `cpu_ms_per_1k_tokens`, the app's main thread: its event loop, where Textual
    # draws; the rest is the threads that read the network and write the terminal.
    # (NaN in a run's JSON from before it was measured.)
    ui_thread_cpu_ms_per_1k_tokens: float = float("nan")
    # The reference works' CPU (bench/speed.py), "python" and "memory", each before the
    # prompt and after the idle reading (ms; more is a slower machine). Absent from a
    # run's JSON from before it was measured.
    machine_ref_ms: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def percentiles(values: Sequence[float], scale: float = 1000.0) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p95": float("nan"), "max": float("nan"), "n": 0}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50": statistics.median(ordered) * scale,
        "p95": p95 * scale,
        "max": ordered[-1] * scale,
        "n": len(ordered),
    }


def read_stamps(path: Path, timeout: float) -> list[tuple[float, str]]:
    """The server's stamps, once it has written them (after its last token)."""
    deadline = time.perf_counter() + timeout
    while not path.exists():
        if time.perf_counter() > deadline:
            return []
        time.sleep(0.05)
    return [(float(t), str(text)) for t, text in json.loads(path.read_text())["pieces"]]


def quit_and_reap(term: Terminal, meter: PtyMeter) -> None:
    """Ctrl+Q once a second until the app exits (the meter keeps draining), SIGKILL at 10 s."""
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline:
        with contextlib.suppress(OSError):
            os.write(term.fd, b"\x11")
        until = time.perf_counter() + 1
        while time.perf_counter() < until:
            try:
                done, _ = os.waitpid(term.pid, os.WNOHANG)
            except ChildProcessError:
                done = term.pid
            if done:
                meter.join(5)
                return
            time.sleep(0.05)
    print("the app did not quit on Ctrl+Q: killed", file=sys.stderr)
    os.kill(term.pid, signal.SIGKILL)
    os.waitpid(term.pid, 0)
    meter.join(5)


def path_first(directory: str) -> dict[str, str]:
    """An app environment with `directory` first on its PYTHONPATH (a probe's
    `sitecustomize`, another checkout of the app)."""
    return {
        "PYTHONPATH": os.pathsep.join(p for p in (directory, os.environ.get("PYTHONPATH")) if p)
    }


def measure(
    url: str,
    stamps: Path,
    transport: str,
    shape: str,
    rate: float,
    reply: str,
    app_env: Mapping[str, str] | None = None,
) -> PtyRun:
    """One run; `app_env` is added to the app's environment (a probe's, say)."""
    expected = {m.group() for m in MARKER.finditer(reply.encode())}
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ptybench-") as home:
        env = {**os.environ, **(app_env or {})}
        for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            env[name] = str(Path(home, name.lower()))
        argv = [sys.executable, "-m", "ollama_tui", "--host", url, "--model", "demo"]
        argv += ["--transport", transport, "--data-dir", str(Path(home, "data"))]
        term = Terminal(argv, env=env)
        ended: list[tuple[float, TreeCpu]] = []
        meter = PtyMeter(
            term.fd,
            expected,
            on_complete=lambda: ended.append((time.perf_counter(), tree_cpu(term.pid))),
        )
        meter.start()
        sampler = CpuSampler(term.pid)
        try:
            if not meter.wait_for(b"ollama-tui", 60):
                raise RuntimeError("the app did not draw its first screen within 60 s")
            meter.wait_quiet(0.5, 15)  # start-up work (models, history) drawn
            stamps.unlink(missing_ok=True)
            reference = speed_now()
            load = [round(x, 2) for x in os.getloadavg()]
            since = meter.position()
            cpu0 = tree_cpu(term.pid)
            sampler.start()
            entered = time.perf_counter()
            os.write(term.fd, b"go\r")
            lost: list[bytes] = []
            deadline = entered + len(expected) / rate * 4 + 60
            echoes = type_while_streaming(meter, deadline, since, lost)
            sampler.stopped.set()
            echo_after = []
            for i in range(10):
                time.sleep(0.15)  # a backspace and a key in one read lose the key (see docs)
                echo = meter.type_key(KEYS[i % len(KEYS)], 5.0)
                if echo is not None:
                    echo_after.append(echo)
                else:
                    lost.append(KEYS[i % len(KEYS)])
                os.write(term.fd, BACKSPACE)
            time.sleep(1.0)
            idle0, idle_at = tree_cpu(term.pid), time.perf_counter()
            time.sleep(3.0)
            idle = (tree_cpu(term.pid).total - idle0.total) / (time.perf_counter() - idle_at)
            for kind, ms in speed_now().items():
                reference[kind] += ms
        finally:
            quit_and_reap(term, meter)
            with contextlib.suppress(OSError):
                os.close(term.fd)
    pieces = read_stamps(stamps, 15)
    if not pieces:
        errors.append("the server wrote no send stamps")
    first, reads = meter.snapshot()
    lags = []
    sent_markers = 0
    for sent, text in pieces:
        for match in MARKER.finditer(text.encode()):
            sent_markers += 1
            if match.group() in first:
                lags.append(first[match.group()] - sent)
    unseen = len(expected) - len(first)
    if sent_markers != len(expected):
        errors.append(f"{sent_markers} markers sent, {len(expected)} in the reply")
    shown = sorted(first.values())
    start, end = (shown[0], shown[-1]) if shown else (entered, entered)
    window = [t for t in reads if start <= t <= end]
    gaps = [b - a for a, b in itertools.pairwise(window)]
    tokens = max(1, len(pieces))
    # Every marker shown: the CPU read then; otherwise the sample after the last one shown.
    cpu1 = ended[0][1] if ended else sampler.at(end)
    return PtyRun(
        transport=transport,
        shape=shape,
        rate=rate,
        tokens=len(pieces),
        lag_ms={k: v for k, v in percentiles(lags).items() if k != "n"},
        cpu_ms_per_1k_tokens=(cpu1.total - cpu0.total) * 1e6 / tokens,
        worker_cpu_ms_per_1k_tokens=(cpu1.children - cpu0.children) * 1e6 / tokens,
        markers=len(expected),
        unseen_tokens=unseen,
        gap_max_ms=max(gaps, default=0.0) * 1000,  # 0: every marker came in one read
        echo_ms=percentiles(echoes),
        echo_after_ms=percentiles(echo_after),
        echo_lost=len(lost),
        idle_cpu_pct=idle * 100,
        first_shown_ms=(start - entered) * 1000,
        stream_s=end - start,
        load_avg=load,
        ui_thread_cpu_ms_per_1k_tokens=(cpu1.main - cpu0.main) * 1e6 / tokens,
        machine_ref_ms=reference,
        errors=errors,
    )


def speed_now() -> dict[str, list[float]]:
    """The machine's speed now: the reference works' CPU, in ms."""
    return {"python": [reference_ms()], "memory": [reference_ms(task=chase)]}


def type_while_streaming(
    meter: PtyMeter, deadline: float, since: int, lost: list[bytes]
) -> list[float]:
    """A key every 250 ms (erased after its echo) until every marker has shown, or the
    status bar says done and no new marker showed for 3 s, or `deadline`."""
    echoes: list[float] = []
    i = 0
    next_key = time.perf_counter() + KEY_EVERY
    while not meter.wait_until(min(next_key, deadline)):
        now = time.perf_counter()
        if now >= deadline or meter.closed:
            break
        if meter.wait_for(b"done", 0, since):
            first, _ = meter.snapshot()
            if now - max(first.values(), default=0.0) > 3:
                break
        if now >= next_key:
            echo = meter.type_key(KEYS[i % len(KEYS)], 3.0)
            if echo is not None:
                echoes.append(echo)
            else:
                lost.append(KEYS[i % len(KEYS)])
            os.write(meter.fd, BACKSPACE)
            i += 1
            # Never a key right behind the backspace: in one read, the app loses the key.
            next_key = max(next_key + KEY_EVERY, time.perf_counter() + 0.1)
    return echoes


def run_pty_bench(
    transports: Sequence[str],
    shapes: Sequence[str],
    rates: Sequence[float],
    tokens: int | None,
    json_path: str | None,
    app_env: Mapping[str, str] | None = None,
    *,
    repeat: int = 1,
) -> int:
    """Every cell `repeat` times (the transports rotated each round), then, if more
    than once, each cell's medians."""
    runs: list[PtyRun] = []
    # The walk's chain made now, not in the first cell's reference, and frozen: kept for
    # the bench's life, it would make each full collection of the meter's process some
    # 17 ms longer.
    chase()
    gc.freeze()
    print(HEADER, flush=True)
    for shape in shapes:
        reply = numbered_reply(shape, tokens)
        for rate in rates:
            with tempfile.TemporaryDirectory(prefix="ptybench-server-") as scratch:
                stamps = Path(scratch, "stamps.json")
                command = [sys.executable, "-m", "ollama_tui.demo.stamped", "--shape", shape]
                command += ["--tokens", str(tokens or DEFAULT_TOKENS[shape]), "--rate", str(rate)]
                with DemoProcess(rate, 0.0, command=[*command, "--stamps", str(stamps)]) as server:
                    for transport in rotated(transports, repeat):
                        run = measure(server.url, stamps, transport, shape, rate, reply, app_env)
                        runs.append(run)
                        print(format_row(run), flush=True)
    medians = [median_run(cell) for cell in cells(runs)] if repeat > 1 else []
    if medians:
        print(f"\nmedian of {repeat} runs per cell:\n{HEADER}", flush=True)
        for run in medians:
            print(format_row(run), flush=True)
    if json_path:
        document: dict[str, Any] = {"runs": [asdict(r) for r in runs]}
        if medians:
            document["medians"] = [asdict(r) for r in medians]
        Path(json_path).write_text(json.dumps(document, indent=2) + "\n")
    return 0


HEADER = (
    f"{'transport':<12} {'shape':<10} {'rate':>5} {'tokens':>6}  "
    f"{'lag p50':>7} {'p95':>6} {'max':>6} ms  {'cpu/1k':>7} {'ui':>5} ms  {'gap max':>7} ms  "
    f"{'echo p50':>8} {'p95':>5} ms  {'after':>5} ms  {'lost':>4}  {'idle':>5}  {'unseen':>6}  "
    f"load  {'python':>7}  {'memory':>7} ms (reference)"
)


def format_row(r: PtyRun) -> str:
    return (
        f"{r.transport:<12} {r.shape:<10} {r.rate:>5.0f} {r.tokens:>6}  "
        f"{r.lag_ms['p50']:>7.1f} {r.lag_ms['p95']:>6.1f} {r.lag_ms['max']:>6.0f} ms  "
        f"{r.cpu_ms_per_1k_tokens:>7.0f} {r.ui_thread_cpu_ms_per_1k_tokens:>5.0f} ms  "
        f"{r.gap_max_ms:>7.1f} ms  "
        f"{r.echo_ms['p50']:>8.1f} {r.echo_ms['p95']:>5.1f} ms  "
        f"{r.echo_after_ms['p50']:>5.1f} ms  {r.echo_lost:>4}  {r.idle_cpu_pct:>4.1f}%  "
        f"{r.unseen_tokens:>6}  "
        f"{r.load_avg[0]:.2f}  {_speed(r.machine_ref_ms)}"
        + (f"  ERRORS {r.errors}" if r.errors else "")
    )


def _speed(reference: Mapping[str, list[float]]) -> str:
    return "  ".join(
        f"{'/'.join(f'{ms:.0f}' for ms in reference.get(kind, [])) or '-':>7}"
        for kind in ("python", "memory")
    )
