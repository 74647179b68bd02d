"""Start N streams together and measure the process around the streaming phase only.

Sync clients get one thread per concurrent stream (the honest cost of the sync model);
async clients get one task per stream on one event loop. Every worker is parked first,
then CPU, wall clock and the server's CPU are read, then all are released at once.
Each stream is timed by the client from its own request send, so waiting at the start
line is never counted as latency.
"""

from __future__ import annotations

import asyncio
import os
import resource
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ollama_tui.bench.spec import StreamSample

_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def process_cpu_seconds(pid: int) -> float | None:
    """utime + stime of another process from /proc/PID/stat (clock ticks, ~10 ms)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            text = handle.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces or parentheses: split after its ')'.
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def current_rss_kib() -> int:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * _PAGE_KIB


def peak_rss_kib() -> int:
    """This process's high-water resident set (VmHWM).

    Not `ru_maxrss`: Linux carries the parent's peak across fork and exec into it, so
    every worker would report at least the orchestrating parent's size.
    """
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@dataclass(frozen=True, slots=True)
class Reading:
    wall: float
    user: float
    sys: float
    server: float | None


def read(server_pid: int | None) -> Reading:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    server = process_cpu_seconds(server_pid) if server_pid else None
    return Reading(time.perf_counter(), usage.ru_utime, usage.ru_stime, server)


@dataclass(frozen=True, slots=True)
class Phase:
    samples: list[StreamSample]
    start: Reading
    end: Reading


def run_threads(
    level: int,
    per_worker: int,
    one: Callable[[], StreamSample],
    server_pid: int | None = None,
) -> Phase:
    """`level` threads, released together, each running `one` `per_worker` times."""
    samples: list[StreamSample] = []  # list.append is atomic under the GIL
    parked = threading.Barrier(level + 1)
    go = threading.Event()

    def body() -> None:
        parked.wait()
        go.wait()
        for _ in range(per_worker):
            try:
                samples.append(one())
            except Exception as exc:  # a stream that raised is an error, never a gap
                samples.append(StreamSample(ok=False, error=f"raised {exc!r}"))

    threads = [threading.Thread(target=body, daemon=True) for _ in range(level)]
    for thread in threads:
        thread.start()
    parked.wait()
    start = read(server_pid)
    go.set()
    for thread in threads:
        thread.join()
    return Phase(samples, start, read(server_pid))


async def run_tasks(
    level: int,
    per_worker: int,
    one: Callable[[], Awaitable[StreamSample]],
    server_pid: int | None = None,
) -> Phase:
    """`level` tasks on the running loop, released together, each awaiting `one`."""
    samples: list[StreamSample] = []
    go = asyncio.Event()

    async def body() -> None:
        await go.wait()
        for _ in range(per_worker):
            try:
                samples.append(await one())
            except Exception as exc:
                samples.append(StreamSample(ok=False, error=f"raised {exc!r}"))

    tasks = [asyncio.create_task(body()) for _ in range(level)]
    # One turn of the loop runs every new task up to `go.wait()`.
    await asyncio.sleep(0)
    start = read(server_pid)
    go.set()
    await asyncio.gather(*tasks)
    return Phase(samples, start, read(server_pid))
